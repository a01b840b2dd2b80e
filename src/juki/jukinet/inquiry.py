"""転入通知未着照会書 [710]: the letter to the 転出先 asking whether the person filed a 転入届 there."""
from __future__ import annotations

from juki.core.municipalities import name_of, of_domicile
from juki.core.wareki import display_date


def inquiry_pdf(row: dict, *, city: str, today) -> bytes:
    """One person's 照会書 (a row of `selectors.move_in_notice_missing`), with a reply section."""
    from juki.core.pdf import Heading, KeyValues, Text, document_pdf

    destination = name_of(of_domicile(row["move_out_address"]) or "") or "転出先の市区町村"
    blocks = [
        Heading(f"{destination}長　様", underline=False),
        KeyValues([("照会日", display_date(today)), ("照会者", f"{city}長")], label_width=0.2),
        Text(f"下記の方は、{row['planned_on']['display']}を転出予定日として、当市から貴市区町村へ転出の届出をされましたが、"
             "住民基本台帳法第9条第1項の転入通知が届いておりません。貴市区町村における転入届の有無等について、"
             "下の回答欄にご記入のうえご回答くださいますよう、お願いいたします。"),
        Heading("照会する方", level=2),
        KeyValues([("氏名", row["name"]), ("フリガナ", row["kana"]), ("生年月日", row["birth_date"]["display"]),
                   ("転出前の住所", row["address"]), ("転出先（予定）", row["move_out_address"]),
                   ("転出予定日", row["planned_on"]["display"]),
                   ("届出の別", "特例転出（個人番号カードによる）" if row["special"] else row["reason"])]),
        Heading("回答欄", level=2),
        KeyValues([("転入届", "□ あり　　　□ なし"), ("転入した日", "年　　　月　　　日"),
                   ("転入先の住所", ""), ("転入通知", "□ 送付済み（　　月　　日）　□ 本回答とともに送付"),
                   ("回答した市区町村", ""), ("担当・電話番号", "")]),
    ]
    return document_pdf("転入通知未着照会書", blocks, footer="この照会書には個人情報が記載されています。取扱いに注意してください。")
