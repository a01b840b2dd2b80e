"""Two systems outside the 住基ネット that a city's register deals with, simulated as peers (issue 15).

- **koseki** (戸籍総合システム's 戸籍の附票 part, [1200]): each city's 戸籍附票システム in one process,
  partitioned by the calling city (`s2-401005` writes 北九州市's). The register's 住基ネット連携 sends it
  the new address of each person whose 本籍 is in the city (管内本籍者); what other cities notify of
  theirs arrives through the CS and is passed on the same way. `POST /fuhyo` takes one entry once per
  (city, message_id); `GET /fuhyo?resident_code=` lists a person's entries.
- **moj** (出入国在留管理庁's system): sends the 法務大臣からの通知 (住基法第30条の50) to cities through the
  network's exchange, and takes their 市町村通知 (入管法第61条の8の2) from it. Who plays the 法務省 in the
  demo and the tests calls it with the `operator` certificate: `POST /notices` {to, message_id, items}
  queues a notice; `GET /received?municipality=` lists what a city sent. A thread posts the queue to the
  exchange, in order, backing off while it is away; another reads the exchange (long poll).
"""
from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path

from juki.core.checkdigits import is_valid_local_government_code

from .peers import Store, _now
from .wire import App, Client, Refused, Request, Unreachable

log = logging.getLogger("juki.network")

KOSEKI_SCHEMA = """
CREATE TABLE IF NOT EXISTS fuhyo (id INTEGER PRIMARY KEY, municipality TEXT NOT NULL, message_id TEXT NOT NULL,
    resident_code TEXT, items TEXT NOT NULL, source TEXT NOT NULL, received_at TEXT, UNIQUE (municipality, message_id));
CREATE INDEX IF NOT EXISTS fuhyo_person ON fuhyo (municipality, resident_code, id);
"""


def _s2_city(request: Request) -> str:
    if not request.peer.startswith("s2-"):
        raise Refused(403, "not_a_register", "市町村の住民記録システム（住基ネット連携）の証明書ではありません。")
    return request.peer.removeprefix("s2-")


def koseki(directory: Path) -> App:
    store = Store(directory / "koseki.sqlite3", KOSEKI_SCHEMA)
    app = App("koseki")

    def check(body) -> tuple[str, dict]:
        body = body if isinstance(body, dict) else {}
        message_id, items = str(body.get("message_id") or ""), body.get("items")
        if not 1 <= len(message_id) <= 64 or not isinstance(items, dict):
            raise Refused(422, "invalid_entry", "附票の記載事項の形式が正しくありません。")
        for key in ("name", "address", "domicile"):
            if not items.get(key):
                raise Refused(422, "item_required", "附票の記載に必要な項目がありません。", item=key)
        return message_id, items

    def take(db, city: str, body: dict) -> dict:
        message_id, items = check(body)
        row = db.execute("SELECT id FROM fuhyo WHERE municipality = ? AND message_id = ?", (city, message_id)).fetchone()
        if row:
            return {"id": row[0], "repeated": True}
        cur = db.execute("INSERT INTO fuhyo (municipality, message_id, resident_code, items, source, received_at) "
                         "VALUES (?, ?, ?, ?, ?, ?)", (city, message_id, str(items.get("resident_code") or ""),
                                                       json.dumps(items, ensure_ascii=False),
                                                       str(body.get("source") or "own"), _now()))
        return {"id": cur.lastrowid}

    @app.route("POST", "/fuhyo")
    def entry(request: Request) -> dict:
        """One 戸籍の附票 entry: {message_id, source ("own" | the notifying city's code), items}."""
        city = _s2_city(request)
        with store as db:
            return take(db, city, request.body)

    @app.route("POST", "/fuhyo/batch")
    def entries_batch(request: Request) -> dict:
        """Many entries in one call and one transaction (a batch of 転居): all taken, or none."""
        city = _s2_city(request)
        entries = request.body.get("entries") if isinstance(request.body, dict) else None
        if not isinstance(entries, list) or len(entries) > 5000:
            raise Refused(422, "invalid_entries", "一度に送れる附票の記載は5000件までです。")
        for body in entries:
            check(body)
        with store as db:
            return {"answers": [take(db, city, body) for body in entries]}

    @app.route("GET", "/fuhyo")
    def entries(request: Request) -> dict:
        city = _s2_city(request)
        rows = store.query("SELECT id, message_id, items, source, received_at FROM fuhyo WHERE municipality = ? "
                           "AND resident_code = ? ORDER BY id", (city, request.query.get("resident_code", "")))
        return {"entries": [{"id": i, "message_id": m, "items": json.loads(it), "source": s, "received_at": at}
                            for i, m, it, s, at in rows]}

    @app.route("GET", "/status")
    def status(request: Request) -> dict:
        (count,) = store.query("SELECT count(*) FROM fuhyo")[0]
        return {"peer": "koseki", "entries": count}

    return app


MOJ_SCHEMA = """
CREATE TABLE IF NOT EXISTS outgoing (id INTEGER PRIMARY KEY, recipient TEXT NOT NULL, message_id TEXT NOT NULL UNIQUE,
    items TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '', created_at TEXT, sent_at TEXT);
CREATE TABLE IF NOT EXISTS received (exchange_id INTEGER PRIMARY KEY, sender TEXT NOT NULL, message_id TEXT NOT NULL,
    items TEXT NOT NULL, received_at TEXT);
CREATE TABLE IF NOT EXISTS cursor (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""
NOTICE_KINDS = ("change", "removal")  # 記載事項の変更・誤り, 消除すべき事由 (第30条の50)


def _exchange(directory: Path, name: str, timeout: float = 10.0) -> Client | None:
    try:
        url = json.loads((directory / "network.json").read_text())["peers"]["national"]
    except (OSError, ValueError, KeyError, TypeError):
        return None  # the network is still starting: later
    return Client(url, directory=directory, name=name, timeout=timeout)


class MojLink(threading.Thread):
    """The 法務省 system's two conversations with the exchange: post what is queued, read what came."""

    def __init__(self, store: Store, directory: Path, *, receive: bool):
        super().__init__(name=f"moj-{'receive' if receive else 'send'}", daemon=True)
        self.store, self.directory, self.receiving = store, directory, receive
        self.wake = threading.Event()

    def run(self) -> None:
        backoff = 0.5
        while True:
            client = _exchange(self.directory, "moj", timeout=35.0)
            try:
                busy = client is not None and (self.receive(client) if self.receiving else self.send(client))
                backoff = 0.5
            except Unreachable as exc:
                log.warning("moj: exchange unreachable (%s)", exc)
                busy = False
                time.sleep(backoff)
                backoff = min(30.0, backoff * 2)
            if not busy and not self.receiving:
                self.wake.wait(timeout=2.0)
                self.wake.clear()
            elif client is None:
                time.sleep(1.0)

    def send(self, client: Client) -> bool:
        rows = self.store.query("SELECT id, recipient, message_id, items FROM outgoing WHERE state = 'pending' "
                                "ORDER BY id LIMIT 50")
        for row_id, recipient, message_id, items in rows:
            status, answer = client.call("POST", "/mail", {"to": recipient, "kind": "immigration_notice",
                                                          "message_id": message_id, "body": json.loads(items)})
            with self.store as db:
                if status == 200:
                    db.execute("UPDATE outgoing SET state = 'sent', sent_at = ?, last_error = '' WHERE id = ?",
                               (_now(), row_id))
                else:
                    db.execute("UPDATE outgoing SET attempts = attempts + 1, last_error = ? WHERE id = ?",
                               (f"HTTP {status} {answer.get('code', '')}"[:200], row_id))
                    return False
        return bool(rows)

    def receive(self, client: Client) -> bool:
        (after,) = self.store.query("SELECT coalesce(max(value), 0) FROM cursor WHERE name = 'mail'")[0]
        status, answer = client.call("GET", f"/mail?after={after}&wait=20")
        if status != 200:
            raise Unreachable(f"exchange answered HTTP {status}")
        messages = answer.get("messages", [])
        with self.store as db:
            for m in messages:
                if m.get("kind") == "municipal_notice":
                    db.execute("INSERT OR IGNORE INTO received VALUES (?, ?, ?, ?, ?)",
                               (m["id"], m["sender"], m["message_id"], json.dumps(m["body"], ensure_ascii=False), _now()))
            if messages:
                last = max(m["id"] for m in messages)
                db.execute("INSERT INTO cursor VALUES ('mail', ?) ON CONFLICT (name) DO UPDATE SET value = ?", (last, last))
        return bool(messages)


def moj(directory: Path, *, links: bool = True) -> App:
    store = Store(directory / "moj.sqlite3", MOJ_SCHEMA)
    app = App("moj")
    sender = MojLink(store, directory, receive=False)

    def operator(request: Request) -> None:
        if request.peer != "operator":
            raise Refused(403, "not_operator", "試験の操作者の証明書ではありません。")

    @app.route("POST", "/notices")
    def queue(request: Request) -> dict:
        """A 法務大臣からの通知 to a city: {to, message_id, items: {kind, residence_card_number, …}}."""
        operator(request)
        body = request.body if isinstance(request.body, dict) else {}
        to, message_id, items = str(body.get("to") or ""), str(body.get("message_id") or ""), body.get("items")
        if not is_valid_local_government_code(to):
            raise Refused(422, "invalid_recipient", "宛先の市町村コードが正しくありません。", item="to")
        if not 1 <= len(message_id) <= 64 or not isinstance(items, dict) or items.get("kind") not in NOTICE_KINDS:
            raise Refused(422, "invalid_notice", "通知の形式が正しくありません。")
        with store as db:
            db.execute("INSERT OR IGNORE INTO outgoing (recipient, message_id, items, created_at) VALUES (?, ?, ?, ?)",
                       (to, message_id, json.dumps(items, ensure_ascii=False), _now()))
        sender.wake.set()
        return {"message_id": message_id, "queued": True}

    @app.route("GET", "/received")
    def received(request: Request) -> dict:
        operator(request)
        rows = store.query("SELECT exchange_id, sender, message_id, items, received_at FROM received "
                           "WHERE sender = ? ORDER BY exchange_id", (request.query.get("municipality", ""),))
        return {"notices": [{"id": i, "sender": s, "message_id": m, "items": json.loads(it), "received_at": at}
                            for i, s, m, it, at in rows]}

    @app.route("GET", "/status")
    def status(request: Request) -> dict:
        states = dict(store.query("SELECT state, count(*) FROM outgoing GROUP BY state"))
        (received_count,) = store.query("SELECT count(*) FROM received")[0]
        return {"peer": "moj", "outgoing": states, "received": received_count}

    if links:
        sender.start()
        MojLink(store, directory, receive=True).start()
    return app
