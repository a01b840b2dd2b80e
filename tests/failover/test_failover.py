"""The standby takes over (issue 18, ADR 0027): a pg_auto_failover formation on loopback (a monitor, a
primary and its synchronous standby), juki's DATABASE_URL naming both nodes; the primary is killed
(its keeper and PostgreSQL, SIGKILL) while a writer makes changes; the standby is promoted, the writer
goes on without a restart, and every change acknowledged before, during and after is on the new
primary, whole (its versions, its outbox events and its access-log row)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg
import pytest

from juki import failover
from tests.backup.conftest import DEMO_TOWNS, Juki

ROOT = Path(__file__).resolve().parents[2]


class Acks:
    """The writer's acknowledged change ids, with the moment each arrived."""

    def __init__(self, proc: subprocess.Popen):
        self.items: list[tuple[float, int]] = []
        self._thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self._thread.start()

    def _read(self, proc):
        for line in proc.stdout:
            if line.strip().isdigit():
                self.items.append((time.monotonic(), int(line)))

    def wait(self, count: int, *, after: float = 0.0, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while sum(1 for t, _ in self.items if t > after) < count:
            assert time.monotonic() < deadline, f"{len(self.items)} changes acknowledged, waited for {count} after {after}"
            time.sleep(0.05)


def test_the_primary_lost_under_writes_loses_no_acknowledged_change():
    if not failover.available():
        pytest.fail("pg_auto_failover (Debian's pg-auto-failover-cli, postgresql-15-auto-failover) is needed: "
                    "./scripts/test installs it")
    directory = Path(tempfile.mkdtemp(prefix="juki-failover-"))  # not pytest's tmp: postgres must reach it
    directory.chmod(0o755)
    formation = failover.start(directory / "formation", fast=True)
    writer = None
    try:
        env = {"DATABASE_URL": formation.url, "JUKI_VAR_DIR": str(directory / "var"), "DJANGO_SETTINGS_MODULE": "juki.conf.dev"}
        juki = Juki(env)
        juki("migrate", "-v0")
        juki("load-towns", DEMO_TOWNS)
        juki("seed", "--persons", "20", "--seed", "1", "--no-progress")
        old = formation.primary()
        with psycopg.connect(formation.node_url(old)) as conn:
            # Synchronous: the primary's commit waits for the standby (pg_auto_failover names it while in sync).
            assert conn.execute("SHOW synchronous_standby_names").fetchone()[0].startswith("ANY 1 (")
            assert conn.execute("SHOW synchronous_commit").fetchone()[0] == "on"

        errors = open(directory / "writer.err", "w+")
        writer = subprocess.Popen([sys.executable, "-m", "tests.failover.writer"], cwd=ROOT, text=True,
                                  env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=errors)
        acks = Acks(writer)
        acks.wait(30)
        killed = time.monotonic()
        formation.kill(old)
        try:
            acks.wait(30, after=killed, timeout=90)  # the writer goes on, on the new primary, by itself
        except AssertionError:
            writer.kill()
            raise AssertionError(f"{formation.state()}\n{(directory / 'writer.err').read_text()[-3000:]}") from None
        writer.terminate()
        writer.wait(timeout=10)

        new = formation.primary()
        assert new is not None and new is not old
        # The longest wait between two acknowledgements around the kill (one in flight may land just after it).
        times = [t for t, _ in acks.items if t > killed - 5]
        outage = max(b - a for a, b in zip(times, times[1:]))
        acked = [change for _, change in acks.items]
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
        assert outage < 30, f"the writer waited {outage:.1f} s"
        print(f"failover: {len(acked)} changes acknowledged, the longest wait {outage:.1f} s, none lost")
    finally:
        if writer and writer.poll() is None:
            writer.kill()
        formation.stop()
        shutil.rmtree(directory, ignore_errors=True)
