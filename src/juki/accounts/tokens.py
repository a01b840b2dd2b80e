"""API tokens (C01): bound to the user and the terminal that asked for them, a few per user, and
revoked — deleted, with one `auth.token_revoke` log row — when what they were issued on changes.

`tokens_revoke(user, reason)` is the one place a token ends before its time. It is called from:

- `logout`: the user's counter logout (`login.counter_logout`) ends every token of the user, on any
  terminal: a logout means the person has stopped work, and one person is at one place at a time
  (one counter session per user). A client that must run on is an account of its own (the linkage role).
- `lockout`: the account locks after failed logins (`login._count_failure`).
- `password_change`, `role_change`, `retirement`: `Staff.save` when the password, the `role` label or
  `is_active` (set to False) changed, whatever path changed them (juki's services, the Django admin,
  `manage.py changepassword`).
- `rights_change`, `retirement`: the rights services (`juki.rights.services`) when a grant of the user
  (or of the section the user is posted to) is approved or revoked, and at 異動・退職.
- `limit`: a new token past `JUKI_API_TOKENS_PER_USER` ends the oldest ones.
- `revoked_by_holder`: `POST /api/v1/auth/token/revoke` ends the calling token.

No HTTP here.
"""
from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from juki.audit import events
from juki.audit.gate import Actor

from .models import ApiToken, Staff, Terminal

REASONS = {
    "logout": "ログアウト",
    "lockout": "アカウントロック",
    "password_change": "パスワード変更",
    "role_change": "事務分担の変更",
    "rights_change": "権限の変更",
    "retirement": "退職・利用停止",
    "limit": "発行数の上限",
    "revoked_by_holder": "利用者による失効",
}

# The actor of a revocation made by `Staff.save`, which does not know who is acting (the admin
# form, a management command …); the caller's own log row names them.
STAFF_CHANGE = Actor.system_actor("staff_change")


def tokens_per_user() -> int:
    return max(1, settings.JUKI_API_TOKENS_PER_USER)


@transaction.atomic
def tokens_revoke(user: Staff, reason: str, *, actor: Actor | None = None,
                  token_ids: Iterable[int] | None = None) -> int:
    """トークンの失効: delete the user's tokens (or only `token_ids` among them); log it if any ended.

    Returns how many ended. Runs in the caller's transaction when there is one, so a change that
    rolls back keeps its tokens."""
    if reason not in REASONS:
        raise ValueError(f"unknown revocation reason {reason!r}")
    if user is None or user.pk is None:
        return 0
    tokens = ApiToken.objects.filter(user_id=user.pk)
    if token_ids is not None:
        tokens = tokens.filter(pk__in=list(token_ids))
    ids = list(tokens.values_list("pk", flat=True))
    if not ids:
        return 0
    ApiToken.objects.filter(pk__in=ids).delete()
    events.record(actor or Actor(user=user), function="auth.token_revoke", outcome="revoked",
                  criteria={"username": user.username, "user_id": user.pk, "reason": reason, "tokens": len(ids)})
    return len(ids)


def _on_staff_changed(sender, *, user: Staff, reasons: list[str], **_) -> None:
    """`Staff.save` changed the password, the role or retired the user: their tokens end (C01)."""
    for reason in reasons:
        tokens_revoke(user, reason, actor=STAFF_CHANGE)


def tokens_revoke_users(users: Iterable[Staff], reason: str, *, actor: Actor | None = None) -> int:
    return sum(tokens_revoke(u, reason, actor=actor) for u in users)


@transaction.atomic
def token_create(*, user: Staff, terminal: Terminal, second_factor: bool, work_application: str = ""):
    """A new token for the user on the terminal; returns (key, token). Only the key's hash is kept.

    The user's expired tokens are dropped, and the oldest live ones past the per-user limit end
    (reason `limit`)."""
    Staff.objects.select_for_update().filter(pk=user.pk).first()  # one issue per user at a time
    now = timezone.now()
    ApiToken.objects.filter(user=user, expires_at__lte=now).delete()
    key = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, terminal=terminal, key_hash=ApiToken.hash_key(key), second_factor=second_factor,
        work_application=work_application, expires_at=now + dt.timedelta(hours=settings.JUKI_API_TOKEN_HOURS),
    )
    older = (ApiToken.objects.filter(user=user).order_by("-created_at", "-id")
             .values_list("pk", flat=True)[tokens_per_user():])
    older = list(older)
    if older:
        tokens_revoke(user, "limit", actor=Actor(user=user, terminal=terminal), token_ids=older)
    return key, token
