"""PostgreSQL end to end with real pgBackRest: a cluster of the test's own archiving through an
encrypted repository, a full backup, a mark before a "mistaken batch", the data directory lost,
`juki restore --to-mark`, and every table back as it was at the mark; `juki backup verify` passes."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
import pytest

from juki.intermediary import cluster

from .conftest import DEMO_TOWNS, Juki

REGISTER_TABLES = ("register_person", "register_household", "register_personversion")


def _state(url: str) -> dict[str, str]:
    """Every table's content digest (row order independent) and the audit chain's head."""
    with psycopg.connect(url) as conn:
        names = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename").fetchall()]
        state = {n: conn.execute(f'SELECT count(*) || \':\' || coalesce(md5(string_agg(t::text, \'|\' ORDER BY t::text)), \'\') '
                                 f'FROM "{n}" t').fetchone()[0] for n in names}
        state["chain-head"] = repr(conn.execute("SELECT seq, row_hash FROM audit_chainhead").fetchall())
    return state


def test_restore_to_a_mark_after_losing_the_data_directory():
    if shutil.which("pgbackrest") is None:
        pytest.fail("pgBackRest (Debian's pgbackrest) is needed: ./scripts/test installs it")
    if not cluster.available():
        pytest.fail("PostgreSQL 15 (Debian's postgresql-15) is needed: ./scripts/test installs it")
    started = time.monotonic()
    directory = Path(tempfile.mkdtemp(prefix="juki-backup-pg-"))  # not pytest's tmp: postgres must reach it
    pg = cluster.start(directory, fast=True)
    data, config = directory / "data", directory / "pgbackrest.conf"
    url = f"postgresql://postgres@127.0.0.1:{pg.port}/juki"
    juki = Juki({"DATABASE_URL": url, "JUKI_PGBACKREST_CONFIG": str(config), "JUKI_PG_DATA": str(data),
                 "JUKI_BACKUP_DIR": str(directory / "manifests"), "JUKI_VAR_DIR": str(directory / "var"),
                 "JUKI_BACKUP_PASSPHRASE": "test-passphrase-not-secret-0123456789"})
    try:
        juki("backup", "config", "--repo", directory / "repo", "--pg-data", data, "--pg-port", pg.port,
             "--pg-socket", directory, "--log-path", directory / "log", "--lock-path", directory / "lock",
             "--out", config)
        text = config.read_text()
        assert "repo1-cipher-type=aes-256-cbc" in text and (config.stat().st_mode & 0o777) == 0o600
        with psycopg.connect(pg.url, autocommit=True) as conn:
            # In postgresql.auto.conf, so `juki restore`'s plain pg_ctl start finds the same server again.
            for name, value in (("wal_level", "replica"), ("archive_mode", "on"),
                                ("archive_command", f"pgbackrest --config={config} --stanza=juki archive-push %p"),
                                ("port", str(pg.port)), ("unix_socket_directories", str(directory)),
                                ("listen_addresses", "127.0.0.1"), ("fsync", "off"), ("synchronous_commit", "off")):
                conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
            conn.execute("CREATE DATABASE juki")
        pg.stop()
        pg = cluster.start(directory, port=pg.port)

        juki("migrate", "-v0")
        juki("load-towns", DEMO_TOWNS)
        juki("seed", "--persons", "30", "--seed", "1", "--no-progress")
        juki("audit", "chain")
        juki("backup", "init")
        out = juki("backup", "run", "--type", "full").stdout
        assert "を取得し、復元点 juki-backup-" in out

        juki("seed", "--persons", "40", "--seed", "1", "--resume", "--no-progress")  # the day's work after the backup
        juki("audit", "chain")
        at_mark = _state(url)
        assert int(at_mark["register_person"].split(":")[0]) >= 40
        assert "復元点「before-batch」を記録しました" in juki("backup", "mark", "before-batch").stdout

        # The mistaken batch: more persons seeded, some rewritten behind the register's back.
        juki("seed", "--persons", "60", "--seed", "1", "--resume", "--no-progress")
        juki("audit", "chain")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("UPDATE register_person SET removed_on = '2026-11-01' WHERE id IN "
                         "(SELECT id FROM register_person ORDER BY id LIMIT 5)")
        mistaken = _state(url)
        assert mistaken["register_person"] != at_mark["register_person"]
        assert mistaken["chain-head"] != at_mark["chain-head"]

        done = juki("restore", "--to-mark", "before-batch", check=False)
        assert done.returncode == 2 and "[confirmation_required] PostgreSQL を停止し" in done.stderr
        assert _state(url) == mistaken  # still running, untouched

        # The data directory is lost.
        subprocess.run(cluster._as_postgres([str(cluster.PGBIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w",
                                             "stop"]), capture_output=True, check=True)
        shutil.rmtree(data)

        out = juki("restore", "--to-mark", "before-batch", "--yes").stdout
        assert "復元点「before-batch」へ復元しました" in out
        assert "復元後の照合: 全表の行数と監査ログのチェーン先頭が記録と一致しました。" in out
        restored = _state(url)
        assert restored == at_mark
        assert all(restored[t] == at_mark[t] for t in (*REGISTER_TABLES, "audit_accesslog", "chain-head"))

        out = juki("backup", "verify").stdout
        assert "バックアップの検証に成功しました（juki-backup-" in out
        listing = juki("backup", "list").stdout
        assert "復元点 before-batch" in listing and "種別 full" in listing
    finally:
        pg.stop()
        shutil.rmtree(directory, ignore_errors=True)
    print(f"PostgreSQL backup and restore: {time.monotonic() - started:.0f} s")  # timed here, bounded by CI
