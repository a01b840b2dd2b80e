"""The city's today (Asia/Tokyo, `TIME_ZONE`): every module asks here, so one patch of
`clock.today` moves the whole system's day (a test of a deadline, a period's end, a 基準日)."""
from __future__ import annotations

import datetime as dt

from django.utils import timezone


def today() -> dt.date:
    return timezone.localdate()
