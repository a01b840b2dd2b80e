"""Purge time (issue 18): an access log of N rows spread over 14 years on a PostgreSQL cluster of its own,
each month in its partition (ADR 0030: the purge drops the old months whole), linked into the hash chain; `juki audit verify --incremental` (from the newest checkpoint) and `juki retention purge` (checkpoint, verify, delete the half older than 7
years, verify again) timed against the same run's `juki audit verify` of the whole chain (the ratio).

    .venv/bin/python bench/bench_purge.py --rows 1000000
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from juki.intermediary import cluster  # noqa: E402
from tests.backup.conftest import Juki  # noqa: E402


def timed(juki: Juki, *args) -> tuple[float, str]:
    started = time.monotonic()
    done = juki(*args, timeout=7200)
    return time.monotonic() - started, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="juki-bench-purge-"))
    directory.chmod(0o755)
    pg = cluster.start(directory)
    url = f"postgresql://postgres@127.0.0.1:{pg.port}/juki"
    juki = Juki({"DATABASE_URL": url, "JUKI_VAR_DIR": str(directory / "var"), "DJANGO_SETTINGS_MODULE": "juki.conf.dev"})
    try:
        with psycopg.connect(pg.url, autocommit=True) as conn:
            conn.execute("CREATE DATABASE juki")
        juki("migrate", "-v0")
        with psycopg.connect(url, autocommit=True) as conn:
            # Rows as the gate writes them (unlinked), one subject each, oldest first: 14 years back to now.
            conn.execute(
                "INSERT INTO audit_accesslog (at, system, function, category, work_application, flags, outcome, "
                "person_count, my_number_accessed, criteria, prev_hash, row_hash) "
                "SELECT now() - (%s - g) * (interval '14 years' / %s), 'bench', 'person.read', "
                "CASE WHEN g %% 10 = 0 THEN 'provision' ELSE 'access' END, '', '[]', 'ok', 1, false, "
                "jsonb_build_object('i', g), '', '' FROM generate_series(1, %s) g",
                (args.rows, args.rows, args.rows))
            conn.execute("INSERT INTO audit_accesslogsubject (log_id, log_at, person_id) SELECT id, at, id % 100000 FROM audit_accesslog")
        # Each row into its month's partition (ADR 0030), as a log that grew month by month has them.
        juki("audit", "partitions", timeout=7200)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        link, _ = timed(juki, "audit", "chain")
        juki("audit", "checkpoint")
        verify, _ = timed(juki, "audit", "verify")
        juki("audit", "checkpoint")
        incremental, _ = timed(juki, "audit", "verify", "--incremental")
        purge, out = timed(juki, "retention", "purge")
        with psycopg.connect(url) as conn:
            left = conn.execute("SELECT count(*) FROM audit_accesslog").fetchone()[0]
        print(out, file=sys.stderr)
        print(json.dumps({"rows": args.rows, "left": left, "link_s": round(link, 1), "verify_s": round(verify, 1),
                          "verify_incremental_s": round(incremental, 1),
                          "purge_s": round(purge, 1), "purge_to_verify": round(purge / verify, 2)}))
    finally:
        pg.stop()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
