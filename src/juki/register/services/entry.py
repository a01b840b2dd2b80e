"""What a 届出 carries besides the persons' items: its dates, the 届出人 and the items of the
entry itself (転入前住所, 転出先, 取り消す異動 …), as labelled rows for the confirmation and review
screens [530][540].

The persons' items (氏名, 続柄, 住所 …) are shown as before/after by `verification`; everything
else a clerk typed is a row here, dates first, so the two-person check sees every item that
will be written. A payload key with no label here is a bug: `tests/counter/test_entry_walk.py`
walks all 25 operations and fails on any entered item that neither screen shows.
"""
from __future__ import annotations

import datetime as dt

from juki.core.municipalities import name_of
from juki.core.wareki import to_wareki

from ..reasons import NOTIFIED_OPERATIONS

# Payload keys shown as rows, in the order shown (dates first). Label per operation where it differs.
DATE_KEYS = ("event_date", "notified_on", "notice_on", "moved_on")
_LABELS = {
    "event_date": "異動日",
    "notified_on": "届出日",
    "notice_on": "転入通知を受けた日",
    "moved_on": "転出年月日（確定）",
    "notifier_name": "届出人",
    "notifier_relationship": "届出人と本人との関係",
    "origin": "転入の区分",
    "previous_address": "転入前住所",
    "previous_postal_code": "転入前住所の郵便番号",
    "previous_municipality_code": "転出地（転入通知の送付先）",
    "confirmed_new_person": "別人確認",
    "destination": "異動先の世帯",
    "target": "異動先の世帯",
    "destination_address": "転出先住所",
    "abroad": "転出の区分",
    "special": "特例転出",
    "confirmed_address": "転出先住所（確定）",
    "new_head": "新しい世帯主",
    "change_id": "取り消す異動の番号",
    "kind": "個人番号の異動の区分",
    "my_number": "個人番号",
    "note": "留意事項・職権記録",
}
_NOTE_LABELS = {"cancel": "取消しの理由", "ex_officio_correction": "修正の理由・根拠",
                "minor_correction": "修正の理由・根拠", "erratum_correction": "修正の理由・根拠"}
_DATE_LABELS = {"move_out": {"event_date": "転出予定日"}, "death": {"event_date": "死亡日"},
                "birth": {"event_date": "出生日"}, "move_in": {"event_date": "転入日"},
                "move_within_city": {"event_date": "転居日"}}
_ORIGIN = {"domestic": "国内からの転入", "abroad": "国外からの転入"}
_MY_NUMBER_KIND = {"entry": "職権記載", "change_request": "変更請求", "correction": "職権修正"}

# Keys whose content the persons' before/after shows (or that only address the record).
PERSON_KEYS = frozenset({
    "persons", "person", "child", "new_data", "changes", "household", "address",
    "relationships_in_destination", "relationships_in_new", "relationships_in_target", "relationships_after",
    "new_head_relationships",
})
ENTRY_KEYS = frozenset(_LABELS)


def _date(value) -> str:
    if isinstance(value, dt.date):
        return to_wareki(value)
    try:
        return to_wareki(dt.date.fromisoformat(str(value)))
    except ValueError:
        return str(value)


def rows(operation: str, payload: dict, *, names: dict[int, str] | None = None,
         household_numbers: dict[int, str] | None = None) -> list[dict]:
    """The entry's own items as [{key, label, value}], dates first; empty items are left out
    except the 届出日, whose absence the reviewer should see."""
    names = names or {}
    household_numbers = household_numbers or {}
    out: list[dict] = []

    def add(key: str, value: str) -> None:
        label = _DATE_LABELS.get(operation, {}).get(key) or (_NOTE_LABELS.get(operation) if key == "note" else None) \
            or _LABELS[key]
        out.append({"key": key, "label": label, "value": value})

    for key in DATE_KEYS:
        if payload.get(key):
            add(key, _date(payload[key]))
        elif key == "notified_on" and "event_date" in payload and operation in NOTIFIED_OPERATIONS:
            add(key, "（入力なし）")
    for key in _LABELS:
        if key in DATE_KEYS or key not in payload:
            continue
        value = payload[key]
        if key == "origin":
            add(key, _ORIGIN.get(value, str(value)))
        elif key == "abroad":
            if value:
                add(key, "国外への転出")
        elif key == "special":
            if value:
                add(key, "特例転出（転出証明書情報をCSへ送る）")
        elif key == "previous_municipality_code":
            if value:
                add(key, f"{name_of(value) or ''}（{value}）")
        elif key == "confirmed_new_person":
            if value:
                add(key, "3情報が一致する方と別人であることを確認済み")
        elif key in ("destination", "target"):
            if value == "new":
                add(key, "新しい世帯をつくる")
            elif isinstance(value, dict) and value.get("id") is not None:
                number = household_numbers.get(int(value["id"]), "")
                add(key, f"既存の世帯（世帯番号 {number}）" if number else "既存の世帯")
            elif isinstance(value, dict) and value.get("number"):
                add(key, f"既存の世帯（世帯番号 {value['number']}）")
        elif key == "new_head":
            if value is not None:
                add(key, names.get(int(value), "（選択した世帯員）"))
        elif key == "kind":
            add(key, _MY_NUMBER_KIND.get(value, str(value)))
        elif key == "my_number":
            # Never the number on a screen that is not the number's own reveal: that one was typed.
            if value:
                add(key, "入力あり（画面には表示しません）")
        elif value not in (None, ""):
            add(key, str(value))
    return out

