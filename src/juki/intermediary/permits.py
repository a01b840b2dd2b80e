"""照会許可用照合リスト (C18): who may ask this city for what, under which 別表第二 provision.

The list is reviewed data (`permits.toml`, with its sources and an entry's `verified` mark), not code:
an inquiry is answered only when its provision is one of the city's 55 (the PIA counts 56 but
lists 55; permits.toml says so), its requester is of a kind
the provision names, its 事務 is one of the provision's and every item asked is permitted. The
first that fails is the reason code of the refusal (and of the 情報提供等記録).
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

# 住民票関係情報 as the city provides it (PIA ③): for a 世帯主 that he is one; otherwise the head's
# name and the relationship to the head.
ITEMS = {"is_head": "世帯主である旨", "head_name": "世帯主の氏名", "relationship": "世帯主との続柄"}

REASONS = {
    "provision_not_permitted": "この団体が提供する別表第二の項ではありません",
    "requester_not_permitted": "この項の情報照会者ではありません",
    "affair_not_permitted": "この項の事務ではありません",
    "item_not_permitted": "この項で提供できない項目です",
    "items_required": "照会する項目がありません",
    "not_found": "符号に対応する副本がありません",
    "not_resident": "住民ではありません（除票）",
    "invalid_inquiry": "照会の形式が正しくありません",
    "declined": "職員の確認により提供しません",
}


@dataclass(frozen=True)
class Provision:
    number: int
    requesters: frozenset[str]
    affairs: dict[str, str]  # code → 事務
    law: str
    items: frozenset[str]
    verified: bool
    note: str


@cache
def provisions() -> dict[int, Provision]:
    data = tomllib.loads(resources.files(__package__).joinpath("permits.toml").read_text(encoding="utf-8"))
    found: dict[int, Provision] = {}
    for entry in data["provision"]:
        items = frozenset(entry["items"])
        if not items <= ITEMS.keys():
            raise ValueError(f"別表第二 {entry['number']}: unknown items {sorted(items - ITEMS.keys())}")
        found[entry["number"]] = Provision(
            number=entry["number"], requesters=frozenset(entry["requesters"]),
            affairs={a["code"]: a["name"] for a in entry["affairs"]}, law=entry.get("law", ""), items=items,
            verified=bool(entry.get("verified")), note=entry.get("note", ""))
    return found


def check(*, provision: int, requester_kind: str, affair: str, items) -> str | None:
    """None when the inquiry is permitted; otherwise the reason code (REASONS)."""
    entry = provisions().get(provision)
    if entry is None:
        return "provision_not_permitted"
    if requester_kind not in entry.requesters:
        return "requester_not_permitted"
    if affair not in entry.affairs:
        return "affair_not_permitted"
    items = set(items)
    if not items:
        return "items_required"
    if not items <= entry.items:
        return "item_not_permitted"
    return None
