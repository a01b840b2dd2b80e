"""和暦 (Japanese era) display and parsing [90][280].

The era table is data, not logic, so a new era is one line (or JUKI_ERAS in settings).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import jaconv

# The city's day (a counter's 日計表, an audit report's days), whatever the server's own zone.
JST = ZoneInfo("Asia/Tokyo")


@dataclass(frozen=True)
class Era:
    name: str
    letter: str
    start: dt.date


DEFAULT_ERAS = (
    Era("令和", "R", dt.date(2019, 5, 1)),
    Era("平成", "H", dt.date(1989, 1, 8)),
    Era("昭和", "S", dt.date(1926, 12, 25)),
    Era("大正", "T", dt.date(1912, 7, 30)),
    Era("明治", "M", dt.date(1868, 10, 23)),
)


def years_before(day, years: int):
    """The same day (a date or a datetime) ``years`` earlier; 29 February becomes 28 February in a
    year without it (ages, retention periods)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def eras() -> tuple[Era, ...]:
    from django.conf import settings

    extra = getattr(settings, "JUKI_ERAS", None)
    return tuple(extra) if extra else DEFAULT_ERAS


def era_of(date: dt.date) -> tuple[Era, int]:
    for era in eras():
        if date >= era.start:
            return era, date.year - era.start.year + 1
    raise ValueError("date before 明治")


def to_wareki(date: dt.date | None) -> str:
    """2025-11-26 → 令和7年11月26日; the first year reads 元年."""
    if date is None:
        return ""
    era, year = era_of(date)
    year_text = "元" if year == 1 else str(year)
    return f"{era.name}{year_text}年{date.month}月{date.day}日"


def display_date(date: dt.date, *, western: bool = False) -> str:
    """A date as shown on screen [90]: 和暦, or 西暦 written the Japanese way where the standard
    asks for it (a foreign resident's birth date, 在留期間の満了の日)."""
    return f"{date.year}年{date.month}月{date.day}日" if western else to_wareki(date)


_WAREKI_RE = re.compile(r"^(?P<era>[^\d元]+?)\s*(?P<y>元|\d{1,2})[年.\-/](?P<m>\d{1,2})[月.\-/](?P<d>\d{1,2})日?$")

_FORMAT_HINT = "日付は「R7.4.1」「令和7年4月1日」「2025-04-01」のように入力してください。"


class InvalidDate(ValueError):
    """A date that cannot be read or does not exist; ``message`` is the clerk's Japanese text
    (it quotes only what was typed as a date, never other data)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _era_date(era: Era, year: int, month: int, day: int) -> dt.date:
    """The date of an era's year/month/day, refused unless it lies within that era.

    A 和暦 date outside its era (昭和64年1月8日, 平成元年1月7日, 令和元年4月30日) is no date at
    all; converting it by arithmetic would silently record another day's era. Year 0 does not
    exist (the first year is 元年 = 1).
    """
    typed = f"{era.name}{'元' if year == 1 else year}年{month}月{day}日"
    if year < 1:
        raise InvalidDate(f"{era.name}0年はありません（最初の年は{era.name}元年です）。")
    try:
        date = dt.date(era.start.year + year - 1, month, day)
    except ValueError:
        raise InvalidDate(f"{typed}は存在しない日付です。") from None
    table = eras()
    later = [e for e in table if e.start > era.start]
    end = min(e.start for e in later) if later else None
    if date < era.start or (end is not None and date >= end):
        try:
            actual = f"（{to_wareki(date)}です）"
        except ValueError:  # before the first era in the table
            actual = ""
        raise InvalidDate(f"{typed}は存在しない日付です{actual}。{era.name}は{display_date(era.start, western=True)}から"
                          + (f"{display_date(end - dt.timedelta(days=1), western=True)}までです。" if end else "です。"))
    return date


def parse_date(text: str) -> dt.date:
    """Accepts 西暦 (2025-11-26, 2025/11/26, 20251126) and 和暦 (令和7年11月26日, R7.11.26, 令和元年…).

    Raises InvalidDate (a ValueError) with a Japanese message: for a 和暦 date outside its era
    (S64.1.8, H1.1.7, R1.4.30, T0.1.1) it names the date meant, e.g. 「昭和64年1月8日は存在しない
    日付です（平成元年1月8日です）。」
    """
    t = jaconv.z2h(text.strip(), kana=False, digit=True, ascii=True).replace(" ", "")
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d"):
        try:
            return dt.datetime.strptime(t, fmt).date()
        except ValueError:
            pass
    western = re.fullmatch(r"(\d{4})[-/.]?(\d{1,2})[-/.]?(\d{1,2})", t)
    if western and (len(t) != 8 or t.isdigit()):
        y, mo, d = (int(x) for x in western.groups())
        if 1 <= mo <= 12 and 1 <= d <= 31:  # a real shape whose day is not in the calendar: 2025-02-30
            raise InvalidDate(f"{y}年{mo}月{d}日は存在しない日付です。")
    m = _WAREKI_RE.match(t)
    if m:
        era_text = m.group("era").upper()
        for era in eras():
            if era_text in (era.name, era.letter, era.name[0]):
                year = 1 if m.group("y") == "元" else int(m.group("y"))
                return _era_date(era, year, int(m.group("m")), int(m.group("d")))
    raise InvalidDate(_FORMAT_HINT)


def parse_input(text: str, *, field: str, label: str) -> dt.date:
    """parse_date for a value the user typed: a DomainError (invalid_date, at ``field``) that says
    why — the era's range for an impossible 和暦 date, the accepted forms otherwise."""
    from .errors import DomainError, ErrorCode

    try:
        return parse_date(text)
    except InvalidDate as exc:
        message = exc.message if exc.message != _FORMAT_HINT else f"{label}は「R7.4.1」「2025-04-01」のように入力してください。"
        raise DomainError(ErrorCode.INVALID_DATE, message, field=field) from None
