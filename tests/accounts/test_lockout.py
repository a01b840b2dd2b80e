"""Lockout after repeated failures (C01): counter and API count alike; nobody learns who exists."""
from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from juki.accounts import login
from juki.accounts.models import Staff
from juki.audit.gate import Actor
from juki.core.errors import AccessDenied

from .helpers import BAD, LOCKED, TOKEN, events, post_login


def _fail_n(client, user_or_name, terminal, n):
    return [post_login(client, user_or_name, "wrong-password-123", terminal).content.decode() for _ in range(n)]


def test_counter_locks_after_n_failures_and_refuses_even_the_right_password(clerk, terminal, settings):
    settings.JUKI_LOGIN_MAX_FAILURES = 3
    c = Client()
    pages = _fail_n(c, clerk, terminal, 3)
    assert BAD in pages[0] and BAD in pages[1] and LOCKED in pages[2]
    clerk.refresh_from_db()
    assert clerk.failed_logins == 3 and clerk.locked_at is not None
    r = post_login(c, clerk, clerk.plain_password, terminal)
    assert r.status_code == 200 and LOCKED in r.content.decode()
    assert c.get("/counter/").status_code == 302  # not logged in
    assert events("auth.login_failure", user=clerk).count() == 4
    assert events("auth.locked_out", user=clerk, category="auth").count() == 1
    assert events("auth.login_failure", user=clerk, outcome="locked").count() == 1
    # A holder of rights.admin lifts it; then the right password works again.
    login.staff_unlock(actor=Actor(user=_admin(), terminal=terminal, second_factor=True), username=clerk.username)
    assert post_login(c, clerk, clerk.plain_password, terminal).status_code == 302
    clerk.refresh_from_db()
    assert clerk.failed_logins == 0 and clerk.locked_at is None
    assert events("auth.unlock_staff", outcome="unlocked", category="auth").count() == 1


def _admin():
    from juki.accounts.services import generate_password, staff_create

    return staff_create(username="admin-x", password=generate_password(), role="admin")


def test_an_unknown_name_gets_the_same_answers_as_a_real_one(clerk, terminal, settings):
    settings.JUKI_LOGIN_MAX_FAILURES = 3
    real = _fail_n(Client(), clerk, terminal, 3)
    ghost = _fail_n(Client(), "no-such-user", terminal, 3)
    assert [BAD in p for p in real] == [BAD in p for p in ghost] == [True, True, False]
    assert LOCKED in real[2] and LOCKED in ghost[2]
    failures = events("auth.login_failure", user=None, outcome="unknown_user")
    assert failures.count() == 3 and failures.first().criteria["username"] == "no-such-user"
    assert all("password" not in row.criteria for row in events("auth.login_failure"))


def test_failures_older_than_the_window_are_forgotten_alike_for_real_and_unknown_names(clerk, terminal, settings):
    from unittest import mock

    settings.JUKI_LOGIN_MAX_FAILURES = 3
    real = _fail_n(Client(), clerk, terminal, 2)
    ghost = _fail_n(Client(), "no-such-user", terminal, 2)
    later = timezone.now() + dt.timedelta(minutes=31)
    with mock.patch("django.utils.timezone.now", return_value=later):
        real += _fail_n(Client(), clerk, terminal, 1)
        ghost += _fail_n(Client(), "no-such-user", terminal, 1)
    assert [BAD in p for p in real] == [BAD in p for p in ghost] == [True, True, True]
    clerk.refresh_from_db()
    assert clerk.failed_logins == 1 and clerk.locked_at is None


def test_the_lock_runs_out_after_the_configured_minutes(clerk, terminal, settings):
    settings.JUKI_LOGIN_MAX_FAILURES = 2
    _fail_n(Client(), clerk, terminal, 2)
    assert post_login(Client(), clerk, clerk.plain_password, terminal).status_code == 200
    Staff.objects.filter(pk=clerk.pk).update(locked_at=timezone.now() - dt.timedelta(minutes=31))
    assert post_login(Client(), clerk, clerk.plain_password, terminal).status_code == 302


def test_a_success_resets_the_count(clerk, terminal, settings):
    settings.JUKI_LOGIN_MAX_FAILURES = 3
    _fail_n(Client(), clerk, terminal, 2)
    assert post_login(Client(), clerk, clerk.plain_password, terminal).status_code == 302
    _fail_n(Client(), clerk, terminal, 2)
    clerk.refresh_from_db()
    assert clerk.failed_logins == 2 and clerk.locked_at is None


def test_api_token_endpoint_counts_failures_and_locks(clerk, terminal, settings):
    settings.JUKI_LOGIN_MAX_FAILURES = 3
    api = APIClient()
    codes = [api.post(TOKEN, {"username": clerk.username, "password": "wrong-password-123"}, format="json", HTTP_X_TERMINAL_ID=terminal.code)
             for _ in range(3)]
    assert [r.status_code for r in codes] == [401, 401, 401]
    assert [r.json()["code"] for r in codes] == ["invalid_credentials", "invalid_credentials", "account_locked"]
    right = api.post(TOKEN, {"username": clerk.username, "password": clerk.plain_password}, format="json", HTTP_X_TERMINAL_ID=terminal.code)
    assert right.status_code == 401 and right.json()["code"] == "account_locked"
    assert events("auth.token_failure", user=clerk, category="auth").count() == 4
    call_command("unlock_staff", clerk.username)
    ok = api.post(TOKEN, {"username": clerk.username, "password": clerk.plain_password}, format="json", HTTP_X_TERMINAL_ID=terminal.code)
    assert ok.status_code == 201 and ok.json()["second_factor"] is False
    assert events("auth.token", user=clerk, category="auth").count() == 1


def test_counter_and_api_failures_add_up(clerk, terminal, settings):
    settings.JUKI_LOGIN_MAX_FAILURES = 2
    _fail_n(Client(), clerk, terminal, 1)
    r = APIClient().post(TOKEN, {"username": clerk.username, "password": "wrong-password-123"}, format="json", HTTP_X_TERMINAL_ID=terminal.code)
    assert r.json()["code"] == "account_locked"


def test_only_rights_admin_may_unlock(clerk, terminal):
    with pytest.raises(AccessDenied):
        login.staff_unlock(actor=Actor(user=clerk, terminal=terminal), username=clerk.username)
    assert events("auth.unlock_staff", outcome="denied", user=clerk).count() == 1


def test_wrong_passwords_on_the_lock_screen_count_too(clerk, terminal, settings):
    from tests.conftest import counter_client

    settings.JUKI_LOGIN_MAX_FAILURES = 2
    c = counter_client(clerk, terminal)
    assert c.get("/counter/lock/").status_code == 200
    r = c.post("/counter/lock/", {"password": "wrong-password-123"})
    assert "パスワードが正しくありません。" in r.content.decode()
    r = c.post("/counter/lock/", {"password": "wrong-password-123"})
    assert LOCKED in r.content.decode()
    assert c.get("/counter/").status_code == 302 and "/login/" in c.get("/counter/")["Location"]
    assert events("auth.unlock_failure", user=clerk).count() == 2
    assert events("auth.locked_out", user=clerk).count() == 1
    assert events("auth.logout", user=clerk).count() == 1


def test_an_approvers_lock_and_second_factor_are_reset_only_from_the_command_line(terminal, settings):
    """An administrator must not take over the account that approves the administrator's applications."""
    from juki.accounts.services import staff_create

    settings.JUKI_LOCKOUT_THRESHOLD = 1
    approver = staff_create(username="approver1", password="Approver-pass-1", role="manager")
    admin = staff_create(username="admin1", password="Admin-pass-12", role="admin")
    as_admin = Actor(user=admin, terminal=terminal, second_factor=True)
    Staff.objects.filter(pk=approver.pk).update(failed_logins=5, locked_at=timezone.now())
    with pytest.raises(AccessDenied):
        login.staff_unlock(actor=as_admin, username=approver.username)
    with pytest.raises(AccessDenied):
        login.totp_enrol(actor=as_admin, user=approver)
    assert Staff.objects.get(pk=approver.pk).locked_at is not None
    assert events("auth.unlock_staff", outcome="denied", user=admin).count() == 1
    assert events("auth.totp_enrol", outcome="denied", user=admin).count() == 1
    call_command("unlock_staff", approver.username)
    assert Staff.objects.get(pk=approver.pk).locked_at is None
    # A clerk's lock is still the administrator's to lift.
    clerk = staff_create(username="clerk9", password="Clerk-pass-123", role="clerk")
    Staff.objects.filter(pk=clerk.pk).update(failed_logins=5, locked_at=timezone.now())
    login.staff_unlock(actor=as_admin, username=clerk.username)
    assert Staff.objects.get(pk=clerk.pk).locked_at is None
