"""The city office's calendar: its closed days and its business days (the audit's analysis and the
CS's deletion of 送付先情報 one business day after sending, C24, share it)."""
from __future__ import annotations

import datetime as dt

import holidays


def closed_days(date_from: dt.date, date_to: dt.date) -> dict[dt.date, str]:
    """The city office's closed days other than weekends: national holidays (the `holidays`
    package keeps the law's changes and substitute holidays up to date) and 年末年始 12/29–1/3
    (行政機関の休日に関する法律)."""
    out: dict[dt.date, str] = {}
    years = range(date_from.year, date_to.year + 1)
    for day, name in holidays.country_holidays("JP", years=years, language="ja").items():
        if date_from <= day <= date_to:
            out[day] = name
    day = date_from
    while day <= date_to:
        if (day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3):
            out.setdefault(day, "年末年始")
        day += dt.timedelta(days=1)
    return out


def next_business_day(day: dt.date) -> dt.date:
    """The first business day after `day`: not a Saturday or Sunday, a holiday or 年末年始."""
    closed = closed_days(day, day + dt.timedelta(days=20))  # the longest run of closed days is 年末年始 + a weekend
    nxt = day + dt.timedelta(days=1)
    while nxt.weekday() >= 5 or nxt in closed:
        nxt += dt.timedelta(days=1)
    return nxt
