"""住民票の写し issued by several worker processes at once, on PostgreSQL (issue 19 item 4, ADR 0021).

    bash bench/pg.sh createdb juki_issue
    .venv/bin/python bench/bench_issue_parallel.py --database-url $(bash bench/pg.sh url juki_issue) \\
        [--procs 1,2] [--seconds 15]

Each worker process issues whole certificates through `certificates.services.certificate_issue`
(entitlement, gated reads, render, number, records, log rows) for `--seconds`, as gunicorn's sync
workers would. The figure is the throughput with N workers against the same run's 1 worker: it says
how far issues run side by side, whatever holds them back: the cores, which PostgreSQL shares, or,
in code before ADR 0021, the year's number row, locked from the number's taking to the commit while
the PDF rendered (now the number is taken in a short transaction of its own, before the render).
The database is migrated and given one household on the first run; results go to
results/issue_parallel.jsonl.
"""
from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common


def _actor():
    from juki.accounts.models import Staff, Terminal
    from juki.audit.gate import Actor

    return Actor(user=Staff.objects.get(username=_common.BENCH_USER),
                 terminal=Terminal.objects.get(code=_common.BENCH_TERMINAL))


def _issue_loop(database_url: str, household_id: int, head: int, seconds: float, start_at: float, queue) -> None:
    _common.setup_django(database_url)
    from juki.certificates.content import Options
    from juki.certificates.entitlement import Request
    from juki.certificates.services import certificate_issue

    actor = _actor()
    request = Request(kind="self", requester_person_id=head, documents=("運転免許証",))
    options = Options(layout="household", head_and_relationship=True)
    times = []
    time.sleep(max(0.0, start_at - time.time()))  # every worker starts together
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        began = time.perf_counter()
        certificate_issue(actor=actor, options=options, household_id=household_id, person_ids=[], request=request)
        times.append(time.perf_counter() - began)
    queue.put(times)


def run(database_url: str, procs: int, seconds: float, household_id: int, head: int) -> dict:
    ctx = multiprocessing.get_context("spawn")  # a fresh interpreter and connection per worker
    queue = ctx.Queue()
    start_at = time.time() + 3.0
    workers = [ctx.Process(target=_issue_loop, args=(database_url, household_id, head, seconds, start_at, queue))
               for _ in range(procs)]
    for w in workers:
        w.start()
    times = [t for _ in workers for t in queue.get()]
    for w in workers:
        w.join()
    return {"procs": procs, "issues": len(times), "per_s": round(len(times) / seconds, 1),
            "p50_ms": round(statistics.median(times) * 1000, 1),
            "p95_ms": round(_common.pct(times, 95) * 1000, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--procs", default="1,2", help="worker counts, the first is the baseline")
    parser.add_argument("--seconds", type=float, default=15)
    args = parser.parse_args()
    _common.setup_django(args.database_url)
    from django.core.management import call_command
    from django.db import connections

    from bench_certificate import household
    from django.db import connection

    call_command("migrate", verbosity=0)
    actor = _common.bench_actor()

    def first_person():  # which household to issue for: not a read of personal data
        with connection.cursor() as cur:
            cur.execute("SELECT household_id, id FROM register_person ORDER BY id LIMIT 1")
            return cur.fetchone()

    if first_person() is None:  # a fresh database: one 4-person household, as bench_certificate's
        import datetime as dt

        from juki.certificates.models import Certifier

        household(actor)
        Certifier.objects.create(title="北九州市長", name="ベンチ　太郎", valid_from=dt.date(2000, 1, 1))
    household_id, head = first_person()
    connections.close_all()
    results = [run(args.database_url, int(n), args.seconds, household_id, head) for n in args.procs.split(",")]
    base = results[0]["per_s"]
    for r in results:
        r["ratio_to_first"] = round(r["per_s"] / base, 2) if base else None
    out = {"bench": "issue_parallel", **_common.src_info(), "seconds": args.seconds, "runs": results}
    _common.record("issue_parallel", out)
    for r in results:
        print(f"{r['procs']} worker(s): {r['issues']} issues, {r['per_s']}/s, p50 {r['p50_ms']} ms, "
              f"p95 {r['p95_ms']} ms, × {r['ratio_to_first']}")


if __name__ == "__main__":
    main()
