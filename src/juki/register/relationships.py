"""続柄 (relationship to the 世帯主) [110] and its re-derivation on 世帯主変更 [730].

Vocabulary: 世帯主, 縁故者, 同居人, and one to four of the basic terms joined by の
(子の妻, 妻の父, 子の子の子の子). Anything else is refused; five links or more must be
entered as 縁故者.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import jaconv

from juki.core.errors import DomainError, ErrorCode

HEAD = "世帯主"
RELATIVE_BY_FACT = "縁故者"
LODGER = "同居人"
BASIC = ("夫", "妻", "夫（未届）", "妻（未届）", "子", "父", "母", "兄", "姉", "弟", "妹")
SPOUSES = {"夫", "妻", "夫（未届）", "妻（未届）"}
MAX_LINKS = 4


def normalize(text: str) -> str:
    t = jaconv.h2z(jaconv.normalize(text or ""), kana=True, ascii=True, digit=True).strip()
    return t.replace("(", "（").replace(")", "）").replace(" ", "").replace("　", "")


def links(relationship: str) -> list[str]:
    return relationship.split("の")


def validate(text: str, *, field: str = "relationship") -> str:
    rel = normalize(text)
    if rel in (HEAD, RELATIVE_BY_FACT, LODGER):
        return rel
    parts = links(rel)
    if rel and all(p in BASIC for p in parts):
        if len(parts) > MAX_LINKS:
            raise DomainError(
                ErrorCode.INVALID_RELATIONSHIP,
                "続柄は「の」でつなげて4世代までです。5世代以上になる場合は「縁故者」としてください。",
                field=field,
            )
        return rel
    raise DomainError(
        ErrorCode.INVALID_RELATIONSHIP,
        "続柄が正しくありません。世帯主・妻・夫・妻（未届）・夫（未届）・子・父・母・兄・姉・弟・妹、"
        "それらを「の」でつなげたもの（4世代まで）、縁故者、同居人のいずれかを入力してください。",
        field=field,
    )


@dataclass(frozen=True)
class Member:
    person_id: int
    relationship: str  # to the old head
    sex: int  # 1 男 2 女
    birth_date: dt.date


def _spouse_term(sex: int, unregistered: bool) -> str:
    base = "夫" if sex == 1 else "妻"
    return f"{base}（未届）" if unregistered else base


def _parent_term(sex: int) -> str:
    return "父" if sex == 1 else "母"


def _sibling_term(other: Member, new_head: Member) -> str:
    older = other.birth_date < new_head.birth_date
    if other.sex == 1:
        return "兄" if older else "弟"
    return "姉" if older else "妹"


def derive_for_new_head(members: list[Member], old_head: Member | None, new_head_id: int) -> dict[int, str | None]:
    """Propose each member's 続柄 to the new head; None where it cannot be derived safely.

    Only unambiguous cases are derived — the clerk enters the rest, which is what [730] asks
    ("当該世帯の世帯員の続柄を変更できること"):
    - the old head becomes the inverse of the new head's relationship (spouse, parent, child);
    - if the new head was the old head's spouse: the old head's children stay 子 (children of the
      couple, the common case the clerk confirms), the old head's parents and siblings become
      夫の父, 妻の兄 …;
    - if the new head was the old head's child: the old head's spouse becomes 父/母 and the
      other children become 兄/姉/弟/妹 by birth date.
    """
    new_head = next(m for m in members if m.person_id == new_head_id)
    rel_new = new_head.relationship
    result: dict[int, str | None] = {new_head_id: HEAD}
    for m in members:
        if m.person_id == new_head_id:
            continue
        r = m.relationship
        proposal: str | None = None
        if m.relationship == HEAD:
            if rel_new in SPOUSES:
                proposal = _spouse_term(m.sex, "未届" in rel_new)
            elif rel_new == "子":
                proposal = _parent_term(m.sex)
            elif rel_new in ("父", "母"):
                proposal = "子"
        elif rel_new in SPOUSES:
            prefix = "夫" if (old_head and old_head.sex == 1) else "妻"
            if r == "子" or r.startswith("子の"):
                proposal = r
            elif r in ("父", "母", "兄", "姉", "弟", "妹") and len(links(r)) < MAX_LINKS:
                proposal = f"{prefix}の{r}"
        elif rel_new == "子":
            if r in SPOUSES:
                proposal = _parent_term(m.sex)
            elif r == "子":
                proposal = _sibling_term(m, new_head)
        if r in (RELATIVE_BY_FACT, LODGER):
            proposal = r
        result[m.person_id] = proposal
    return result
