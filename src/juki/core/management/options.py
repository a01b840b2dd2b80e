"""What the daily commands share: a date option and a report of counts with internal ids only."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.core.management.base import CommandError


def date_option(value: str | None, option: str = "--on") -> dt.date | None:
    """A YYYY-MM-DD option (None when not given); a clear Japanese error otherwise."""
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{option} は 2025-04-01 のように YYYY-MM-DD の形式で指定してください。") from None


def write_counts(stdout, found: dict, lines: Iterable[tuple[str, str]]) -> None:
    """「基準日 …」, then one line per (key, label): the count and the internal ids, never a name."""
    stdout.write(f"基準日 {found['on']}")
    for key, label in lines:
        ids = found[key]
        stdout.write(f"{label} {len(ids)}件" + (": " + ", ".join(str(i) for i in ids) if ids else ""))
