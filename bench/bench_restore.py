"""Restore time for a register of N persons (issue 18): a PostgreSQL cluster of its own archiving
through pgBackRest (an encrypted repository, as in production), `juki seed --persons N`, a full backup,
a mark, the data directory destroyed, `juki restore --to-mark` timed — against the same run's full
backup (the ratio), because these machines are noisy. The restore includes juki's own check (every
table's count and the chain's head against the mark's manifest).

    .venv/bin/python bench/bench_restore.py --persons 1000000
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from juki.intermediary import cluster  # noqa: E402
from tests.backup.conftest import Juki  # noqa: E402

TOWNS = Path("/work/shared/data/kitakyushu-towns.csv")


def timed(juki: Juki, *args) -> float:
    started = time.monotonic()
    juki(*args, timeout=7200)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=1_000_000)
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="juki-bench-restore-"))
    directory.chmod(0o755)
    pg = cluster.start(directory)  # fsync on: a production-like cluster
    data, config = directory / "data", directory / "pgbackrest.conf"
    url = f"postgresql://postgres@127.0.0.1:{pg.port}/juki"
    juki = Juki({"DATABASE_URL": url, "JUKI_PGBACKREST_CONFIG": str(config), "JUKI_PG_DATA": str(data),
                 "JUKI_BACKUP_DIR": str(directory / "manifests"), "JUKI_VAR_DIR": str(directory / "var"),
                 "JUKI_BACKUP_PASSPHRASE": "bench-passphrase-not-secret-0123456789", "DJANGO_SETTINGS_MODULE": "juki.conf.dev"})
    try:
        juki("backup", "config", "--repo", directory / "repo", "--pg-data", data, "--pg-port", pg.port,
             "--pg-socket", directory, "--log-path", directory / "log", "--lock-path", directory / "lock", "--out", config)
        with psycopg.connect(pg.url, autocommit=True) as conn:
            conn.execute("ALTER SYSTEM SET max_wal_size = '4GB'")
            conn.execute("SELECT pg_reload_conf()")
            conn.execute("CREATE DATABASE juki")
        juki("migrate", "-v0")
        juki("load-towns", TOWNS)
        # The migration's load before archiving starts (as a city's first load would be): the backups
        # and the WAL archive begin with the loaded register.
        seed = timed(juki, "seed", "--persons", str(args.persons), "--seed", "1", "--no-progress")
        juki("audit", "chain")
        with psycopg.connect(pg.url, autocommit=True) as conn:
            for name, value in (("wal_level", "replica"), ("archive_mode", "on"),
                                ("archive_command", f"pgbackrest --config={config} --stanza=juki archive-push %p"),
                                ("port", str(pg.port)), ("unix_socket_directories", str(directory)),
                                ("listen_addresses", "127.0.0.1")):
                conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
        pg.stop()
        pg = cluster.start(directory, port=pg.port)
        juki("backup", "init")
        backup = timed(juki, "backup", "run", "--type", "full")
        juki("backup", "mark", "bench-mark")
        with psycopg.connect(url) as conn:
            size = conn.execute("SELECT pg_database_size('juki')").fetchone()[0]
            persons = conn.execute("SELECT count(*) FROM register_person").fetchone()[0]
        subprocess.run(cluster._as_postgres([str(cluster.PGBIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w",
                                             "stop"]), capture_output=True, check=True)
        shutil.rmtree(data)
        restore = timed(juki, "restore", "--to-mark", "bench-mark", "--yes")
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT count(*) FROM register_person").fetchone()[0] == persons
        repo = sum(p.stat().st_size for p in (directory / "repo").rglob("*") if p.is_file())
        print(json.dumps({"persons": persons, "database_bytes": size, "repository_bytes": repo, "seed_s": round(seed, 1),
                          "backup_full_s": round(backup, 1), "restore_s": round(restore, 1),
                          "restore_to_backup": round(restore / backup, 2)}))
    finally:
        pg.stop()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
