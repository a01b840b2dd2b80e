"""The network's message exchange (市町村間の電文): what one city's CS sends another through the 住基ネット
— 転出証明書情報 and its request (特例転入, 住基法第24条の2), 転入通知 (第9条第1項), 戸籍の附票記載事項通知
(第19条), 広域交付住民票 requests and answers (第12条の4) — and what the 法務省's system and a city send
each other (第30条の50, 入管法第61条の8の2). It runs in the national server's process, with its own file.

Store and forward, so that neither end has to be up when the other sends:

- `POST /mail` {to, kind, message_id, body}: the sender is the client certificate (`cs-401005` sends as
  401005, `moj` as the 法務省), never a field. A message is taken once per (sender, message_id): the
  same again is answered with the first answer (an at-least-once sender's retry); the same id with
  another content is refused (409 `message_id_conflict`).
- `GET /mail?after=N&wait=S`: the messages addressed to the caller with an id above N, in order, at
  most 200. With `wait`, an empty answer waits up to S seconds (at most 25) for the first one, so a
  city hears of a message within milliseconds without polling hard.

Each recipient keeps its own cursor (the last id it stored): the exchange needs no acknowledgement, and
a recipient that was down reads on from where it stopped.
"""
from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

from juki.core.checkdigits import is_valid_local_government_code

from .wire import App, Refused, Request

SCHEMA = """
CREATE TABLE IF NOT EXISTS mail (id INTEGER PRIMARY KEY, sender TEXT NOT NULL, recipient TEXT NOT NULL,
    kind TEXT NOT NULL, message_id TEXT NOT NULL, body TEXT NOT NULL, digest TEXT NOT NULL, posted_at TEXT,
    UNIQUE (sender, message_id));
CREATE INDEX IF NOT EXISTS mail_recipient ON mail (recipient, id);
"""
MOJ = "moj"  # 法務省（出入国在留管理庁）の通知システム
# kind: who may send it (a city, or the 法務省), and to whom.
KINDS: dict[str, tuple[str, str]] = {
    "transfer_certificate_request": ("city", "city"),  # 転出証明書情報の送信請求 (転入地 → 転出地)
    "transfer_certificate": ("city", "city"),  # 転出証明書情報 (転出地 → 転入地)
    "move_in_notice": ("city", "city"),  # 転入通知 (転入地 → 転出地)
    "family_register_notice": ("city", "city"),  # 戸籍の附票記載事項通知 (住所地 → 本籍地)
    "wide_area_request": ("city", "city"),  # 広域交付住民票の交付要求 (交付地 → 住所地)
    "wide_area_answer": ("city", "city"),  # 広域交付住民票情報 (住所地 → 交付地)
    "immigration_notice": (MOJ, "city"),  # 法務大臣からの通知 (第30条の50)
    "municipal_notice": ("city", MOJ),  # 市町村長から法務大臣への通知 (入管法第61条の8の2)
}
MAX_BATCH = 200
MAX_WAIT = 25.0


def address_of(peer: str) -> str | None:
    """The caller's address at the exchange: a city's code from its CS's certificate, or the 法務省."""
    if peer.startswith("cs-") and is_valid_local_government_code(peer.removeprefix("cs-")):
        return peer.removeprefix("cs-")
    return MOJ if peer == MOJ else None


def _role(address: str) -> str:
    return MOJ if address == MOJ else "city"


def install(app: App, directory: Path) -> None:
    from .peers import Store, _now  # peers imports this module's peer hosts; the Store is theirs

    store = Store(directory / "mail.sqlite3", SCHEMA)
    arrived = threading.Condition()

    def sender_of(request: Request) -> str:
        sender = address_of(request.peer)
        if sender is None:
            raise Refused(403, "not_a_sender", "市町村CSまたは法務省の証明書ではありません。")
        return sender

    def take(db, sender: str, body) -> dict:
        """One message checked and stored once; a Refused names why not."""
        body = body if isinstance(body, dict) else {}
        to, kind, message_id = str(body.get("to") or ""), body.get("kind"), str(body.get("message_id") or "")
        if kind not in KINDS:
            raise Refused(422, "unknown_kind", "電文の種別が正しくありません。", kinds=sorted(KINDS))
        if not 1 <= len(message_id) <= 64:
            raise Refused(422, "invalid_message_id", "電文IDが正しくありません。")
        if not (to == MOJ or is_valid_local_government_code(to)) or to == sender:
            raise Refused(422, "invalid_recipient", "宛先の市町村コードが正しくありません。", item="to")
        if (_role(sender), _role(to)) != KINDS[kind]:
            raise Refused(403, "kind_not_allowed", "この種別の電文をこの宛先に送ることはできません。")
        if not isinstance(body.get("body"), dict):
            raise Refused(422, "invalid_body", "電文の本文の形式が正しくありません。")
        content = json.dumps(body.get("body") or {}, ensure_ascii=False, sort_keys=True)
        digest = hashlib.sha256(f"{to}|{kind}|{content}".encode()).hexdigest()
        row = db.execute("SELECT id, digest FROM mail WHERE sender = ? AND message_id = ?",
                         (sender, message_id)).fetchone()
        if row:
            if row[1] != digest:
                raise Refused(409, "message_id_conflict", "同じ電文IDで異なる内容の電文です。")
            return {"id": row[0], "repeated": True}
        cur = db.execute("INSERT INTO mail (sender, recipient, kind, message_id, body, digest, posted_at) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?)", (sender, to, kind, message_id, content, digest, _now()))
        return {"id": cur.lastrowid}

    def wake() -> None:
        with arrived:
            arrived.notify_all()

    @app.route("POST", "/mail")
    def post(request: Request) -> dict:
        sender = sender_of(request)
        with store as db:
            answer = take(db, sender, request.body)
        wake()
        return answer

    @app.route("POST", "/mail/batch")
    def post_batch(request: Request) -> dict:
        """Many messages in one call and one transaction (a sender's queue): each answered as `POST /mail`
        would, a refusal in its place ({"status", "code"}) without stopping the others."""
        sender = sender_of(request)
        messages = request.body.get("messages") if isinstance(request.body, dict) else None
        if not isinstance(messages, list) or len(messages) > MAX_BATCH:
            raise Refused(422, "invalid_messages", f"一度に送れる電文は{MAX_BATCH}件までです。")
        answers = []
        with store as db:
            for body in messages:
                try:
                    answers.append(take(db, sender, body))
                except Refused as exc:
                    answers.append({"status": exc.status, "code": exc.code})
        wake()
        return {"answers": answers}

    @app.route("GET", "/mail")
    def fetch(request: Request) -> dict:
        recipient = address_of(request.peer)
        if recipient is None:
            raise Refused(403, "not_a_recipient", "市町村CSまたは法務省の証明書ではありません。")
        try:
            after = int(request.query.get("after", 0))
            wait = min(MAX_WAIT, max(0.0, float(request.query.get("wait", 0))))
        except ValueError:
            raise Refused(422, "invalid_query", "after は整数、wait は秒数です。") from None

        def read() -> list[tuple]:
            return store.query("SELECT id, sender, kind, message_id, body, posted_at FROM mail "
                               "WHERE recipient = ? AND id > ? ORDER BY id LIMIT ?", (recipient, after, MAX_BATCH))

        rows = read()
        if not rows and wait:
            with arrived:
                arrived.wait_for(lambda: bool(read()), timeout=wait)
            rows = read()
        keys = ("id", "sender", "kind", "message_id", "body", "posted_at")
        return {"messages": [{**dict(zip(keys, r)), "body": json.loads(r[4])} for r in rows]}

    @app.route("GET", "/mail/status")
    def status(request: Request) -> dict:
        """The caller's own traffic (what it sent, what came for it), never another city's."""
        me = address_of(request.peer)
        if me is None:
            raise Refused(403, "not_a_recipient")
        counts = store.query("SELECT sender = ?, kind, count(*) FROM mail WHERE sender = ? OR recipient = ? "
                             "GROUP BY sender = ?, kind", (me, me, me, me))
        return {"mail": [{"direction": "out" if mine else "in", "kind": k, "count": c} for mine, k, c in counts]}
