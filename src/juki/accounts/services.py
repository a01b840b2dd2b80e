from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.utils import timezone

from juki.core.errors import DomainError, ErrorCode

from .models import ApiToken, Staff
from .permissions import ROLES


def staff_create(*, username: str, password: str, role: str = "clerk", full_name: str = "") -> Staff:
    if role not in ROLES:
        raise DomainError(ErrorCode.INVALID_INPUT, f"事務分担 {role} は登録されていません。", field="role")
    user = Staff(username=username, role=role, full_name=full_name)
    validate_password(password, user)
    user.set_password(password)
    user.save()
    return user


def staff_set_password(*, user: Staff, password: str) -> None:
    validate_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])


def generate_password() -> str:
    return secrets.token_urlsafe(12)


@transaction.atomic
def token_issue(*, username: str, password: str) -> tuple[str, ApiToken] | None:
    user = authenticate(username=username, password=password)
    if user is None:
        return None
    key = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        key_hash=ApiToken.hash_key(key),
        expires_at=timezone.now() + dt.timedelta(hours=settings.JUKI_API_TOKEN_HOURS),
    )
    return key, token


def counter_login(*, username: str, password: str, terminal_code: str):
    """Check a clerk's credentials and the terminal they sit at (入力場所・入力端末 [230])."""
    from .models import Terminal

    terminal = Terminal.objects.filter(code=terminal_code.strip(), is_active=True).select_related("ward").first()
    user = authenticate(username=username.strip(), password=password)
    # One message for every failure: which part was wrong is not told to a guesser.
    if user is None or terminal is None or not user.is_active:
        raise DomainError(ErrorCode.NOT_AUTHENTICATED, "職員ID・パスワード・端末の組合せが正しくありません。")
    return user, terminal


def password_check(*, user: Staff, password: str) -> bool:
    """Re-authentication to unlock an idle screen (C20)."""
    return user.is_active and user.check_password(password)
