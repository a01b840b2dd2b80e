"""Per-stage figures of a load test: latency percentiles, requests/s and failures from locust's
per-request records, CPU and PostgreSQL wait events from bench/load_sampler.py.

    .venv/bin/python bench/load_stats.py --dir /tmp/juki-bench/load/run-<stamp> [--settle 20] [--server "..."]

Each stage is measured from its ramp's end + `--settle` seconds (the new sessions' logins and
first pages are over) to its end; the logins (argon2) are reported apart and left out of the
stage's percentiles. Appends one JSON object to results/load.jsonl and prints a table.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402

LOGIN = ("login page", "login (argon2)")


def windows(schedule: dict, settle: float) -> list[dict]:
    """[{users, start, end}] in epoch seconds: the steady part of each stage."""
    epoch = schedule["epoch"]
    out = []
    for st in schedule["stages"]:
        start = epoch + min(st["ramp_end"] + settle, st["end"])
        out.append({"users": st["users"], "start": start, "end": epoch + st["end"]})
    return out


def latency(rows: list[dict], start: float, end: float) -> dict:
    """Percentiles (nearest rank), requests/s and failures of the requests started in [start, end)."""
    inside = [r for r in rows if start <= r["start"] < end]
    work = [r for r in inside if r["name"] not in LOGIN]
    ms = [r["ms"] / 1000 for r in work]
    seconds = max(1e-9, end - start)
    out = {"seconds": round(seconds, 1), "requests": len(work), "rps": round(len(work) / seconds, 1),
           "failures": sum(1 for r in inside if not r["ok"]), **c.summary_ms(ms)}
    logins = [r["ms"] / 1000 for r in inside if r["name"] == "login (argon2)"]
    out["logins"] = len(logins)
    by_name = defaultdict(list)
    for r in work:
        by_name[r["name"]].append(r["ms"] / 1000)
    out["by_name"] = {n: {k: v for k, v in c.summary_ms(v).items() if k in ("n", "p50_ms", "p95_ms", "p99_ms")}
                      for n, v in sorted(by_name.items())}
    return out


def resources(samples: list[dict], start: float, end: float) -> dict:
    """Mean CPU (cores) per group, and the mean number of the database's active sessions per wait."""
    inside = [s for s in samples if start <= s["t"] < end]
    if not inside:
        return {}
    cpu = defaultdict(float)
    for s in inside:
        for k, v in s["cpu"].items():
            cpu[k] += v
    waits: Counter = Counter()
    for s in inside:
        for w in s["pg"]:
            if w["state"] == "active" or w["type"] not in ("Client", "CPU"):
                waits[f'{w["type"]}:{w["event"]}' if w["event"] else w["type"]] += w["n"]
    blockers: Counter = Counter()
    for s in inside:
        for b in s.get("blockers", []):
            blockers[f'{b["state"]}: {b["query"]}'] += b["n"]
    n = len(inside)
    busy = sum(s["machine_busy"] for s in inside) / n
    return {"samples": n, "cpu_cores": {k: round(v / n, 2) for k, v in cpu.items()},
            "machine_busy_cores": round(busy, 2),
            # CPU of anything else on this shared machine (another session's tests, say)
            "other_cores": round(max(0.0, busy - sum(cpu.values()) / n), 2),
            "pg_active_by_wait": {k: round(v / n, 2) for k, v in waits.most_common(8)},
            "lock_waits_by_blocker": {k: round(v / n, 2) for k, v in blockers.most_common(4)}}


def read_records(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [{"start": float(r["start"]), "name": r["name"], "ms": float(r["ms"]), "ok": r["ok"] == "1"}
                for r in csv.DictReader(f)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--settle", type=float, default=20)
    ap.add_argument("--server", default="", help="the gunicorn command line (recorded)")
    ap.add_argument("--database", default="")
    ap.add_argument("--run-id", default="", help="bench/run_all.sh's run (recorded)")
    args = ap.parse_args()
    d = Path(args.dir)
    schedule = json.loads((d / "schedule.json").read_text())
    rows = read_records(d / "records.csv")
    samples = [json.loads(x) for x in (d / "samples.jsonl").read_text().splitlines() if x.strip()] \
        if (d / "samples.jsonl").exists() else []
    counters = json.loads((d / "records.csv.counters.json").read_text()) if (d / "records.csv.counters.json").exists() else {}
    # An exception inside a task (not an HTTP failure) ends that visit: counted as a failure too.
    exc_file = d / "locust_exceptions.csv"
    task_errors = sum(int(r["Count"]) for r in csv.DictReader(open(exc_file, encoding="utf-8"))) if exc_file.exists() else 0
    stages = []
    for w in windows(schedule, args.settle):
        stages.append({"users": w["users"], **latency(rows, w["start"], w["end"]), **resources(samples, w["start"], w["end"])})
    logins = [r["ms"] / 1000 for r in rows if r["name"] == "login (argon2)"]
    result = {
        "bench": "load", "run_id": args.run_id, "date": dt.datetime.fromtimestamp(schedule["epoch"]).astimezone().isoformat(timespec="seconds"),
        "machine": c.machine(), "code": c.src_info(), "server": args.server, "database": args.database,
        "think_s": schedule["think_s"], "spawn_rate": schedule["spawn_rate"], "p_move": schedule["p_move"],
        "p_cert": schedule["p_cert"], "settle_s": args.settle, "counters": counters,
        "failures_total": sum(1 for r in rows if not r["ok"]) + task_errors, "task_exceptions": task_errors,
        "requests_total": len(rows),
        "login": c.summary_ms(logins), "stages": stages, "dir": str(d),
    }
    c.RESULTS.mkdir(parents=True, exist_ok=True)
    with open(c.RESULTS / "load.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps(result, ensure_ascii=False) + "\n")
    print(f"{'users':>6}{'req/s':>8}{'p50':>8}{'p95':>8}{'p99':>8}{'fail':>6}  cpu gunicorn/postgres/locust/machine  pg waits (mean active)")
    for s in stages:
        cpu = s.get("cpu_cores", {})
        print(f"{s['users']:>6}{s['rps']:>8}{s['p50_ms']:>8}{s['p95_ms']:>8}{s['p99_ms']:>8}{s['failures']:>6}  "
              f"{cpu.get('gunicorn', 0):.2f}/{cpu.get('postgres', 0):.2f}/{cpu.get('locust', 0):.2f}/{s.get('machine_busy_cores', 0):.2f}"
              f" other {s.get('other_cores', 0):.2f}  {s.get('pg_active_by_wait', {})}")
        for k, v in s.get("lock_waits_by_blocker", {}).items():
            print(f"{'':>6}  blocked behind ({v}): {k}")
    print(f"login p50/p95 {result['login']['p50_ms']}/{result['login']['p95_ms']} ms; failures {result['failures_total']} "
          f"of {result['requests_total']}; {counters}")


if __name__ == "__main__":
    main()
