"""C19: one municipality can never read another's data — row-level security under each tenant's own
non-owner role, tried with raw SQL."""
from __future__ import annotations

import psycopg
import pytest

from juki.intermediary import db, replica

ROW = {"unified_number": "100000000001", "status": "resident", "is_head": False, "head_name": "北九　太郎",
       "relationship": "子"}


def test_a_tenant_role_reads_and_writes_its_own_rows_only_whatever_sql_it_runs(tenant):
    kita, fuku = tenant("401005"), tenant("401307")
    replica.apply(kita, [ROW], position=1)
    replica.apply(fuku, [{**ROW, "unified_number": "200000000002", "head_name": "福岡　花子"}], position=1)

    assert [r[0] for r in kita.execute("SELECT unified_number FROM replica").fetchall()] == ["100000000001"]
    assert [r[0] for r in fuku.execute("SELECT unified_number FROM replica").fetchall()] == ["200000000002"]
    # Naming the other tenant outright finds nothing, and writing its rows is refused by the policy.
    assert kita.execute("SELECT count(*) FROM replica WHERE tenant = '401307'").fetchone()[0] == 0
    assert kita.execute("UPDATE replica SET head_name = 'x' WHERE tenant = '401307'").rowcount == 0
    kita.rollback()
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        kita.execute("INSERT INTO replica (tenant, unified_number, status, is_head, position) "
                     "VALUES ('401307', '200000000009', 'resident', true, 1)")
    kita.rollback()
    # Nor can it become the other tenant, or the owner, or turn the policy off.
    for statement in ("SET ROLE im_t_401307", "SET ROLE im_owner", "ALTER TABLE replica DISABLE ROW LEVEL SECURITY",
                      "SELECT * FROM platform_status()"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            kita.execute(statement)
        kita.rollback()
    # 情報提供等記録 is append-only even for its own tenant.
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        kita.execute("DELETE FROM record")
    kita.rollback()


def test_the_tenant_roles_own_nothing_and_cannot_bypass_the_policy(admin):
    roles = admin.execute("SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname LIKE 'im_t_%' "
                          "ORDER BY rolname").fetchall()
    assert roles == [("im_t_401005", False, False), ("im_t_401307", False, False)]
    owners = {r[0] for r in admin.execute(
        "SELECT tableowner FROM pg_tables WHERE tablename IN ('replica', 'fugo', 'inquiry', 'record', 'feed_batch')")}
    assert owners == {db.OWNER}
    secured = admin.execute("SELECT relname, relforcerowsecurity FROM pg_class WHERE relname IN ('replica', 'fugo', "
                            "'inquiry', 'record', 'feed_batch') AND relrowsecurity ORDER BY relname").fetchall()
    # Enabled, not forced: the owner (nobody logs in as it) bypasses it for platform_status() alone (ADR 0026).
    assert secured == [(t, False) for t in ("feed_batch", "fugo", "inquiry", "record", "replica")]


def test_every_table_with_a_citys_rows_hides_them_from_the_other_city(tenant):
    from juki.intermediary import inquiries

    fuku = tenant("401307")
    replica.apply(fuku, [ROW], position=1)  # a 副本 row and a feed batch
    replica.tie_fugo(fuku, unified_number=ROW["unified_number"], fugo="f" * 32)
    from juki.intermediary import sealing
    inquiries.receive(fuku, {"message_id": "m", "requester": "req-mhlw", "requester_kind": "厚生労働大臣",
                             "provision": 48, "affair": "048-1", "items": ["is_head"], "fugo": "f" * 32,
                             "public_key": sealing.new_key()[1]})  # an inquiry and two records
    kita = tenant("401005")
    for table in ("replica", "fugo", "inquiry", "record", "feed_batch"):
        assert fuku.execute(f"SELECT count(*) FROM {table}").fetchone()[0] >= 1, table
        assert kita.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table
        assert kita.execute(f"SELECT count(*) FROM {table} WHERE tenant = '401307'").fetchone()[0] == 0, table


def test_the_operator_sees_counts_per_tenant_and_no_row(tenant, platform_db):
    replica.apply(tenant("401005"), [ROW], position=3)
    operator = db.Connections(platform_db).get(db.OPERATOR)
    status = {r[0]: r for r in operator.execute("SELECT tenant, replica, feed_position FROM platform_status()")}
    assert status["401005"][1:] == (1, 3) and status["401307"][1:] == (0, None)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        operator.execute("SELECT head_name FROM replica")
    operator.close()
