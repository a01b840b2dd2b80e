"""The standby takes over (issue 18, ADR 0027): a pg_auto_failover formation on loopback (a monitor, a
primary and its synchronous standby), juki's DATABASE_URL naming both nodes; the primary is killed
(its keeper and PostgreSQL, SIGKILL) while a writer makes changes; the standby is promoted, the writer
goes on without a restart, and every change acknowledged before, during and after is on the new
primary, whole (its versions, its outbox events and its access-log row)."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import psycopg
import pytest

from juki import failover

from .scenario import kill_under_writes, register_on


def test_the_primary_lost_under_writes_loses_no_acknowledged_change():
    if not failover.available():
        pytest.fail("pg_auto_failover (Debian's pg-auto-failover-cli, postgresql-15-auto-failover) is needed: "
                    "./scripts/test installs it")
    directory = Path(tempfile.mkdtemp(prefix="juki-failover-"))  # not pytest's tmp: postgres must reach it
    directory.chmod(0o755)
    formation = failover.start(directory / "formation", fast=True)
    try:
        env = register_on(formation, directory, persons=20)
        with psycopg.connect(formation.node_url(formation.primary())) as conn:
            # Synchronous: the primary's commit waits for the standby (pg_auto_failover names it while in sync).
            assert conn.execute("SHOW synchronous_standby_names").fetchone()[0].startswith("ANY 1 (")
            assert conn.execute("SHOW synchronous_commit").fetchone()[0] == "on"

        run = kill_under_writes(formation, env, directory, before=30, after=30, timeout=180)

        new = formation.primary()
        assert new is not None and new is not run.old
        acked = run.acked
        with psycopg.connect(formation.node_url(new)) as conn:
            stored = {r[0] for r in conn.execute("SELECT id FROM register_change WHERE id = ANY(%s)", (acked,))}
            versions = dict(conn.execute("SELECT change_id, count(*) FROM register_personversion "
                                         "WHERE change_id = ANY(%s) GROUP BY change_id", (acked,)).fetchall())
            events = dict(conn.execute("SELECT change_id, count(*) FROM register_outboxevent "
                                       "WHERE change_id = ANY(%s) GROUP BY change_id", (acked,)).fetchall())
            logged = {int(r[0]) for r in conn.execute(
                "SELECT criteria->>'change_id' FROM audit_accesslog WHERE function = 'change.erratum_correction' "
                "AND criteria ? 'change_id'").fetchall()}
        lost = set(acked) - stored
        assert not lost, f"acknowledged and lost: {sorted(lost)}"
        assert all(versions.get(c, 0) >= 1 and events.get(c, 0) >= 1 for c in acked)
        assert set(acked) <= logged
        assert run.outage() < 60, f"the writer waited {run.outage():.1f} s"  # ~6 s unloaded (--fast)
    finally:
        formation.stop()
        shutil.rmtree(directory, ignore_errors=True)
