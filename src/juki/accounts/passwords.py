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
