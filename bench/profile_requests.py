"""Where a request's time goes, in-process (diagnostic): the whole Django stack through its test
client — middleware, session, authentication, the view, the template — with no server or socket.

    .venv/bin/python bench/profile_requests.py --database-url postgresql://... --kind api|screens|search [--n 300] [--cprofile]

Kinds:
  api      GET /api/v1/persons/{id} + /api/v1/households/{id} (bearer token), and the same-run
           baseline GET /api/v1/master/wards: what bench_http.py times over HTTP.
  screens  the counter's person screen and household screen (a logged-in session).
  search   the counter's search (htmx POST), the five kinds of bench_search.py.

Prints per unit: wall and CPU ms, of which ORM query compilation (Django's SQLCompiler.as_sql,
timed by wrapping it) and database time (around cursor.execute: the loopback round trip and
PostgreSQL's work), and the statements run; the rest is Python (Django, juki, templates).
`--cprofile` adds the top functions by own time.
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402

HOUSEHOLD_LINK = re.compile(r"/counter/households/(\d+)/")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    ap.add_argument("--kind", choices=("api", "screens", "search"), default="api")
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--cprofile", action="store_true")
    ap.add_argument("--top", type=int, default=40)
    args = ap.parse_args()
    c.setup_django(args.database_url)
    from django.db import connection
    from django.db.models.sql import compiler
    from django.test import Client

    c.bench_actor()
    with connection.cursor() as cur:
        cur.execute("SELECT MAX(id) FROM register_person")
        pmax = cur.fetchone()[0]
    rng = random.Random(args.seed)
    client = Client(HTTP_HOST="127.0.0.1")

    if args.kind == "api":
        client.defaults["HTTP_X_TERMINAL_ID"] = c.BENCH_TERMINAL
        r = client.post("/api/v1/auth/token", {"username": c.BENCH_USER, "password": c.BENCH_PASSWORD},
                        content_type="application/json")
        headers = dict(HTTP_AUTHORIZATION=f"Bearer {r.json()['token']}", HTTP_ACCEPT="application/json")

        def unit(pid):
            p = client.get(f"/api/v1/persons/{pid}", **headers)
            client.get(f"/api/v1/households/{p.json()['household_id']}", **headers)
            client.get("/api/v1/master/wards", **headers)
        label = "person + household + wards (API)"
        work = [rng.randint(1, pmax) for _ in range(args.n + args.warmup)]
    else:
        client.get("/counter/login/")
        r = client.post("/counter/login/", {"username": c.BENCH_USER, "password": c.BENCH_PASSWORD,
                                            "terminal": c.BENCH_TERMINAL, "next": "/counter/"})
        if r.status_code != 302 or "/login/" in r["Location"]:
            raise SystemExit("login refused")
        if args.kind == "screens":
            def unit(pid):
                page = client.get(f"/counter/persons/{pid}/")
                if m := HOUSEHOLD_LINK.search(page.content.decode()):
                    client.get(f"/counter/households/{m.group(1)}/")
            label = "person screen + household screen"
            work = [rng.randint(1, pmax) for _ in range(args.n + args.warmup)]
        else:
            import bench_search as bs
            targets = bs.draw_targets(args.n + args.warmup, rng)
            work = [(bs.KINDS[i % len(bs.KINDS)], bs.criteria_for(bs.KINDS[i % len(bs.KINDS)], t, rng))
                    for i, t in enumerate(targets)]

            def unit(task):
                r = client.post("/counter/", task[1], HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results")
                assert r.status_code == 200, r.status_code
            label = "search (htmx POST)"

    acc = {"compile": 0.0, "db": 0.0, "n": 0}
    original, depth = compiler.SQLCompiler.as_sql, [0]

    def as_sql(self, *a, **kw):
        depth[0] += 1
        t0 = time.perf_counter()
        try:
            return original(self, *a, **kw)
        finally:
            depth[0] -= 1
            if depth[0] == 0:
                acc["compile"] += time.perf_counter() - t0

    def timed(execute, sql, params, many, context):
        t0 = time.perf_counter()
        acc["n"] += 1
        try:
            return execute(sql, params, many, context)
        finally:
            acc["db"] += time.perf_counter() - t0

    compiler.SQLCompiler.as_sql = as_sql
    for w in work[:args.warmup]:
        unit(w)
    profile = cProfile.Profile() if args.cprofile else None
    rows = []
    with connection.execute_wrapper(timed):
        for w in work[args.warmup:]:
            acc.update(compile=0.0, db=0.0, n=0)
            t0, c0 = time.perf_counter(), time.process_time()
            if profile:
                profile.enable()
            unit(w)
            if profile:
                profile.disable()
            rows.append(((time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000,
                         acc["compile"] * 1000, acc["db"] * 1000, acc["n"], w[0] if isinstance(w, tuple) else ""))

    def line(name, rs):
        wall = [r[0] for r in rs]
        mean = lambda i: statistics.fmean(r[i] for r in rs)  # noqa: E731
        return (f"{name}: n {len(rs)}, wall p50 {statistics.median(wall):.2f} ms (mean {statistics.fmean(wall):.2f}); "
                f"CPU {mean(1):.2f} ms, of which ORM compile {mean(2):.2f}; in cursor.execute {mean(3):.2f} ms "
                f"({mean(4):.1f} statements)")
    print(f"load average {os.getloadavg()[0]:.2f}; {connection.vendor}; {label}")
    print(line("all", rows))
    for kind in sorted({r[5] for r in rows if r[5]}):
        print(line(f"  {kind}", [r for r in rows if r[5] == kind]))
    if profile:
        pstats.Stats(profile).sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
