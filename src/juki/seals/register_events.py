"""What one register change did to each person, for the 職権廃止 hooks of the seals and the cards."""
from __future__ import annotations


def final_events(person_events: list[dict]) -> dict[int, tuple[dict, dict]]:
    """person id → (first, last) of that person's events in one change, in the order written.

    A change may write several versions of one person: a 区間異動 in a 政令指定都市 is a 区間転出
    (消除) followed by a 区間転入 (住民) in the same change. What the change did to the person is
    their last event (only a final 消除 removes them); a name is compared between the version
    before the first event and the one after the last.
    """
    out: dict[int, tuple[dict, dict]] = {}
    for e in person_events:
        first = out[e["person_id"]][0] if e["person_id"] in out else e
        out[e["person_id"]] = (first, e)
    return out


def removed_by_death(removal_reason: str) -> bool:
    """Whether a removed person's 消除事由 (`PersonVersion.removal_reason`, a label) is 死亡: the
    sweeps of the seals and the cards decide 死亡 or 転出・消除 the same way."""
    from juki.register.reasons import Reason, label

    return removal_reason == label(Reason.DEATH)
