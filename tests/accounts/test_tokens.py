"""C01 (issue 11): an API token is bound to its user and terminal, a few per user, and revoked when
what it was issued on changes (ADR 0015)."""
from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from juki.accounts import login
from juki.accounts.models import ApiToken, Staff, Terminal
from juki.accounts.services import staff_set_password, token_issue
from juki.audit.gate import Actor
from juki.audit.models import AccessLog
from juki.rights import services as rights
from juki.rights.common import today
from juki.rights.models import Grant

from .helpers import TOKEN, events, post_login
from tests.helpers import TEST_ACTOR

WARDS = "/api/v1/master/wards"


def issue(user, terminal) -> str:
    return token_issue(username=user.username, password=user.plain_password, terminal=terminal)[0]


def call(key: str, terminal, path: str = WARDS, method: str = "get"):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_X_TERMINAL_ID=terminal.code)
    return getattr(client, method)(path)


def assert_refused(key, terminal, code="not_authenticated"):
    r = call(key, terminal)
    assert r.status_code == 401, r.content
    assert r.json()["code"] == code


def revoked(user, reason: str) -> AccessLog:
    row = events("auth.token_revoke").filter(criteria__reason=reason).latest("id")
    assert row.criteria["username"] == user.username and row.criteria["tokens"] >= 1
    return row


@pytest.fixture
def other_terminal(db):
    return Terminal.objects.create(code="T-02", name="窓口2", location="小倉北区役所 市民課")


# --- bound to the terminal ------------------------------------------------------------------------


def test_a_token_works_only_on_the_terminal_it_was_issued_on(clerk, terminal, other_terminal):
    key = issue(clerk, terminal)
    assert ApiToken.objects.get(user=clerk).terminal == terminal
    assert call(key, terminal).status_code == 200
    assert_refused(key, other_terminal, "token_terminal_mismatch")
    row = events("auth.token_refused").latest("id")
    assert (row.user, row.terminal, row.outcome) == (clerk, other_terminal, "other_terminal")
    assert call(key, terminal).status_code == 200  # refused, not revoked


def test_a_token_is_issued_only_for_a_registered_terminal(clerk, terminal):
    r = APIClient().post(TOKEN, {"username": clerk.username, "password": clerk.plain_password}, format="json")
    assert r.status_code == 401 and r.json()["code"] == "invalid_credentials"
    r = APIClient().post(TOKEN, {"username": clerk.username, "password": clerk.plain_password}, format="json",
                         HTTP_X_TERMINAL_ID="NOPE")
    assert r.status_code == 401 and r.json()["code"] == "invalid_credentials"
    assert not ApiToken.objects.exists()
    assert events("auth.token_failure", outcome="bad_terminal").count() == 2


def test_a_token_from_before_the_binding_is_refused(clerk, terminal):
    key = issue(clerk, terminal)
    ApiToken.objects.filter(user=clerk).update(terminal=None)  # as migration 0006 leaves older tokens
    assert_refused(key, terminal, "token_terminal_mismatch")


# --- revoked by its holder ------------------------------------------------------------------------


def test_the_revoke_endpoint_ends_the_calling_token_only(clerk, terminal):
    key, other = issue(clerk, terminal), issue(clerk, terminal)
    r = call(key, terminal, "/api/v1/auth/token/revoke", "post")
    assert r.status_code == 204 and not r.content
    assert_refused(key, terminal)
    assert call(other, terminal).status_code == 200
    row = revoked(clerk, "revoked_by_holder")
    assert (row.user, row.terminal, row.criteria["tokens"]) == (clerk, terminal, 1)
    r = call(key, terminal, "/api/v1/auth/token/revoke", "post")  # a second time: the token is gone
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"


def test_the_revoke_endpoint_is_in_the_openapi_schema(clerk, terminal):
    schema = APIClient().get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    if schema.status_code == 404:
        schema = APIClient().get("/api/v1/schema", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    assert "/api/v1/auth/token/revoke" in schema.content.decode()


# --- the per-user limit ---------------------------------------------------------------------------


def test_one_token_past_the_limit_ends_the_oldest(clerk, terminal, settings):
    settings.JUKI_API_TOKENS_PER_USER = 2
    first, second, third = issue(clerk, terminal), issue(clerk, terminal), issue(clerk, terminal)
    assert ApiToken.objects.filter(user=clerk).count() == 2
    assert_refused(first, terminal)
    assert call(second, terminal).status_code == 200 and call(third, terminal).status_code == 200
    assert revoked(clerk, "limit").criteria["tokens"] == 1


def test_the_limit_defaults_to_three(clerk, terminal):
    keys = [issue(clerk, terminal) for _ in range(4)]
    assert ApiToken.objects.filter(user=clerk).count() == 3
    assert_refused(keys[0], terminal)


# --- revoked when what it was issued on changes ----------------------------------------------------


def test_counter_logout_ends_every_token_of_the_user(clerk, clerk2, terminal, other_terminal):
    mine, elsewhere, theirs = issue(clerk, terminal), issue(clerk, other_terminal), issue(clerk2, terminal)
    login.counter_logout(user=clerk, terminal=terminal, session_key=None)
    assert_refused(mine, terminal)
    assert_refused(elsewhere, other_terminal)
    assert call(theirs, terminal).status_code == 200  # another user's token stays
    assert revoked(clerk, "logout").criteria["tokens"] == 2


def test_the_counter_logout_screen_ends_the_token(clerk, terminal):
    from tests.conftest import counter_client

    key = issue(clerk, terminal)
    screen = counter_client(clerk, terminal)
    screen.post("/counter/logout/")
    assert_refused(key, terminal)
    revoked(clerk, "logout")


def test_the_lockout_ends_the_tokens(clerk, terminal, settings, client):
    settings.JUKI_LOGIN_MAX_FAILURES = 2
    key = issue(clerk, terminal)
    for _ in range(2):
        post_login(client, clerk, "wrong-password-123", terminal)
    assert Staff.objects.get(pk=clerk.pk).locked_at is not None
    assert_refused(key, terminal)
    assert revoked(clerk, "lockout").user == clerk


def test_a_password_change_ends_the_tokens(clerk, terminal):
    key = issue(clerk, terminal)
    staff_set_password(user=clerk, password="Kokura-jounai-7ban-ichigo")
    assert_refused(key, terminal)
    revoked(clerk, "password_change")


def test_a_password_set_by_the_admin_form_ends_the_tokens(clerk, terminal):
    """The Django admin's reset and `manage.py changepassword` call set_password and save."""
    key = issue(clerk, terminal)
    user = Staff.objects.get(pk=clerk.pk)
    user.set_password("Moji-ko-retro-2-chome")
    user.save()
    assert_refused(key, terminal)
    revoked(clerk, "password_change")


def test_saving_other_fields_keeps_the_tokens(clerk, terminal):
    key = issue(clerk, terminal)
    user = Staff.objects.get(pk=clerk.pk)
    user.full_name = "窓口　一郎"
    user.save()
    user.failed_logins = 1
    user.save(update_fields=["failed_logins"])
    assert call(key, terminal).status_code == 200
    assert not events("auth.token_revoke").exists()


def test_a_role_change_ends_the_tokens(clerk, terminal):
    key = issue(clerk, terminal)
    user = Staff.objects.get(pk=clerk.pk)
    user.role = "viewer"
    user.save()
    assert_refused(key, terminal)
    revoked(clerk, "role_change")


def test_a_rights_change_ends_the_tokens(clerk, manager, terminal):
    key = issue(clerk, terminal)
    grant = Grant.objects.get(user=clerk)  # the 初期設定 grant of staff_create
    rights.grant_revoke(actor=Actor(user=manager, terminal=terminal, second_factor=True), grant_id=grant.pk)
    assert_refused(key, terminal)
    assert revoked(clerk, "rights_change").user == manager


def test_deactivation_ends_the_tokens(clerk, terminal):
    key = issue(clerk, terminal)
    user = Staff.objects.get(pk=clerk.pk)
    user.is_active = False
    user.save()
    assert not ApiToken.objects.filter(user=clerk).exists()
    revoked(clerk, "retirement")


def test_retirement_ends_the_tokens(clerk, terminal):
    key = issue(clerk, terminal)
    rights.staff_retire(actor=TEST_ACTOR, user=clerk, on=today())
    assert_refused(key, terminal)
    revoked(clerk, "retirement")


def test_a_refused_password_change_keeps_the_tokens(clerk, terminal):
    from django.core.exceptions import ValidationError

    key = issue(clerk, terminal)
    with pytest.raises(ValidationError):
        staff_set_password(user=clerk, password="short")
    assert call(key, terminal).status_code == 200
