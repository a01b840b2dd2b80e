"""The access log partitioned by month on PostgreSQL (ADR 0030).

Decades of log (C06/C07: seven years at least, [1370]) reach a hundred million rows. Partitioned
by month of `at` (in Japan's time, as the retention periods are counted), each month is its own
table with its own indexes: a read for a day or a week touches only its months, inserts go to
the current month's small indexes, and the purge drops a whole month instead of deleting its
rows one by one. SQLite, the embedded default, keeps one table: it is not meant for that size.

Months are made ahead (`ensure`, called by every checkpoint run, by the migration and by
`juki audit partitions`); a `default` partition takes any row whose month is missing, so a
stopped timer can never lose a log row, and `ensure` moves such rows into their month once it
exists. Rows keep their id, seq and hashes when moved, so the chain is untouched.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db import connection, transaction

from juki.core import append_only

from .models import AccessLog, AccessLogSubject

JST = ZoneInfo("Asia/Tokyo")
AHEAD = 3  # months made ahead of the current one
LOG = AccessLog._meta.db_table
SUBJECT = AccessLogSubject._meta.db_table
DEFAULT = f"{LOG}_default"
_MAKE_LOCK_KEY = 0x6A6B7074  # "jkpt"


@dataclass
class Partition:
    name: str
    start: dt.datetime | None  # None: the default partition
    end: dt.datetime | None


def month_of(at: dt.datetime) -> dt.date:
    local = at.astimezone(JST)
    return dt.date(local.year, local.month, 1)


def next_month(month: dt.date, n: int = 1) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime(month.year, month.month, 1, tzinfo=JST)
    end_month = next_month(month)
    return start, dt.datetime(end_month.year, end_month.month, 1, tzinfo=JST)


def name_for(month: dt.date) -> str:
    return f"{LOG}_{month:%Y%m}"


def enabled() -> bool:
    """Is the log table partitioned here? (PostgreSQL after migration audit 0006.)"""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as c:
        c.execute("SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
                  "WHERE c.relname = %s AND c.relnamespace = current_schema()::regnamespace", [LOG])
        return c.fetchone() is not None


def listing() -> list[Partition]:
    """The log's partitions, oldest month first, the default partition last."""
    with connection.cursor() as cur:
        cur.execute("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                    "WHERE i.inhparent = %s::regclass", [LOG])
        names = [row[0] for row in cur.fetchall()]
    parts = sorted((Partition(name, *bounds(dt.datetime.strptime(name.rsplit("_", 1)[1], "%Y%m").date()))
                    for name in names if name != DEFAULT), key=lambda p: p.start)
    if DEFAULT in names:
        parts.append(Partition(DEFAULT, None, None))
    return parts


def default_rows() -> int:
    with connection.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {DEFAULT}")
        return cur.fetchone()[0]


def ensure(*, now: dt.datetime | None = None, ahead: int = AHEAD, since: dt.date | None = None) -> list[str]:
    """Make the partitions from `since` (default: this month) to `ahead` months on; return the new ones.

    A row already waiting in the default partition for a month being made is moved into it in
    the same transaction (the detach/attach keeps inserts out meanwhile)."""
    if not enabled():
        return []
    from django.utils import timezone

    first = since or month_of(now or timezone.now())
    last = next_month(month_of(now or timezone.now()), ahead)
    months = []
    month = first
    while month <= last:
        months.append(month)
        month = next_month(month)
    with connection.cursor() as cur:  # and the month of any row that reached the default partition
        cur.execute(f"SELECT DISTINCT date_trunc('month', at AT TIME ZONE 'Asia/Tokyo')::date FROM {DEFAULT}")
        months += [row[0] for row in cur.fetchall()]
    have = {p.name for p in listing()}
    made = []
    for month in sorted(set(months)):
        if name_for(month) not in have:
            _make(month)
            made.append(name_for(month))
    return made


def _make(month: dt.date) -> None:
    name, (start, end) = name_for(month), bounds(month)
    # DDL takes no parameters: the bounds are literals made from a date, never from input.
    ddl = f"CREATE TABLE {name} PARTITION OF {LOG} FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
    with transaction.atomic(), connection.cursor() as cur:
        # One maker at a time (the hourly checkpoint and an operator's command may meet).
        cur.execute("SELECT pg_advisory_xact_lock(%s)", [_MAKE_LOCK_KEY])
        cur.execute("SELECT to_regclass(%s)", [name])
        if cur.fetchone()[0] is not None:
            return
        cur.execute(f"SELECT 1 FROM {DEFAULT} WHERE at >= %s AND at < %s LIMIT 1", [start, end])
        if cur.fetchone() is None:
            cur.execute(ddl)
            return
        # Rows of this month reached the default partition (the month was not made in time):
        # take the default out, make the month, move its rows, put the default back.
        cur.execute(f"ALTER TABLE {LOG} DETACH PARTITION {DEFAULT}")
        cur.execute(ddl)
        cur.execute(f"INSERT INTO {name} SELECT * FROM {DEFAULT} WHERE at >= %s AND at < %s", [start, end])
        cur.execute(f"SET LOCAL {append_only.PURGE_SETTING} = 'on'")  # a move, not a loss: same rows, same hashes
        cur.execute(f"DELETE FROM {DEFAULT} WHERE at >= %s AND at < %s", [start, end])
        cur.execute(f"SET LOCAL {append_only.PURGE_SETTING} = 'off'")
        cur.execute(f"ALTER TABLE {LOG} ATTACH PARTITION {DEFAULT} DEFAULT")


def drop_through(through: int, *, before: dt.datetime) -> tuple[list[str], int, int]:
    """Drop every month that ends by `before` (the retention cut-off) and whose rows all lie at or
    before `through` in the chain (the purge's prefix).

    Returns (dropped partitions, log rows, subject rows). The caller deletes what is left of the
    prefix row by row, holds the purge lock and has verified the chain; the subjects of a dropped
    month are deleted first (they are one table, not partitioned)."""
    dropped, rows, subjects = [], 0, 0
    with connection.cursor() as cur:
        for part in listing():
            if part.start is None or part.end > before:
                break
            cur.execute(f"SELECT count(*), count(seq), max(seq), min(id), max(id) FROM {part.name}")
            count, linked, last, low, high = cur.fetchone()
            if count and (linked < count or last > through):
                break  # the first month the prefix does not cover whole: the rest is younger
            if count:
                # The id range lets PostgreSQL walk the subjects' log_id index (a month's ids are
                # close together) instead of reading the whole subjects table for every month.
                cur.execute(f"DELETE FROM {SUBJECT} WHERE log_id BETWEEN %s AND %s AND log_id IN (SELECT id FROM {part.name})",
                            [low, high])
                subjects += cur.rowcount
            # A partition with deferred key checks pending cannot be dropped: run them now (rows
            # written in this very transaction: only ever in a test).
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cur.execute(f"ALTER TABLE {LOG} DETACH PARTITION {part.name}")
            cur.execute(f"DROP TABLE {part.name}")
            dropped.append(part.name)
            rows += count
    return dropped, rows, subjects
