"""On PostgreSQL the access log is partitioned by month in Japan's time (ADR 0030)."""
import datetime as dt
import io
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from juki.audit import chain, checkpoints, events, partitions
from juki.audit.models import AccessLog, AccessLogSubject, Checkpoint

from tests.helpers import TEST_ACTOR

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="partitioning is PostgreSQL's (SQLite keeps one table)")

JST = partitions.JST


def _where(log_id: int) -> str:
    with connection.cursor() as cur:
        cur.execute("SELECT tableoid::regclass::text FROM audit_accesslog WHERE id = %s", [log_id])
        return cur.fetchone()[0]


def _record_at(moment, monkeypatch, n=1, **kw):
    monkeypatch.setattr(timezone, "now", lambda: moment)
    try:
        written = [events.record(TEST_ACTOR, function="test.event", person_ids=[i + 1], criteria={"i": i}, **kw)
                   for i in range(n)]
    finally:
        monkeypatch.undo()
    chain.link()
    return [AccessLog.objects.get(pk=e.pk) for e in written]


def test_rows_go_to_their_month_in_japan_time(db, monkeypatch):
    assert partitions.enabled()
    this = partitions.month_of(timezone.now())
    start, _ = partitions.bounds(this)
    # 00:30 on the 1st in Japan is still the previous month in UTC: the row belongs to Japan's month.
    (row,) = _record_at(start + dt.timedelta(minutes=30), monkeypatch)
    (before,) = _record_at(start - dt.timedelta(minutes=30), monkeypatch)
    assert _where(row.id) == partitions.name_for(this)
    assert start.astimezone(dt.UTC).month != this.month
    assert _where(before.id) in (partitions.name_for(partitions.next_month(this, -1)), partitions.DEFAULT)
    names = [p.name for p in partitions.listing()]
    assert [partitions.name_for(partitions.next_month(this, n)) for n in range(partitions.AHEAD + 1)] == \
        [n for n in names if n >= partitions.name_for(this) and n != partitions.DEFAULT]
    assert names[-1] == partitions.DEFAULT


def test_a_row_whose_month_is_missing_waits_in_the_default_partition_and_moves_with_its_hash(db, monkeypatch):
    later = timezone.now() + dt.timedelta(days=31 * (partitions.AHEAD + 3))
    rows = _record_at(later, monkeypatch, n=3)
    assert {_where(r.id) for r in rows} == {partitions.DEFAULT}
    assert partitions.default_rows() == 3
    checkpoints.checkpoint()  # the hourly run makes the month and moves the rows into it
    month = partitions.name_for(partitions.month_of(later))
    assert {_where(r.id) for r in rows} == {month} and partitions.default_rows() == 0
    moved = {r.id: (r.seq, r.row_hash) for r in AccessLog.objects.filter(id__in=[r.id for r in rows])}
    assert moved == {r.id: (r.seq, r.row_hash) for r in rows}
    assert AccessLogSubject.objects.filter(log_id__in=moved).count() == 3
    assert chain.verify().ok
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():  # the moved rows stay guarded
        AccessLog.objects.filter(id=rows[0].id).update(outcome="x")


def test_partitions_command_makes_months_ahead_and_lists_them(db):
    out = io.StringIO()
    call_command("audit", "partitions", "--ahead", "6", stdout=out)
    this = partitions.month_of(timezone.now())
    assert partitions.name_for(partitions.next_month(this, 6)) in {p.name for p in partitions.listing()}
    assert "月別パーティション" in out.getvalue() and "今回作成 3 個" in out.getvalue()


def test_partitions_command_names_rows_left_in_the_default_partition(db, monkeypatch):
    _record_at(timezone.now() + dt.timedelta(days=31 * (partitions.AHEAD + 3)), monkeypatch)
    monkeypatch.setattr(partitions, "ensure", lambda **kw: [])  # as if the month could not be made
    with pytest.raises(CommandError) as err:
        call_command("audit", "partitions", stdout=io.StringIO())
    assert "[partition_missing]" in str(err.value) and "1 件" in str(err.value)


def test_purge_drops_whole_months_and_deletes_the_rest_row_by_row(db, settings, monkeypatch):
    settings.JUKI_AUDIT_RETENTION_YEARS = 1
    now = timezone.now()
    old = partitions.month_of(now - dt.timedelta(days=366 * 9))
    kept = partitions.month_of(now - dt.timedelta(days=366 * 3))
    partitions.ensure(since=old)
    first, _ = partitions.bounds(old)
    gone = (_record_at(first + dt.timedelta(days=2), monkeypatch, n=2)
            + _record_at(partitions.bounds(partitions.next_month(old))[0] + dt.timedelta(days=2), monkeypatch))
    start = partitions.bounds(kept)[0]
    partial = _record_at(start + dt.timedelta(days=1), monkeypatch)  # past retention, in a month that stays
    provision = _record_at(start + dt.timedelta(days=2), monkeypatch, category="provision")[0]  # 7 years: kept
    recent = _record_at(now, monkeypatch)[0]

    result = checkpoints.purge(execute=True)
    assert result.executed and result.rows == 4 and result.subjects == 4
    assert partitions.name_for(old) in result.partitions
    assert partitions.name_for(partitions.next_month(old)) in result.partitions
    assert partitions.name_for(kept) not in result.partitions
    names = {p.name for p in partitions.listing()}
    assert not set(result.partitions) & names and partitions.name_for(kept) in names
    remaining = set(AccessLog.objects.values_list("id", flat=True))
    assert not remaining & {r.id for r in gone + partial} and {provision.id, recent.id} <= remaining
    assert not AccessLogSubject.objects.filter(log_id__in=[r.id for r in gone + partial]).exists()
    log = AccessLog.objects.get(function="batch.audit_purge")
    assert log.criteria["partitions_dropped"] == len(result.partitions) and log.criteria["rows"] == 4
    anchor = Checkpoint.objects.get(kind=Checkpoint.PURGE)
    assert anchor.seq == partial[0].seq
    verified = chain.verify()
    assert verified.ok and verified.first_seq == provision.seq


def test_a_month_that_ends_after_the_cut_off_is_never_dropped(db, settings, monkeypatch):
    settings.JUKI_AUDIT_RETENTION_YEARS = 1
    this = partitions.month_of(timezone.now())
    _record_at(timezone.now() - dt.timedelta(days=366 * 8), monkeypatch)
    result = checkpoints.purge(execute=True)
    assert result.rows == 1
    names = {p.name for p in partitions.listing()}
    assert all(partitions.name_for(partitions.next_month(this, n)) in names for n in range(partitions.AHEAD + 1))


# --- the migration on a register that already has a log ----------------------------------------


def _with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


@pytest.fixture
def old_register(tmp_path):
    """A database migrated up to audit 0005 (one table), on the suite's server."""
    url = os.environ["DATABASE_URL"]
    name = f"juki_partition_migration_{os.getpid()}"
    with psycopg.connect(_with_db(url, "postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": _with_db(url, name), "JUKI_VAR_DIR": str(tmp_path / "var"),
           "DJANGO_SETTINGS_MODULE": "juki.conf.dev"}
    juki = Path(sys.executable).with_name("juki")
    yield juki, env, _with_db(url, name)
    with psycopg.connect(_with_db(url, "postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_migration_moves_an_existing_log_with_its_ids_seq_and_hashes(old_register):
    juki, env, url = old_register
    done = subprocess.run([juki, "migrate", "audit", "0005", "-v", "0"], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    # Rows over three months (one in Japan's new month at 00:30, still the old month in UTC), linked.
    times = [dt.datetime(2024, 1, 15, 9, tzinfo=JST), dt.datetime(2024, 2, 1, 0, 30, tzinfo=JST),
             dt.datetime(2024, 3, 31, 23, 59, tzinfo=JST)]
    prev, expected = chain.GENESIS, []
    with psycopg.connect(url, autocommit=False) as conn:
        for seq, at in enumerate(times, start=1):
            values = {"seq": seq, "at": at, "user_id": None, "system": "test", "terminal_id": None,
                      "function": "test.event", "category": "access", "outcome": "ok", "person_count": 1,
                      "my_number_accessed": False, "criteria": {}, "flags": [], "work_application": ""}
            row_hash = chain.digest(values, [seq * 10], prev)
            log_id = conn.execute(
                "INSERT INTO audit_accesslog (at, system, function, category, work_application, flags, outcome, "
                "person_count, my_number_accessed, criteria, seq, prev_hash, row_hash) "
                "VALUES (%s, 'test', 'test.event', 'access', '', '[]', 'ok', 1, false, '{}', %s, %s, %s) RETURNING id",
                [at, seq, prev, row_hash]).fetchone()[0]
            conn.execute("INSERT INTO audit_accesslogsubject (log_id, person_id) VALUES (%s, %s)", [log_id, seq * 10])
            expected.append((log_id, seq, prev, row_hash))
            prev = row_hash
        conn.execute("UPDATE audit_chainhead SET seq = 3, row_hash = %s WHERE id = 1", [prev])
        conn.commit()

    done = subprocess.run([juki, "migrate", "-v", "0"], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr

    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute("SELECT c.relkind FROM pg_class c WHERE c.relname = 'audit_accesslog'").fetchone()[0] == "p"
        rows = conn.execute("SELECT id, seq, prev_hash, row_hash, tableoid::regclass::text FROM audit_accesslog "
                            "ORDER BY seq").fetchall()
        assert [r[:4] for r in rows] == expected
        assert [r[4] for r in rows] == ["audit_accesslog_202401", "audit_accesslog_202402", "audit_accesslog_202403"]
        assert conn.execute("SELECT count(*) FROM audit_accesslogsubject").fetchone()[0] == 3
        # The id sequence goes on from the old table's; the keys and indexes kept their names.
        new_id = conn.execute("INSERT INTO audit_accesslog (at, system, function, category, work_application, flags, "
                              "outcome, person_count, my_number_accessed, criteria, prev_hash, row_hash) VALUES "
                              "(now(), 'test', 'test.event', 'access', '', '[]', 'ok', 0, false, '{}', '', '') "
                              "RETURNING id").fetchone()[0]
        assert new_id == expected[-1][0] + 1
        constraints = dict(conn.execute("SELECT pg_get_constraintdef(oid), conname FROM pg_constraint WHERE conrelid = "
                                        "'audit_accesslog'::regclass").fetchall())
        assert constraints["PRIMARY KEY (id, at)"] == "audit_accesslog_pkey"
        assert "UNIQUE (seq, at)" in constraints
        assert sum(d.startswith("FOREIGN KEY") for d in constraints) == 2  # 操作者 and 端末
        assert any(r[0] == "audit_log_unlinked" for r in conn.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'audit_accesslog'").fetchall())
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            conn.execute("UPDATE audit_accesslog SET outcome = 'x' WHERE id = %s", [expected[0][0]])
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            conn.execute("DELETE FROM audit_accesslog WHERE id = %s", [expected[1][0]])
