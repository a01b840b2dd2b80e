"""Password policy beyond Django's validators (C01): no reuse of the last N, periodic change."""
from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.utils import timezone


def history_size() -> int:
    return settings.JUKI_PASSWORD_HISTORY


def password_expired(user, now: dt.datetime | None = None) -> bool:
    days = settings.JUKI_PASSWORD_MAX_AGE_DAYS
    if days <= 0 or user.password_changed_at is None:
        return False
    return (now or timezone.now()) >= user.password_changed_at + dt.timedelta(days=days)


class PasswordHistoryValidator:
    """Refuses any of the user's last `JUKI_PASSWORD_HISTORY` passwords (the current one included)."""

    def validate(self, password, user=None):
        if user is None or user.pk is None or history_size() <= 0:
            return
        # The current hash too: accounts older than the history table have no row for it yet.
        hashes = [user.password, *user.password_history.values_list("password", flat=True)[: history_size()]]
        if any(h and check_password(password, h) for h in hashes):
            raise ValidationError(
                f"直近{history_size()}回に使ったパスワードは使えません。別のパスワードを入力してください。",
                code="password_reused")

    def password_changed(self, password, user=None):
        # Called by Django after the user with a new password is saved: keep its hash, drop older ones.
        if user is None or user.pk is None or history_size() <= 0:
            return
        from .models import PasswordHistory

        PasswordHistory.objects.create(user=user, password=user.password)
        stale = user.password_history.values_list("pk", flat=True)[history_size():]
        PasswordHistory.objects.filter(pk__in=list(stale)).delete()

    def get_help_text(self):
        return f"直近{history_size()}回に使ったパスワードは使えません。"


class GuessablePasswordValidator:
    """Refuses a password that is easy to guess (C01, issue 11): a zxcvbn score under `min_score`
    (repeats such as aaaaaaaaaaaa, keyboard runs, dictionary words, dates; the user's own ID and
    name count as known words), or one containing the user's ID (case-insensitive, IDs of 3+ letters).

    zxcvbn is pure Python and works offline, which the city's network requires (C21)."""

    def __init__(self, min_score: int = 3):
        self.min_score = min_score

    def validate(self, password, user=None):
        username = (getattr(user, "username", "") or "").strip()
        if len(username) >= 3 and username.casefold() in (password or "").casefold():
            raise ValidationError("パスワードに職員IDを含めることはできません。別のパスワードを入力してください。",
                                  code="password_contains_username")
        from zxcvbn import zxcvbn

        inputs = [v for v in (username, getattr(user, "full_name", "") or "") if v]
        # zxcvbn looks at the first 100 characters only; beyond that a password is long enough anyway.
        if zxcvbn((password or "")[:100], user_inputs=inputs)["score"] < self.min_score:
            raise ValidationError(
                "推測されやすいパスワードです。同じ文字の繰り返し、キーボードの並び、単語や日付、"
                "職員ID・氏名を避け、長く覚えやすい組合せにしてください。",
                code="password_too_guessable")

    def get_help_text(self):
        return "推測されやすいパスワード（同じ文字の繰り返し、単語、職員IDを含むもの等）は使えません。"
