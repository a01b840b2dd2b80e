"""全国サーバ: the national server of the simulated 住基ネット (機構保存本人確認情報).

- `POST /updates`, from the prefecture servers only (client certificate `prefecture`): what a
  prefecture applied, in its own gapless forward sequence, with the very rules a prefecture applies to
  a city's 更新順番号 (`peers.InOrder`): a number already seen changes nothing, a gap is refused with
  the number expected, a message it cannot take is refused by itself and keeps its place. It keeps the
  current record of each 住民票コード, its city and its status (the last message's kind).
- `POST /identify`, 本人確認 (P6) from a city's CS: by 住民票コード, by 個人番号, or by 4情報 with the
  two-item rule — at least two of 氏名 (漢字 or かな), 生年月日 and 住所, 性別 not counting
  (「少なくとも性別を除く２情報以上」), so that no one builds a database out of it. An answer never
  carries the 個人番号, and each search is logged (who, how, how many; never what was searched).
- `GET /status`, and `GET /updates?prefecture=40&after=N` (a prefecture's own log).

The fields searched on are stored normalised and indexed: the name without spaces (half or full
width); the かな likewise, in katakana of full width, and its 清音 form; the address in NFKC.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import unicodedata
from pathlib import Path

from juki.core.checkdigits import (
    is_valid_local_government_code,
    is_valid_my_number,
    is_valid_resident_code,
)

from . import consistency, mail
from .peers import REQUIRED, InOrder, Store, _city, _now
from .wire import App, Refused, Request

SCHEMA = """
CREATE TABLE IF NOT EXISTS prefectures (prefecture TEXT PRIMARY KEY, last_seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS updates (prefecture TEXT, seq INTEGER, municipality TEXT, resident_code TEXT, kind TEXT,
    outcome TEXT, received_at TEXT, PRIMARY KEY (prefecture, seq));
CREATE TABLE IF NOT EXISTS records (resident_code TEXT NOT NULL, prefecture TEXT NOT NULL, municipality TEXT NOT NULL,
    seq INTEGER NOT NULL, status TEXT NOT NULL, name_key TEXT, kana_key TEXT, seion_key TEXT, birth_date TEXT,
    sex TEXT, address_key TEXT, my_number TEXT, items TEXT NOT NULL, updated_at TEXT, digest TEXT,
    PRIMARY KEY (resident_code, municipality));
CREATE INDEX IF NOT EXISTS records_city ON records (municipality, resident_code, digest);
CREATE INDEX IF NOT EXISTS records_name ON records (name_key, birth_date);
CREATE INDEX IF NOT EXISTS records_kana ON records (kana_key, birth_date);
CREATE INDEX IF NOT EXISTS records_seion ON records (seion_key, birth_date);
CREATE INDEX IF NOT EXISTS records_birth_date ON records (birth_date, address_key);
CREATE INDEX IF NOT EXISTS records_address ON records (address_key);
CREATE INDEX IF NOT EXISTS records_my_number ON records (my_number);
CREATE TABLE IF NOT EXISTS queries (id INTEGER PRIMARY KEY, at TEXT, caller TEXT, mode TEXT, count INTEGER);
"""
MAX_MATCHES = 100
# FILE-2's items that describe the update, not the person: a 消除 carries its own, whatever they were.
UPDATE_ITEMS = frozenset({"operator_id", "terminal_id", "request_number", "reason", "reason_detail", "event_date",
                          "notified_on", "anomaly_seq"})
ANSWERED = ("name", "name_kana", "birth_date", "sex", "address")  # of the items: what 本人確認 answers
SEXES = ("1", "2")
_SPACES = re.compile(r"\s+")  # str patterns: \s takes the full-width space (U+3000) too
_HIRAGANA = {code: code + 0x60 for code in range(ord("ぁ"), ord("ゖ") + 1)}
_SMALL = str.maketrans("ァィゥェォッャュョヮヵヶ", "アイウエオツヤユヨワカケ")


def name_key(value: str) -> str:
    """氏名: exact, without its spaces (half or full width)."""
    return _SPACES.sub("", value or "")


def kana_key(value: str) -> str:
    """ふりがな: without spaces, in katakana of full width (ｱｵｷ, あおき and アオキ are one)."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", value or "")).translate(_HIRAGANA)


def seion_key(value: str) -> str:
    """清音化かな: the かな without voiced marks and with small kana made large (ガ → カ, ッ → ツ)."""
    plain = "".join(c for c in unicodedata.normalize("NFD", kana_key(value)) if c not in "\u3099\u309a")
    return unicodedata.normalize("NFC", plain).translate(_SMALL)


def address_key(value: str) -> str:
    """住所: NFKC (１番 and 1番 are one) without spaces."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", value or ""))


def _prefecture_caller(request: Request) -> None:
    if request.peer != "prefecture":
        raise Refused(403, "not_a_prefecture", "都道府県サーバの証明書ではありません。")


def _text(body: dict, key: str) -> str:
    value = body.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Refused(422, "invalid_item", "値が正しくありません。", item=key)
    return value.strip()


def _number(body: dict, key: str, length: int, valid) -> str:
    value = _text(body, key)
    if not (len(value) == length and value.isascii() and value.isdigit()):
        raise Refused(422, "invalid_format", f"{length}桁の数字で指定してください。", item=key)
    if not valid(value):
        raise Refused(422, "invalid_check_digit", "検査数字が正しくありません。", item=key)
    return value


def national(directory: Path) -> App:
    store = Store(directory / "national.sqlite3", SCHEMA)
    digest_key = consistency.key(directory)
    app = App("national")

    @app.route("POST", "/updates")
    def updates(request: Request) -> dict:
        _prefecture_caller(request)
        prefecture = request.body.get("prefecture")
        if not (isinstance(prefecture, str) and len(prefecture) == 2 and prefecture.isdigit()
                and 1 <= int(prefecture) <= 47):
            raise Refused(422, "invalid_prefecture", "都道府県コードが正しくありません。")
        messages = request.body.get("messages")
        if not isinstance(messages, list) or not all(
                isinstance(m, dict) and isinstance(m.get("seq"), int) and not isinstance(m.get("seq"), bool)
                for m in messages):
            raise Refused(422, "invalid_messages", "更新の形式が正しくありません。")
        with store as db:
            row = db.execute("SELECT last_seq FROM prefectures WHERE prefecture = ?", (prefecture,)).fetchone()

            def apply(seq: int, message: dict) -> dict | None:
                refusal = _store(db, prefecture, seq, message, digest_key)
                db.execute("INSERT INTO updates VALUES (?, ?, ?, ?, ?, ?, ?)",
                           (prefecture, seq, str(message.get("municipality") or ""),
                            str(message.get("resident_code") or ""), message.get("kind"),
                            "refused" if refusal else "applied", _now()))
                return refusal

            run = InOrder(row[0] if row else 0).run(messages, apply)
            db.execute("INSERT INTO prefectures VALUES (?, ?) ON CONFLICT (prefecture) DO UPDATE SET last_seq = ?",
                       (prefecture, run.last, run.last))
        return run.answer()

    @app.route("GET", "/updates")
    def update_log(request: Request) -> dict:
        _prefecture_caller(request)
        prefecture = request.query.get("prefecture", "")
        try:
            after = int(request.query.get("after", 0))
        except ValueError:
            raise Refused(422, "invalid_after", "after は整数です。") from None
        rows = store.query("SELECT seq, municipality, resident_code, kind, outcome, received_at FROM updates "
                           "WHERE prefecture = ? AND seq > ? ORDER BY seq LIMIT 1000", (prefecture, after))
        keys = ("seq", "municipality", "resident_code", "kind", "outcome", "received_at")
        return {"prefecture": prefecture, "updates": [dict(zip(keys, r)) for r in rows]}

    @app.route("POST", "/identify")
    def identify(request: Request) -> dict:
        """本人確認 (P6). One of: {"resident_code"}, {"my_number"}, or 4情報 {"name", "name_kana",
        "birth_date", "sex", "address"} (at least two of 氏名, 生年月日, 住所). The first given wins."""
        _city(request)
        body = request.body if isinstance(request.body, dict) else {}
        if _text(body, "resident_code"):
            mode = "resident_code"
            code = _number(body, "resident_code", 11, is_valid_resident_code)
            where, params = ["resident_code = ?"], [code]
        elif _text(body, "my_number"):
            mode = "my_number"
            number = _number(body, "my_number", 12, is_valid_my_number)
            where, params = ["my_number = ?"], [number]
        else:
            mode = "four_items"
            where, params = _four_items(body)
        rows = store.query(
            f"SELECT resident_code, municipality, status, items FROM records WHERE {' AND '.join(where)} "
            f"ORDER BY resident_code, status = 'remove' LIMIT {MAX_MATCHES + 1}", params)
        matches = []
        for code, municipality, status, items in rows[:MAX_MATCHES]:
            items = json.loads(items)
            matches.append({"resident_code": code, "municipality": municipality,
                            **{k: items.get(k) for k in ANSWERED}, "status": status})
        with store as db:
            db.execute("INSERT INTO queries (at, caller, mode, count) VALUES (?, ?, ?, ?)",
                       (_now(), request.peer, mode, len(matches)))
        return {"matches": matches, "count": len(matches), "truncated": len(rows) > MAX_MATCHES}

    @app.route("GET", "/status")
    def status(request: Request) -> dict:
        (records,) = store.query("SELECT count(*) FROM records")[0]
        (queries,) = store.query("SELECT count(*) FROM queries")[0]
        prefectures = dict(store.query("SELECT prefecture, last_seq FROM prefectures"))
        return {"peer": "national", "records": records, "prefectures": prefectures, "queries": queries}

    def full(city: str, codes: list[str]) -> dict:
        if not codes:
            return {}
        rows = store.query(f"SELECT resident_code, items, my_number, status FROM records WHERE municipality = ? AND "
                           f"resident_code IN ({','.join('?' * len(codes))})", (city, *codes))
        return {code: consistency.record_view({**json.loads(items), **({"my_number": number} if number else {})}, status)
                for code, items, number, status in rows}

    # 整合性確認 (P8): a city's CS walks the tree of its own records here, as at the prefecture.
    consistency.install(app, scope=_city, records=full, pairs=lambda city: store.query(
        "SELECT resident_code, digest FROM records WHERE municipality = ?", (city,)))
    # The exchange of messages between cities (and the 法務省), in this process with a file of its own.
    mail.install(app, directory)
    return app



def _four_items(body: dict) -> tuple[list[str], list[str]]:
    """The WHERE of a 4情報 search, or the refusal of one that is too wide (C: the two-item rule)."""
    name, kana = name_key(_text(body, "name")), kana_key(_text(body, "name_kana"))
    birth_date, sex, address = _text(body, "birth_date"), _text(body, "sex"), address_key(_text(body, "address"))
    given = sum(bool(x) for x in (name or kana, birth_date, address))  # 性別 does not count
    if given < 2:
        raise Refused(422, "two_items_required",
                      "4情報による検索には、少なくとも性別を除く２情報以上（氏名と住所、氏名と生年月日等）の指定が必要です。")
    where: list[str] = []
    params: list[str] = []
    if birth_date:
        try:
            valid = len(birth_date) == 10 and dt.date.fromisoformat(birth_date).isoformat() == birth_date
        except ValueError:
            valid = False
        if not valid:
            raise Refused(422, "invalid_birth_date", "生年月日は YYYY-MM-DD で指定してください。", item="birth_date")
        where.append("birth_date = ?")
        params.append(birth_date)
    if sex:
        if sex not in SEXES:
            raise Refused(422, "invalid_sex", "性別は 1（男）または 2（女）です。", item="sex")
        where.append("sex = ?")
        params.append(sex)
    if name:
        where.append("name_key = ?")
        params.append(name)
    if kana:
        where.append("(kana_key = ? OR seion_key = ?)")
        params += [kana, kana]
    if address:
        where.append("address_key = ?")
        params.append(address)
    return where, params


def _store(db: sqlite3.Connection, prefecture: str, seq: int, message: dict, digest_key: bytes) -> dict | None:
    """Keep one forwarded message as the current record of its 住民票コード; or say why not."""
    code = str(message.get("resident_code") or "")
    municipality = str(message.get("municipality") or "")
    kind = message.get("kind")
    items = message.get("items") if isinstance(message.get("items"), dict) else {}
    problems = []
    if not is_valid_resident_code(code):
        problems.append("resident_code")
    if not (is_valid_local_government_code(municipality) and municipality.startswith(prefecture)):
        problems.append("municipality")
    if kind not in ("entry", "update", "remove"):
        problems.append("kind")
    if kind != "remove":
        problems += [k for k in REQUIRED if not items.get(k)]
    if problems:
        return {"code": "invalid_record", "items": problems}
    if kind == "remove":  # a 消除 keeps what was known of the person, with what it says itself on top
        row = db.execute("SELECT items, my_number FROM records WHERE resident_code = ? AND municipality = ?",
                         (code, municipality)).fetchone()
        if row:
            # The items of the update itself are its own, emptied ones too (a 除票's 修正 by a system,
            # such as the 転出確定 of a 転入通知, has no 操作者), as the CS holds them (整合性確認).
            items = {**json.loads(row[0]), **({"my_number": row[1]} if row[1] else {}),
                     **{k: v for k, v in items.items() if v not in (None, "") or k in UPDATE_ITEMS}}
    my_number = items.get("my_number") if is_valid_my_number(items.get("my_number")) else None
    kept = {k: v for k, v in items.items() if k != "my_number"}  # the number lives in its own column only
    db.execute(
        "INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (resident_code, municipality) "
        "DO UPDATE SET prefecture = excluded.prefecture, seq = excluded.seq, "
        "status = excluded.status, name_key = excluded.name_key, kana_key = excluded.kana_key, "
        "seion_key = excluded.seion_key, birth_date = excluded.birth_date, sex = excluded.sex, "
        "address_key = excluded.address_key, my_number = excluded.my_number, items = excluded.items, "
        "updated_at = excluded.updated_at, digest = excluded.digest",
        (code, prefecture, municipality, seq, kind, name_key(str(kept.get("name") or "")),
         kana_key(str(kept.get("name_kana") or "")), seion_key(str(kept.get("name_kana") or "")),
         str(kept.get("birth_date") or ""), str(kept.get("sex") or ""), address_key(str(kept.get("address") or "")),
         my_number, json.dumps(kept, ensure_ascii=False), _now(),
         consistency.digest_of({**kept, "my_number": my_number} if my_number else kept, kind, digest_key)))
    return None
