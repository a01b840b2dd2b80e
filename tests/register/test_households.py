import datetime as dt

import pytest

from juki.core.errors import DomainError, ErrorCode
from juki.register import selectors
from juki.register.services import changes
from juki.register.services.people import Address

from ..conftest import KOKURA_JOUNAI, days_ago, move_in_family, person_input
from .helpers import TEST, household, href, ids, person, ref


def test_death_of_head_flags_household_for_head_change_request(world, family):
    head, wife, child = ids(family)
    hid = family.households[0]["id"]
    result = changes.death(actor=world, event_date=days_ago(2), notified_on=days_ago(1), persons=[ref(head)])
    assert any(w["code"] == "head_absent" for w in result.warnings)
    dead = person(head)
    assert dead["status"] == "removed" and dead["removal_reason"] == "死亡" and dead["status_label"] == "消除（除票）"
    listed = selectors.households_without_head(actor=TEST)
    assert [h["household_id"] for h in listed] == [hid]
    assert sorted(listed[0]["member_ids"]) == sorted([wife, child])


def test_death_of_head_with_head_change_in_the_same_change(world, family):
    head, wife, child = ids(family)
    hid = family.households[0]["id"]
    result = changes.death(actor=world, event_date=days_ago(2), notified_on=days_ago(1), persons=[ref(head)],
                           new_head=wife)
    assert not result.warnings
    view = household(hid)
    assert [(m["person_id"], m["relationship"]) for m in view["members"]] == [(wife, "世帯主"), (child, "子")]
    assert selectors.households_without_head(actor=TEST) == []
    assert person(wife)["reason_label"] == "世帯主変更"


def test_head_change_rederives_relationships(world):
    members = [
        person_input(),
        person_input(given_name="花子", sex=2, relationship="妻", birth_date=dt.date(1987, 6, 2)),
        person_input(given_name="一郎", relationship="子", birth_date=dt.date(2010, 8, 3)),
        person_input(given_name="梅", sex=2, relationship="母", birth_date=dt.date(1950, 1, 3)),
    ]
    result = move_in_family(world, members=members)
    head, wife, child, mother = ids(result)
    hid = result.households[0]["id"]
    changes.head_change(actor=world, event_date=days_ago(1), notified_on=days_ago(1), household=href(hid), new_head=wife)
    rels = {m["person_id"]: m["relationship"] for m in household(hid)["members"]}
    assert rels == {wife: "世帯主", head: "夫", child: "子", mother: "夫の母"}


def test_head_change_asks_for_relationships_it_cannot_derive(world):
    members = [
        person_input(),
        person_input(given_name="一郎", relationship="子", birth_date=dt.date(1990, 8, 3)),
        person_input(given_name="良子", sex=2, relationship="子の妻", birth_date=dt.date(1991, 1, 3)),
    ]
    result = move_in_family(world, members=members)
    head, son, daughter_in_law = ids(result)
    hid = result.households[0]["id"]
    with pytest.raises(DomainError) as err:
        changes.head_change(actor=world, event_date=days_ago(1), notified_on=None, household=href(hid), new_head=son)
    assert err.value.code == ErrorCode.RELATIONSHIP_REQUIRED
    assert err.value.details == {"person_ids": [daughter_in_law]}
    changes.head_change(actor=world, event_date=days_ago(1), notified_on=None, household=href(hid), new_head=son,
                        relationships_after={daughter_in_law: "妻"})
    rels = {m["person_id"]: m["relationship"] for m in household(hid)["members"]}
    assert rels == {son: "世帯主", head: "父", daughter_in_law: "妻"}


def test_household_split_keeps_the_address(world, family):
    head, wife, child = ids(family)
    result = changes.household_split(actor=world, event_date=days_ago(1), notified_on=days_ago(1), persons=[ref(child)],
                                     relationships_in_new={child: "世帯主"})
    new_hid = person(child)["household_id"]
    assert new_hid != family.households[0]["id"]
    assert person(child)["address"] == person(head)["address"]
    assert person(child)["reason_label"] == "世帯分離"
    assert {h["id"] for h in result.households} == {family.households[0]["id"], new_hid}


def test_household_split_of_everyone_is_refused(world, family):
    with pytest.raises(DomainError) as err:
        changes.household_split(actor=world, event_date=days_ago(1), notified_on=None,
                                persons=[ref(i) for i in ids(family)], relationships_in_new={})
    assert err.value.code == ErrorCode.HOUSEHOLD_MISMATCH


def _second_household(world, banchi="1番1号"):
    return move_in_family(world, members=[person_input(family_name="佐藤", given_name="次郎", birth_date=dt.date(1960, 2, 2),
                                                       domicile_head="佐藤　次郎")],
                          address=Address(KOKURA_JOUNAI, banchi))


def test_household_merge_at_the_same_address(world, family):
    other = _second_household(world)
    (sato,) = ids(other)
    changes.household_merge(actor=world, event_date=days_ago(1), notified_on=days_ago(1), persons=[ref(sato)],
                            target=href(family.households[0]["id"]), relationships_in_target={sato: "同居人"})
    view = household(family.households[0]["id"])
    assert [m["relationship"] for m in view["members"]][-1] == "同居人"  # [1010]: 同居人 last
    assert household(other.households[0]["id"])["members"] == []


def test_household_change_cannot_change_the_address_720(world, family):
    other = _second_household(world, banchi="7番")
    with pytest.raises(DomainError) as err:
        changes.household_merge(actor=world, event_date=days_ago(1), notified_on=None, persons=[ref(ids(other)[0])],
                                target=href(family.households[0]["id"]),
                                relationships_in_target={ids(other)[0]: "同居人"})
    assert err.value.code == ErrorCode.ADDRESS_CHANGE_NOT_ALLOWED


def test_household_change_of_part_of_a_household(world, family):
    other = move_in_family(world, members=[
        person_input(family_name="佐藤", given_name="次郎", birth_date=dt.date(1960, 2, 2)),
        person_input(family_name="佐藤", given_name="三郎", relationship="子", birth_date=dt.date(1990, 2, 2)),
    ])
    sato, son = ids(other)
    with pytest.raises(DomainError) as err:  # part of a household is a 世帯変更, not a 合併
        changes.household_merge(actor=world, event_date=days_ago(1), notified_on=None, persons=[ref(son)],
                                target=href(family.households[0]["id"]), relationships_in_target={son: "同居人"})
    assert err.value.code == ErrorCode.HOUSEHOLD_MISMATCH
    changes.household_change(actor=world, event_date=days_ago(1), notified_on=None, persons=[ref(son)],
                             target=href(family.households[0]["id"]), relationships_in_target={son: "同居人"})
    assert person(son)["household_id"] == family.households[0]["id"]
    assert person(son)["reason_label"] == "世帯変更"


def test_joining_household_cannot_bring_a_second_head(world, family):
    other = _second_household(world)
    with pytest.raises(DomainError) as err:
        changes.household_merge(actor=world, event_date=days_ago(1), notified_on=None, persons=[ref(ids(other)[0])],
                                target=href(family.households[0]["id"]), relationships_in_target={ids(other)[0]: "世帯主"})
    assert err.value.code == ErrorCode.INVALID_RELATIONSHIP


def test_disappearance_and_ex_officio_removal(world, family):
    head, wife, child = ids(family)
    changes.disappearance(actor=world, event_date=days_ago(3), notified_on=days_ago(1), persons=[ref(child)])
    assert person(child)["removal_reason"] == "失踪宣告"
    assert person(child)["reason_label"] == "職権消除"
    changes.ex_officio_removal(actor=world, event_date=days_ago(1), notified_on=None, persons=[ref(wife)],
                               note="実態調査により居住の事実なし")
    assert person(wife)["removal_reason"] == "職権消除"
