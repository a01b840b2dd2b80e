"""Failover time (issue 18): a pg_auto_failover formation on loopback, a writer making changes, the
primary killed (keeper and PostgreSQL, SIGKILL); measured: the longest wait between two acknowledged
changes around the kill, against the same run's median wait before it (the ratio), and the changes
acknowledged but lost (must be 0). Run with pg_auto_failover's default timeouts and with `--fast`.

    .venv/bin/python bench/bench_failover.py [--fast]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from juki import failover  # noqa: E402
from tests.backup.conftest import DEMO_TOWNS, Juki  # noqa: E402
from tests.failover.test_failover import Acks  # noqa: E402


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
    writer = None
    try:
        env = {"DATABASE_URL": formation.url, "JUKI_VAR_DIR": str(directory / "var"), "DJANGO_SETTINGS_MODULE": "juki.conf.dev"}
        juki = Juki(env)
        juki("migrate", "-v0")
        juki("load-towns", DEMO_TOWNS)
        juki("seed", "--persons", str(args.persons), "--seed", "1", "--no-progress")
        old = formation.primary()
        writer = subprocess.Popen([sys.executable, "-m", "tests.failover.writer"], cwd=ROOT, text=True,
                                  env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        acks = Acks(writer)
        acks.wait(200, timeout=120)
        killed = time.monotonic()
        formation.kill(old)
        acks.wait(100, after=killed, timeout=180)
        writer.terminate()
        before = [t for t, _ in acks.items if t <= killed]
        normal = statistics.median(b - a for a, b in zip(before, before[1:]))
        around = [t for t, _ in acks.items if t > killed - 5]
        outage = max(b - a for a, b in zip(around, around[1:]))
        acked = [c for _, c in acks.items]
        with psycopg.connect(formation.node_url(formation.primary())) as conn:
            stored = {r[0] for r in conn.execute("SELECT id FROM register_change WHERE id = ANY(%s)", (acked,))}
        print(json.dumps({"fast": args.fast, "formation_up_s": round(up, 1), "acknowledged": len(acked),
                          "lost": len(set(acked) - stored), "outage_s": round(outage, 2),
                          "median_change_s": round(normal, 4), "ratio": round(outage / normal, 1)}))
    finally:
        if writer and writer.poll() is None:
            writer.kill()
        formation.stop()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
