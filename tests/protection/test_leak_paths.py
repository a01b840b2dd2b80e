"""Paths by which a protected person's data could reach a user without `support.manage`.

Each test names a leak found in review: the household view's address and number, the 仮登録
list and detail, the search as an address oracle, changes by a clerk, and the outbox's
households (ADR 0009).
"""
import pytest

from juki.accounts.permissions import Perm
from juki.audit.gate import Actor
from juki.core.errors import AccessDenied, DomainError, ErrorCode
from juki.protection import enforcement, services
from juki.register import selectors
from juki.register.operations import OPERATIONS
from juki.register.services import changes, outbox, verification
from juki.register.services.people import Address
from juki.register.services.search import Criteria, person_search
from juki.rights.services import initial_grant

from ..conftest import KOKURA_JOUNAI, api_for, counter_client, days_ago, person_input
from ..register.helpers import TEST, href, ref
from .helpers import OFFENDER_BIRTH, VICTIM_BIRTH, last_log, protect

TODAY = days_ago(0).isoformat()


@pytest.fixture(autouse=True)
def _direct_changes(settings):
    # These tests commit through POST /api/v1/changes/<op>, which a city allows only with
    # two-person verification turned off (else: review_required, tested in test_api.py).
    settings.JUKI_TWO_PERSON_VERIFICATION = False


@pytest.fixture
def protected(victim, support):
    protect(support, victim)  # mother and child, so the whole household is protected
    return victim


@pytest.fixture
def child_only(victim, support):
    """Only the child is protected: the mother (and her household) stays visible."""
    services.support_register(actor=support, person_id=victim["child"], kind="child_abuse", applied_on=days_ago(1),
                              offender=services.Offender(name="山田　次郎", birth_date=OFFENDER_BIRTH), provisional=True)
    return victim


def _number(household_id: int) -> str:
    return selectors.household_get(actor=TEST, household_id=household_id)["number"]


def _correction(pid: int, **changes_) -> dict:
    r = ref(pid)
    return {"event_date": TODAY, "person": {"id": r.id, "version": r.version}, "changes": changes_}


def _subjects(log) -> list[int]:
    return sorted(log.subjects.values_list("person_id", flat=True))


# --- 1. household view ---------------------------------------------------------------------------------


def test_household_view_hides_address_and_number_when_a_member_is_hidden(child_only, actor, clerk, support):
    h = selectors.household_get(actor=actor, household_id=child_only["household"])
    assert h["address"] is None and h["number"] is None and h["protection_hidden"] is True
    assert [m.get("masked", False) for m in h["members"]] == [False, True]
    assert h["members"][0]["name"]["given_name"] == "花子" and "3番3号" not in str(h)
    assert last_log(user=clerk, function="household.view").flags == ["support_measure"]
    full = selectors.household_get(actor=support, household_id=child_only["household"])
    assert "3番3号" in full["address"]["display"] and full["number"] and full["protection_hidden"] is False


def test_household_of_protected_persons_only_is_refused_like_a_person(protected, actor, clerk):
    with pytest.raises(AccessDenied) as exc:
        selectors.household_get(actor=actor, household_id=protected["household"])
    assert exc.value.code == ErrorCode.SUPPORT_MEASURE_PROTECTED
    log = last_log(user=clerk, function="household.view")
    assert log.outcome == "support_measure_protected" and log.flags == ["support_measure"]
    assert _subjects(log) == sorted([protected["mother"], protected["child"]])


def test_counter_and_api_render_a_household_with_a_masked_member(child_only, clerk, terminal):
    c = counter_client(clerk, terminal)
    page = c.get(f"/counter/households/{child_only['household']}/").content.decode()
    assert enforcement.SUPPORT_MARKER in page and "さくら" not in page and "3番3号" not in page
    assert "表示できません" in page
    assert c.get(f"/counter/persons/{child_only['mother']}/").status_code == 200
    form = c.get(f"/counter/changes/move-within-city/?household={child_only['household']}")
    body = form.content.decode()
    assert form.status_code == 200 and f'id="mv-{child_only["mother"]}"' in body
    assert f'id="mv-{child_only["child"]}"' not in body  # the masked member is not offered
    r = api_for(clerk, terminal).get(f"/api/v1/households/{child_only['household']}")
    assert r.status_code == 200 and r.json()["address"] is None and r.json()["number"] is None


def test_counter_and_api_refuse_a_household_of_protected_persons_only(protected, clerk, terminal):
    c = counter_client(clerk, terminal)
    page = c.get(f"/counter/households/{protected['household']}/").content.decode()
    assert "支援措置の対象者" in page and "3番3号" not in page
    r = api_for(clerk, terminal).get(f"/api/v1/households/{protected['household']}")
    assert r.status_code == 403 and r.json()["code"] == "support_measure_protected"


# --- 2. 仮登録 ---------------------------------------------------------------------------------------------


@pytest.fixture
def entry(protected, support):
    """The support section enters a correction of the protected mother's 本籍 (two-person check)."""
    return verification.pending_submit(actor=support, operation="ex_officio_correction",
                                       payload=_correction(protected["mother"], domicile="東京都千代田区秘密町1番"))


def test_the_summary_of_a_protected_persons_entry_names_nobody(entry):
    assert "花子" not in entry.summary and "山田" not in entry.summary
    assert entry.summary == "職権修正（支援措置対象者）"


def test_a_clerk_sees_the_entry_masked(entry, protected, actor, clerk):
    (row,) = verification.pending_list(actor=actor)
    assert row["summary"] == verification.PROTECTED_SUMMARY and row["masked"] is True
    assert last_log(user=clerk, function="pending.list").flags == ["support_measure"]
    view = verification.pending_get(actor=actor, pending_id=entry.id)
    assert view["payload"] is None and view["preview"] is None and view["masked"] is True
    assert "秘密町" not in str(view) and "花子" not in str(view)
    log = last_log(user=clerk, function="pending.view")
    assert log.flags == ["support_measure"] and _subjects(log) == [protected["mother"]]


def test_an_entry_made_before_the_measure_is_masked_too(victim, support, actor, clerk2, terminal):
    other = Actor(user=clerk2, terminal=terminal)
    p = verification.pending_submit(actor=other, operation="ex_officio_correction",
                                    payload=_correction(victim["mother"], domicile="東京都千代田区秘密町1番"))
    assert "山田" in p.summary  # entered while she was not yet protected
    protect(support, victim)
    (row,) = verification.pending_list(actor=actor)
    assert "山田" not in row["summary"]
    assert "秘密町" not in str(verification.pending_get(actor=actor, pending_id=p.id))


def test_the_support_section_sees_the_entry(entry, support_user, terminal):
    other = Actor(user=support_user, terminal=terminal)
    view = verification.pending_get(actor=other, pending_id=entry.id)
    assert view["masked"] is False and view["payload"]["changes"]["domicile"] == "東京都千代田区秘密町1番"
    assert view["preview"]["people"][0]["name"] == "山田　花子"
    assert last_log(user=support_user, function="pending.view").flags == ["support_measure"]


def test_approving_or_rejecting_it_needs_the_support_right(entry, protected, sup_actor, supervisor):
    for call in (lambda: verification.pending_approve(actor=sup_actor, pending_id=entry.id),
                 lambda: verification.pending_reject(actor=sup_actor, pending_id=entry.id, comment="確認")):
        with pytest.raises(AccessDenied) as exc:
            call()
        assert exc.value.code == ErrorCode.SUPPORT_MEASURE_PROTECTED
        log = last_log(user=supervisor)
        assert log.outcome == "support_measure_protected" and log.flags == ["support_measure"]
        assert _subjects(log) == [protected["mother"]]
    initial_grant(supervisor, "support")  # a supervisor also designated for 支援措置
    result = verification.pending_approve(actor=sup_actor, pending_id=entry.id)
    assert result.change_id
    assert last_log(user=supervisor, function="change.ex_officio_correction").flags == ["support_measure"]


def test_the_entering_clerk_cannot_reopen_it_once_protected(victim, support, actor, clerk):
    p = verification.pending_submit(actor=actor, operation="ex_officio_correction",
                                    payload=_correction(victim["mother"], domicile="東京都千代田区秘密町1番"))
    protect(support, victim)
    with pytest.raises(AccessDenied) as exc:
        verification.pending_payload(actor=actor, pending_id=p.id)
    assert exc.value.code == ErrorCode.SUPPORT_MEASURE_PROTECTED
    assert last_log(user=clerk, function="pending.payload").flags == ["support_measure"]


def test_counter_pending_screens_show_the_masked_entry(entry, clerk, terminal):
    c = counter_client(clerk, terminal)
    listed = c.get("/counter/pending/?ward=").content.decode()
    assert verification.PROTECTED_SUMMARY in listed and "花子" not in listed
    detail = c.get(f"/counter/pending/{entry.id}/")
    html = detail.content.decode()
    assert detail.status_code == 200 and verification.PROTECTED_SUMMARY in html and "秘密町" not in html


# --- 3. search ---------------------------------------------------------------------------------------------


def _search(who, **criteria):
    return person_search(actor=who, criteria=Criteria(**criteria))


def test_the_address_does_not_decide_whether_the_marker_appears(protected, actor):
    answers = []
    for town, banchi in ((KOKURA_JOUNAI, "3番3号"), (KOKURA_JOUNAI, "4番4号"), (KOKURA_JOUNAI, ""),
                         (KOKURA_JOUNAI, "9")):
        result = _search(actor, name="山田花子", birth_date=VICTIM_BIRTH, town_code=town, banchi=banchi)
        answers.append((result.rows, result.message, result.too_many))
    marker = [{"masked": True, "reason": "support_measure", "marker": enforcement.SUPPORT_MARKER}]
    assert answers == [(marker, "", False)] * 4
    # Name and address alone (no birth date): the same.
    assert _search(actor, name="山田花子", town_code=KOKURA_JOUNAI, banchi="8番8号").rows == marker


def test_a_masked_candidate_is_logged_as_a_subject(protected, actor, clerk):
    _search(actor, name="山田花子", birth_date=VICTIM_BIRTH, town_code=KOKURA_JOUNAI, banchi="4番4号")
    log = last_log(user=clerk, function="person.search")
    assert log.flags == ["support_measure"] and _subjects(log) == [protected["mother"]]


def test_the_support_section_still_searches_by_address(protected, support):
    assert _search(support, name="山田花子", birth_date=VICTIM_BIRTH, town_code=KOKURA_JOUNAI, banchi="4番4号").rows == []
    rows = _search(support, name="山田花子", birth_date=VICTIM_BIRTH, town_code=KOKURA_JOUNAI, banchi="3番3号").rows
    assert rows[0]["person_id"] == protected["mother"] and rows[0]["support_measure"] is True


def test_other_persons_are_still_found_by_their_address(protected, family, actor):
    rows = _search(actor, kana="アオキ", town_code=KOKURA_JOUNAI, banchi="1番1号").rows
    assert {r["name"] for r in rows} == {"青木　太郎", "青木　花子", "青木　一郎"}
    assert _search(actor, kana="アオキ", town_code=KOKURA_JOUNAI, banchi="2番2号").rows == []


def test_an_inquiry_restriction_is_no_address_oracle_either(family, actor, sup_actor):
    import datetime as dt
    services.restriction_set(actor=sup_actor, person_id=family.persons[0]["id"], processes=["inquiry"], reason="照会抑止")
    marker = [{"masked": True, "reason": "restriction", "marker": enforcement.INQUIRY_MARKER}]
    for banchi in ("1番1号", "2番2号"):
        rows = _search(actor, name="青木太郎", birth_date=dt.date(1985, 4, 1), town_code=KOKURA_JOUNAI, banchi=banchi).rows
        assert rows == marker


# --- 4. changes --------------------------------------------------------------------------------------------


def _commit(who, pid, **values):
    kw = OPERATIONS["ex_officio_correction"].kwargs(_correction(pid, **(values or {"domicile": "東京都千代田区"})))
    return verification.change_commit(actor=who, operation="ex_officio_correction", kwargs=kw)


def test_a_clerk_cannot_change_a_protected_person(protected, actor, clerk):
    with pytest.raises(AccessDenied) as exc:
        _commit(actor, protected["mother"])
    assert exc.value.code == ErrorCode.SUPPORT_MEASURE_PROTECTED and exc.value.status == 403
    log = last_log(user=clerk, function="change.ex_officio_correction")
    assert log.outcome == "support_measure_protected" and log.flags == ["support_measure"]
    assert _subjects(log) == [protected["mother"]]


def test_the_api_refuses_a_clerks_change_of_a_protected_person(protected, api, clerk):
    r = api.post("/api/v1/changes/ex-officio-correction", _correction(protected["mother"], domicile="東京都千代田区"),
                 format="json")
    assert r.status_code == 403 and r.json()["code"] == "support_measure_protected"
    assert last_log(user=clerk).flags == ["support_measure"]


def test_the_support_sections_change_is_flagged(protected, support, support_user):
    assert _commit(support, protected["mother"]).change_id
    log = last_log(user=support_user, function="change.ex_officio_correction")
    assert log.outcome == "ok" and log.flags == ["support_measure"]


def test_a_change_that_would_also_write_a_protected_member_is_refused(child_only, actor, clerk):
    # The mother is visible, but correcting her address rewrites the protected child's too.
    kw = OPERATIONS["ex_officio_correction"].kwargs(_correction(child_only["mother"], banchi="5番5号"))
    with pytest.raises(AccessDenied) as exc:
        changes.ex_officio_correction(actor=actor, **kw)
    assert exc.value.code == ErrorCode.SUPPORT_MEASURE_PROTECTED
    assert child_only["child"] in _subjects(last_log(user=clerk, function="change.ex_officio_correction"))


def test_a_household_with_a_protected_member_is_no_destination_for_a_clerk(child_only, actor, support):
    def move_in(who):
        return changes.move_in(actor=who, event_date=days_ago(1), notified_on=days_ago(1), origin="domestic",
                               persons=[person_input(family_name="山田", given_name="一", relationship="同居人",
                                                     family_name_kana="ヤマダ", given_name_kana="ハジメ")],
                               destination=href(child_only["household"]), address=None,
                               previous_address="福岡県福岡市", confirmed_new_person=True)
    with pytest.raises(AccessDenied) as exc:
        move_in(actor)
    assert exc.value.code == ErrorCode.SUPPORT_MEASURE_PROTECTED
    assert move_in(support).persons


def test_a_refused_preview_is_in_the_victims_record(protected, actor, clerk):
    with pytest.raises(DomainError) as err:
        verification.change_preview(actor=actor, operation="ex_officio_correction",
                                    payload=_correction(protected["mother"], banchi="9番9号"))
    assert err.value.code == ErrorCode.SUPPORT_MEASURE_PROTECTED
    log = last_log(user=clerk, function="change.preview")
    assert log.outcome == "support_measure_protected" and log.flags == ["support_measure"]
    assert _subjects(log) == [protected["mother"]]


def test_a_system_job_holding_the_rights_is_not_refused(protected):
    # A job that changes protected persons lists support.manage among its rights, as their clerks hold it.
    job = Actor(system="住居表示", rights=frozenset({Perm.PERSON_CHANGE, "change.ex_officio_correction",
                                                   Perm.SUPPORT_MEASURE_MANAGE}))
    assert _commit(job, protected["mother"]).change_id
    without = Actor(system="住居表示", rights=frozenset({Perm.PERSON_CHANGE, "change.ex_officio_correction"}))
    with pytest.raises(AccessDenied) as exc:
        _commit(without, protected["mother"])
    assert exc.value.code == ErrorCode.SUPPORT_MEASURE_PROTECTED


def test_an_unprotected_change_is_not_flagged(family, actor, clerk):
    _commit(actor, family.persons[0]["id"])
    assert last_log(user=clerk, function="change.ex_officio_correction").flags == []


# --- 5. outbox -------------------------------------------------------------------------------------------


def test_outbox_masks_households_of_protected_persons_only(protected, family, support, linkage_user, terminal):
    number = _number(protected["household"])
    changes.move_within_city(actor=support, event_date=days_ago(1), notified_on=days_ago(1),
                             persons=[ref(protected["mother"]), ref(protected["child"])],
                             address=Address(KOKURA_JOUNAI, "7番7号"))
    page = outbox.outbox_read(actor=Actor.system_actor("atena", terminal=terminal), destination="atena")
    households = [h for e in page["events"] for h in e["households"]]
    assert protected["household"] not in [h.get("household_id") for h in households]
    assert number not in [h.get("number") for h in households]
    assert {"blocked": "support_measure"} in households
    aoki = family.households[0]
    assert any(h.get("household_id") == aoki["id"] and h["number"] == aoki["number"] for h in households)
