"""個人番号カード管理システム: the card management system of the simulated network (P10), as far as a
city's CS deals with it. Callers are cities' CSs only (`cs-…`).

- `POST /recipients`: a 送付先情報 file (FILE-3), `{"file_id", "records": [{"resident_code", …}]}`.
  A file is taken once: the same id from the same city again is answered as the first time (an
  at-least-once sender's retry); the same id with other content is refused.
- `POST /cards/<住民票コード>/<action>`: issue, suspend, resume, revoke, collect — a small state
  machine over the person's current card. An issue makes a new card: a new card number (12 digits,
  never given twice) and a new serial of its 電子証明書 (16 hex digits).

      none, revoked, collected --issue--> active
      active --suspend--> suspended --resume--> active
      active, suspended --revoke--> revoked;  --collect--> collected

  Any other move is refused (409 `invalid_transition`), with the state it found.
  `transfer` (継続利用, issue 15): an active card's holder moved to the calling city, which now keeps it.
  An `issue` may carry the `pin` (暗証番号, 4 digits) the holder chose; it is kept as a salted hash.
- `POST /cards/verify` {card_number, pin}: what reading the card's chip with its 暗証番号 tells the
  counter of a 特例転入 (住民票コード, 住所地): a wrong PIN counts, and three in a row lock the card
  (423 `pin_locked`) until its city unlocks it (not simulated).
- `GET /cards/<住民票コード>`: the current card and its history; `GET /status`.
"""
from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
from pathlib import Path

from juki.core.checkdigits import is_valid_resident_code

from .peers import Store, _city, _now
from .wire import App, Refused, Request

SCHEMA = """
CREATE TABLE IF NOT EXISTS recipient_files (municipality TEXT, file_id TEXT, digest TEXT NOT NULL,
    received INTEGER NOT NULL, received_at TEXT, PRIMARY KEY (municipality, file_id));
CREATE TABLE IF NOT EXISTS recipients (municipality TEXT, file_id TEXT, resident_code TEXT, items TEXT,
    PRIMARY KEY (municipality, file_id, resident_code));
CREATE INDEX IF NOT EXISTS recipients_code ON recipients (resident_code);
CREATE TABLE IF NOT EXISTS cards (id INTEGER PRIMARY KEY, resident_code TEXT NOT NULL, card_number TEXT NOT NULL UNIQUE,
    certificate_serial TEXT NOT NULL UNIQUE, state TEXT NOT NULL, municipality TEXT, issued_at TEXT, updated_at TEXT,
    pin_hash TEXT NOT NULL DEFAULT '', pin_failures INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS cards_resident ON cards (resident_code, id);
CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, resident_code TEXT NOT NULL, card_number TEXT,
    action TEXT NOT NULL, from_state TEXT NOT NULL, to_state TEXT NOT NULL, municipality TEXT, at TEXT);
CREATE INDEX IF NOT EXISTS events_resident ON events (resident_code, id);
"""
NONE = "none"
# action: (the states it may start from, the state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "issue": (frozenset({NONE, "revoked", "collected"}), "active"),
    "suspend": (frozenset({"active"}), "suspended"),
    "resume": (frozenset({"suspended"}), "active"),
    "revoke": (frozenset({"active", "suspended"}), "revoked"),
    "collect": (frozenset({"active", "suspended"}), "collected"),
    "transfer": (frozenset({"active"}), "active"),
}
PIN_TRIES = 3
MAX_RECORDS = 100_000
CARD_FIELDS = ("card_number", "certificate_serial", "state", "municipality", "issued_at", "updated_at")


def _code(value: str) -> str:
    if not is_valid_resident_code(value):
        raise Refused(422, "invalid_check_digit", "住民票コードの検査数字が正しくありません。", item="resident_code")
    return value


def _fresh(db: sqlite3.Connection, column: str, make) -> str:
    while True:
        value = make()
        if not db.execute(f"SELECT 1 FROM cards WHERE {column} = ?", (value,)).fetchone():
            return value


def _current(db: sqlite3.Connection, code: str) -> dict | None:
    row = db.execute(f"SELECT {', '.join(CARD_FIELDS)} FROM cards WHERE resident_code = ? ORDER BY id DESC LIMIT 1",
                     (code,)).fetchone()
    return dict(zip(CARD_FIELDS, row)) if row else None


def _pin_hash(pin: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    return salt.hex() + ":" + hashlib.scrypt(pin.encode(), salt=salt, n=2**12, r=8, p=1).hex()


def _pin_ok(pin: str, stored: str) -> bool:
    if not stored:
        return False
    salt, _ = stored.split(":", 1)
    return secrets.compare_digest(_pin_hash(pin, bytes.fromhex(salt)), stored)


def cards(directory: Path) -> App:
    store = Store(directory / "cards.sqlite3", SCHEMA)
    app = App("cards")

    @app.route("POST", "/recipients")
    def recipients(request: Request) -> dict:
        """送付先情報 (FILE-3) in: taken once per (city, file id)."""
        city = _city(request)
        file_id, records = request.body.get("file_id"), request.body.get("records")
        if not isinstance(file_id, str) or not 1 <= len(file_id) <= 100:
            raise Refused(422, "invalid_file_id", "ファイルIDが正しくありません。")
        if not isinstance(records, list) or len(records) > MAX_RECORDS:
            raise Refused(422, "invalid_records", "送付先情報の形式が正しくありません。")
        seen: set[str] = set()
        for index, record in enumerate(records):
            code = record.get("resident_code") if isinstance(record, dict) else None
            if not is_valid_resident_code(code):
                raise Refused(422, "invalid_check_digit", "住民票コードの検査数字が正しくありません。",
                              item="resident_code", index=index)
            if code in seen:
                raise Refused(422, "duplicate_resident_code", "同じ住民票コードが二度あります。", index=index)
            seen.add(code)
        digest = hashlib.sha256(json.dumps(records, ensure_ascii=False, sort_keys=True).encode()).hexdigest()
        with store as db:
            row = db.execute("SELECT digest, received FROM recipient_files WHERE municipality = ? AND file_id = ?",
                             (city, file_id)).fetchone()
            if row:
                if row[0] != digest:
                    raise Refused(409, "file_id_conflict", "同じファイルIDで異なる内容の送付先情報です。")
                return {"file_id": file_id, "received": row[1], "repeated": True}
            db.execute("INSERT INTO recipient_files VALUES (?, ?, ?, ?, ?)", (city, file_id, digest, len(records), _now()))
            db.executemany("INSERT INTO recipients VALUES (?, ?, ?, ?)",
                           [(city, file_id, r["resident_code"], json.dumps(r, ensure_ascii=False)) for r in records])
        return {"file_id": file_id, "received": len(records)}

    @app.route("POST", "/cards/verify")
    def verify(request: Request) -> dict:
        """The card and its 暗証番号, as the counter's reader would check them: the holder's 住民票コード
        and 住所地 on the right PIN, nothing but the refusal otherwise."""
        _city(request)
        number, pin = str(request.body.get("card_number") or ""), str(request.body.get("pin") or "")
        if not (len(number) == 12 and number.isdigit()):
            raise Refused(422, "invalid_card_number", "カード番号は数字12桁です。", item="card_number")
        with store as db:
            row = db.execute("SELECT resident_code, state, municipality, pin_hash, pin_failures FROM cards "
                             "WHERE card_number = ?", (number,)).fetchone()
            if row is None:
                raise Refused(404, "card_not_found", "このカード番号の個人番号カードはありません。")
            code, state, municipality, stored, failures = row
            if failures >= PIN_TRIES:
                raise Refused(423, "pin_locked", "暗証番号の誤りが続いたため、カードはロックされています。")
            if not _pin_ok(pin, stored):
                db.execute("UPDATE cards SET pin_failures = pin_failures + 1 WHERE card_number = ?", (number,))
                return_left = PIN_TRIES - failures - 1
                # The refusal is committed with the count: raise after the block, not inside it.
            else:
                db.execute("UPDATE cards SET pin_failures = 0 WHERE card_number = ?", (number,))
                return_left = None
        if return_left is not None:
            raise Refused(401, "pin_wrong", "暗証番号が違います。", remaining=return_left)
        if state != "active":
            raise Refused(409, "card_state", f"{state} の個人番号カードです。", state=state)
        return {"card_number": number, "resident_code": code, "municipality": municipality, "state": state}

    @app.route("POST", "/cards/(?P<code>[0-9]+)/(?P<action>[a-z_]+)")
    def change(request: Request) -> dict:
        city = _city(request)
        code, action = _code(request.params["code"]), request.params["action"]
        if action not in TRANSITIONS:
            raise Refused(422, "unknown_action", "操作は issue, suspend, resume, revoke, collect, transfer のいずれかです。",
                          actions=sorted(TRANSITIONS))
        allowed, to_state = TRANSITIONS[action]
        now = _now()
        with store as db:
            card = _current(db, code)
            state = card["state"] if card else NONE
            if card and action not in ("issue", "transfer") and card["municipality"] != city:
                # 一時停止・廃止・回収 are the business of the card's own city (where its holder lives)
                raise Refused(403, "not_card_city", "この個人番号カードは他の市区町村のカードです。")
            if state not in allowed:
                raise Refused(409, "invalid_transition", f"{state} の個人番号カードに {action} はできません。",
                              state=state, action=action)
            if action == "issue":
                pin = str(request.body.get("pin") or "")
                if pin and not (len(pin) == 4 and pin.isdigit()):
                    raise Refused(422, "invalid_pin", "暗証番号は数字4桁です。", item="pin")
                number = _fresh(db, "card_number", lambda: "".join(secrets.choice("0123456789") for _ in range(12)))
                serial = _fresh(db, "certificate_serial", lambda: secrets.token_hex(8).upper())
                db.execute("INSERT INTO cards (resident_code, card_number, certificate_serial, state, municipality, "
                           "issued_at, updated_at, pin_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           (code, number, serial, to_state, city, now, now, _pin_hash(pin) if pin else ""))
            else:
                db.execute("UPDATE cards SET state = ?, municipality = ?, updated_at = ? WHERE card_number = ?",
                           (to_state, city, now, card["card_number"]))
            current = _current(db, code)
            db.execute("INSERT INTO events (resident_code, card_number, action, from_state, to_state, municipality, at) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)", (code, current["card_number"], action, state, to_state, city, now))
        return {"resident_code": code, "action": action, "previous_state": state, **current}

    @app.route("GET", "/cards/(?P<code>[0-9]+)")
    def show(request: Request) -> dict:
        _city(request)
        code = _code(request.params["code"])
        with store.lock:
            card = _current(store.db, code)
            history = store.db.execute("SELECT card_number, action, from_state, to_state, municipality, at FROM events "
                                       "WHERE resident_code = ? ORDER BY id", (code,)).fetchall()
        keys = ("card_number", "action", "from_state", "to_state", "municipality", "at")
        return {"resident_code": code, **(card or {**dict.fromkeys(CARD_FIELDS), "state": NONE}),
                "history": [dict(zip(keys, h)) for h in history]}

    @app.route("GET", "/status")
    def status(request: Request) -> dict:
        _city(request)
        # Each person's current card: the latest of theirs.
        states = dict(store.query("SELECT state, count(*) FROM cards WHERE id IN "
                                  "(SELECT max(id) FROM cards GROUP BY resident_code) GROUP BY state"))
        (files,) = store.query("SELECT count(*) FROM recipient_files")[0]
        (recipients,) = store.query("SELECT count(*) FROM recipients")[0]
        (issued,) = store.query("SELECT count(*) FROM cards")[0]
        return {"peer": "cards", "cards": states, "issued": issued, "recipient_files": files, "recipients": recipients}

    return app
