"""The peers of the simulated 住基ネット, each its own process with its own SQLite file.

They are not the city's software: they behave as the real ones do towards a city, as far as juki
needs them, and no further.

- **prefecture** (都道府県サーバ): stores the 本人確認情報 updates of each of its cities in the
  order of their 更新順番号. A message applied twice changes nothing; a message after a gap is
  refused with the number it expects, so a city can never skip one; a message whose content it
  cannot take is refused by itself and keeps its place (the city lists it as a dead letter).
- **jlis** (地方公共団体情報システム機構): 個人番号 generated per 住民票コード with a valid check
  digit and never given twice [1130]; new 住民票コード for a CS's stock [870].
- **national** (全国サーバ, `national.py`): 本人確認 (P6) by 住民票コード, 個人番号 or 4情報 with the
  two-item rule; it holds what the prefecture servers pass on. The prefecture numbers every update it
  applies in its own gapless forward sequence (in the apply's transaction) and a thread of its own
  forwards them in order, backing off while the national server is away.
- **cards** (個人番号カード管理システム, `cards.py`): 送付先情報 in, and each card's issue, revoke,
  collect, suspend and resume (P10).

Who calls is the client certificate's name (`cs-401005` is 北九州市's CS), never a field of the body.
"""
from __future__ import annotations

import datetime as dt
import importlib
import json
import logging
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from juki.core.checkdigits import is_valid_resident_code, mod11_check_digit

from . import consistency
from .wire import App, Client, Refused, Request, Unreachable

log = logging.getLogger("juki.network")


# The peers' files carry this in `PRAGMA user_version`. They have no migrations (they are a simulation):
# a file of an older layout is refused with what to do rather than half-read. 2: records are kept per
# (住民票コード, city), so that a 転出地's 消除 and the 転入地's 記載 of one person are both held (issue 15).
SCHEMA_VERSION = 2


class Store:
    """One SQLite file, one writer at a time (the peers are small; correctness over speed)."""

    def __init__(self, path: Path, schema: str):
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")  # an acknowledged update survives a kill -9 of the peer
        (version,) = self.db.execute("PRAGMA user_version").fetchone()
        (tables,) = self.db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()
        if tables and version != SCHEMA_VERSION:
            raise RuntimeError(f"{path}: 古い形式のファイルです（{version}）。試験用ネットワークのディレクトリを削除して"
                               "から起動し直してください。")
        self.db.executescript(schema)
        self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        self.lock = threading.Lock()

    def __enter__(self) -> sqlite3.Connection:
        self.lock.acquire()
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type, *_):
        try:
            self.db.execute("ROLLBACK" if exc_type else "COMMIT")
        finally:
            self.lock.release()

    def query(self, sql: str, params=()) -> list[tuple]:
        with self.lock:
            return self.db.execute(sql, params).fetchall()


def _city(request: Request) -> str:
    if not request.peer.startswith("cs-"):
        raise Refused(403, "not_a_cs", "市町村CSの証明書ではありません。")
    return request.peer.removeprefix("cs-")


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat()


class InOrder:
    """What an ordered, gapless sequence of updates did: the rule the prefecture applies to a city's
    更新順番号 and the national server to a prefecture's forward numbers. A number at or below the last
    is a duplicate (an at-least-once sender's retry) and changes nothing; the first number after a gap
    stops the batch; each other one is applied, or refused by itself and keeps its place."""

    def __init__(self, last: int):
        self.last = last
        self.accepted: list[int] = []
        self.duplicates: list[int] = []
        self.refused: list[dict] = []
        self.gap = False

    def run(self, messages: list[dict], apply: Callable[[int, dict], dict | None]) -> InOrder:
        """`apply(seq, message)` returns None when applied, or the refusal ({"code", "items"})."""
        for message in messages:
            seq = int(message["seq"])
            if seq <= self.last:
                self.duplicates.append(seq)
                continue
            if seq != self.last + 1:
                self.gap = True
                break
            refusal = apply(seq, message)
            if refusal is None:
                self.accepted.append(seq)
            else:
                self.refused.append({"seq": seq, **refusal})
            self.last = seq
        return self

    def answer(self) -> dict:
        if self.gap and not (self.accepted or self.refused or self.duplicates):
            raise Refused(409, "sequence_gap", "更新順番号が連続していません。", expected=self.last + 1)
        return {"accepted": self.accepted, "duplicates": self.duplicates, "refused": self.refused,
                "last_seq": self.last}


# --- 都道府県サーバ -----------------------------------------------------------------------------

PREFECTURE_SCHEMA = """
CREATE TABLE IF NOT EXISTS cities (municipality TEXT PRIMARY KEY, last_seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS updates (municipality TEXT, seq INTEGER, resident_code TEXT, kind TEXT,
    items TEXT, outcome TEXT, received_at TEXT, PRIMARY KEY (municipality, seq));
CREATE TABLE IF NOT EXISTS records (resident_code TEXT, municipality TEXT, seq INTEGER,
    items TEXT, updated_at TEXT, digest TEXT, PRIMARY KEY (resident_code, municipality));
CREATE INDEX IF NOT EXISTS records_city ON records (municipality, resident_code, digest);
CREATE TABLE IF NOT EXISTS forward (seq INTEGER PRIMARY KEY, municipality TEXT NOT NULL, city_seq INTEGER NOT NULL,
    resident_code TEXT NOT NULL, kind TEXT, items TEXT, state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '', next_attempt_at REAL NOT NULL DEFAULT 0,
    created_at TEXT, forwarded_at TEXT);
CREATE INDEX IF NOT EXISTS forward_state ON forward (state, seq);
"""
# What the prefecture refuses by itself, whatever the CS checked: a record without these.
REQUIRED = ("name", "birth_date", "sex")
# The prefecture this server is (the first two digits of its cities' codes): the national server keeps
# one forward sequence per prefecture.
PREFECTURE_CODE = os.environ.get("JUKI_PREFECTURE_CODE") or "40"
FORWARD_BATCH = 200
FORWARD_MAX_BACKOFF = 30.0  # seconds: a national server back from an outage is served within this
FORWARD_IDLE = 5.0  # seconds between looks at an empty queue (an applied update wakes the thread at once)


def _forward_backoff(attempts: int) -> float:
    return min(FORWARD_MAX_BACKOFF, 0.5 * 2 ** min(attempts, 8))


class Forwarder(threading.Thread):
    """Passes the prefecture's applied updates on to the national server, in the order of their forward
    numbers, in batches; the head of the queue backs off while the national server is down or refuses.
    Where the national server is comes from `network.json`, read when first needed and again after it
    could not be reached."""

    def __init__(self, store: Store, directory: Path, code: str):
        super().__init__(name="prefecture-forwarder", daemon=True)
        self.store, self.directory, self.code = store, directory, code
        self.wake, self.stopping = threading.Event(), threading.Event()
        self.client: Client | None = None
        self.last: dict = {}

    def national(self) -> Client | None:
        if self.client is None:
            try:
                url = json.loads((self.directory / "network.json").read_text())["peers"]["national"]
            except (OSError, ValueError, KeyError, TypeError):
                return None  # the network is still starting, or has no national server: later
            self.client = Client(url, directory=self.directory, name="prefecture")
        return self.client

    def run(self) -> None:
        while not self.stopping.is_set():
            self.wake.clear()  # before looking: an update applied while we send wakes the next wait at once
            try:
                self.last = result = self.forward_batch()
            except Exception as exc:  # noqa: BLE001 - the forwarder must outlive a bad moment
                self.last = result = {"forwarded": 0, "refused": 0, "error": type(exc).__name__}
                log.exception("prefecture forwarder")
            if result.get("forwarded") or result.get("refused"):
                continue  # more may be waiting right behind
            self.wake.wait(timeout=result.get("wait", FORWARD_IDLE))

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()

    def forward_batch(self, limit: int = FORWARD_BATCH) -> dict:
        """Send the head of the queue once. Returns {"forwarded", "refused", "waiting"} counts, `error`
        when it could not be delivered, and `wait`: how long until the head may be tried again."""
        rows = self.store.query("SELECT seq, municipality, resident_code, kind, items, attempts, next_attempt_at "
                                "FROM forward WHERE state = 'pending' ORDER BY seq LIMIT ?", (limit,))
        if not rows:
            return {"forwarded": 0, "refused": 0, "waiting": 0}
        head, attempts, next_attempt_at = rows[0][0], rows[0][5], rows[0][6]
        if next_attempt_at > time.time():
            return {"forwarded": 0, "refused": 0, "waiting": len(rows), "wait": next_attempt_at - time.time()}
        client = self.national()
        if client is None:
            return self._retry_later(head, attempts, "no_national_server", len(rows))
        messages = [{"seq": seq, "municipality": municipality, "resident_code": code, "kind": kind,
                     "items": json.loads(items)} for seq, municipality, code, kind, items, _, _ in rows]
        try:
            status, answer = client.call("POST", "/updates", {"prefecture": self.code, "messages": messages})
        except Unreachable as exc:
            self.client = None  # read network.json again next time: it may have moved
            return self._retry_later(head, attempts, f"unreachable: {exc}", len(rows))
        if status != 200:
            why = f"HTTP {status}: {answer.get('code', '')}"
            if "expected" in answer:
                why += f" (expected {answer['expected']})"
            return self._retry_later(head, attempts, why, len(rows))
        done = set(answer.get("accepted", [])) | set(answer.get("duplicates", []))
        refused = {r["seq"]: r for r in answer.get("refused", [])}
        if not (done or refused):
            return self._retry_later(head, attempts, "nothing_taken", len(rows))
        now = _now()
        with self.store as db:
            db.executemany("UPDATE forward SET state = 'forwarded', forwarded_at = ?, last_error = '' "
                           "WHERE seq = ? AND state = 'pending'", [(now, seq) for seq in sorted(done)])
            db.executemany("UPDATE forward SET state = 'refused', forwarded_at = ?, last_error = ? "
                           "WHERE seq = ? AND state = 'pending'",
                           [(now, f"{r.get('code')}: {','.join(r.get('items', []))}"[:200], seq)
                            for seq, r in sorted(refused.items())])
        return {"forwarded": len(done), "refused": len(refused), "waiting": len(rows) - len(done) - len(refused)}

    def _retry_later(self, head: int, attempts: int, why: str, waiting: int) -> dict:
        attempts += 1
        backoff = _forward_backoff(attempts)
        with self.store as db:
            db.execute("UPDATE forward SET attempts = ?, last_error = ?, next_attempt_at = ? WHERE seq = ?",
                       (attempts, why[:200], time.time() + backoff, head))
        log.warning("national server: %s (attempt %d)", why, attempts)
        return {"forwarded": 0, "refused": 0, "waiting": waiting, "error": why, "wait": backoff}


def prefecture(directory: Path, *, prefecture_code: str = PREFECTURE_CODE, forward: bool = True) -> App:
    store = Store(directory / "prefecture.sqlite3", PREFECTURE_SCHEMA)
    digest_key = consistency.key(directory)
    app = App("prefecture")
    forwarder = Forwarder(store, directory, prefecture_code)
    app.forwarder = forwarder  # the tests stop it; `forward=False` never starts it

    @app.route("POST", "/updates")
    def updates(request: Request) -> dict:
        city = _city(request)
        with store as db:
            row = db.execute("SELECT last_seq FROM cities WHERE municipality = ?", (city,)).fetchone()

            def apply(seq: int, message: dict) -> dict | None:
                items = message.get("items") or {}
                code = message.get("resident_code") or ""
                missing = [k for k in REQUIRED if not items.get(k)] if message.get("kind") != "remove" else []
                refusal = None
                if not is_valid_resident_code(code) or missing:
                    refusal = {"code": "invalid_record", "items": missing or ["resident_code"]}
                else:
                    kind = message.get("kind")
                    db.execute("INSERT INTO records VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (resident_code, municipality) "
                               "DO UPDATE SET seq = excluded.seq, items = excluded.items, "
                               "updated_at = excluded.updated_at, digest = excluded.digest",
                               (code, city, seq, json.dumps(consistency.record_view(items, kind), ensure_ascii=False),
                                _now(), consistency.digest_of(items, kind, digest_key)))
                    # Its place in the prefecture's own sequence towards the national server, in this
                    # very transaction: applied here means forwarded there, once, in this order.
                    (forward_seq,) = db.execute("SELECT coalesce(max(seq), 0) + 1 FROM forward").fetchone()
                    db.execute("INSERT INTO forward (seq, municipality, city_seq, resident_code, kind, items, created_at) "
                               "VALUES (?, ?, ?, ?, ?, ?, ?)",
                               (forward_seq, city, seq, code, message.get("kind"), json.dumps(items, ensure_ascii=False),
                                _now()))
                db.execute("INSERT INTO updates VALUES (?, ?, ?, ?, ?, ?, ?)",
                           (city, seq, code, message.get("kind"), json.dumps(items, ensure_ascii=False),
                            "refused" if refusal else "applied", _now()))
                return refusal

            run = InOrder(row[0] if row else 0).run(request.body.get("messages", []), apply)
            db.execute("INSERT INTO cities VALUES (?, ?) ON CONFLICT (municipality) DO UPDATE SET last_seq = ?",
                       (city, run.last, run.last))
        if run.accepted:
            forwarder.wake.set()
        return run.answer()

    @app.route("GET", "/records/(?P<code>[0-9]{11})")
    def record(request: Request) -> dict:
        city = _city(request)  # a city's CS sees its own records only
        rows = store.query("SELECT municipality, seq, items, updated_at FROM records WHERE resident_code = ? "
                           "AND municipality = ?", (request.params["code"], city))
        if not rows:
            raise Refused(404, "not_found")
        municipality, seq, items, updated_at = rows[0]
        return {"resident_code": request.params["code"], "municipality": municipality, "seq": seq,
                "items": json.loads(items), "updated_at": updated_at}

    @app.route("GET", "/status")
    def status(request: Request) -> dict:
        cities = dict(store.query("SELECT municipality, last_seq FROM cities"))
        (count,) = store.query("SELECT count(*) FROM records")[0]
        states = dict(store.query("SELECT state, count(*) FROM forward GROUP BY state"))
        (forward_last,) = store.query("SELECT coalesce(max(seq), 0) FROM forward WHERE state != 'pending'")[0]
        head = store.query("SELECT seq, attempts, last_error, next_attempt_at FROM forward WHERE state = 'pending' "
                           "ORDER BY seq LIMIT 1")
        return {"peer": "prefecture", "prefecture": prefecture_code, "cities": cities, "records": count,
                "forward_pending": states.get("pending", 0), "forward_last": forward_last,
                "forward_refused": states.get("refused", 0),
                "forward_head": None if not head else {
                    "seq": head[0][0], "attempts": head[0][1], "error": head[0][2],
                    "next_attempt_at": dt.datetime.fromtimestamp(head[0][3], dt.timezone.utc).isoformat()
                    if head[0][3] else None}}

    @app.route("GET", "/updates")
    def update_log(request: Request) -> dict:
        city = _city(request)
        after = int(request.query.get("after", 0))
        rows = store.query("SELECT seq, resident_code, kind, outcome, received_at FROM updates "
                           "WHERE municipality = ? AND seq > ? ORDER BY seq LIMIT 1000", (city, after))
        return {"updates": [dict(zip(("seq", "resident_code", "kind", "outcome", "received_at"), r)) for r in rows]}

    # 整合性確認 (P8): a city's CS walks the tree of its own records here.
    consistency.install(
        app, scope=_city,
        pairs=lambda city: store.query("SELECT resident_code, digest FROM records WHERE municipality = ?", (city,)),
        records=lambda city, codes: {
            code: json.loads(items) for code, items in store.query(
                f"SELECT resident_code, items FROM records WHERE municipality = ? AND resident_code IN "
                f"({','.join('?' * len(codes))})", (city, *codes))} if codes else {})
    if forward:
        forwarder.start()
    return app


# --- J-LIS ---------------------------------------------------------------------------------------

JLIS_SCHEMA = """
CREATE TABLE IF NOT EXISTS my_numbers (my_number TEXT PRIMARY KEY, resident_code TEXT NOT NULL,
    municipality TEXT, issued_at TEXT, current INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS my_numbers_code ON my_numbers (resident_code, current);
CREATE TABLE IF NOT EXISTS resident_codes (resident_code TEXT PRIMARY KEY, municipality TEXT, issued_at TEXT);
CREATE TABLE IF NOT EXISTS change_requests (request_id TEXT PRIMARY KEY, resident_code TEXT, my_number TEXT);
CREATE TABLE IF NOT EXISTS fugo (resident_code TEXT, holder TEXT, fugo TEXT UNIQUE, issued_at TEXT,
    PRIMARY KEY (resident_code, holder));
"""


def _fresh(db: sqlite3.Connection, table: str, column: str, length: int) -> str:
    """A random number with its check digit that this table has never held."""
    while True:
        body = "".join(secrets.choice("0123456789") for _ in range(length - 1))
        value = body + str(mod11_check_digit(body))
        if not db.execute(f"SELECT 1 FROM {table} WHERE {column} = ?", (value,)).fetchone():
            return value


def jlis(directory: Path) -> App:
    store = Store(directory / "jlis.sqlite3", JLIS_SCHEMA)
    app = App("jlis")

    @app.route("POST", "/my-numbers")
    def my_number(request: Request) -> dict:
        """個人番号の生成 [1130]: the same 住民票コード gets the same number, unless a 変更請求 asks for a new one."""
        city = _city(request)
        code = str(request.body.get("resident_code", ""))
        if not is_valid_resident_code(code):
            raise Refused(422, "invalid_resident_code", "住民票コードが正しくありません。")
        change = request.body.get("reason") == "change"
        request_id = str(request.body.get("request_id") or "")[:64]
        if change and not request_id:
            raise Refused(422, "request_id_required", "変更請求には依頼番号が必要です。")
        with store as db:
            if change:  # the same 変更請求 asked again (a retry) gets the number it got, not another one
                seen = db.execute("SELECT my_number FROM change_requests WHERE request_id = ? AND resident_code = ?",
                                  (request_id, code)).fetchone()
                if seen:
                    return {"resident_code": code, "my_number": seen[0], "new": False}
            row = db.execute("SELECT my_number FROM my_numbers WHERE resident_code = ? AND current = 1", (code,)).fetchone()
            if row and not change:
                return {"resident_code": code, "my_number": row[0], "new": False}
            db.execute("UPDATE my_numbers SET current = 0 WHERE resident_code = ?", (code,))
            number = _fresh(db, "my_numbers", "my_number", 12)
            db.execute("INSERT INTO my_numbers VALUES (?, ?, ?, ?, 1)", (number, code, city, _now()))
            if change:
                db.execute("INSERT INTO change_requests VALUES (?, ?, ?)", (request_id, code, number))
        return {"resident_code": code, "my_number": number, "new": True}

    @app.route("POST", "/fugo")
    def fugo(request: Request) -> dict:
        """符号 (P5): J-LIS makes it from the 住民票コード for one 情報照会者・提供者 (`holder`), the same
        each time for that pair, and never the 住民票コード or the 個人番号 themselves. The city's
        intermediary server keeps it; the register never does."""
        _city(request)
        code = str(request.body.get("resident_code", ""))
        holder = str(request.body.get("holder", ""))[:32]
        if not is_valid_resident_code(code):
            raise Refused(422, "invalid_resident_code", "住民票コードが正しくありません。")
        if not holder:
            raise Refused(422, "holder_required", "符号を用いる機関を指定してください。")
        with store as db:
            row = db.execute("SELECT fugo FROM fugo WHERE resident_code = ? AND holder = ?", (code, holder)).fetchone()
            if row:
                return {"fugo": row[0], "holder": holder, "new": False}
            value = secrets.token_hex(16)
            db.execute("INSERT INTO fugo VALUES (?, ?, ?, ?)", (code, holder, value, _now()))
        return {"fugo": value, "holder": holder, "new": True}

    @app.route("POST", "/fugo/translate")
    def fugo_translate(request: Request) -> dict:
        """The 情報提供ネットワークシステム's question: the 符号 another holder (the provider's 中間サーバー)
        uses for the person a requester's 符号 names. Neither side ever sees the 住民票コード."""
        if request.peer != "infonet":
            raise Refused(403, "network_only", "情報提供ネットワークシステムの証明書ではありません。")
        holder = str(request.body.get("holder", ""))[:32]
        rows = store.query("SELECT resident_code FROM fugo WHERE fugo = ?", (str(request.body.get("fugo", "")),))
        if not rows or not holder:
            raise Refused(404, "unknown_fugo", "符号が見つかりません。")
        with store as db:
            row = db.execute("SELECT fugo FROM fugo WHERE resident_code = ? AND holder = ?", (rows[0][0], holder)).fetchone()
            if row:
                return {"fugo": row[0]}
            value = secrets.token_hex(16)
            db.execute("INSERT INTO fugo VALUES (?, ?, ?, ?)", (rows[0][0], holder, value, _now()))
        return {"fugo": value}

    @app.route("POST", "/requesters/fugo")
    def requester_fugo(request: Request) -> dict:
        """A 情報照会者's own 符号 for a person (in the simulation, from the 住民票コード it holds)."""
        if not request.peer.startswith("req-"):
            raise Refused(403, "not_a_requester", "情報照会者の証明書ではありません。")
        code = str(request.body.get("resident_code", ""))
        if not is_valid_resident_code(code):
            raise Refused(422, "invalid_resident_code", "住民票コードが正しくありません。")
        with store as db:
            row = db.execute("SELECT fugo FROM fugo WHERE resident_code = ? AND holder = ?", (code, request.peer)).fetchone()
            if row:
                return {"fugo": row[0]}
            value = secrets.token_hex(16)
            db.execute("INSERT INTO fugo VALUES (?, ?, ?, ?)", (code, request.peer, value, _now()))
        return {"fugo": value}

    @app.route("POST", "/resident-codes")
    def resident_codes(request: Request) -> dict:
        """新しい住民票コード for a CS's stock [870]."""
        city = _city(request)
        count = int(request.body.get("count", 0))
        if not 1 <= count <= 10000:
            raise Refused(422, "invalid_count", "件数は1から10000までです。")
        with store as db:
            codes = []
            for _ in range(count):
                code = _fresh(db, "resident_codes", "resident_code", 11)
                db.execute("INSERT INTO resident_codes VALUES (?, ?, ?)", (code, city, _now()))
                codes.append(code)
        return {"resident_codes": codes}

    @app.route("GET", "/status")
    def status(request: Request) -> dict:
        (numbers,) = store.query("SELECT count(*) FROM my_numbers")[0]
        (codes,) = store.query("SELECT count(*) FROM resident_codes")[0]
        return {"peer": "jlis", "my_numbers": numbers, "resident_codes": codes}

    return app


def _elsewhere(module: str, name: str | None = None) -> Callable[[Path], App]:
    """A peer defined in its own module, imported when started (those modules use this one's Store)."""
    def make(directory: Path) -> App:
        return getattr(importlib.import_module(f"{__package__}.{module}"), name or module)(directory)
    make.__name__ = name or module
    return make


# `juki network up` starts them in this order: the national server (and the exchange it hosts) before
# the prefecture that forwards to it and the 法務省 system that posts to it.
PEERS: dict[str, Callable[[Path], App]] = {"national": _elsewhere("national"), "prefecture": prefecture,
                                           "jlis": jlis, "cards": _elsewhere("cards"),
                                           "koseki": _elsewhere("agencies", "koseki"),
                                           "moj": _elsewhere("agencies", "moj"), "infonet": _elsewhere("infonet")}
