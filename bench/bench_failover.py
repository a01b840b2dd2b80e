"""Failover time (issue 18): a pg_auto_failover formation on loopback, a writer making changes, the
primary killed (keeper and PostgreSQL, SIGKILL); measured: the longest wait between two acknowledged
changes around the kill, against the same run's median wait before it (the ratio), and the changes
acknowledged but lost (must be 0). Run with pg_auto_failover's default timeouts and with `--fast`.

    .venv/bin/python bench/bench_failover.py [--fast]
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

from juki import failover  # noqa: E402
from tests.failover.scenario import kill_under_writes, register_on  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fast", action="store_true")
    parser.add_argument("--persons", type=int, default=200)
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="juki-bench-failover-"))
    directory.chmod(0o755)
    started = time.monotonic()
    formation = failover.start(directory / "formation", fast=args.fast)
    up = time.monotonic() - started
    try:
        env = register_on(formation, directory, persons=args.persons)
        run = kill_under_writes(formation, env, directory, before=200, after=100, timeout=180)
        with psycopg.connect(formation.node_url(formation.primary())) as conn:
            stored = {r[0] for r in conn.execute("SELECT id FROM register_change WHERE id = ANY(%s)", (run.acked,))}
        print(json.dumps({"fast": args.fast, "formation_up_s": round(up, 1), "acknowledged": len(run.acked),
                          "lost": len(set(run.acked) - stored), "outage_s": round(run.outage(), 2),
                          "median_change_s": round(run.normal(), 4), "ratio": round(run.outage() / run.normal(), 1)}))
    finally:
        formation.stop()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
