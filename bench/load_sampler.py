"""Samples, once a second while a load test runs: CPU of the server's processes, of PostgreSQL, of
locust and of the whole machine (from /proc), and what the database's sessions wait on
(`pg_stat_activity`). One JSON line per sample to --out, until killed (SIGTERM).

    .venv/bin/python bench/load_sampler.py --database-url URL --gunicorn-pid P --locust-pid L --out F

CPU is in cores (1.0 = one core busy for the whole interval). PostgreSQL is every process of the
bench cluster (`postgres` processes under the postmaster of /tmp/juki-bench/pg), whatever database
they serve: nothing else should run during a measured run.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import time
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pid: int) -> int:
    """utime + stime of one process, in clock ticks (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(x) for x in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def tree(pid: int) -> list[int]:
    todo, seen = [pid], []
    while todo:
        p = todo.pop()
        seen.append(p)
        todo += children(p)
    return seen


def machine_busy() -> tuple[int, int]:
    parts = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = parts[3] + parts[4]
    return sum(parts) - idle, sum(parts)


def postmaster_pid(data_dir: str) -> int | None:
    try:
        return int(Path(data_dir, "postmaster.pid").read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--database-url", required=True)
    ap.add_argument("--gunicorn-pid", type=int, required=True)
    ap.add_argument("--locust-pid", type=int, default=0)
    ap.add_argument("--pg-data", default="/tmp/juki-bench/pg/data")
    ap.add_argument("--interval", type=float, default=1.0)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    import psycopg

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    conn = psycopg.connect(args.database_url, autocommit=True)
    dbname = conn.info.dbname
    pm = postmaster_pid(args.pg_data)

    def groups() -> dict[str, list[int]]:
        return {"gunicorn": tree(args.gunicorn_pid), "postgres": tree(pm) if pm else [],
                "locust": tree(args.locust_pid) if args.locust_pid else []}

    def ticks(g):
        return {k: sum(cpu_ticks(p) for p in pids) for k, pids in g.items()}

    g = groups()
    before, busy0, t0 = ticks(g), machine_busy(), time.time()
    with open(args.out, "a", encoding="utf-8") as out:
        while not stop:
            time.sleep(args.interval)
            g = groups()  # new backends and workers appear during the run
            now, busy1, t1 = ticks(g), machine_busy(), time.time()
            dt = t1 - t0
            with conn.cursor() as cur:
                cur.execute(
                    """SELECT state, COALESCE(wait_event_type, 'CPU'), COALESCE(wait_event, ''), COUNT(*)
                       FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()
                       GROUP BY 1, 2, 3""", [dbname])
                waits = [{"state": s, "type": t, "event": e, "n": n} for s, t, e, n in cur.fetchall()]
                # Who the lock waiters wait for: the blocking session's current (or last) statement.
                cur.execute(
                    """SELECT LEFT(regexp_replace(b.query, '\\s+', ' ', 'g'), 80), b.state, COUNT(*)
                       FROM pg_stat_activity w CROSS JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS bp(pid)
                       JOIN pg_stat_activity b ON b.pid = bp.pid
                       WHERE w.datname = %s AND w.wait_event_type = 'Lock' GROUP BY 1, 2""", [dbname])
                blockers = [{"query": q, "state": st, "n": n} for q, st, n in cur.fetchall()]
            sample = {
                "t": round(t1, 2),
                "cpu": {k: round(max(0, now[k] - before.get(k, 0)) / TICK / dt, 3) for k in now},
                "machine_busy": round((busy1[0] - busy0[0]) / max(1, busy1[1] - busy0[1]) * os.cpu_count(), 3),
                "loadavg": os.getloadavg()[0],
                "pg": waits,
                "blockers": blockers,
            }
            out.write(json.dumps(sample) + "\n")
            out.flush()
            before, busy0, t0 = now, busy1, t1


if __name__ == "__main__":
    main()
