"""The platform's 7-year purge (issue 18, 番号法施行令29条): as the tables' owner, exactly the records past
their 保存期限 and the inquiries older than seven years (held ones stay), counted per tenant; the service's
own roles still may not delete a record."""
import datetime as dt
import subprocess
import sys

import psycopg
import pytest

from juki.intermediary import db

TODAY = dt.date(2033, 4, 1)
BEFORE = dt.date(2026, 4, 1)  # seven years before TODAY


def _record(admin, tenant: str, keep_until: dt.date) -> int:
    return admin.execute("INSERT INTO record (tenant, inquiry_id, event, requester, provision, affair, items, keep_until) "
                         "VALUES (%s, 1, 'answer', 'req-mhlw', 1, '001-1', ARRAY['head'], %s) RETURNING id",
                         (tenant, keep_until)).fetchone()[0]


def _inquiry(admin, tenant: str, received: dt.datetime, state: str) -> int:
    return admin.execute("INSERT INTO inquiry (tenant, message_id, received_at, requester, requester_kind, provision, "
                         "affair, items, fugo, state, public_key) VALUES (%s, gen_random_uuid()::text, %s, 'req-mhlw', "
                         "'minister', 1, '001-1', ARRAY['head'], 'f', %s, 'k') RETURNING id",
                         (tenant, received, state)).fetchone()[0]


def _ids(admin, table: str) -> set[tuple[str, int]]:
    return {tuple(r) for r in admin.execute(f"SELECT tenant, id FROM {table}").fetchall()}


def test_the_purge_removes_exactly_what_is_due_per_tenant_and_records_the_counts(admin, platform_db):
    jst = dt.timezone(dt.timedelta(hours=9))
    gone = {("401005", _record(admin, "401005", TODAY - dt.timedelta(days=1))),
            ("401307", _record(admin, "401307", dt.date(2030, 1, 1)))}
    kept = {("401005", _record(admin, "401005", TODAY)), ("401307", _record(admin, "401307", TODAY + dt.timedelta(days=9)))}
    old = dt.datetime.combine(BEFORE - dt.timedelta(days=1), dt.time(12), tzinfo=jst)
    gone_inquiries = {("401005", _inquiry(admin, "401005", old, "answered"))}
    # Midnight in Japan is the line, whatever the server's time zone: 23:30 the day before goes, 08:00 stays.
    gone_inquiries.add(("401307", _inquiry(admin, "401307", dt.datetime.combine(BEFORE - dt.timedelta(days=1),
                                                                              dt.time(23, 30), tzinfo=jst), "answered")))
    kept_inquiries = {("401005", _inquiry(admin, "401005", old, "held")),
                      ("401307", _inquiry(admin, "401307", dt.datetime.combine(BEFORE, dt.time(8), tzinfo=jst), "refused"))}

    admin.execute("ALTER DATABASE intermediary SET timezone = 'UTC'")  # a server keeping UTC
    counted = db.purge(platform_db, today=TODAY, execute=False)
    assert [(r["tenant"], r["records"], r["inquiries"]) for r in counted] == [("401005", 1, 1), ("401307", 1, 1)]
    assert _ids(admin, "record") == gone | kept  # a dry run deletes nothing

    done = db.purge(platform_db, today=TODAY, execute=True)

    assert [(r["tenant"], r["records"], r["inquiries"]) for r in done] == [("401005", 1, 1), ("401307", 1, 1)]
    assert _ids(admin, "record") == kept and _ids(admin, "inquiry") == kept_inquiries
    assert not gone_inquiries & _ids(admin, "inquiry")
    assert admin.execute("SELECT tenant, before, records, inquiries FROM record_purge ORDER BY tenant").fetchall() == [
        ("401005", TODAY, 1, 1), ("401307", TODAY, 1, 1)]


def test_a_tenant_role_still_cannot_delete_a_record(admin, tenant):
    _record(admin, "401005", dt.date(2020, 1, 1))
    conn = tenant("401005")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("DELETE FROM record")
    conn.rollback()
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("SELECT * FROM record_purge")
    conn.rollback()


def test_the_command_prints_the_counts_per_tenant(admin, platform_db):
    _record(admin, "401005", dt.date(2020, 1, 1))
    done = subprocess.run([sys.executable, "-m", "juki.intermediary.cli", "purge", "--url", platform_db, "--dry-run"],
                          capture_output=True, text=True, check=True)
    assert "401005: 情報提供等記録 対象 1 件" in done.stdout and "401307: 情報提供等記録 対象 0 件" in done.stdout
    assert admin.execute("SELECT count(*) FROM record").fetchone()[0] == 1
