"""支援措置 [440] and 抑止 [410]: registration, life cycle, alerts, rights."""
import datetime as dt

import pytest
from django.core.management import call_command

from juki.audit.models import AccessLog
from juki.core.errors import AccessDenied, DomainError, ErrorCode
from juki.protection import services, terms

from ..conftest import TODAY, days_ago
from .helpers import OFFENDER_BIRTH, last_log, protect


# --- the term ------------------------------------------------------------------------------------


@pytest.mark.parametrize("start, end", [
    (dt.date(2020, 4, 1), dt.date(2021, 3, 31)),  # the standard's own example [440]
    (dt.date(2024, 2, 29), dt.date(2025, 2, 28)),  # no 29 February next year: the month's last day
    (dt.date(2023, 3, 1), dt.date(2024, 2, 29)),
    (dt.date(2025, 1, 1), dt.date(2025, 12, 31)),
])
def test_term_is_one_year_less_a_day(start, end):
    assert terms.term_end(start) == end


def test_extension_window_and_new_end():
    assert terms.extension_opens(dt.date(2021, 3, 31)) == dt.date(2021, 2, 28)
    assert terms.extension_opens(dt.date(2021, 6, 15)) == dt.date(2021, 5, 15)
    assert terms.extended_end(dt.date(2021, 3, 31)) == dt.date(2022, 3, 31)


# --- 支援措置 ------------------------------------------------------------------------------------------


def test_register_active_computes_the_end_and_logs_a_flagged_row(victim, support):
    m = protect(support, victim, start=days_ago(3))
    assert m["state"] == "active" and m["state_label"] == "支援措置中"
    assert m["end"]["date"] == terms.term_end(days_ago(3)).isoformat()
    assert m["person"]["name"] == "山田　花子" and [x["name"] for x in m["members"]] == ["山田　さくら"]
    assert m["offender"]["name"] == "山田　次郎" and m["offender"]["birth_date"]["date"] == OFFENDER_BIRTH.isoformat()
    log = last_log(function="support.register")
    assert log.outcome == "ok" and log.flags == ["support_measure"] and log.category == "operation"
    assert set(log.subjects.values_list("person_id", flat=True)) == {victim["mother"], victim["child"]}
    assert "山田" not in str(log.criteria)  # no names in the log


def test_provisional_then_confirmed(victim, support):
    m = protect(support, victim, provisional=True)
    assert m["state"] == "provisional" and m["end"] is None and m["provisional_since"]["date"] == days_ago(3).isoformat()
    assert any("仮支援措置" in a for a in m["alerts"])
    confirmed = services.support_confirm(actor=support, measure_id=m["id"])
    assert confirmed["state"] == "active"
    assert confirmed["start"]["date"] == TODAY.isoformat()
    assert confirmed["end"]["date"] == terms.term_end(TODAY).isoformat()
    with pytest.raises(DomainError) as exc:
        services.support_confirm(actor=support, measure_id=m["id"])
    assert exc.value.code == ErrorCode.PROTECTION_STATE


def test_end_date_can_be_corrected_but_not_before_the_start(victim, support):
    m = protect(support, victim, start=days_ago(3), end=days_ago(3) + dt.timedelta(days=200))
    assert m["end"]["date"] == (days_ago(3) + dt.timedelta(days=200)).isoformat()
    with pytest.raises(DomainError) as exc:
        protect(support, victim, start=days_ago(3), end=days_ago(4))
    assert exc.value.code == ErrorCode.INVALID_DATE


def test_extension_only_from_one_month_before_the_end(victim, support):
    m = protect(support, victim, start=days_ago(3))
    end = dt.date.fromisoformat(m["end"]["date"])
    with pytest.raises(DomainError) as exc:
        services.support_extend(actor=support, measure_id=m["id"])
    assert exc.value.code == ErrorCode.PROTECTION_STATE and "1か月前" in exc.value.message
    extended = services.support_extend(actor=support, measure_id=m["id"], on=terms.extension_opens(end))
    assert extended["end"]["date"] == terms.extended_end(end).isoformat() and extended["extensions"] == 1


def test_end_needs_a_reason_and_happens_once(victim, support):
    m = protect(support, victim)
    with pytest.raises(DomainError) as exc:
        services.support_end(actor=support, measure_id=m["id"], reason=" ")
    assert (exc.value.code, exc.value.field) == (ErrorCode.INVALID_INPUT, "reason")
    ended = services.support_end(actor=support, measure_id=m["id"], reason="申出者から終了の申出")
    assert ended["state"] == "ended" and ended["ended_on"]["date"] == TODAY.isoformat()
    with pytest.raises(DomainError) as exc:
        services.support_end(actor=support, measure_id=m["id"], reason="再度")
    assert exc.value.code == ErrorCode.PROTECTION_STATE


def test_offender_may_be_a_resident_named_by_id(victim, support, family):
    offender_id = family.persons[0]["id"]  # 青木 太郎
    m = protect(support, victim, offender=services.Offender(person_id=offender_id))
    assert m["offender"]["name"] == "青木　太郎" and m["offender"]["person_id"] == offender_id
    assert m["offender"]["birth_date"]["date"] == "1985-04-01"
    with pytest.raises(DomainError) as exc:
        protect(support, victim, offender=services.Offender(person_id=victim["child"]))
    assert (exc.value.code, exc.value.field) == (ErrorCode.INVALID_INPUT, "offender")


def test_clerk_and_supervisor_cannot_manage_support_measures(victim, actor, sup_actor, clerk, supervisor):
    for who, user in ((actor, clerk), (sup_actor, supervisor)):
        with pytest.raises(AccessDenied):
            protect(who, victim)
        log = last_log(user=user)
        assert log.function == "support.register" and log.outcome == AccessLog.DENIED
        with pytest.raises(AccessDenied):
            services.support_list(actor=who)


def test_list_and_detail(victim, support):
    m = protect(support, victim)
    assert [x["id"] for x in services.support_list(actor=support)] == [m["id"]]
    assert services.support_get(actor=support, measure_id=m["id"])["offender"]["kana"] == "ヤマダ　ジロウ"
    assert last_log(function="support.view").flags == ["support_measure"]
    services.support_end(actor=support, measure_id=m["id"], reason="終了")
    assert services.support_list(actor=support) == []
    assert len(services.support_list(actor=support, include_ended=True)) == 1


# --- alerts and the end notice ----------------------------------------------------------------------


def test_alerts_ending_soon_expired_notice_and_provisional(victim, support, capsys):
    m = protect(support, victim, start=dt.date(2025, 4, 1))  # ends 2026-03-31
    provisional = protect(support, victim, provisional=True)
    soon = services.alerts(actor=support, on=dt.date(2026, 3, 10))
    assert soon["ending_soon"] == [m["id"]] and soon["notice_due"] == [m["id"]] and soon["expired"] == []
    assert soon["provisional"] == [provisional["id"]]
    later = services.alerts(actor=support, on=dt.date(2026, 4, 2))
    assert later["expired"] == [m["id"]] and later["ending_soon"] == []
    quiet = services.alerts(actor=support, on=dt.date(2025, 12, 1))
    assert quiet["ending_soon"] == quiet["expired"] == quiet["notice_due"] == []

    # The daily command prints counts and ids only.
    call_command("protection_alerts", "--on", "2026-03-10")
    out = capsys.readouterr().out
    assert f"終了間近 1件: {m['id']}" in out and "山田" not in out and "花子" not in out


def test_end_notice_from_one_month_before_the_end(victim, support):
    m = protect(support, victim, start=days_ago(3))
    with pytest.raises(DomainError) as exc:
        services.support_end_notice(actor=support, measure_id=m["id"])
    assert exc.value.code == ErrorCode.PROTECTION_STATE
    ended = services.support_end(actor=support, measure_id=m["id"], reason="期間満了")
    assert services.alerts(actor=support)["notice_due"] == [ended["id"]]
    notice = services.support_end_notice(actor=support, measure_id=m["id"])
    assert notice["end_notice_issued_on"]["date"] == TODAY.isoformat()
    assert services.alerts(actor=support)["notice_due"] == []
    log = last_log(function="print.support_end_notice")
    assert log.category == "print" and log.flags == ["support_measure"]


# --- 抑止 ---------------------------------------------------------------------------------------------


def test_restriction_set_release_and_temporary_release(family, sup_actor):
    pid = family.persons[0]["id"]
    r = services.restriction_set(actor=sup_actor, person_id=pid, processes=["change", "certificate"], reason="調査中",
                                 end=TODAY + dt.timedelta(days=30))
    assert r["in_force"] and r["process_labels"] == ["異動", "証明書交付"] and r["level"] == "error"
    released = services.restriction_temporary_release(actor=sup_actor, restriction_id=r["id"], minutes=10)
    assert not released["in_force"] and released["temporarily_released_until"]
    done = services.restriction_release(actor=sup_actor, restriction_id=r["id"])
    assert done["ended_at"] and not done["in_force"]
    with pytest.raises(DomainError) as exc:
        services.restriction_release(actor=sup_actor, restriction_id=r["id"])
    assert exc.value.code == ErrorCode.PROTECTION_STATE
    view = services.protection_of(actor=sup_actor, person_id=pid)
    assert [x["id"] for x in view["restrictions"]] == [r["id"]]


@pytest.mark.parametrize("kw, field", [
    ({"processes": []}, "processes"),
    ({"processes": ["nothing"]}, "processes"),
    ({"reason": ""}, "reason"),
    ({"level": "loud"}, "level"),
    ({"household_id": 1}, "person_id"),  # both a person and a household
])
def test_restriction_input_is_checked(family, sup_actor, kw, field):
    args = {"person_id": family.persons[0]["id"], "processes": ["change"], "reason": "調査中", **kw}
    with pytest.raises(DomainError) as exc:
        services.restriction_set(actor=sup_actor, **args)
    assert exc.value.field == field
    assert exc.value.code == ErrorCode.INVALID_INPUT


def test_clerk_cannot_set_restrictions(family, actor, clerk):
    with pytest.raises(AccessDenied):
        services.restriction_set(actor=actor, person_id=family.persons[0]["id"], processes=["change"], reason="x")
    assert last_log(user=clerk).outcome == AccessLog.DENIED


def test_restrictions_past_their_end_stay_and_are_listed(family, sup_actor, support):
    r = services.restriction_set(actor=sup_actor, person_id=family.persons[0]["id"], processes=["change"],
                                 reason="調査中", start=days_ago(10), end=days_ago(1))
    assert r["in_force"] and r["past_end"]  # [410]: the end date does not end it
    assert services.alerts(actor=support)["restrictions_past_end"] == [r["id"]]

