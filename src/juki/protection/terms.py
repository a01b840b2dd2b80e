"""The term of a 支援措置 [440], by the civil code's rule for periods in years and months.

The start day counts (the measure protects from that day), so a term of one year ends the day
before the same date a year later: 2020-04-01 → 2021-03-31, the standard's own example. When
that date does not exist (a start on 29 February), the term ends on the last day of the month
before it would have (民法143条2項 ただし書): 2024-02-29 → 2025-02-28.
"""
from __future__ import annotations

import calendar
import datetime as dt

ONE_DAY = dt.timedelta(days=1)


def _shift_months(day: dt.date, months: int) -> tuple[dt.date, bool]:
    """The same day `months` later (or earlier), and whether it existed (else the month's last day)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last)), day.day <= last


def term_end(start: dt.date, years: int = 1) -> dt.date:
    """終了年月日 of a term of `years` starting on `start` (start day included)."""
    same_day, exists = _shift_months(start, 12 * years)
    return same_day - ONE_DAY if exists else same_day


def extension_opens(end: dt.date) -> dt.date:
    """The first day an extension may be entered: one month before the end [440]."""
    return _shift_months(end, -1)[0]


def extended_end(end: dt.date) -> dt.date:
    """The new end: one year counted from the day after the current end [440]."""
    return term_end(end + ONE_DAY)


def ending_within_month(end: dt.date, on: dt.date) -> bool:
    return extension_opens(end) <= on <= end
