"""Where protection takes effect: search, reads, changes, the outbox and certificate requests."""
import datetime as dt

import pytest
from django.utils import timezone

from juki.audit.gate import Actor
from juki.audit.models import AccessLog
from juki.core.errors import AccessDenied, DomainError, ErrorCode
from juki.protection import enforcement, services
from juki.protection.certificates import Requester, certificate_request_check
from juki.register import selectors
from juki.register.services import changes, outbox
from juki.register.services.people import Address
from juki.register.services.search import Criteria, person_search

from ..conftest import KOKURA_JOUNAI, days_ago, move_in_family, person_input
from ..register.helpers import href, ref
from .helpers import OFFENDER_BIRTH, VICTIM_BIRTH, last_log, protect
from tests.helpers import TEST_ACTOR


@pytest.fixture
def protected(victim, support):
    protect(support, victim)
    return victim


def _search(who, **criteria):
    return person_search(actor=who, criteria=Criteria(**criteria))


# --- search ---------------------------------------------------------------------------------------------


def test_a_clerk_finds_only_a_masked_hit(protected, actor, clerk):
    result = _search(actor, name="山田花子", birth_date=VICTIM_BIRTH)
    assert result.rows == [{"masked": True, "reason": "support_measure", "marker": enforcement.SUPPORT_MARKER}]
    log = last_log(user=clerk, function="person.search")
    assert log.flags == ["support_measure"]  # a search that hit a protected person is reviewed
    assert list(log.subjects.values_list("person_id", flat=True)) == [protected["mother"]]


def test_identifier_search_is_masked_too(protected, actor):
    rows = _search(actor, atena_number=protected["atena"]).rows
    assert len(rows) == 1 and rows[0]["masked"] and "name" not in rows[0] and "person_id" not in rows[0]


def test_masked_hits_come_after_the_others_as_one_marker(protected, actor):
    move_in_family(actor, members=[person_input(family_name="山田", given_name="一郎", family_name_kana="ヤマダ",
                                                given_name_kana="イチロウ")])
    rows = _search(actor, kana="ヤマダ", town_code=KOKURA_JOUNAI).rows
    assert rows[0]["name"] == "山田　一郎" and rows[0]["support_measure"] is False
    # Mother and child are both protected: one marker after the others, not one per person.
    assert rows[1:] == [{"masked": True, "reason": "support_measure", "marker": enforcement.SUPPORT_MARKER}]


def test_the_support_section_sees_the_row_flagged(protected, support, support_user):
    rows = _search(support, name="山田花子", birth_date=VICTIM_BIRTH).rows
    assert rows[0]["name"] == "山田　花子" and rows[0]["support_measure"] is True and rows[0]["person_id"] == protected["mother"]
    assert last_log(user=support_user, function="person.search").flags == ["support_measure"]


def test_an_unprotected_person_is_unchanged(family, actor, clerk):
    rows = _search(actor, name="青木太郎", birth_date=dt.date(1985, 4, 1)).rows
    assert rows[0]["name"] == "青木　太郎" and rows[0]["support_measure"] is False and rows[0]["restricted"] is False
    assert last_log(user=clerk, function="person.search").flags == []


def test_an_ended_measure_no_longer_masks(victim, support, actor):
    m = protect(support, victim)
    services.support_end(actor=support, measure_id=m["id"], reason="申出者から終了の申出")
    assert _search(actor, name="山田花子", birth_date=VICTIM_BIRTH).rows[0]["name"] == "山田　花子"


def test_a_provisional_measure_masks_already(victim, support, actor):
    protect(support, victim, provisional=True)
    assert _search(actor, name="山田花子", birth_date=VICTIM_BIRTH).rows[0]["masked"]


def test_inquiry_restriction_masks_for_those_without_the_right(family, actor, sup_actor):
    pid = family.persons[0]["id"]
    services.restriction_set(actor=sup_actor, person_id=pid, processes=["inquiry"], reason="照会抑止")
    masked = _search(actor, name="青木太郎", birth_date=dt.date(1985, 4, 1)).rows
    assert masked == [{"masked": True, "reason": "restriction", "marker": enforcement.INQUIRY_MARKER}]
    seen = _search(sup_actor, name="青木太郎", birth_date=dt.date(1985, 4, 1)).rows
    assert seen[0]["name"] == "青木　太郎" and seen[0]["restricted"] is True
    with pytest.raises(DomainError) as exc:
        selectors.person_get(actor=actor, person_id=pid)
    assert exc.value.code == ErrorCode.RESTRICTED and exc.value.status == 403


# --- reads -------------------------------------------------------------------------------------------------


def test_a_clerk_cannot_read_a_protected_person(protected, actor, clerk):
    for read in (lambda: selectors.person_get(actor=actor, person_id=protected["mother"]),
                 lambda: selectors.person_history(actor=actor, person_id=protected["child"])):
        with pytest.raises(AccessDenied) as exc:
            read()
        assert exc.value.code == ErrorCode.SUPPORT_MEASURE_PROTECTED
        log = last_log(user=clerk)
        assert log.outcome == "support_measure_protected" and log.flags == ["support_measure"]


def test_the_support_section_reads_with_a_flag_and_the_measure_shown(protected, support, support_user):
    p = selectors.person_get(actor=support, person_id=protected["mother"])
    assert p["name"]["given_name"] == "花子"
    assert [m["state"] for m in p["protection"]["support_measures"]] == ["active"]
    assert last_log(user=support_user, function="person.view").flags == ["support_measure"]


def test_household_view_masks_the_protected_member(victim, support, actor, world):
    # Only the child is protected (as the 申出者 here): the mother still sees her household, masked.
    services.support_register(actor=support, person_id=victim["child"], kind="child_abuse", applied_on=days_ago(1),
                              offender=services.Offender(name="山田　次郎", birth_date=OFFENDER_BIRTH), provisional=True)
    h = selectors.household_get(actor=actor, household_id=victim["household"])
    by_id = {m["person_id"]: m for m in h["members"]}
    assert by_id[victim["mother"]]["name"]["given_name"] == "花子"
    assert by_id[victim["child"]]["masked"] and by_id[victim["child"]]["birth_date"] is None
    assert "さくら" not in str(h)
    assert last_log(function="household.view").flags == ["support_measure"]
    full = selectors.household_get(actor=support, household_id=victim["household"])
    assert {m["name"]["given_name"] for m in full["members"]} == {"花子", "さくら"}


# --- changes -----------------------------------------------------------------------------------------------


def _move(who, family):
    """転居 of the whole household (the restriction is on one of them)."""
    return changes.move_within_city(actor=who, event_date=days_ago(1), notified_on=days_ago(1),
                                    persons=[ref(p["id"]) for p in family.persons], address=Address(KOKURA_JOUNAI, "9番9号"))


def test_change_refused_under_a_change_restriction_until_temporarily_released(family, sup_actor, actor, clerk, monkeypatch):
    pid = family.persons[0]["id"]
    r = services.restriction_set(actor=sup_actor, person_id=pid, processes=["change"], reason="調査中")
    with pytest.raises(DomainError) as exc:
        _move(actor, family)
    assert exc.value.code == ErrorCode.RESTRICTED and "係長" in exc.value.message
    assert last_log(user=clerk).outcome == "restricted"

    services.restriction_temporary_release(actor=sup_actor, restriction_id=r["id"], minutes=5)
    later = timezone.now() + dt.timedelta(minutes=6)
    # Six minutes later the restriction is back by itself.
    monkeypatch.setattr(enforcement.timezone, "now", lambda: later)
    with pytest.raises(DomainError) as exc:
        _move(actor, family)
    assert exc.value.code == ErrorCode.RESTRICTED
    monkeypatch.undo()
    assert _move(actor, family).persons[0]["id"] == pid  # within the five minutes: it goes through


def test_household_restriction_covers_its_members(family, sup_actor, actor):
    services.restriction_set(actor=sup_actor, household_id=family.households[0]["id"], processes=["change"], reason="世帯")
    with pytest.raises(DomainError) as exc:
        _move(actor, family)
    assert exc.value.code == ErrorCode.RESTRICTED


def test_a_restricted_household_refuses_a_newcomer(family, sup_actor, actor):
    services.restriction_set(actor=sup_actor, household_id=family.households[0]["id"], processes=["change"], reason="世帯")
    with pytest.raises(DomainError) as exc:
        changes.move_in(actor=actor, event_date=days_ago(1), notified_on=days_ago(1), origin="domestic",
                        persons=[person_input(given_name="次郎", given_name_kana="ジロウ", relationship="子",
                                              birth_date=dt.date(2019, 1, 1))],
                        destination=href(family.households[0]["id"]), address=None, previous_address="福岡県福岡市",
                        confirmed_new_person=True)
    assert exc.value.code == ErrorCode.RESTRICTED


def test_alert_level_lets_the_change_through_with_a_warning(family, sup_actor, actor):
    pid = family.persons[0]["id"]
    services.restriction_set(actor=sup_actor, person_id=pid, processes=["change"], reason="注意", level="alert")
    result = _move(actor, family)
    assert "restriction_alert" in [w["code"] for w in result.warnings]


def test_other_processes_do_not_stop_a_change(family, sup_actor, actor):
    pid = family.persons[0]["id"]
    services.restriction_set(actor=sup_actor, person_id=pid, processes=["certificate"], reason="交付抑止")
    assert _move(actor, family).persons


def test_a_restriction_ended_is_no_longer_checked(family, sup_actor, actor):
    pid = family.persons[0]["id"]
    r = services.restriction_set(actor=sup_actor, person_id=pid, processes=["change"], reason="調査中")
    services.restriction_release(actor=sup_actor, restriction_id=r["id"])
    assert _move(actor, family).persons


# --- outbox ----------------------------------------------------------------------------------------------


def test_outbox_blocks_protected_and_linkage_restricted_persons(protected, family, sup_actor, linkage_user, terminal):
    services.restriction_set(actor=sup_actor, person_id=family.persons[1]["id"], processes=["linkage"], reason="連携抑止")
    page = outbox.outbox_read(actor=Actor.system_actor("atena", terminal=terminal), destination="atena")
    persons = {p["person_id"]: p for e in page["events"] for p in e["persons"]}
    assert persons[protected["mother"]] == {"person_id": protected["mother"], "blocked": "support_measure"}
    assert persons[protected["child"]] == {"person_id": protected["child"], "blocked": "support_measure"}
    assert persons[family.persons[1]["id"]] == {"person_id": family.persons[1]["id"], "blocked": "restriction"}
    assert persons[family.persons[0]["id"]]["atena_number"]  # others as before
    log = last_log(system="atena", function="outbox.read")
    assert set(log.flags) == {"support_measure", "restriction"}


def test_a_temporary_release_is_not_passed_to_linkage(family, sup_actor, linkage_user, terminal):
    pid = family.persons[0]["id"]
    r = services.restriction_set(actor=sup_actor, person_id=pid, processes=["linkage"], reason="連携抑止")
    services.restriction_temporary_release(actor=sup_actor, restriction_id=r["id"])
    page = outbox.outbox_read(actor=Actor.system_actor("atena", terminal=terminal), destination="atena")
    assert {"person_id": pid, "blocked": "restriction"} in [p for e in page["events"] for p in e["persons"]]


# --- certificates ------------------------------------------------------------------------------------------


def _check(who, subjects, requester):
    return certificate_request_check(actor=who, subject_person_ids=subjects, requester=requester)


@pytest.mark.parametrize("name, kana", [
    ("山田次郎", ""),  # spacing differs
    ("", "やまだ　じろう"),  # hiragana for katakana
    ("ﾔﾏﾀﾞｼﾞﾛｳ", ""),  # half-width kana typed as the name
])
def test_the_offender_is_refused_by_name_and_birth_date(protected, actor, clerk, name, kana):
    with pytest.raises(DomainError) as exc:
        _check(actor, [protected["mother"]], Requester(kind="self", name=name, kana=kana, birth_date=OFFENDER_BIRTH))
    assert exc.value.code == ErrorCode.SUPPORT_MEASURE_BLOCK and exc.value.status == 403
    log = last_log(user=clerk, function="certificate.check")
    assert log.outcome == "support_measure_block" and log.flags == ["support_measure"]


def test_the_offender_is_refused_by_register_id(victim, support, family, actor):
    offender = family.persons[0]["id"]
    protect(support, victim, offender=services.Offender(person_id=offender))
    with pytest.raises(DomainError) as exc:
        _check(actor, [victim["child"]], Requester(kind="third_party", person_id=offender))
    assert exc.value.code == ErrorCode.SUPPORT_MEASURE_BLOCK


def test_a_resident_offender_named_only_as_text_is_recognised_from_the_register(victim, support, family, actor):
    protect(support, victim, offender=services.Offender(name="青木太郎", birth_date=dt.date(1985, 4, 1)))
    with pytest.raises(DomainError) as exc:
        _check(actor, [victim["mother"]], Requester(kind="household", person_id=family.persons[0]["id"]))
    assert exc.value.code == ErrorCode.SUPPORT_MEASURE_BLOCK


def test_same_name_other_birth_date_is_not_the_offender_but_third_parties_are_refused(protected, actor):
    with pytest.raises(DomainError) as exc:
        _check(actor, [protected["mother"]], Requester(kind="third_party", name="山田次郎", birth_date=dt.date(1970, 1, 1)))
    assert exc.value.code == ErrorCode.SUPPORT_MEASURE_BLOCK and "本人または同一世帯" in exc.value.message


def test_self_and_same_household_may_be_issued(protected, actor):
    own = _check(actor, [protected["mother"]], Requester(kind="self", person_id=protected["mother"]))
    assert own["allowed"] and own["warnings"]
    mine = _check(actor, [protected["child"]], Requester(kind="household", person_id=protected["mother"]))
    assert mine["allowed"]
    assert last_log(function="certificate.check").flags == ["support_measure"]


def test_an_unprotected_subject_is_issued_to_a_third_party(family, actor):
    assert _check(actor, [family.persons[0]["id"]], Requester(kind="third_party", name="佐藤一郎"))["warnings"] == []


def test_certificate_restriction_refuses(family, sup_actor, actor):
    pid = family.persons[0]["id"]
    services.restriction_set(actor=sup_actor, person_id=pid, processes=["certificate"], reason="交付抑止")
    with pytest.raises(DomainError) as exc:
        _check(actor, [pid], Requester(kind="self", person_id=pid))
    assert exc.value.code == ErrorCode.RESTRICTED


def test_certificate_check_needs_the_right(family, auditor, terminal):
    with pytest.raises(AccessDenied):
        _check(Actor(user=auditor, terminal=terminal), [family.persons[0]["id"]], Requester(kind="self"))
    assert last_log(user=auditor).outcome == AccessLog.DENIED


def test_the_plain_sql_checks_keep_the_gate_rule(protected, actor):
    """protected_ids and the 抑止 probe read with plain SQL, past the guarded managers: they still
    refuse to run outside an open gate session, and inside one they find the protected person."""
    from juki.audit import gate
    from juki.accounts.permissions import Perm
    from juki.audit.gate import UngatedAccess

    with pytest.raises(UngatedAccess):
        enforcement.protected_ids([protected["mother"]])
    with pytest.raises(UngatedAccess):
        enforcement.restrictions_for([protected["mother"]], enforcement.Process.CHANGE)
    with gate.open(TEST_ACTOR, function="test", perm=Perm.PERSON_VIEW):
        assert enforcement.protected_ids([protected["mother"], protected["mother"] + 999]) == {protected["mother"]}
