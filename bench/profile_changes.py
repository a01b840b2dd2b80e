"""Where a change operation's time goes: per-statement DB time vs. Python time (diagnostic).

    .venv/bin/python bench/profile_changes.py --database-url postgresql://... [--n 200] [--kind move|birth] [--cprofile]

Runs --n operations (after 20 warm-up ones) like bench_changes.py and prints, per SQL
statement shape, how often it ran and the total/mean wall time spent in cursor.execute
(which includes the loopback round trip), plus COMMIT, and the remainder (Python).
"""
from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402
import bench_changes as bc  # noqa: E402


def shape(sql: str) -> str:
    s = re.sub(r"\s+", " ", sql)
    s = re.sub(r'SELECT .*? FROM', "SELECT … FROM", s, count=1)
    s = re.sub(r"\(%s(, %s)*\)", "(…)", s)
    s = re.sub(r"(LIMIT|OFFSET) \d+", r"\1 n", s)
    s = re.sub(r"VALUES \(.*?\)", "VALUES (…)", s)
    s = re.sub(r'INSERT INTO ("\w+") \(.*?\)', r"INSERT INTO \1 (…)", s)
    return s[:170]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--kind", choices=("move", "birth"), default="move")
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--cprofile", action="store_true")
    ap.add_argument("--db-options", type=json.loads, default=None)
    args = ap.parse_args()
    c.setup_django(args.database_url, args.db_options)
    from django.db import connection
    rng = random.Random(args.seed)
    ops = bc.Ops(c.bench_actor(), rng)
    hs = bc.pick_households(args.n + 20, rng, japanese_only=args.kind == "birth", exclude=set())
    fn = ops.move if args.kind == "move" else ops.birth
    from juki.core.errors import DomainError

    def fn_safe(h):  # a refused operation (e.g. a seeded 永住者 without 満了日) is skipped, not timed apart
        try:
            fn(h)
        except DomainError:
            refused[0] += 1

    refused = [0]
    for h in hs[:20]:
        fn_safe(h)

    per: dict[str, list[float]] = defaultdict(list)

    def timer(execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            per[shape(sql)].append(time.perf_counter() - t0)

    commit_t: list[float] = []
    raw_commit = connection.commit

    def timed_commit():
        t0 = time.perf_counter()
        raw_commit()
        commit_t.append(time.perf_counter() - t0)

    # Django's atomic() commits through connection.commit() -> _commit(); time the latter.
    orig_commit = connection._commit

    def _commit():
        t0 = time.perf_counter()
        try:
            return orig_commit()
        finally:
            commit_t.append(time.perf_counter() - t0)

    connection._commit = _commit
    prof = cProfile.Profile() if args.cprofile else None
    t0 = time.perf_counter()
    with connection.execute_wrapper(timer):
        if prof:
            prof.enable()
        for h in hs[20:]:
            fn_safe(h)
        if prof:
            prof.disable()
    total = time.perf_counter() - t0
    n = len(hs) - 20
    db = sum(sum(v) for v in per.values())
    cm = sum(commit_t)
    print(f"{n} {args.kind} operations: {total / n * 1000:.2f} ms each; "
          f"in SQL {db / n * 1000:.2f} ms, COMMIT {cm / n * 1000:.2f} ms ({len(commit_t) / n:.1f}/op), "
          f"Python/other {(total - db - cm) / n * 1000:.2f} ms; refused: {refused[0]}")
    for s, v in sorted(per.items(), key=lambda kv: -sum(kv[1])):
        print(f"{sum(v) / n * 1000:7.3f} ms/op  {len(v) / n:4.1f}x  mean {sum(v) / len(v) * 1000:6.3f} ms  {s}")
    if prof:
        pstats.Stats(prof).sort_stats(os.environ.get("PSTATS_SORT", "cumulative")).print_stats(40)


if __name__ == "__main__":
    main()
