"""TOTP second factor (C01): required at login for the rights that need it, and for 個人番号 reveal."""
from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from juki.accounts import login
from juki.accounts.models import ApiToken
from juki.audit.gate import Actor
from juki.audit.models import AccessLog
from juki.core.errors import AccessDenied
from juki.register import selectors
from tests.conftest import api_for, counter_client, otp_for

from .helpers import TOKEN, events, person_with_my_number, post_login
from tests.helpers import TEST_ACTOR

NOT_ENROLLED = "二要素認証の登録がありません。システム管理者に連絡してください。"
NEEDS_2FA = "個人番号の表示には、ワンタイムパスワードによる二要素認証でのログインが必要です。"


def test_who_needs_the_second_factor(clerk, supervisor, auditor):
    assert login.needs_second_factor(supervisor)  # mynumber.view
    assert not login.needs_second_factor(clerk) and not login.needs_second_factor(auditor)


def test_a_user_who_needs_it_but_has_no_device_is_refused(supervisor, terminal):
    r = post_login(Client(), supervisor, supervisor.plain_password, terminal)
    assert r.status_code == 200 and NOT_ENROLLED in r.content.decode()
    r = APIClient().post(TOKEN, {"username": supervisor.username, "password": supervisor.plain_password}, format="json", HTTP_X_TERMINAL_ID=terminal.code)
    assert r.status_code == 401 and r.json()["code"] == "second_factor_not_enrolled"
    assert events("auth.login_failure", user=supervisor, outcome="no_second_factor").count() == 1


def test_counter_asks_for_the_one_time_password_before_the_session_starts(supervisor, terminal):
    code = otp_for(supervisor)
    c = Client()
    r = post_login(c, supervisor, supervisor.plain_password, terminal)
    assert r.status_code == 302 and r["Location"].startswith("/counter/login/otp/")
    assert c.get("/counter/").status_code == 302  # not logged in yet
    page = c.get(r["Location"]).content.decode()
    assert "ワンタイムパスワード" in page
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    r = c.post("/counter/login/otp/", {"otp": wrong})
    assert "ワンタイムパスワードが正しくありません。" in r.content.decode()
    assert events("auth.second_factor_failure", user=supervisor, category="auth").count() == 1
    r = c.post("/counter/login/otp/", {"otp": code})
    assert r.status_code == 302 and c.get("/counter/").status_code == 200
    entry = events("auth.login", user=supervisor).get()
    assert entry.criteria["second_factor"] is True and entry.category == "auth"


def test_one_time_password_failures_count_towards_the_lockout(supervisor, terminal, settings):
    settings.JUKI_LOGIN_MAX_FAILURES = 2
    otp_for(supervisor)
    c = Client()
    post_login(c, supervisor, supervisor.plain_password, terminal)
    c.post("/counter/login/otp/", {"otp": "000000"})
    r = c.post("/counter/login/otp/", {"otp": "000001"})
    assert "しばらくログインできません" in r.content.decode()
    supervisor.refresh_from_db()
    assert supervisor.locked_at is not None


def test_reveal_needs_the_second_factor_in_the_service(world, supervisor, terminal):
    pid, number = person_with_my_number(world)
    without = Actor(user=supervisor, terminal=terminal)
    with pytest.raises(AccessDenied) as refused:
        selectors.person_get(actor=without, person_id=pid, reveal_my_number=True)
    assert refused.value.code == "second_factor_required" and refused.value.message == NEEDS_2FA
    assert AccessLog.objects.filter(user=supervisor, outcome="second_factor_required", my_number_accessed=False).count() == 1
    shown = selectors.person_get(actor=Actor(user=supervisor, terminal=terminal, second_factor=True), person_id=pid,
                                 reveal_my_number=True)
    assert shown["my_number"] == number
    # A batch job has no login and so no second factor to ask for.
    assert selectors.person_get(actor=TEST_ACTOR, person_id=pid, reveal_my_number=True)["my_number"] == number


def test_reveal_at_the_counter_after_the_totp_login(world, supervisor, terminal):
    pid, number = person_with_my_number(world)
    s = counter_client(supervisor, terminal)
    r = s.post(f"/counter/persons/{pid}/my-number/", HTTP_HX_REQUEST="true")
    assert number in r.content.decode()


def test_api_token_takes_the_otp_and_records_it(world, supervisor, terminal):
    pid, number = person_with_my_number(world)
    code = otp_for(supervisor)
    api = APIClient()
    r = api.post(TOKEN, {"username": supervisor.username, "password": supervisor.plain_password}, format="json", HTTP_X_TERMINAL_ID=terminal.code)
    assert r.status_code == 401 and r.json()["code"] == "second_factor_required"
    r = api.post(TOKEN, {"username": supervisor.username, "password": supervisor.plain_password, "otp": "12345x"},
                 format="json", HTTP_X_TERMINAL_ID=terminal.code)
    assert r.status_code == 401 and r.json()["code"] == "second_factor_invalid"
    r = api.post(TOKEN, {"username": supervisor.username, "password": supervisor.plain_password, "otp": code},
                 format="json", HTTP_X_TERMINAL_ID=terminal.code)
    assert r.status_code == 201 and r.json()["second_factor"] is True
    assert ApiToken.objects.get(user=supervisor).second_factor
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {r.json()['token']}", HTTP_X_TERMINAL_ID=terminal.code)
    assert api.get(f"/api/v1/persons/{pid}?reveal_my_number=true").json()["my_number"] == number


def test_api_reveal_without_the_second_factor_is_refused(world, supervisor, terminal, monkeypatch):
    pid, _ = person_with_my_number(world)
    # A token issued while the user did not yet hold a right that needs the second factor.
    monkeypatch.setattr(login, "needs_second_factor", lambda user: False)
    client = api_for(supervisor, terminal)
    monkeypatch.undo()
    r = client.get(f"/api/v1/persons/{pid}?reveal_my_number=true")
    assert r.status_code == 403 and r.json()["code"] == "second_factor_required"
    assert r.json()["detail"] == NEEDS_2FA
    assert AccessLog.objects.filter(user=supervisor, function="person.view", outcome="second_factor_required").exists()


def test_totp_enrol_command_prints_the_uri_and_secret_once_and_replaces_the_device(supervisor):
    out = io.StringIO()
    call_command("totp_enrol", supervisor.username, stdout=out)
    text = out.getvalue()
    assert "otpauth://totp/" in text and "秘密鍵" in text
    first = TOTPDevice.objects.get(user=supervisor)
    call_command("totp_enrol", supervisor.username, stdout=io.StringIO())
    assert TOTPDevice.objects.get(user=supervisor).pk != first.pk
    assert events("auth.totp_enrol", system="cli.totp_enrol").count() == 2


def test_demo_staff_enrols_those_who_need_it(db):
    out = io.StringIO()
    call_command("demo_staff", stdout=out)
    assert "otpauth://totp/" in out.getvalue()
    assert TOTPDevice.objects.filter(user__username="demo-supervisor").exists()
    assert not TOTPDevice.objects.filter(user__username="demo-clerk").exists()


def test_demo_staff_are_posted_to_sections_so_the_tours_rights_application_can_be_made(towns):
    """Issue 12: the README tour applies for a right with an 申請課 and a 利用課; the demo seeds them."""
    import datetime as dt

    from juki.accounts.models import Staff, Terminal
    from juki.rights import services as rights
    from juki.rights.models import Section

    call_command("demo_staff", stdout=io.StringIO())
    call_command("demo_staff", stdout=io.StringIO())  # a second start posts no one twice
    admin, manager, clerk = (Staff.objects.get(username=u) for u in ("demo-admin", "demo-manager", "demo-clerk"))
    assert rights.current_posting(clerk).section.name == "小倉北区役所 市民課"
    assert clerk.postings.count() == 1
    owner = Section.objects.get(is_system_owner=True)
    terminal = Terminal.objects.get(code="DEMO-01")
    # issue 13: the demo terminals stand in a ward, so 審査待ち's ward filter finds their entries.
    assert dict(Terminal.objects.filter(code__startswith="DEMO-").values_list("code", "ward__name")) == {
        "DEMO-01": "小倉北区", "DEMO-02": "八幡西区"}
    today = dt.date.today()
    application = rights.application_submit(
        actor=Actor(user=admin, terminal=terminal, second_factor=True), role="", perms=["certificate.issue"], valid_from=today,
        valid_until=today + dt.timedelta(days=30), business_name="証明書交付の応援", business_outline="繁忙期の応援",
        purpose="窓口の証明書交付", legal_basis="住民基本台帳法第12条", applying_section=owner,
        using_section=rights.current_posting(clerk).section, target_user=clerk)
    grants = rights.application_approve(actor=Actor(user=manager, terminal=terminal, second_factor=True), application_id=application.pk)
    assert [g.perm for g in grants] == ["certificate.issue"]
