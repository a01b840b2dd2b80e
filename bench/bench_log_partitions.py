"""The access log grown to 100 M rows, partitioned by month (issue 18 item 5, ADR 0030).

Two databases on one PostgreSQL cluster of the benchmark's own, the same code and the same span
of months: the baseline with --baseline-rows (1 M) and the grown log with --rows (100 M), each
with the same number of log rows per person and per user (so a person's history is as long in
both). The old rows are made in SQL, month by month, with stand-in hashes; the chain's head is
set after them, so the rows written during the measurement are linked and hashed for real. Then,
in each database through juki's own code:

- write: the gate's write of one log row with its subject (`events.record`), linked every 100;
- person: a person's access history, newest 500 (`audit.selectors.log_rows_for_person`, as the
  auditors' screen and the 開示請求 read it);
- user: one user's rows of one day (the auditors' ログ分析 window on `at`);
- login: the failed-login look-up of `accounts.login` (within the lock window);
- receipt: the reprint check of `certificates.cash` (since the certificate's issue);
- verify: `chain.verify(incremental=True)` over 10,000 rows written after a checkpoint.

The ratio grown / baseline says whether the growth slowed it (1.0: not at all).

    flock /tmp/bench.lock .venv/bin/python bench/bench_log_partitions.py --rows 100000000 --first-month
    # needs ≈ 60 GB free under /tmp and ≈ 45 min on 2 cores to build the 100 M rows (--keep DIR re-uses them)
    .venv/bin/python bench/bench_log_partitions.py --rows 2000000 --baseline-rows 200000   # a quick try
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

MONTHS = 84  # seven years (C07)
USERS = 300
FUNCTIONS = ["person.read", "person.search", "household.read", "certificate.issue", "change.move", "auth.login"]


def _fill_month(url: str, month: list, first_seq: int, count: int, persons: int, users: list[int]) -> None:
    name, start, end = month[0], dt.datetime.fromisoformat(month[1]), dt.datetime.fromisoformat(month[2])
    step = (end - start) / count
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute(
            "INSERT INTO audit_accesslog (at, user_id, system, terminal_id, function, category, work_application, flags, "
            "outcome, person_count, my_number_accessed, criteria, seq, prev_hash, row_hash) "
            "SELECT %(start)s + (g - %(lo)s::bigint) * %(step)s::interval, (%(users)s::bigint[])[1 + g %% %(nusers)s], '', NULL, "
            "(%(functions)s::text[])[1 + (g / 7) %% 6], CASE WHEN (g / 7) %% 6 = 5 THEN 'auth' ELSE 'access' END, "
            "'', '[]'::jsonb, 'ok', 1, false, '{}'::jsonb, g, "
            "md5((g - 1)::text) || md5((g - 1)::text || 'x'), md5(g::text) || md5(g::text || 'x') "
            "FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) g",
            {"start": start, "step": step, "lo": first_seq, "hi": first_seq + count - 1, "users": users,
             "nusers": len(users), "functions": FUNCTIONS})
        conn.execute(f"INSERT INTO audit_accesslogsubject (log_id, log_at, person_id) "
                     f"SELECT id, at, (seq * 2654435761) %% 1000003 %% %s + 1 FROM {name}", [persons])


def build(url: str, env: dict, rows: int, persons: int, users: int, span: int = MONTHS) -> float:
    """Migrate, add the users, fill MONTHS months (two connections: the machine's two cores)."""
    started = time.monotonic()
    run(env, "migrate", "-v0")
    prepared = json.loads(subprocess.run([sys.executable, __file__, "--prepare", str(users)], env=env,
                                         capture_output=True, text=True, check=True).stdout)
    users, spans = prepared["users"], prepared["months"]
    # The subjects are one table: its indexes are built once after the load, not row by row.
    with psycopg.connect(url, autocommit=True) as conn:
        indexes = conn.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'audit_accesslogsubject' "
                               "AND indexname NOT LIKE '%%pkey'").fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
    per = rows // span
    months = list(range(MONTHS - span, MONTHS))  # the newest `span` months
    lock = threading.Lock()

    def worker():
        while True:
            with lock:
                if not months:
                    return
                m = months.pop(0)
            count = per + (rows - per * span if m == MONTHS - 1 else 0)
            _fill_month(url, spans[m], (m - MONTHS + span) * per + 1, count, persons, users)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        for _, definition in indexes:
            conn.execute(definition)
        conn.execute("INSERT INTO audit_chainhead (id, seq, row_hash) VALUES (1, %s, md5(%s::text) || md5(%s::text || 'x')) "
                     "ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, row_hash = excluded.row_hash", [rows, rows, rows])
        conn.execute("VACUUM ANALYZE audit_accesslog")
        conn.execute("VACUUM ANALYZE audit_accesslogsubject")
    return time.monotonic() - started


def run(env: dict, *args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "juki.cli", *args], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def _timings(fn, samples: int) -> dict:
    times = []
    for i in range(samples):
        t = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return {"p50_ms": round(statistics.median(times), 3), "p95_ms": round(times[int(len(times) * 0.95) - 1], 3),
            "n": samples}


def prepare(users: int) -> None:
    from _common import setup_django

    setup_django(None)
    from django.contrib.auth import get_user_model

    User = get_user_model()
    from django.utils import timezone

    from juki.audit import partitions

    made = User.objects.bulk_create([User(username=f"bench-log-{i:03d}") for i in range(users)])
    this = partitions.month_of(timezone.now())
    partitions.ensure(since=partitions.next_month(this, -MONTHS))
    months = [partitions.next_month(this, m - MONTHS) for m in range(MONTHS)]  # the 84 months before this one
    print(json.dumps({"users": [u.pk for u in made],
                      "months": [[partitions.name_for(m), *(b.isoformat() for b in partitions.bounds(m))] for m in months]}))


def measure(persons: int, samples: int, seed: int) -> dict:
    from _common import bench_actor, setup_django

    setup_django(None)
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from juki.audit import chain, checkpoints, events, selectors
    from juki.audit.models import AccessLog

    rng = random.Random(seed)
    actor = bench_actor()  # a clerk on a terminal, as a counter read writes it
    users = list(get_user_model().objects.filter(username__startswith="bench-log-").values_list("pk", flat=True))
    out = {}

    def write(i):
        events.record(actor, function="person.read", person_ids=[rng.randrange(1, persons + 1)])
        if i % 100 == 99:
            chain.link()

    out["write"] = _timings(write, 2000)
    chain.link()

    def person(i):  # what access_log_for_person reads inside its gate session
        selectors.log_rows_for_person(rng.randrange(1, persons + 1), limit=500)

    out["person"] = _timings(person, samples)

    today = timezone.localdate()

    def user(i):  # one user's day, as the auditors' ログ分析 reads it (a window on `at`)
        day = today - dt.timedelta(days=1 + i % 28)
        start = dt.datetime.combine(day, dt.time(), tzinfo=timezone.get_current_timezone())
        list(AccessLog.objects.filter(at__gte=start, at__lt=start + dt.timedelta(days=1), user_id=rng.choice(users))
             .order_by("at", "id"))

    out["user"] = _timings(user, samples)

    def login(i):  # accounts.login's look-up of the last failure within the lock window
        (AccessLog.objects.filter(user_id=rng.choice(users), at__gte=timezone.now() - dt.timedelta(minutes=30),
                                  function__startswith="auth.", function__endswith="_failure")
         .order_by("-at").values_list("at", flat=True).first())

    out["login"] = _timings(login, samples)

    def receipt(i):  # certificates.cash's reprint check, from the certificate's issue on (same visit)
        AccessLog.objects.filter(function="print.receipt", outcome="done", at__gte=timezone.now() - dt.timedelta(minutes=10),
                                 criteria__number=f"R{i:08d}").exists()

    out["receipt"] = _timings(receipt, samples)

    checkpoints.checkpoint()
    for _ in range(10_000):
        events.record(actor, function="person.read", person_ids=[rng.randrange(1, persons + 1)])
    chain.link()
    t = time.perf_counter()
    result = chain.verify(incremental=True)
    out["verify"] = {"s": round(time.perf_counter() - t, 3), "rows": result.rows, "ok": result.ok}
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_inherits WHERE inhparent = 'audit_accesslog'::regclass")
        out["partitions"] = cur.fetchone()[0]
        cur.execute("SELECT pg_total_relation_size(c.oid) FROM pg_class c WHERE relname = 'audit_accesslogsubject'")
        subjects = cur.fetchone()[0]
        cur.execute("SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits WHERE inhparent = 'audit_accesslog'::regclass")
        out["bytes"] = int(cur.fetchone()[0]) + subjects
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000_000)
    parser.add_argument("--baseline-rows", type=int, default=1_000_000)
    parser.add_argument("--persons", type=int, default=1_000_000, help="persons named by the grown log")
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--prepare", type=int, metavar="USERS", help=argparse.SUPPRESS)
    parser.add_argument("--measure", type=int, metavar="PERSONS", help=argparse.SUPPRESS)
    parser.add_argument("--first-month", action="store_true",
                        help="also measure the log after its first month at the grown log's rate (rows / 84)")
    parser.add_argument("--keep", metavar="DIR", help="cluster directory to keep (re-used when it has both databases)")
    args = parser.parse_args()
    if args.prepare:
        return prepare(args.prepare)
    if args.measure:
        print(json.dumps(measure(args.measure, args.samples, args.seed)))
        return

    from _common import RESULTS, machine, src_info
    from juki.intermediary import cluster

    directory = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="juki-bench-log-"))
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o755)
    pg = cluster.start(directory, fast=True)  # fsync off: the build's 100 M rows, not what is measured
    # Same log rows per person and per user and day in both: the baseline has proportionally fewer.
    plan = [("baseline", args.baseline_rows, max(1, args.persons * args.baseline_rows // args.rows),
             max(1, USERS * args.baseline_rows // args.rows)),
            ("grown", args.rows, args.persons, USERS)]
    if args.first_month:  # the same city after its first month: the log's rate, one month of history
        plan.insert(1, ("first_month", args.rows // MONTHS, args.persons, USERS, 1))
    report = {"rows": args.rows, "baseline_rows": args.baseline_rows, "months": MONTHS, **src_info(),
              "machine": machine(), "date": dt.date.today().isoformat()}
    try:
        for label, rows, persons, users, *span in plan:
            url = f"postgresql://postgres@127.0.0.1:{pg.port}/juki_log_{label}"
            env = {**os.environ, "DATABASE_URL": url, "JUKI_VAR_DIR": str(directory / "var"),
                   "DJANGO_SETTINGS_MODULE": "juki.conf.dev", "PYTHONPATH": str(ROOT / "src")}
            with psycopg.connect(pg.url, autocommit=True) as conn:
                exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [f"juki_log_{label}"]).fetchone()
                if not (exists and args.keep):
                    conn.execute(f"DROP DATABASE IF EXISTS juki_log_{label}")
                    conn.execute(f"CREATE DATABASE juki_log_{label}")
                    report[f"{label}_build_s"] = round(build(url, env, rows, persons, users, *span), 1)
                    print(f"{label}: {rows} rows built in {report[f'{label}_build_s']} s", file=sys.stderr)
            done = subprocess.run([sys.executable, __file__, "--measure", str(persons), "--samples", str(args.samples),
                                   "--seed", str(args.seed)], env=env, capture_output=True, text=True)
            assert done.returncode == 0, done.stderr
            report[label] = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"{label}: {json.dumps(report[label])}", file=sys.stderr)
        ratios = {}
        for key in ("write", "person", "user", "login", "receipt"):
            ratios[f"{key}_p95"] = round(report["grown"][key]["p95_ms"] / report["baseline"][key]["p95_ms"], 2)
        ratios["verify"] = round(report["grown"]["verify"]["s"] / report["baseline"]["verify"]["s"], 2)
        report["ratios"] = ratios
        if "first_month" in report:
            report["ratios_to_first_month"] = {
                **{f"{k}_p95": round(report["grown"][k]["p95_ms"] / report["first_month"][k]["p95_ms"], 2)
                   for k in ("write", "person", "user", "login", "receipt")},
                "verify": round(report["grown"]["verify"]["s"] / report["first_month"]["verify"]["s"], 2)}
        RESULTS.mkdir(parents=True, exist_ok=True)
        with open(RESULTS / "log_partitions.jsonl", "a") as f:
            f.write(json.dumps(report) + "\n")
        print(json.dumps(report, ensure_ascii=False, indent=1))
    finally:
        pg.stop()
        if not args.keep:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
