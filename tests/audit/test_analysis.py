"""ログ分析 [1370] and the daily anomaly report (C06–C08): each list finds what it should and nothing else."""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from contextlib import contextmanager
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.test import Client

from juki.accounts.models import Staff
from juki.accounts.permissions import Perm
from juki.accounts.services import generate_password, staff_create
from juki.audit import events, gate
from juki.oversight import analysis
from juki.oversight.anomalies import anomalies
from juki.audit.gate import Actor
from juki.audit.models import AccessLog
from juki.core.errors import AccessDenied, DomainError, ErrorCode
from juki.register import selectors
from juki.register.services import search as search_service
from juki.register.services.people import Address

from ..conftest import KOKURA_JOUNAI, move_in_family, person_input
from ..counter.test_views import client_for
from ..register.helpers import ids

JST = ZoneInfo("Asia/Tokyo")
NOV = dt.date(2026, 11, 1)  # a Sunday; 11/3 文化の日 is a Tuesday, 11/7 a Saturday


def jst(y, m, d, h=10, mi=0, s=0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, s, tzinfo=JST)


@contextmanager
def clock(when: dt.datetime):
    """The log's `at` is auto_now_add: a fixed clock is the only way to write a row at a given time."""
    with mock.patch("django.utils.timezone.now", return_value=when):
        yield


def today() -> dt.date:
    # Views are made on today's date: the staff created by a test hold their grants from today on.
    return dt.datetime.now(JST).date()


def log_at(when, actor, function, **kw) -> AccessLog:
    with clock(when):
        return events.record(actor, function=function, **kw)


def run(auditor, report, date_from, date_to=None, **kw):
    return analysis.run(Actor(user=auditor), report, date_from, date_to or date_from, **kw)


def log_ids(result) -> list[int]:
    return [r["log_id"] for r in result.rows]


def staff(username, full_name="", role="clerk", resident_person_id=None) -> Staff:
    user = staff_create(username=username, password=generate_password(), role=role, full_name=full_name)
    if resident_person_id is not None:
        # No service sets it yet (the rights helper owns staff records): the column, as the admin would.
        Staff.objects.filter(pk=user.pk).update(resident_person_id=resident_person_id)
        user.refresh_from_db()
    return user


# --- 深夜・休業日 ---------------------------------------------------------------------------------


def test_night_and_holiday_access_boundaries_in_japan_time(auditor, actor):
    holiday = log_at(jst(2026, 11, 3, 12), actor, "person.view")  # 文化の日 (Tuesday)
    before_night = log_at(jst(2026, 11, 4, 21, 59, 59), actor, "person.search")
    night_start = log_at(jst(2026, 11, 4, 22, 0, 0), actor, "person.search")
    batch = log_at(jst(2026, 11, 4, 23), Actor.system_actor("seals-sweep"), "batch.nightly")  # jobs run at night by design
    night_end = log_at(jst(2026, 11, 5, 5, 59, 59), actor, "person.view")  # 11/4 20:59 UTC
    morning = log_at(jst(2026, 11, 5, 6, 0, 0), actor, "person.view")
    saturday = log_at(jst(2026, 11, 7, 12), actor, "auth.login")
    weekday = log_at(jst(2026, 11, 9, 12), actor, "person.view")
    year_end = log_at(jst(2026, 12, 29, 9), actor, "person.view")  # 年末年始, a Tuesday

    result = run(auditor, "night_holiday", NOV, dt.date(2026, 12, 31))
    assert log_ids(result) == [holiday.id, night_start.id, night_end.id, saturday.id, year_end.id]
    assert before_night.id not in log_ids(result) and morning.id not in log_ids(result)
    assert weekday.id not in log_ids(result) and batch.id not in log_ids(result)
    when = {r["log_id"]: r["when"] for r in result.rows}
    assert when[night_start.id] == "深夜" and when[holiday.id] == "文化の日"
    assert when[saturday.id] == "土曜日" and when[year_end.id] == "年末年始"
    row = next(r for r in result.rows if r["log_id"] == night_end.id)
    assert row["at"] == "2026-11-05 05:59:59" and row["user"] == actor.user.username

    # The range is of Japanese days: 11/5 starts at 00:00 JST, which is still 11/4 in UTC.
    assert log_ids(run(auditor, "night_holiday", dt.date(2026, 11, 5))) == [night_end.id]


def test_night_hours_are_a_setting(auditor, actor, settings):
    settings.JUKI_AUDIT_NIGHT_START_HOUR, settings.JUKI_AUDIT_NIGHT_END_HOUR = 20, 7
    early = log_at(jst(2026, 11, 4, 6, 30), actor, "person.view")
    evening = log_at(jst(2026, 11, 4, 20, 0), actor, "person.view")
    log_at(jst(2026, 11, 4, 19, 59), actor, "person.view")
    assert log_ids(run(auditor, "night_holiday", dt.date(2026, 11, 4))) == [early.id, evening.id]


def test_closed_days_include_national_and_substitute_holidays():
    days = analysis.closed_days(dt.date(2026, 5, 1), dt.date(2027, 1, 4))
    assert days[dt.date(2026, 5, 6)]  # 振替休日 (5/3 was a Sunday)
    assert days[dt.date(2026, 11, 23)] == "勤労感謝の日"
    assert days[dt.date(2027, 1, 1)] == "元日" and days[dt.date(2027, 1, 3)] == "年末年始"
    assert dt.date(2026, 11, 24) not in days and dt.date(2027, 1, 4) not in days


# --- ログイン ----------------------------------------------------------------------------------


def test_login_failures_list_the_failures_and_lockouts_only(auditor, actor, terminal):
    anonymous = Actor(user=None, terminal=terminal)
    unknown = log_at(jst(2026, 11, 9, 8, 50), anonymous, "auth.login_failure", outcome="denied",
                     criteria={"username": "nobody"})
    known = log_at(jst(2026, 11, 9, 8, 51), actor, "auth.login_failure", outcome="denied",
                   criteria={"username": actor.user.username})
    locked = log_at(jst(2026, 11, 9, 8, 52), actor, "auth.locked_out", outcome="denied")
    log_at(jst(2026, 11, 9, 8, 53), actor, "auth.login")
    log_at(jst(2026, 11, 10, 8, 50), anonymous, "auth.login_failure", outcome="denied", criteria={"username": "x"})

    result = run(auditor, "login_failures", dt.date(2026, 11, 9))
    assert log_ids(result) == [unknown.id, known.id, locked.id]
    assert [r["user"] for r in result.rows] == ["nobody", actor.user.username, actor.user.username]
    assert [r["function"] for r in result.rows] == ["ログイン失敗", "ログイン失敗", "アカウントロック"]
    assert result.rows[0]["terminal"] == terminal.code and result.rows[0]["outcome"] == "拒否"


def test_logins_per_user_per_japanese_day(auditor, actor, sup_actor):
    log_at(jst(2026, 11, 9, 8, 29), actor, "auth.login_failure", outcome="denied")
    log_at(jst(2026, 11, 9, 8, 30), actor, "auth.login")
    log_at(jst(2026, 11, 9, 9, 0), sup_actor, "auth.login")
    log_at(jst(2026, 11, 9, 9, 5), sup_actor, "person.view")  # not a login
    log_at(jst(2026, 11, 9, 13, 0), actor, "auth.login")
    log_at(jst(2026, 11, 10, 0, 30), actor, "auth.login")  # 11/9 15:30 UTC: already 11/10 in Japan

    rows = run(auditor, "logins_per_user", dt.date(2026, 11, 9), dt.date(2026, 11, 10)).rows
    clerk, sup = actor.user.username, sup_actor.user.username
    assert [(r["day"], r["user"], r["logins"], r["failures"]) for r in rows] == [
        ("2026-11-09", clerk, 2, 1), ("2026-11-09", sup, 1, 0), ("2026-11-10", clerk, 1, 0)]


def test_failures_at_every_door_and_api_logins_are_reported(auditor, actor, terminal):
    """Token, second factor, lock screen and password change failures are login failures too, and
    an API token is a login (a guesser should not be able to hide behind another door)."""
    doors = ["auth.token_failure", "auth.second_factor_failure", "auth.unlock_failure", "auth.password_change_failure"]
    rows = [log_at(jst(2026, 11, 9, 9, i), actor, f, outcome="bad_password") for i, f in enumerate(doors)]
    log_at(jst(2026, 11, 9, 9, 10), actor, "auth.token")
    log_at(jst(2026, 11, 9, 9, 11), actor, "auth.unlock")  # a success: neither a failure nor a login
    log_at(jst(2026, 11, 9, 9, 12), actor, "auth.password_change")

    result = run(auditor, "login_failures", dt.date(2026, 11, 9))
    assert log_ids(result) == [r.id for r in rows]
    assert [r["function"] for r in result.rows] == ["APIトークン発行の失敗", "ワンタイムパスワードの誤り",
                                                    "画面ロック解除の失敗", "パスワード変更時の認証失敗"]
    (per_user,) = run(auditor, "logins_per_user", dt.date(2026, 11, 9)).rows
    assert (per_user["user"], per_user["logins"], per_user["failures"], per_user["lockouts"]) == \
        (actor.user.username, 1, 4, 0)


# --- 検索 --------------------------------------------------------------------------------------


def test_mass_searches_by_rows_returned(auditor, actor, settings):
    big = log_at(jst(2026, 11, 9, 10), actor, "person.search", person_ids=range(1, 51), criteria={"name": "ア"})
    small = log_at(jst(2026, 11, 9, 11), actor, "person.search", person_ids=[1, 2, 3])
    log_at(jst(2026, 11, 9, 12), actor, "household.view", person_ids=range(100, 160))  # a view, not a search
    assert log_ids(run(auditor, "mass_search", dt.date(2026, 11, 9))) == [big.id]
    settings.JUKI_AUDIT_MASS_SEARCH_ROWS = 3
    assert log_ids(run(auditor, "mass_search", dt.date(2026, 11, 9))) == [big.id, small.id]


def test_users_searching_more_than_the_hourly_limit(auditor, actor, sup_actor, settings):
    settings.JUKI_AUDIT_SEARCHES_PER_HOUR = 3
    for minute, pid in ((0, 1), (15, 2), (30, 2), (59, 3)):  # 4 in the 10 o'clock hour
        log_at(jst(2026, 11, 9, 10, minute), actor, "person.search", person_ids=[pid])
    for minute in (0, 10, 20):  # 3 in the next: not more than the limit
        log_at(jst(2026, 11, 9, 11, minute), actor, "person.search", person_ids=[9])
    for minute in (0, 1):
        log_at(jst(2026, 11, 9, 10, minute), sup_actor, "person.search")
    rows = run(auditor, "frequent_search", dt.date(2026, 11, 9)).rows
    assert rows == [{"hour": "2026-11-09 10:00", "user": actor.user.username, "user_name": "", "searches": 4,
                     "persons": 3}]


def test_searches_by_atena_number_and_other_identifiers(auditor, world, family):
    (head, *_) = family.persons
    search_service.person_search(actor=world, criteria=search_service.Criteria(atena_number=head["atena_number"]))
    by_name = search_service.Criteria(name="アオキ", birth_date=dt.date(1985, 4, 1))
    search_service.person_search(actor=world, criteria=by_name)
    by_my_number = events.record(world, function="person.search", criteria={"my_number": "123456789012"})
    result = run(auditor, "identifier_search", today())
    assert [r["identifiers"] for r in result.rows] == [f"宛名番号 {head['atena_number']}", "個人番号"]
    assert result.rows[1]["log_id"] == by_my_number.id
    assert "123456789012" not in str(result.rows)  # the gate stored the number masked


def test_my_number_access_and_support_measure_views_and_denials(auditor, actor, sup_actor):
    day = today()
    with gate.open(sup_actor, function="person.view", perm=Perm.PERSON_VIEW) as session:
        session.record([11])
        session.reveal_my_number()
    events.record(sup_actor, function="person.view", person_ids=[12])
    flagged = events.record(actor, function="person.view", person_ids=[13], flags=["support_measure"])
    events.record(actor, function="person.view", person_ids=[14], flags=["other_flag"])
    with pytest.raises(AccessDenied), gate.open(actor, function="accesslog.view", perm=Perm.ACCESS_LOG_VIEW):
        pass

    mine = run(auditor, "my_number", day).rows
    assert [(r["user"], r["function"]) for r in mine] == [(sup_actor.user.username, "住民票の照会")]
    support = run(auditor, "support_measure", day).rows
    assert [(r["log_id"], r["person_ids"]) for r in support] == [(flagged.id, "ID 13")]  # not in the register
    denied = run(auditor, "denied", day).rows
    assert [(r["user"], r["function"], r["outcome"]) for r in denied] == [
        (actor.user.username, "アクセスログの照会", "拒否")]


def test_refusals_by_protection_are_in_the_denied_report_with_labels_not_codes(auditor, world, support_user, terminal):
    """Issue 12: a 支援措置 refusal is a refusal; functions, outcomes and persons read as an auditor reads them."""
    from juki.core.errors import DomainError
    from juki.register import selectors
    from tests.protection.helpers import move_in_victim, protect

    victim = move_in_victim(world)
    protect(Actor(user=support_user, terminal=terminal), victim)
    with pytest.raises(DomainError) as err:
        selectors.person_get(actor=world, person_id=victim["mother"])
    assert err.value.code == ErrorCode.SUPPORT_MEASURE_PROTECTED
    day = today()
    denied = run(auditor, "denied", day).rows
    assert [(r["function"], r["outcome"]) for r in denied] == [("住民票の照会", "拒否（支援措置対象者）")]
    support = run(auditor, "support_measure", day).rows
    assert any(victim["atena"] in r["person_ids"] for r in support)
    assert all(not r["function"].startswith(("support.", "change.")) for r in support)
    changes = run(auditor, "night_holiday", day).rows + support
    assert all("_" not in r["outcome"] for r in changes)


# --- the run itself ------------------------------------------------------------------------------


def test_every_run_is_logged_and_a_clerk_is_refused(auditor, actor):
    for i in range(3):
        log_at(jst(2026, 11, 9, 8, i), actor, "auth.login_failure", outcome="denied")
    result = run(auditor, "login_failures", dt.date(2026, 11, 9), limit=2)
    assert len(result.rows) == 2 and result.truncated
    entry = AccessLog.objects.filter(function="accesslog.analysis").latest("id")
    assert entry.user == auditor and entry.outcome == "done" and entry.category == "access"
    assert entry.criteria == {"report": "login_failures", "from": "2026-11-09", "to": "2026-11-09", "rows": 2}

    with pytest.raises(AccessDenied):
        analysis.run(actor, "login_failures", dt.date(2026, 11, 9), dt.date(2026, 11, 9))
    refused = AccessLog.objects.filter(function="accesslog.analysis").latest("id")
    assert refused.user == actor.user and refused.outcome == "denied"


def test_bad_report_or_period_is_refused_in_japanese(auditor):
    with pytest.raises(DomainError, match="分析の種類") as err:
        run(auditor, "everything", dt.date(2026, 11, 9))
    assert err.value.code == ErrorCode.INVALID_INPUT
    with pytest.raises(DomainError, match="開始日") as err:
        run(auditor, "denied", dt.date(2026, 11, 9), dt.date(2026, 11, 8))
    assert err.value.code == ErrorCode.INVALID_DATE
    with pytest.raises(DomainError, match="366日以内") as err:
        run(auditor, "denied", dt.date(2025, 1, 1), dt.date(2026, 1, 2))
    assert err.value.code == ErrorCode.INVALID_DATE


# --- anomalies ------------------------------------------------------------------------------------


def _view(user, terminal, when, person_id=None, household_id=None):
    a = Actor(user=user, terminal=terminal)
    with clock(when):
        if household_id is not None:
            return selectors.household_get(actor=a, household_id=household_id)
        return selectors.person_get(actor=a, person_id=person_id)


def test_anomalies_find_own_record_household_address_and_namesakes(world, family, auditor, terminal):
    head, wife, child = ids(family)
    neighbour = ids(move_in_family(world, members=[person_input(
        family_name="佐藤", family_name_kana="サトウ", domicile_head="佐藤　太郎")], address=Address(KOKURA_JOUNAI, "1番1号")))[0]
    stranger = ids(move_in_family(world, members=[person_input(
        family_name="田中", family_name_kana="タナカ", domicile_head="田中　太郎")], address=Address(KOKURA_JOUNAI, "5番5号")))[0]
    namesake = staff("namesake", full_name="青木　次郎")
    nospace = staff("nospace", full_name="青木三郎")
    resident = staff("resident", full_name="山田 花子", resident_person_id=head)
    plain = staff("plain", full_name="鈴木 一")
    day = today()
    at = dt.datetime.combine(day, dt.time(10), JST)
    for i, (user, pid) in enumerate([(namesake, head), (namesake, stranger), (nospace, child),
                                     (resident, head), (resident, wife), (resident, neighbour), (resident, stranger),
                                     (plain, head), (plain, wife)]):
        _view(user, terminal, at + dt.timedelta(minutes=i), person_id=pid)
    _view(resident, terminal, at + dt.timedelta(days=1), person_id=wife)  # another day

    found = anomalies(Actor(user=auditor), day)
    assert sorted((f.username, f.kind, tuple(f.person_ids)) for f in found) == sorted([
        ("namesake", "same_surname", (head,)), ("nospace", "same_surname", (child,)),
        ("resident", "own_record", (head,)), ("resident", "same_household", (wife,)),
        ("resident", "same_address", (neighbour,)),
    ])
    wife_view = AccessLog.objects.get(function="person.view", user=resident, at__date=day, subjects__person_id=wife)
    assert next(f for f in found if f.kind == "same_household").log_ids == [wife_view.id]
    # Reading names and addresses for the comparison is itself a logged use of the register.
    entry = AccessLog.objects.filter(function="accesslog.anomalies").latest("id")
    assert entry.user == auditor and entry.criteria["findings"] == 5
    assert {head, wife, child, neighbour, stranger} <= set(entry.subjects.values_list("person_id", flat=True))


def test_anomalies_find_bursts_of_unrelated_persons(world, family, auditor, clerk, clerk2, supervisor, terminal,
                                                    settings):
    settings.JUKI_AUDIT_BURST_PERSONS, settings.JUKI_AUDIT_BURST_MINUTES = 2, 10
    day = today()

    def at(h, m):
        return dt.datetime.combine(day, dt.time(h, m), JST)

    burst = [log_at(at(10, m), Actor(user=clerk, terminal=terminal), "person.view", person_ids=[pid])
             for m, pid in ((0, 901), (3, 902), (6, 903), (8, 905))]
    log_at(at(10, 20), Actor(user=clerk, terminal=terminal), "person.view", person_ids=[904])  # after the burst
    for m, pid in ((0, 911), (11, 912), (22, 913)):  # spread out: never 3 households within 10 minutes
        log_at(at(10, m), Actor(user=clerk2, terminal=terminal), "person.view", person_ids=[pid])
    # One family's household screen is one household, however many members it shows.
    _view(supervisor, terminal, at(11, 0), household_id=family.households[0]["id"])
    log_at(at(11, 1), Actor(user=supervisor, terminal=terminal), "person.view", person_ids=[921])

    found = [f for f in anomalies(Actor(user=auditor), day) if f.kind == "burst"]
    assert len(found) == 1
    f = found[0]
    assert f.username == clerk.username and f.person_ids == [901, 902, 903, 905] and f.households == 4
    assert f.log_ids == [e.id for e in burst] and f.row()["first_at"].endswith("10:00:00")


def test_anomaly_report_command_writes_ids_not_names_and_logs_itself(world, family, terminal, tmp_path):
    head = ids(family)[0]
    resident = staff("resident", full_name="山田 花子", resident_person_id=head)
    day = today()
    _view(resident, terminal, dt.datetime.combine(day, dt.time(9), JST), person_id=head)
    out, path = io.StringIO(), tmp_path / "report.csv"
    call_command("anomaly_report", date=day.isoformat(), out=str(path), stdout=out)
    text = out.getvalue()
    assert f"{day.isoformat()} の異常検知: 1件" in text
    assert f"own_record\tuser=resident\tpersons={head}" in text
    assert "青木" not in text and "山田" not in text
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert rows[0][:3] == ["種別", "職員ID", "職員氏名"] and rows[1][:2] == ["本人の記録の閲覧", "resident"]
    entry = AccessLog.objects.get(function="batch.anomaly_report")
    assert entry.system == "anomaly_report" and entry.user is None and entry.category == "batch"
    assert entry.criteria["day"] == day.isoformat()


# --- screens ----------------------------------------------------------------------------------------


def test_auditor_screen_shows_the_report_and_the_csv_download_is_logged(auditor, actor, terminal):
    log_at(jst(2026, 11, 9, 8, 50), Actor(terminal=terminal), "auth.login_failure", outcome="denied",
           criteria={"username": "=HYPERLINK(\"x\")"})
    log_at(jst(2026, 11, 9, 8, 51), actor, "auth.login_failure", outcome="denied")
    c = client_for(auditor, terminal)
    assert "ログ分析" in c.get("/audit/analysis/").content.decode()
    r = c.get("/audit/analysis/", {"report": "login_failures", "date_from": "2026-11-09", "date_to": "2026-11-09"})
    body = r.content.decode()
    assert r.status_code == 200 and "ログイン失敗" in body and "2件" in body and actor.user.username in body
    href = re.search(r'href="(/audit/analysis/csv/\?[^"]+)"', body).group(1).replace("&amp;", "&")
    assert href == "/audit/analysis/csv/?report=login_failures&date_from=2026-11-09&date_to=2026-11-09"

    r = c.get(href)
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    assert 'filename="accesslog-login_failures-20261109-20261109.csv"' in r["Content-Disposition"]
    assert r.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0] == [h for _, h in analysis.REPORTS["login_failures"].columns]
    assert [row[1] for row in rows[1:]] == ["'=HYPERLINK(\"x\")", actor.user.username]  # no formula for Excel
    export = AccessLog.objects.get(function="export.accesslog_csv")
    assert export.category == "export" and export.user == auditor and export.outcome == "done"
    assert export.criteria == {"report": "login_failures", "from": "2026-11-09", "to": "2026-11-09", "rows": 2}


def test_screen_pages_the_rows(auditor, actor, terminal, monkeypatch):
    from juki.oversight import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    for i in range(3):
        log_at(jst(2026, 11, 9, 8, i), actor, "auth.login_failure", outcome="denied")
    c = client_for(auditor, terminal)
    q = {"report": "login_failures", "date_from": "2026-11-09", "date_to": "2026-11-09"}
    first = c.get("/audit/analysis/", q).content.decode()
    assert "1～2件目（1/2ページ）" in first and "次の2件" in first
    second = c.get("/audit/analysis/", {**q, "page": 2}).content.decode()
    assert "3～3件目（2/2ページ）" in second


def test_anomaly_screen_for_a_day(world, family, auditor, terminal):
    head = ids(family)[0]
    resident = staff("resident", full_name="山田 花子", resident_person_id=head)
    day = today()
    _view(resident, terminal, dt.datetime.combine(day, dt.time(9), JST), person_id=head)
    c = client_for(auditor, terminal)
    body = c.get("/audit/anomalies/", {"day": day.isoformat()}).content.decode()
    assert "本人の記録の閲覧" in body and "resident" in body and "1件" in body
    assert "青木" not in body  # residents by internal id only
    r = c.get("/audit/anomalies/csv/", {"day": day.isoformat()})
    assert r.status_code == 200 and "本人の記録の閲覧" in r.content.decode("utf-8-sig")
    assert AccessLog.objects.filter(function="export.anomalies_csv", category="export").count() == 1


def test_clerk_is_refused_with_403_and_a_denied_log_row(clerk, terminal):
    c = client_for(clerk, terminal)
    for url in ("/audit/analysis/", "/audit/analysis/csv/?report=denied&date_from=2026-11-09&date_to=2026-11-09",
                "/audit/anomalies/"):
        r = c.get(url)
        assert r.status_code == 403 and "権限がありません" in r.content.decode()
    refused = AccessLog.objects.filter(function="accesslog.analysis", outcome="denied", user=clerk)
    assert refused.count() == 3
    assert not AccessLog.objects.filter(function="export.accesslog_csv").exists()
    assert "ログ分析" not in c.get("/counter/").content.decode()  # not offered in the clerk's menu


def test_screens_need_a_session_and_bad_input_is_a_japanese_message(auditor, terminal):
    r = Client().get("/audit/analysis/")
    assert r.status_code == 302 and r["Location"].startswith("/counter/login/")
    c = client_for(auditor, terminal)
    r = c.get("/audit/analysis/", {"report": "login_failures", "date_from": "2026-11-10", "date_to": "2026-11-09"})
    assert r.status_code == 400 and "開始日" in r.content.decode()
    r = c.get("/audit/analysis/", {"report": "nope", "date_from": "x", "date_to": ""})
    assert r.status_code == 400 and "正しく入力してください" in r.content.decode()


def test_rows_without_a_staff_user_name_the_kiosk_or_the_batch():
    """A kiosk is a device, not a batch job: the report says which."""
    from juki.oversight.analysis import _system_label

    assert _system_label("kiosk:KIOSK-01") == "自動交付機:KIOSK-01"
    assert _system_label("seals-sweep") == "バッチ:seals-sweep"
    assert _system_label("") == ""
