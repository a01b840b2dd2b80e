"""Password policy (C01): Argon2, minimum length, no reuse of the last N, periodic change."""
from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.hashers import identify_hasher
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from juki.accounts.models import PasswordHistory, Staff
from juki.accounts.services import staff_set_password
from tests.conftest import counter_client

from .helpers import LOCKED, TOKEN, events, post_login


def _age(user, days):
    Staff.objects.filter(pk=user.pk).update(password_changed_at=timezone.now() - dt.timedelta(days=days))


def test_argon2_and_the_history_of_the_last_n(clerk, settings):
    settings.JUKI_PASSWORD_HISTORY = 3
    clerk.refresh_from_db()
    assert identify_hasher(clerk.password).algorithm == "argon2"
    with pytest.raises(ValidationError) as refused:
        staff_set_password(user=clerk, password=clerk.plain_password)  # the current one
    assert "直近3回に使ったパスワードは使えません" in " ".join(refused.value.messages)
    used = [f"kokura-jonai-{i}-pass" for i in range(3)]
    for p in used:
        staff_set_password(user=clerk, password=p)
    assert PasswordHistory.objects.filter(user=clerk).count() == 3  # older ones are dropped
    with pytest.raises(ValidationError):
        staff_set_password(user=clerk, password=used[0])
    staff_set_password(user=clerk, password=clerk.plain_password)  # 4 changes ago: allowed again
    with pytest.raises(ValidationError):
        staff_set_password(user=clerk, password="short")


def test_change_screen_checks_the_current_password_and_the_policy(clerk, terminal):
    c = counter_client(clerk, terminal)
    page = c.get("/counter/password/").content.decode()
    assert "現在のパスワード" in page and "新しいパスワード（確認）" in page
    new = "yahata-nishi-2026-x"
    r = c.post("/counter/password/", {"current": "wrong-password-1", "new": new, "new_again": new})
    assert "現在のパスワードが正しくありません。" in r.content.decode()
    r = c.post("/counter/password/", {"current": clerk.plain_password, "new": new, "new_again": new + "y"})
    assert "確認のため入力したパスワードが一致しません。" in r.content.decode()
    r = c.post("/counter/password/", {"current": clerk.plain_password, "new": clerk.plain_password,
                                      "new_again": clerk.plain_password})
    assert "直近5回に使ったパスワードは使えません" in r.content.decode()
    r = c.post("/counter/password/", {"current": clerk.plain_password, "new": "short1", "new_again": "short1"})
    assert "短すぎ" in r.content.decode()  # Django's own validator, in Japanese
    r = c.post("/counter/password/", {"current": clerk.plain_password, "new": new, "new_again": new})
    assert "パスワードを変更しました。" in r.content.decode()
    assert c.get("/counter/").status_code == 200  # still logged in, on a rotated session key
    clerk.refresh_from_db()
    assert clerk.check_password(new)
    assert events("auth.password_change", user=clerk, outcome="done", category="auth").count() == 1
    assert events("auth.password_change", user=clerk, outcome="refused").count() == 2
    assert all(new not in str(row.criteria) for row in events("auth.password_change"))


def test_an_expired_password_logs_in_but_must_be_changed_first(clerk, terminal, settings):
    settings.JUKI_PASSWORD_MAX_AGE_DAYS = 90
    _age(clerk, 91)
    c = Client()
    r = post_login(c, clerk, clerk.plain_password, terminal)
    assert r.status_code == 302 and r["Location"].startswith("/counter/password/")
    assert events("auth.password_expired", user=clerk, category="auth").count() == 1
    r = c.get("/counter/")
    assert r.status_code == 302 and r["Location"].startswith("/counter/password/")
    assert "有効期限が切れています" in c.get("/counter/password/").content.decode()
    new = "moji-minato-2026-q"
    c.post("/counter/password/", {"current": clerk.plain_password, "new": new, "new_again": new})
    assert c.get("/counter/").status_code == 200


def test_api_token_refuses_an_expired_password(clerk, terminal, settings):
    settings.JUKI_PASSWORD_MAX_AGE_DAYS = 90
    _age(clerk, 100)
    r = APIClient().post(TOKEN, {"username": clerk.username, "password": clerk.plain_password}, format="json", HTTP_X_TERMINAL_ID=terminal.code)
    assert r.status_code == 403 and r.json()["code"] == "password_expired"
    settings.JUKI_PASSWORD_MAX_AGE_DAYS = 0  # 0: passwords do not expire
    assert APIClient().post(TOKEN, {"username": clerk.username, "password": clerk.plain_password},
                            format="json", HTTP_X_TERMINAL_ID=terminal.code).status_code == 201


def test_a_wrong_current_password_counts_towards_the_lockout(clerk, terminal, settings):
    """The change screen re-authenticates: it must not be a way round the lockout (C01)."""
    from juki.accounts import login as login_rules
    from juki.accounts.services import password_change
    from juki.audit.gate import Actor
    from juki.core.errors import DomainError, ErrorCode

    settings.JUKI_LOGIN_MAX_FAILURES = 3
    actor = Actor(user=clerk, terminal=terminal)
    new = "wakamatsu-2026-pass"
    for expected in (ErrorCode.INVALID_CREDENTIALS, ErrorCode.INVALID_CREDENTIALS, ErrorCode.ACCOUNT_LOCKED,
                     ErrorCode.ACCOUNT_LOCKED):
        with pytest.raises(DomainError) as refused:
            password_change(actor=actor, current="wrong-password-1", new=new)
        assert refused.value.code == expected
    # Locked now: even the right current password changes nothing until the lock runs out.
    with pytest.raises(DomainError) as refused:
        password_change(actor=actor, current=clerk.plain_password, new=new)
    assert refused.value.code == ErrorCode.ACCOUNT_LOCKED
    clerk.refresh_from_db()
    assert clerk.failed_logins == 3 and login_rules.is_locked(clerk) and clerk.check_password(clerk.plain_password)
    assert events("auth.password_change_failure", user=clerk, outcome="bad_password", category="auth").count() == 3
    assert events("auth.locked_out", user=clerk).count() == 1
    assert events("auth.password_change_failure", user=clerk, outcome="locked").count() == 2
    r = post_login(Client(), clerk, clerk.plain_password, terminal)  # the login screen is locked too
    assert LOCKED in r.content.decode()


def test_the_right_current_password_resets_the_count(clerk, terminal, settings):
    from juki.accounts.services import password_change
    from juki.audit.gate import Actor
    from juki.core.errors import DomainError, ErrorCode

    settings.JUKI_LOGIN_MAX_FAILURES = 3
    actor = Actor(user=clerk, terminal=terminal)
    with pytest.raises(DomainError) as err:
        password_change(actor=actor, current="wrong-password-1", new="wakamatsu-2026-pass")
    assert (err.value.code, err.value.field) == (ErrorCode.INVALID_CREDENTIALS, "current")
    password_change(actor=actor, current=clerk.plain_password, new="wakamatsu-2026-pass")
    clerk.refresh_from_db()
    assert clerk.failed_logins == 0 and clerk.check_password("wakamatsu-2026-pass")


# --- guessable passwords (issue 11) -----------------------------------------------------------------


def _codes(excinfo) -> set[str]:
    return {e.code for e in excinfo.value.error_list}


@pytest.mark.parametrize("weak", ["aaaaaaaaaaaa", "qwertyuiop12", "password1234"])
def test_a_guessable_password_is_refused(clerk, weak):
    with pytest.raises(ValidationError) as refused:
        staff_set_password(user=clerk, password=weak)
    assert "password_too_guessable" in _codes(refused)
    assert "推測されやすいパスワードです" in " ".join(refused.value.messages)


def test_a_password_containing_the_user_id_is_refused(clerk):
    with pytest.raises(ValidationError) as refused:
        staff_set_password(user=clerk, password="Kokura-CLERK1-Jounai-7ban")  # strong, but has the ID
    assert _codes(refused) == {"password_contains_username"}
    assert "職員IDを含めることはできません" in " ".join(refused.value.messages)


def test_the_full_name_counts_as_a_known_word(db):
    from juki.accounts.services import staff_create

    with pytest.raises(ValidationError) as refused:
        staff_create(username="k-tanaka", password="tanakakenichi", full_name="tanakakenichi")
    assert "password_too_guessable" in _codes(refused)


def test_generated_passwords_are_accepted(clerk):
    from django.contrib.auth.password_validation import validate_password

    from juki.accounts.services import generate_password

    for _ in range(20):
        validate_password(generate_password(), clerk)  # raises if refused
    staff_set_password(user=clerk, password=generate_password())


def test_the_password_change_screen_shows_the_reason(clerk, terminal):
    from juki.accounts.services import password_change
    from juki.audit.gate import Actor
    from juki.core.errors import DomainError

    with pytest.raises(DomainError) as refused:
        password_change(actor=Actor(user=clerk, terminal=terminal), current=clerk.plain_password, new="aaaaaaaaaaaa")
    assert refused.value.code == "invalid_input" and "推測されやすいパスワードです" in refused.value.message
    row = events("auth.password_change", outcome="refused").latest("id")
    assert "password_too_guessable" in row.criteria["reasons"]
