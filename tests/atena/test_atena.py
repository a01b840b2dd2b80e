"""団体内統合宛名 (S5): numbers for every register person (first load and the outbox), for a 住登外者 on a
business system's request, the 個人番号 link, look-ups through each system's own actor, 名寄せ and its
undo by a supervisor — each logged — and the 宛名検索's rule and masking."""
from __future__ import annotations

import datetime as dt

import pytest

from juki.atena import services
from juki.atena.models import AtenaPerson, Merge, SystemNumber
from juki.audit.models import AccessLog
from juki.audit.gate import Actor
from juki.core import checkdigits
from juki.core.errors import ErrorCode
from juki.register.services import changes
from juki.register.services.people import Address

from ..conftest import days_ago, move_in_family, person_input
from ..helpers import last_log, refused
from ..protection.helpers import move_in_victim, protect
from ..register.helpers import href, ids, ref
from ..register.test_moves import UOMACHI

MY_NUMBER = "123456789018"


@pytest.fixture(autouse=True)
def applications(db):
    """The business systems' applications in force: without one a system gets no 宛名 (C16)."""
    from juki.linkage import approvals
    from tests.helpers import TEST_ACTOR

    approvals.demo_approvals(TEST_ACTOR)
TAX = Actor.system_actor("tax")


def _family(world):
    return move_in_family(world, members=[
        person_input(my_number=MY_NUMBER),
        person_input(given_name="花子", given_name_kana="ハナコ", sex=2, relationship="妻", birth_date=dt.date(1987, 6, 2))])


def test_the_first_load_and_the_outbox_give_every_register_person_one_number(world):
    family = _family(world)
    head, wife = ids(family)
    assert services.load() == 2
    numbers = {p.person_id: p for p in AtenaPerson.objects.all()}
    assert set(numbers) == {head, wife}
    for p in numbers.values():
        assert len(p.number) == 12 and checkdigits.mod11_check_digit(p.number[:11]) == int(p.number[11])
    assert numbers[head].name == "青木　太郎" and numbers[head].name_kana == "アオキタロウ"
    # The 個人番号 is tied, sealed and by digest, never in clear.
    assert numbers[head].my_number_digest and MY_NUMBER.encode() not in bytes(numbers[head].my_number_cipher)
    assert not numbers[wife].my_number_digest
    row = last_log("linkage.deliver", system="atena")
    assert row.criteria["consumer"] == "atena" and "my_number" in row.criteria["items"] and row.my_number_accessed
    # Later changes come through the outbox: the same number, the new address; a newcomer gets the next.
    changes.move_within_city(actor=world, event_date=days_ago(1), notified_on=days_ago(1),
                             persons=[ref(head), ref(wife)], address=Address(UOMACHI, "8番"))
    baby = ids(changes.birth(actor=world, event_date=days_ago(0), notified_on=days_ago(0),
                             child={"family_name": "青木", "given_name": "二郎", "sex": 1, "relationship": "子"},
                             destination=href(family.households[0]["id"])))[0]
    result = services.sync()
    assert result.events == 2 and result.issued == 1 and result.updated >= 2
    again = AtenaPerson.objects.get(person_id=head)
    assert again.number == numbers[head].number and "魚町" in again.address
    born = AtenaPerson.objects.get(person_id=baby).number
    assert born not in {p.number for p in numbers.values()} and checkdigits.mod11_check_digit(born[:11]) == int(born[11])
    assert services.sync().events == 0  # nothing new: no read at all


def test_a_protected_person_gets_a_number_and_no_address(world, support):
    victim = move_in_victim(world)
    protect(support, victim)
    services.load()
    mother = AtenaPerson.objects.get(person_id=victim["mother"])
    assert mother.withheld and mother.number and not mother.address and not mother.name
    row = last_log("linkage.deliver", system="atena")
    assert row.criteria["withheld"] == 2  # the mother and the child: counted, not read


def test_a_business_system_registers_a_non_resident_and_gets_the_same_number_again(world):
    first = services.register_non_resident(TAX, system_number="T-000123", name="市外　太郎", name_kana="しがい たろう",
                                           birth_date=dt.date(1970, 1, 2), address="福岡県福岡市中央区天神一丁目1番1号")
    assert first["created"] and first["kind"] == "non_resident" and first["name_kana"] == "シガイタロウ"
    again = services.register_non_resident(TAX, system_number="T-000123", name="市外　太郎", name_kana="シガイタロウ",
                                            birth_date=dt.date(1970, 1, 2))
    assert again["unified_number"] == first["unified_number"] and not again["created"]
    assert SystemNumber.objects.get(system="tax", number="T-000123").person.number == first["unified_number"]
    looked = services.lookup(TAX, system_number="T-000123")
    assert looked["unified_number"] == first["unified_number"] and "my_number" not in looked
    # Another business system does not see tax's 宛名番号: its own is unknown to it.
    refused(ErrorCode.NOT_FOUND, services.lookup, Actor.system_actor("public-housing"), system_number="T-000123")
    assert last_log("atena.register").criteria["unified_number"] == first["unified_number"]


def test_non_resident_input_and_callers_are_checked(world, actor):
    refused(ErrorCode.INVALID_INPUT, services.register_non_resident, TAX, system_number="", name="a", name_kana="ア",
            birth_date=None)
    refused(ErrorCode.INVALID_MY_NUMBER, services.register_non_resident, TAX, system_number="T-1", name="市外　花子",
            name_kana="シガイハナコ", birth_date=None, my_number="123456789012")
    # Staff and systems that are not business systems are refused and logged.
    refused(ErrorCode.PERMISSION_DENIED, services.register_non_resident, actor, system_number="T-1", name="市外",
            name_kana="シガイ", birth_date=None)
    refused(ErrorCode.PERMISSION_DENIED, services.lookup, Actor.system_actor("jukinet"), unified_number="1")
    assert last_log("atena.provide").outcome == "denied"
    refused(ErrorCode.PERMISSION_DENIED, services.by_my_number, TAX, MY_NUMBER)


def test_the_intermediary_finds_the_number_by_the_my_number(world):
    head, _ = ids(_family(world))
    services.load()
    answer = services.by_my_number(Actor.system_actor("intermediary"), MY_NUMBER)
    assert answer["unified_number"] == AtenaPerson.objects.get(person_id=head).number
    refused(ErrorCode.NOT_FOUND, services.by_my_number, Actor.system_actor("intermediary"), "123456789026")


@pytest.fixture
def manager_actor(manager, terminal):
    return Actor(user=manager, terminal=terminal, second_factor=True)


def test_a_merge_is_logged_and_undone_by_a_supervisor(world, sup_actor, manager_actor):
    from tests.conftest import _staff

    operator = _staff("linkage_operator", "ope1")
    op = Actor(user=operator, terminal=world.terminal)
    head, _ = ids(_family(world))
    services.load()
    resident = AtenaPerson.objects.get(person_id=head)
    outside = services.register_non_resident(TAX, system_number="T-9", name="青木　太郎", name_kana="アオキタロウ",
                                             birth_date=dt.date(1985, 4, 1))["unified_number"]
    # The register person's number is the one that stays.
    refused(ErrorCode.ATENA_MERGE_STATE, services.merge, op, survivor=outside, absorbed=resident.number, reason="同一人")
    refused(ErrorCode.INVALID_INPUT, services.merge, op, survivor=resident.number, absorbed=outside, reason=" ")
    merge = services.merge(op, survivor=resident.number, absorbed=outside, reason="住登外の課税者が転入していた")
    assert SystemNumber.objects.get(system="tax", number="T-9").person_id == resident.id
    assert services.lookup(TAX, unified_number=outside)["unified_number"] == resident.number  # the old number leads on
    assert last_log("atena.merge").person_count == 1
    refused(ErrorCode.ATENA_MERGED, services.merge, op, survivor=resident.number, absorbed=outside, reason="再")
    # Undo: not by the operator; by a supervisor, with a reason; once.
    refused(ErrorCode.PERMISSION_DENIED, services.undo_merge, op, merge.id, reason="誤り")
    services.undo_merge(sup_actor, merge.id, reason="別人と判明")
    assert SystemNumber.objects.get(system="tax", number="T-9").person.number == outside
    assert AtenaPerson.objects.get(number=outside).merged_into is None
    assert Merge.objects.get(id=merge.id).undone_by == sup_actor.user
    refused(ErrorCode.ATENA_MERGE_STATE, services.undo_merge, sup_actor, merge.id, reason="再")
    refused(ErrorCode.PERMISSION_DENIED, services.undo_merge, manager_actor, merge.id, reason="再")  # the 係長's
    assert [r.outcome for r in AccessLog.objects.filter(function="atena.merge_undo").order_by("id")] == [
        "denied", "ok", ErrorCode.ATENA_MERGE_STATE, "denied"]
    # Numbers are never reused: a new person gets none of those issued (random, so no system walks them).
    newest = services.register_non_resident(TAX, system_number="T-10", name="市外　次郎", name_kana="シガイジロウ",
                                            birth_date=None)["unified_number"]
    assert newest not in set(AtenaPerson.objects.exclude(pk=AtenaPerson.objects.get(number=newest).pk)
                             .values_list("number", flat=True))


def test_the_atena_search_needs_two_items_and_masks_protected_persons(world, support, sup_actor):
    _family(world)
    victim = move_in_victim(world)
    protect(support, victim)
    services.load()
    services.register_non_resident(TAX, system_number="T-5", name="山田　花子", name_kana="ヤマダハナコ",
                                   birth_date=dt.date(1960, 1, 1), address="福岡県福岡市")
    refused(ErrorCode.SEARCH_CRITERIA, services.search, sup_actor, services.Criteria(name="アオキ"))
    found = services.search(sup_actor, services.Criteria(name="あおき", birth_date=dt.date(1985, 4, 1)))
    assert [p.name for p in found["results"]] == ["青木　太郎"]
    # The protected mother has no 宛名情報 to match; the 住登外 namesake is found, the mother is not.
    shown = services.search(sup_actor, services.Criteria(name="ヤマダ", address="福岡"))
    assert [p.kind for p in shown["results"]] == ["non_resident"]
    assert last_log("atena.search").criteria == {"name": True, "birth_date": False, "address": True}


# --- after the review: protection checked when answering, stored data following it ------------------


def test_a_person_protected_after_the_load_is_answered_as_unknown_and_their_address_goes(world, support):
    victim = move_in_victim(world)
    services.load()
    number = AtenaPerson.objects.get(person_id=victim["mother"]).number
    assert services.lookup(TAX, unified_number=number)["address"].endswith("城内3番3号")
    measure = protect(support, victim)  # no change of the register: no outbox event
    refused(ErrorCode.NOT_FOUND, services.lookup, TAX, unified_number=number)  # as for a number nobody has
    row = last_log("atena.provide")
    assert row.outcome == ErrorCode.NOT_FOUND and "support_measure" in row.flags
    assert services.sweep()["withheld"] == 2  # the mother and the child
    stored = AtenaPerson.objects.get(person_id=victim["mother"])
    assert stored.withheld and not stored.address and stored.number == number
    # The measure ends: the 宛名情報 comes back from the register.
    from juki.protection import services as protection_services
    protection_services.support_end(actor=support, measure_id=measure["id"], reason="期間満了")
    assert services.sweep()["restored"] == 2
    assert AtenaPerson.objects.get(person_id=victim["mother"]).address.endswith("城内3番3号")


def test_a_lookup_answers_only_what_the_systems_application_allows(world):
    from juki.linkage import approvals
    from tests.helpers import TEST_ACTOR

    head = ids(_family(world))[0]
    services.load()
    number = AtenaPerson.objects.get(person_id=head).number
    housing = Actor.system_actor("public-housing")
    active = approvals.active("public-housing")
    approvals.end(TEST_ACTOR, active.id)
    refused(ErrorCode.APPROVAL_ENDED, services.lookup, housing, unified_number=number)
    narrow = approvals.apply(TEST_ACTOR, code="public-housing", items=["name", "status"], purpose="入居者の確認",
                             legal_basis="公営住宅法", starts_on=days_ago(0), ends_on=days_ago(-30))
    approver = Actor(user=None, system="test-approver", rights=TEST_ACTOR.rights)  # not the applicant
    approvals.decide(approver, narrow.id, approve=True)
    approvals.activate(TEST_ACTOR, narrow.id)
    answer = services.lookup(housing, unified_number=number)
    assert answer["name"] == "青木　太郎" and answer["address"] is None and answer["birth_date"] is None
    # Another system's 住登外者 is not this system's to look up.
    outside = services.register_non_resident(TAX, system_number="T-77", name="市外　三郎", name_kana="シガイサブロウ",
                                             birth_date=None)["unified_number"]
    refused(ErrorCode.NOT_FOUND, services.lookup, housing, unified_number=outside)


def test_an_address_search_marks_a_protected_person_whatever_address_is_typed(world, support):
    from tests.conftest import _staff

    operator = Actor(user=_staff("linkage_operator", "ope-probe"), terminal=world.terminal)
    victim = move_in_victim(world)
    services.load()
    protect(support, victim)
    near = services.search(operator, services.Criteria(name="ヤマダ", address="城内3番3号"))
    far = services.search(operator, services.Criteria(name="ヤマダ", address="城内4番4号"))
    assert near["markers"] == far["markers"] != [] and not near["results"] and not far["results"]
