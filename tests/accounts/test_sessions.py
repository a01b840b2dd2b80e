"""One live counter session per user and per terminal; every auth event in the log (C01, C20)."""
from __future__ import annotations

import datetime as dt

from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from juki.accounts import login
from juki.accounts.models import CounterSession, Staff, Terminal
from juki.audit.models import AccessLog
from tests.conftest import counter_client, otp_for

from .helpers import TOKEN, post_login
from tests.helpers import TEST_ACTOR

REPLACED = "別の端末または画面でログインしたため、この画面はログアウトしました。"


def _other_terminal():
    return Terminal.objects.create(code="T-02", name="窓口2", location="八幡西区役所 市民課")


def test_a_second_login_of_the_same_user_ends_the_first(clerk, terminal):
    first = counter_client(clerk, terminal)
    second = counter_client(clerk, _other_terminal())
    r = first.get("/counter/")
    assert r.status_code == 302 and r["Location"] == "/counter/login/?reason=replaced"
    assert REPLACED in first.get(r["Location"]).content.decode()
    assert first.get("/counter/").status_code == 302
    assert second.get("/counter/").status_code == 200
    replaced = AccessLog.objects.get(function="auth.session_replaced")
    assert replaced.user == clerk and replaced.terminal == terminal and replaced.category == "auth"
    assert CounterSession.objects.filter(user=clerk).count() == 1


def test_a_terminal_has_one_user_at_a_time(clerk, clerk2, terminal):
    first = counter_client(clerk, terminal)
    counter_client(clerk2, terminal)
    assert first.get("/counter/").status_code == 302
    assert AccessLog.objects.get(function="auth.session_replaced").user == clerk


def test_work_application_goes_into_the_session_and_the_log(clerk, terminal, monkeypatch):
    monkeypatch.setattr(login, "work_application_check", lambda user, raw: raw.strip().upper())
    c = Client()
    assert post_login(c, clerk, clerk.plain_password, terminal, work_application=" wa-2026-001 ").status_code == 302
    c.post("/counter/", {"name": "アオキ", "birth_date": "S60.4.1"})
    assert AccessLog.objects.get(function="auth.login").work_application == "WA-2026-001"
    assert AccessLog.objects.filter(function="person.search").latest("id").work_application == "WA-2026-001"


def test_every_auth_event_is_logged_in_the_auth_category(clerk, supervisor, terminal, settings):
    settings.JUKI_LOGIN_MAX_FAILURES = 2
    c = counter_client(clerk, terminal)                                   # auth.login
    c.get("/counter/lock/")                                               # auth.lock
    c.post("/counter/lock/", {"password": "wrong-password-1"})            # auth.unlock_failure
    c.post("/counter/lock/", {"password": clerk.plain_password})          # auth.unlock
    new = "tobata-2026-password"
    c.post("/counter/password/", {"current": clerk.plain_password, "new": new, "new_again": new})  # password_change
    c.post("/counter/logout/")                                            # auth.logout
    clerk.plain_password = new
    counter_client(clerk, terminal)
    counter_client(clerk, _other_terminal())                              # auth.session_replaced
    post_login(Client(), "nobody", "wrong-password-1", terminal)          # auth.login_failure
    post_login(Client(), supervisor, "wrong-password-1", terminal)
    post_login(Client(), supervisor, "wrong-password-1", terminal)        # auth.locked_out
    login.staff_unlock(actor=TEST_ACTOR, username=supervisor.username)  # auth.unlock_staff
    otp_for(supervisor)
    c2 = Client()
    post_login(c2, supervisor, supervisor.plain_password, terminal)
    c2.post("/counter/login/otp/", {"otp": "000000"})                     # auth.second_factor_failure
    api = APIClient()
    api.post(TOKEN, {"username": clerk.username, "password": "wrong-password-1"}, format="json", HTTP_X_TERMINAL_ID=terminal.code)  # token_failure
    api.post(TOKEN, {"username": clerk.username, "password": new}, format="json", HTTP_X_TERMINAL_ID=terminal.code)                 # auth.token
    Staff.objects.filter(pk=clerk.pk).update(password_changed_at=timezone.now() - dt.timedelta(days=400))
    api.post(TOKEN, {"username": clerk.username, "password": new}, format="json", HTTP_X_TERMINAL_ID=terminal.code)                 # password_expired
    wanted = {"auth.login", "auth.login_failure", "auth.locked_out", "auth.logout", "auth.session_replaced",
              "auth.lock", "auth.unlock", "auth.unlock_failure", "auth.password_change", "auth.password_expired",
              "auth.token", "auth.token_failure", "auth.second_factor_failure", "auth.unlock_staff"}
    rows = AccessLog.objects.filter(function__startswith="auth.")
    assert wanted <= set(rows.values_list("function", flat=True))
    assert set(rows.values_list("category", flat=True)) == {"auth"}
    assert not any(p in str(rows.values_list("criteria", flat=True)) for p in (new, supervisor.plain_password))


def test_api_work_application_from_the_token_or_the_header(clerk, terminal, world, monkeypatch):
    from juki.accounts import authentication
    from juki.core.errors import DomainError, ErrorCode

    def check(user, raw):
        if raw.strip() == "BAD":
            raise DomainError(ErrorCode.WORK_APPLICATION_REQUIRED, "承認された作業申請がありません。")
        return raw.strip()

    monkeypatch.setattr(login, "work_application_check", check)
    monkeypatch.setattr(authentication, "work_application_check", check)
    api = APIClient()
    r = api.post(TOKEN, {"username": clerk.username, "password": clerk.plain_password, "work_application": "W-1"},
                 format="json", HTTP_X_TERMINAL_ID=terminal.code)
    assert r.status_code == 201
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {r.json()['token']}", HTTP_X_TERMINAL_ID=terminal.code)
    api.get("/api/v1/master/wards")
    assert AccessLog.objects.get(function="auth.token").work_application == "W-1"
    api.post("/api/v1/persons/search", {"name": "アオキ", "birth_date": "1985-04-01"}, format="json")
    assert AccessLog.objects.filter(function="person.search").latest("id").work_application == "W-1"
    api.post("/api/v1/persons/search", {"name": "アオキ", "birth_date": "1985-04-01"}, format="json",
             HTTP_X_WORK_APPLICATION="W-2")
    assert AccessLog.objects.filter(function="person.search").latest("id").work_application == "W-2"
    r = api.post("/api/v1/persons/search", {"name": "アオキ", "birth_date": "1985-04-01"}, format="json",
                 HTTP_X_WORK_APPLICATION="BAD")
    assert r.status_code == 400 and r.json()["code"] == "work_application_required"
    r = APIClient().post(TOKEN, {"username": clerk.username, "password": clerk.plain_password,
                                 "work_application": "BAD"}, format="json", HTTP_X_TERMINAL_ID=terminal.code)
    assert r.json()["code"] == "work_application_required"
    assert AccessLog.objects.filter(function="auth.token_failure", outcome="work_application_required").exists()


def test_an_expired_session_is_not_loaded(clerk, terminal):
    """The session store's own load (accounts.sessions, issue 19): a live session opens the screen,
    the same session past its expiry date sends the clerk to the login page."""
    from django.contrib.sessions.models import Session

    c = counter_client(clerk, terminal)
    assert c.get("/counter/").status_code == 200
    key = c.cookies["sessionid"].value
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - dt.timedelta(seconds=1))
    r = c.get("/counter/")
    assert r.status_code == 302 and r["Location"].startswith("/counter/login/")


def test_a_deactivated_user_loses_the_session(clerk, terminal):
    c = counter_client(clerk, terminal)
    assert c.get("/counter/").status_code == 200
    Staff.objects.filter(pk=clerk.pk).update(is_active=False)
    r = c.get("/counter/")
    assert r.status_code == 302 and r["Location"].startswith("/counter/login/")


def test_the_screens_terminal_follows_the_staff_terminal_rule(terminal):
    """`staff_terminal(pk)` (one statement, every screen) answers as `staff_terminals()` does:
    active, not a kiosk's."""
    from django.core.management import call_command

    from juki.accounts.models import staff_terminal, staff_terminals

    call_command("kiosk_device", "add", "KIOSK-07", "--name", "7号機", "--location", "若松区役所")
    off = Terminal.objects.create(code="T-09", name="窓口9", location="門司区役所", is_active=False)
    kiosk = Terminal.objects.get(kiosk_device__code="KIOSK-07")
    for t in (terminal, off, kiosk):
        expected = staff_terminals().filter(pk=t.pk).exists()
        found = staff_terminal(t.pk)
        assert (found is not None) == expected, t.code
        if found is not None:
            assert found.code == t.code and found.ward_id == t.ward_id
    assert [t.code for t in (terminal, off, kiosk) if staff_terminal(t.pk)] == ["T-01"]
