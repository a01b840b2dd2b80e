"""FILE-2 本人確認情報: its 36 items (the PIA's 別添2, in its order) and the checks of an update (C13).

The checks are plain functions over the update and the CS's current record of the person, so the CS
(which holds the record) and the tests run the very same rules. Every refusal names its code and
the item it is about; the register's error queue (`juki.jukinet`) shows them to the clerk.
"""
from __future__ import annotations

import datetime as dt
import unicodedata

from juki.core.checkdigits import is_valid_my_number, is_valid_resident_code

# (key, 項目名) of the 36 items. The CS fills the last eight (its own numbering and flags).
ITEMS: tuple[tuple[str, str], ...] = (
    ("resident_code", "住民票コード"), ("name", "漢字氏名"), ("name_gaiji", "外字数（氏名）"),
    ("name_kana", "ふりがな氏名"), ("name_kana_seion", "清音化かな氏名"), ("birth_date", "生年月日"),
    ("sex", "性別"), ("municipality_code", "市町村コード"), ("town_code", "大字・字コード"),
    ("postal_code", "郵便番号"), ("address", "住所"), ("address_gaiji", "外字数（住所）"), ("my_number", "個人番号"),
    ("became_resident_on", "住民となった日"), ("address_set_on", "住所を定めた日"), ("notified_on", "届出の年月日"),
    ("previous_municipality_code", "市町村コード（転入前）"), ("previous_address", "転入前住所"),
    ("previous_address_gaiji", "外字数（転入前住所）"), ("relationship", "続柄"), ("reason", "異動事由"),
    ("event_date", "異動年月日"), ("reason_detail", "異動事由詳細"), ("former_resident_code", "旧住民票コード"),
    ("resident_code_used_on", "住民票コード使用年月日"), ("request_number", "依頼管理番号"),
    ("operator_id", "操作者ID"), ("terminal_id", "操作端末ID"), ("seq", "更新順番号"),
    ("anomaly_seq", "異常時更新順番号"), ("update_prohibited", "更新禁止フラグ"), ("scheduled", "予定者フラグ"),
    ("exclusive", "排他フラグ"), ("gaiji", "外字フラグ"), ("record_status", "レコード状況フラグ"),
    ("timestamp", "タイムスタンプ"),
)
LABELS = dict(ITEMS)
CS_ITEMS = frozenset({"seq", "anomaly_seq", "update_prohibited", "scheduled", "exclusive", "gaiji", "record_status",
                      "timestamp"})
# What a 転居 may change: the address and what goes with it (住所を定めた日, 届出の年月日, the 異動 itself).
MOVE_ITEMS = frozenset({"municipality_code", "town_code", "postal_code", "address", "address_gaiji", "address_set_on",
                        "notified_on", "reason", "event_date", "reason_detail", "request_number", "operator_id",
                        "terminal_id", "relationship"})
REQUIRED = ("name", "birth_date", "sex")  # ふりがな may be unknown (a name whose reading was never confirmed)
REQUIRED_RESIDENT = ("municipality_code", "town_code", "address")
MOVE_WITHIN_CITY = "move_within_city"

MESSAGES = {
    "invalid_check_digit": "検査数字が正しくありません。",
    "missing_item": "必須の項目がありません。",
    "invalid_date": "日付が正しくありません。",
    "invalid_item": "値が正しくありません。",
    "already_resident": "既に住民として記録されている住民票コードへの記載（転入等）です。",
    "unknown_resident": "本人確認情報がない住民票コードへの更新です。",
    "already_removed": "既に消除されている本人確認情報の消除です。",
    "move_changes_more_than_address": "転居で住所以外の項目が変更されています。",
}


def error(code: str, item: str) -> dict:
    return {"code": code, "item": item, "label": LABELS.get(item, item), "message": MESSAGES[code]}


def gaiji_count(text: str | None) -> int:
    """外字数: characters outside JIS X 0208 (what the network's character set cannot carry as they are)."""
    count = 0
    for ch in text or "":
        try:
            ch.encode("shift_jis")
        except UnicodeEncodeError:
            count += 1
    return count


def seion(kana: str) -> str:
    """清音化かな: the kana with its dakuten and handakuten taken off (ガ→カ, パ→ハ), small kana made full."""
    plain = "".join(c for c in unicodedata.normalize("NFD", kana) if c not in "\u3099\u309a")
    return unicodedata.normalize("NFC", plain).translate(str.maketrans("ァィゥェォッャュョヮぁぃぅぇぉっゃゅょゎ",
                                                                        "アイウエオツヤユヨワあいうえおつやゆよわ"))


def _is_date(value) -> bool:
    try:
        dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return True


def check(kind: str, items: dict, current: dict | None, *, current_kind: str | None, initial: bool = False) -> list[dict]:
    """The C13 checks of one update: format first (each item on its own), then logic against the CS's
    current record of the person (`current`, None when it has none). An empty list accepts it. The
    initial load (`initial`) brings removed persons' records too: a 消除 of a code the CS never had."""
    errors = []
    if not is_valid_resident_code(items.get("resident_code")):
        errors.append(error("missing_item" if not items.get("resident_code") else "invalid_check_digit",
                            "resident_code"))
    if items.get("my_number") and not is_valid_my_number(items["my_number"]):
        errors.append(error("invalid_check_digit", "my_number"))
    for key in REQUIRED + (REQUIRED_RESIDENT if kind != "remove" else ()):
        if not items.get(key):
            errors.append(error("missing_item", key))
    for key in ("birth_date", "became_resident_on", "address_set_on", "notified_on", "event_date"):
        if items.get(key) and not _is_date(items[key]):
            errors.append(error("invalid_date", key))
    if items.get("sex") not in (None, "", "1", "2"):
        errors.append(error("invalid_item", "sex"))
    if errors:
        return errors
    removed = current_kind == "remove"
    if kind == "entry" and current is not None and not removed:
        return [error("already_resident", "resident_code")]
    if kind != "entry" and current is None and not (initial and kind == "remove"):
        return [error("unknown_resident", "resident_code")]
    if kind == "remove" and removed:
        return [error("already_removed", "resident_code")]
    if items.get("reason") == MOVE_WITHIN_CITY and current is not None:
        changed = sorted(k for k in set(items) | set(current)
                         if k not in MOVE_ITEMS and k not in CS_ITEMS and k != "my_number"
                         and (items.get(k) or None) != (current.get(k) or None))
        if changed:
            return [error("move_changes_more_than_address", k) for k in changed]
    return []
