"""Which items of a 住民票 a user may see ([1390] 項目ごとの表示制御, C02).

Every person the register hands out is a `read_models.PersonRecord` built inside an open gate
(`record_of`), which hides what `hidden_rights` names, so the API, the counter screens, previews
and any export built on the selectors see the same items for the same user. Hidden items are None,
and `hidden_items` names them so a screen can say why a field is blank.
個人番号 has its own, stricter path (`GateSession.reveal_my_number`).
"""
from __future__ import annotations

from juki.accounts.permissions import Perm
from juki.audit.gate import GateSession

# right → (label shown to the user, top-level keys, keys inside "foreign")
ITEM_RIGHTS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    Perm.FIELD_DOMICILE: ("本籍・筆頭者", ("domicile", "domicile_head"), ()),
    Perm.FIELD_RESIDENT_CODE: ("住民票コード", ("resident_code",), ()),
    Perm.FIELD_FOREIGN: (
        "在留資格等",
        (),
        ("article_30_45_category", "residence_status", "period_of_stay", "stay_expires_on", "residence_card_number"),
    ),
}


def hidden_rights(session: GateSession) -> list[str]:
    return [perm for perm in ITEM_RIGHTS if not session.actor.can(perm)]
