"""The CS answers with ISO 8601 times in UTC; the screens show them as the office reads them (JST)."""
import datetime as dt

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format

from juki.core.wareki import display_date

register = template.Library()


@register.filter
def jst(value: str | None, fmt: str = "Y年n月j日 H:i") -> str:
    if not value:
        return ""
    try:
        moment = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return value
    if timezone.is_naive(moment):  # a date alone: 和暦, as every date of the office's screens [90]
        return display_date(moment.date())
    return date_format(timezone.localtime(moment), fmt)


@register.filter
def western(value: str | None) -> str:
    """A foreign resident's 生年月日 and 在留期間の満了の日 in 西暦 [90], from an ISO date."""
    try:
        return display_date(dt.date.fromisoformat(value or ""), western=True)
    except ValueError:
        return value or ""
