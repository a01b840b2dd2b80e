"""Pieces every rights service shares: the day, the right-and-log wrapper, input checks."""
from __future__ import annotations

import datetime as dt
from contextlib import contextmanager

from django.conf import settings
from django.db import transaction

from juki.audit import events
from juki.audit.gate import Actor
from juki.audit.models import AccessLog
from juki.core.errors import AccessDenied, DomainError, ErrorCode
from juki.core import clock


def today() -> dt.date:
    """Rights are granted in whole days of Asia/Tokyo (TIME_ZONE)."""
    return clock.today()


@contextmanager
def logged(actor: Actor, function: str, perm: str, criteria: dict):
    """Check the right, run the block in one transaction, and log the outcome (refusals too)."""
    if not actor.can(perm):
        events.record(actor, function=function, outcome=AccessLog.DENIED, criteria=criteria)
        raise AccessDenied()
    try:
        with transaction.atomic():
            yield criteria
            events.record(actor, function=function, criteria=criteria)
    except DomainError as exc:
        outcome = AccessLog.DENIED if isinstance(exc, AccessDenied) else str(exc.code)
        events.record(actor, function=function, outcome=outcome, criteria=criteria)
        raise


def require_user(actor: Actor):
    if actor.user is None:
        raise AccessDenied("職員としてログインしてください。")
    return actor.user


# --- periods ----------------------------------------------------------------------------------------


def fiscal_year_end(day: dt.date) -> dt.date:
    year = day.year if day.month >= 4 else day.year - 1
    return dt.date(year + 1, 3, 31)


def max_until(valid_from: dt.date) -> dt.date:
    end = fiscal_year_end(valid_from)
    return end.replace(year=end.year + settings.JUKI_RIGHTS_MAX_FISCAL_YEARS)


def check_period(valid_from, valid_until, *, allow_past: bool = False) -> None:
    if valid_from is None:
        raise DomainError(ErrorCode.INVALID_PERIOD, "利用期間の開始日を入力してください。", field="valid_from")
    if valid_until is None:
        raise DomainError(ErrorCode.INVALID_PERIOD, "利用期間の終了日を入力してください（期限のない権限は付与できません）。",
                          field="valid_until")
    if valid_until < valid_from:
        raise DomainError(ErrorCode.INVALID_PERIOD, "利用期間の終了日は開始日より後にしてください。", field="valid_until")
    if not allow_past and valid_from < today():
        raise DomainError(ErrorCode.INVALID_PERIOD, "過去の日付から権限を付与することはできません。", field="valid_from")
    limit = max_until(valid_from)
    if valid_until > limit:
        raise DomainError(ErrorCode.INVALID_PERIOD, f"利用期間の終了日は {limit:%Y年%-m月%-d日} までにしてください。",
                          field="valid_until")
