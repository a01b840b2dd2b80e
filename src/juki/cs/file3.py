"""FILE-3 送付先情報: its 59 items (the PIA's 別添2, in its order) and how the CS builds a record.

The CS makes one for each person whose 個人番号 was just recorded (the 個人番号通知書 and the card
application go to them), sends them to J-LIS's card management system in files, and deletes each
file one business day after it was sent (C24, `services.purge_recipients`).

代替文字 (substitute characters): the network's character set is JIS X 0208. A character outside it
(外字) is replaced by the standard character of the table below (異体字 → 通用字体), and one the table
does not know by 〓 (ゲタ), the mark the network uses for "see the paper"; the positions are kept
(1-based, comma-separated) and 代替文字変換結果 says 0 none, 1 all by the table, 2 one or more 〓.
"""
from __future__ import annotations

from .file2 import gaiji_count

ITEMS: tuple[tuple[str, str], ...] = (
    ("recipient_number", "送付先管理番号"), ("to_postal_code", "送付先郵便番号"), ("to_address_length", "送付先住所　漢字項目長"),
    ("to_address", "送付先住所　漢字"), ("to_address_gaiji", "送付先住所　漢字　外字数"),
    ("to_name_length", "送付先氏名　漢字項目長"), ("to_name", "送付先氏名　漢字"), ("to_name_gaiji", "送付先氏名　漢字　外字数"),
    ("municipality_code", "市町村コード"), ("municipality_name_length", "市町村名　項目長"),
    ("municipality_name", "市町村名"), ("municipality_postal_code", "市町村郵便番号"),
    ("municipality_address_length", "市町村住所　項目長"), ("municipality_address", "市町村住所"),
    ("municipality_address_gaiji", "市町村住所　外字数"), ("office_name_length", "交付場所名　項目長"),
    ("office_name", "交付場所名"), ("office_name_gaiji", "交付場所名　外字数"),
    ("office_address_length", "交付場所住所　項目長"), ("office_address", "交付場所住所"),
    ("office_address_gaiji", "交付場所住所　外字数"), ("office_phone", "交付場所電話番号"),
    ("card_place_name_length", "カード送付場所名　項目長"), ("card_place_name", "カード送付場所名"),
    ("card_place_name_gaiji", "カード送付場所名　外字数"), ("card_place_postal_code", "カード送付場所郵便番号"),
    ("card_place_address_length", "カード送付場所住所　項目長"), ("card_place_address", "カード送付場所住所"),
    ("card_place_address_gaiji", "カード送付場所住所　外字数"), ("card_place_phone", "カード送付場所電話番号"),
    ("persons", "対象となる人数"), ("processed_on", "処理年月日"), ("operator_id", "操作者ID"),
    ("terminal_id", "操作端末ID"), ("print_kind", "印刷区分"), ("resident_code", "住民票コード"),
    ("name_length", "氏名　漢字項目長"), ("name", "氏名　漢字"), ("name_gaiji", "氏名　漢字　外字数"),
    ("name_kana_length", "氏名　かな　項目長"), ("name_kana", "氏名　かな"), ("postal_code", "郵便番号"),
    ("address_length", "住所　項目長"), ("address", "住所"), ("address_gaiji", "住所　外字数"),
    ("birth_date", "生年月日"), ("sex", "性別"), ("my_number", "個人番号"),
    ("article_30_45_category", "第３０条の４５に規定する区分"), ("stay_expires_on", "在留期間満了の日"),
    ("substitution_result", "代替文字変換結果"), ("substitute_name_length", "代替文字氏名　項目長"),
    ("substitute_name", "代替文字氏名"), ("substitute_address_length", "代替文字住所　項目長"),
    ("substitute_address", "代替文字住所"), ("substitute_name_positions", "代替文字氏名位置情報"),
    ("substitute_address_positions", "代替文字住所位置情報"), ("gaiji", "外字フラグ"), ("gaiji_pattern", "外字パターン"),
)
LABELS = dict(ITEMS)

# 異体字 → the JIS X 0208 character the network carries (the usual ones of names and addresses).
SUBSTITUTES = str.maketrans({
    "𠮷": "吉", "髙": "高", "﨑": "崎", "德": "徳", "濵": "浜", "﨔": "欅", "黑": "黒", "𡈽": "土", "曻": "昇",
    "淸": "清", "靑": "青", "桒": "桑", "槗": "橋", "栁": "柳",
})
# The city's block of the file (市町村名・住所, 交付場所): the demo cities'; a city sets JUKI_CS_OFFICE.
DEMO_OFFICES = {
    "401005": {"municipality_name": "北九州市", "postal_code": "8038501", "address": "福岡県北九州市小倉北区城内１番１号",
               "office_name": "北九州市役所　市民課", "phone": "0935822525"},
    "401307": {"municipality_name": "福岡市", "postal_code": "8108620", "address": "福岡県福岡市中央区天神一丁目８番１号",
               "office_name": "福岡市役所　市民課", "phone": "0927111111"},
}
DEMO_OFFICE = DEMO_OFFICES["401005"]
GETA = "〓"


def substitute(text: str) -> tuple[str, str, int]:
    """(the text in JIS X 0208, the positions replaced, 0/1/2 as 代替文字変換結果)."""
    out, positions, unknown = [], [], False
    for i, ch in enumerate(text or "", start=1):
        if gaiji_count(ch):
            mapped = ch.translate(SUBSTITUTES)
            if mapped == ch or gaiji_count(mapped):
                mapped, unknown = GETA, True
            out.append(mapped)
            positions.append(str(i))
        else:
            out.append(ch)
    return "".join(out), ",".join(positions), (2 if unknown else 1) if positions else 0


def build(items: dict, *, my_number: str, recipient_number: str, office: dict, processed_on: str) -> dict:
    """One 送付先情報 record from a person's FILE-2 items; `office` is the city's block (name, postal
    code, address, phone), which is also the 交付場所 and the card's 送付場所 unless the city says otherwise."""
    name, address = items.get("name") or "", items.get("address") or ""
    sub_name, name_positions, name_result = substitute(name)
    sub_address, address_positions, address_result = substitute(address)
    record = {
        "recipient_number": recipient_number, "to_postal_code": items.get("postal_code"),
        "to_address": address, "to_name": name,
        "municipality_code": items.get("municipality_code"), "municipality_name": office["municipality_name"],
        "municipality_postal_code": office["postal_code"], "municipality_address": office["address"],
        "office_name": office["office_name"], "office_address": office["address"], "office_phone": office["phone"],
        "card_place_name": office["office_name"], "card_place_postal_code": office["postal_code"],
        "card_place_address": office["address"], "card_place_phone": office["phone"],
        "persons": 1, "processed_on": processed_on, "operator_id": items.get("operator_id"),
        "terminal_id": items.get("terminal_id"), "print_kind": "1", "resident_code": items.get("resident_code"),
        "name": name, "name_kana": items.get("name_kana"), "postal_code": items.get("postal_code"),
        "address": address, "birth_date": items.get("birth_date"), "sex": items.get("sex"), "my_number": my_number,
        "article_30_45_category": items.get("article_30_45_category"), "stay_expires_on": items.get("stay_expires_on"),
        "substitution_result": max(name_result, address_result), "substitute_name": sub_name,
        "substitute_address": sub_address, "substitute_name_positions": name_positions,
        "substitute_address_positions": address_positions,
        "gaiji": bool(name_positions or address_positions), "gaiji_pattern": None,
    }
    # 項目長 and 外字数 of each text item, as the file layout asks.
    for key in ("to_address", "to_name", "municipality_name", "municipality_address", "office_name", "office_address",
                "card_place_name", "card_place_address", "name", "name_kana", "address", "substitute_name",
                "substitute_address"):
        if f"{key}_length" in LABELS:
            record[f"{key}_length"] = len(record[key] or "")
        if f"{key}_gaiji" in LABELS:
            record[f"{key}_gaiji"] = gaiji_count(record[key])
    return {key: record.get(key) for key, _ in ITEMS}
