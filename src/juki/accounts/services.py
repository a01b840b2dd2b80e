from __future__ import annotations

import secrets

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from juki.audit import events
from juki.core.errors import DomainError, ErrorCode

from .models import Staff, staff_created
from .permissions import ROLES


def staff_create(*, username: str, password: str, role: str = "clerk", full_name: str = "") -> Staff:
    if role not in ROLES:
        raise DomainError(ErrorCode.INVALID_INPUT, f"事務分担 {role} は登録されていません。", field="role")
    if Staff.objects.filter(username=username).exists():
        raise DomainError(ErrorCode.CONFLICT, f"職員ID {username} は既に登録されています。", field="username")
    user = Staff(username=username, role=role, full_name=full_name)
    validate_password(password, user)
    user.set_password(password)
    with transaction.atomic():
        user.save()
        # `role` grants nothing by itself: the rights app (a receiver) records it as a grant, 初期設定.
        staff_created.send(sender=Staff, user=user, role=role)
    return user


def staff_set_password(*, user: Staff, password: str) -> None:
    validate_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password", "password_changed_at"])


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def token_issue(*, username: str, password: str, otp: str = "", work_application: str = "", terminal=None):
    """A bearer token for the API (lockout, second factor and logging in `juki.accounts.login`)."""
    from .login import token_issue as issue

    return issue(username=username, password=password, otp=otp, work_application=work_application, terminal=terminal)


def token_revoke(*, actor, token) -> None:
    """The holder ends the token it calls with (`POST /api/v1/auth/token/revoke`)."""
    from .tokens import tokens_revoke

    tokens_revoke(token.user, "revoked_by_holder", actor=actor, token_ids=[token.pk])


def password_change(*, actor, current: str, new: str) -> None:
    """The user's own change (C01): the current password first; the policy's validators refuse reuse."""
    from .login import current_password_check  # imported here, like token_issue above

    user = actor.user
    current_password_check(actor=actor, password=current)  # counts failures and locks (C01)
    try:
        with transaction.atomic():
            staff_set_password(user=user, password=new)
            events.record(actor, function="auth.password_change")
    except ValidationError as exc:
        events.record(actor, function="auth.password_change", outcome="refused",
                      criteria={"reasons": sorted({e.code or "invalid" for e in exc.error_list})})
        raise DomainError(ErrorCode.INVALID_INPUT, " ".join(exc.messages), field="new") from None
