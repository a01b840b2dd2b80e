"""The peers of the simulated 住基ネット, each its own process with its own SQLite file.

They are not the city's software: they behave as the real ones do towards a city, as far as juki
needs them, and no further.

- **prefecture** (都道府県サーバ): stores the 本人確認情報 updates of each of its cities in the
  order of their 更新順番号. A message applied twice changes nothing; a message after a gap is
  refused with the number it expects, so a city can never skip one; a message whose content it
  cannot take is refused by itself and keeps its place (the city lists it as a dead letter).
- **jlis** (地方公共団体情報システム機構): 個人番号 generated per 住民票コード with a valid check
  digit and never given twice [1130]; new 住民票コード for a CS's stock [870].
- **national** (全国サーバ): 本人確認 (P6) by 住民票コード, 個人番号 or 4情報 with the two-item
  rule; it holds what the prefecture servers pass on (here: what the prefecture server stores).

Who calls is the client certificate's name (`cs-401005` is 北九州市's CS), never a field of the body.
"""
from __future__ import annotations

import datetime as dt
import json
import secrets
import sqlite3
import threading
from pathlib import Path

from juki.core.checkdigits import is_valid_resident_code, mod11_check_digit

from .wire import App, Refused, Request


class Store:
    """One SQLite file, one writer at a time (the peers are small; correctness over speed)."""

    def __init__(self, path: Path, schema: str):
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")  # an acknowledged update survives a kill -9 of the peer
        self.db.executescript(schema)
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


# --- 都道府県サーバ -----------------------------------------------------------------------------

PREFECTURE_SCHEMA = """
CREATE TABLE IF NOT EXISTS cities (municipality TEXT PRIMARY KEY, last_seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS updates (municipality TEXT, seq INTEGER, resident_code TEXT, kind TEXT,
    items TEXT, outcome TEXT, received_at TEXT, PRIMARY KEY (municipality, seq));
CREATE TABLE IF NOT EXISTS records (resident_code TEXT PRIMARY KEY, municipality TEXT, seq INTEGER,
    items TEXT, updated_at TEXT);
"""
# What the prefecture refuses by itself, whatever the CS checked: a record without these.
REQUIRED = ("name", "birth_date", "sex")


def prefecture(directory: Path) -> App:
    store = Store(directory / "prefecture.sqlite3", PREFECTURE_SCHEMA)
    app = App("prefecture")

    @app.route("POST", "/updates")
    def updates(request: Request) -> dict:
        city = _city(request)
        accepted, duplicates, refused = [], [], []
        with store as db:
            row = db.execute("SELECT last_seq FROM cities WHERE municipality = ?", (city,)).fetchone()
            last = row[0] if row else 0
            for message in request.body.get("messages", []):
                seq = int(message["seq"])
                if seq <= last:
                    duplicates.append(seq)  # applied before: an at-least-once sender's retry
                    continue
                if seq != last + 1:
                    break  # a gap: stop here, and say which one is expected
                items = message.get("items") or {}
                code = message.get("resident_code") or ""
                missing = [k for k in REQUIRED if not items.get(k)] if message.get("kind") != "remove" else []
                if not is_valid_resident_code(code) or missing:
                    outcome = "refused"
                    refused.append({"seq": seq, "code": "invalid_record", "items": missing or ["resident_code"]})
                else:
                    outcome = "applied"
                    accepted.append(seq)
                    db.execute("INSERT INTO records VALUES (?, ?, ?, ?, ?) ON CONFLICT (resident_code) DO UPDATE "
                               "SET municipality = excluded.municipality, seq = excluded.seq, items = excluded.items, "
                               "updated_at = excluded.updated_at",
                               (code, city, seq, json.dumps({**items, "status": message.get("kind")}, ensure_ascii=False),
                                _now()))
                db.execute("INSERT INTO updates VALUES (?, ?, ?, ?, ?, ?, ?)",
                           (city, seq, code, message.get("kind"), json.dumps(items, ensure_ascii=False), outcome, _now()))
                last = seq
            db.execute("INSERT INTO cities VALUES (?, ?) ON CONFLICT (municipality) DO UPDATE SET last_seq = ?",
                       (city, last, last))
        expected = last + 1
        messages = request.body.get("messages", [])
        if messages and int(messages[-1]["seq"]) >= expected and not (accepted or refused or duplicates):
            raise Refused(409, "sequence_gap", "更新順番号が連続していません。", expected=expected)
        return {"accepted": accepted, "duplicates": duplicates, "refused": refused, "last_seq": last}

    @app.route("GET", "/records/(?P<code>[0-9]{11})")
    def record(request: Request) -> dict:
        rows = store.query("SELECT municipality, seq, items, updated_at FROM records WHERE resident_code = ?",
                           (request.params["code"],))
        if not rows:
            raise Refused(404, "not_found")
        municipality, seq, items, updated_at = rows[0]
        return {"resident_code": request.params["code"], "municipality": municipality, "seq": seq,
                "items": json.loads(items), "updated_at": updated_at}

    @app.route("GET", "/status")
    def status(request: Request) -> dict:
        cities = dict(store.query("SELECT municipality, last_seq FROM cities"))
        (count,) = store.query("SELECT count(*) FROM records")[0]
        return {"peer": "prefecture", "cities": cities, "records": count}

    @app.route("GET", "/updates")
    def update_log(request: Request) -> dict:
        city = _city(request)
        after = int(request.query.get("after", 0))
        rows = store.query("SELECT seq, resident_code, kind, outcome, received_at FROM updates "
                           "WHERE municipality = ? AND seq > ? ORDER BY seq LIMIT 1000", (city, after))
        return {"updates": [dict(zip(("seq", "resident_code", "kind", "outcome", "received_at"), r)) for r in rows]}

    return app


# --- J-LIS ---------------------------------------------------------------------------------------

JLIS_SCHEMA = """
CREATE TABLE IF NOT EXISTS my_numbers (my_number TEXT PRIMARY KEY, resident_code TEXT NOT NULL,
    municipality TEXT, issued_at TEXT, current INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS my_numbers_code ON my_numbers (resident_code, current);
CREATE TABLE IF NOT EXISTS resident_codes (resident_code TEXT PRIMARY KEY, municipality TEXT, issued_at TEXT);
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
        with store as db:
            row = db.execute("SELECT my_number FROM my_numbers WHERE resident_code = ? AND current = 1", (code,)).fetchone()
            if row and request.body.get("reason") != "change":
                return {"resident_code": code, "my_number": row[0], "new": False}
            db.execute("UPDATE my_numbers SET current = 0 WHERE resident_code = ?", (code,))
            number = _fresh(db, "my_numbers", "my_number", 12)
            db.execute("INSERT INTO my_numbers VALUES (?, ?, ?, ?, 1)", (number, code, city, _now()))
        return {"resident_code": code, "my_number": number, "new": True}

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


PEERS = {"prefecture": prefecture, "jlis": jlis}
