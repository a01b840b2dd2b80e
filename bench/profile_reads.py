"""Where a read's time goes (diagnostic): selectors.person_get + household_get in-process,
per-statement DB time, COMMITs (autocommit: each statement outside atomic() commits), rest.

    .venv/bin/python bench/profile_reads.py --database-url postgresql://... [--n 300]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402
from profile_changes import shape  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--db-options", type=json.loads, default=None)
    args = ap.parse_args()
    c.setup_django(args.database_url, args.db_options)
    from django.db import connection
    from juki.register import selectors

    actor = c.bench_actor()
    with connection.cursor() as cur:
        cur.execute("SELECT MAX(id) FROM register_person")
        pmax = cur.fetchone()[0]
    rng = random.Random(args.seed)
    ids = [rng.randint(1, pmax) for _ in range(args.n + 20)]
    for pid in ids[:20]:
        p = selectors.person_get(actor=actor, person_id=pid)
        selectors.household_get(actor=actor, household_id=p["household_id"])
    per = {"person": defaultdict(list), "household": defaultdict(list)}
    cur_kind = ["person"]

    def timer(execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            per[cur_kind[0]][shape(sql)].append(time.perf_counter() - t0)

    totals = {"person": 0.0, "household": 0.0}
    with connection.execute_wrapper(timer):
        for pid in ids[20:]:
            cur_kind[0] = "person"
            t0 = time.perf_counter()
            p = selectors.person_get(actor=actor, person_id=pid)
            t1 = time.perf_counter()
            cur_kind[0] = "household"
            selectors.household_get(actor=actor, household_id=p["household_id"])
            t2 = time.perf_counter()
            totals["person"] += t1 - t0
            totals["household"] += t2 - t1
    n = args.n
    for kind in ("person", "household"):
        db = sum(sum(v) for v in per[kind].values())
        print(f"{kind}: {totals[kind] / n * 1000:.2f} ms in-process per call; SQL (incl. autocommit) {db / n * 1000:.2f} ms; "
              f"Python {(totals[kind] - db) / n * 1000:.2f} ms")
        for s, v in sorted(per[kind].items(), key=lambda kv: -sum(kv[1])):
            print(f"  {sum(v) / n * 1000:7.3f} ms/call {len(v) / n:4.1f}x  {s}")


if __name__ == "__main__":
    main()
