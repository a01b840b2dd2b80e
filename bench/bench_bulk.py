"""Bulk reads through the gate (ADR 0020) over the seeded register, with a same-run baseline.

    .venv/bin/python bench/bench_bulk.py --database-url postgresql://postgres@127.0.0.1:55432/juki_seed_1000000

Modes (each in the same process, one after the other, each timed on its own):
  baseline    a plain keyset scan: `SELECT p.*, v.* FROM register_person p JOIN register_personversion v
              ON v.id = p.current_id WHERE p.id > %s ORDER BY p.id LIMIT 2000`, rows fetched as tuples
              and dropped — no gate, no ORM, no read models, no 支援措置 check
  statistics  extract.statistics_read (PersonRecord per person, count-only log row)
  snapshot    extract.snapshot_hand_over for the destination `atena` (outbox entries, 1 M subjects)

The database is not changed: every mode runs inside one transaction that is rolled back at the end
(the log row, its subjects and the cursor are written, then discarded). Inside that transaction the
hand-over cannot start its own REPEATABLE READ view, so the bench lets it read in a savepoint of the
outer READ COMMITTED transaction (`_consistent_view(strict=False)`); the statements and the rows are
the same. A sink that has run longer than --max-seconds stops the mode (the gate then logs the run as
an error, with what was read so far, and the figures say how many persons were read).
Reports per mode: persons, seconds, persons/s, statements (Django's execute_wrapper; the baseline's own
count), peak RSS growth (ru_maxrss before → after, KiB) and, for the gated modes, the log rows and
subjects written; and the ratio of each mode's seconds to the baseline's.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402

_SCAN = ("SELECT p.*, v.* FROM register_person p JOIN register_personversion v ON v.id = p.current_id "
         "WHERE p.id > %s ORDER BY p.id LIMIT %s")


class Stop(Exception):
    pass


def parse() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", default=os.environ.get("DATABASE_URL"), required=not os.environ.get("DATABASE_URL"))
    ap.add_argument("--modes", default="baseline,statistics,snapshot")
    ap.add_argument("--chunk", type=int, default=2000)
    ap.add_argument("--max-seconds", type=float, default=600, help="cap per mode")
    return ap.parse_args()


def rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> None:
    args = parse()
    c.setup_django(args.database_url)
    from django.db import connection, transaction

    from juki.audit.gate import Actor
    from juki.audit.models import AccessLog, AccessLogSubject
    from juki.register.services import extract

    statements = [0]

    def counter(execute, sql, params, many, context):
        statements[0] += 1
        return execute(sql, params, many, context)

    relaxed = extract._consistent_view

    def rolled_back(fn):
        """Run `fn` in a transaction that is rolled back; return what it measured."""
        out = {}
        try:
            with transaction.atomic():
                out = fn()
                raise Stop  # discard the log row, its subjects and the cursor
        except Stop:
            pass
        return out

    def baseline() -> dict:
        n, last, start = 0, 0, time.perf_counter()
        stmts = 0
        with connection.cursor() as cur:
            while time.perf_counter() - start < args.max_seconds:
                cur.execute(_SCAN, [last, args.chunk])
                stmts += 1
                rows = cur.fetchall()
                if not rows:
                    break
                n += len(rows)
                last = rows[-1][0]
        return {"persons": n, "seconds": time.perf_counter() - start, "statements": stmts, "stopped": bool(rows)}

    def gated(call, function: str, **kw) -> dict:
        seen = [0]
        start = time.perf_counter()

        def sink(batch):
            seen[0] += len(batch)
            if time.perf_counter() - start > args.max_seconds:
                raise Stop

        statements[0] = 0
        logs_before = AccessLog.objects.order_by("-id").values_list("id", flat=True).first() or 0
        stopped = False
        with connection.execute_wrapper(counter):
            try:
                summary = call(sink=sink, chunk=args.chunk, **kw)
            except Stop:
                stopped, summary = True, None
        seconds = time.perf_counter() - start
        # This run's row only: other sessions may be writing log rows to the same database meanwhile.
        logs = list(AccessLog.objects.filter(id__gt=logs_before, function=function)
                    .values_list("id", "person_count", "outcome"))
        subjects = AccessLogSubject.objects.filter(log_id__in=[x[0] for x in logs]).count()
        return {"persons": seen[0], "seconds": seconds, "statements": statements[0], "stopped": stopped,
                "log_rows": len(logs), "log_person_count": [x[1] for x in logs], "log_outcome": [x[2] for x in logs],
                "subjects": subjects, "withheld": summary.withheld if summary else None}

    modes = {
        "baseline": baseline,
        "statistics": lambda: gated(extract.statistics_read, "batch.statistics", actor=Actor.system_actor("statistics"),
                                    purpose="ベンチマーク（集計）"),
        "snapshot": lambda: gated(extract.snapshot_hand_over, "outbox.snapshot", actor=Actor.system_actor("atena"), destination="atena",
                                  purpose="ベンチマーク（初期データ）"),
    }
    extract._consistent_view = lambda *, strict: relaxed(strict=False)  # see the docstring
    results = {}
    for name in args.modes.split(","):
        before = rss_kib()
        out = rolled_back(modes[name])
        out["persons_per_s"] = round(out["persons"] / out["seconds"], 1) if out["seconds"] else None
        out["rss_growth_kib"] = rss_kib() - before
        out["seconds"] = round(out["seconds"], 2)
        results[name] = out
        print(name, out, flush=True)
    base = results.get("baseline")
    if base:
        for name, out in results.items():
            if name != "baseline" and out["persons"] and base["persons"]:
                # Per person: the time of a bulk read ÷ the time of the plain scan.
                out["ratio_to_baseline"] = round((out["seconds"] / out["persons"]) / (base["seconds"] / base["persons"]), 1)
    c.record("bulk", {"at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": c.machine(),
                      **c.src_info(), "database": args.database_url.rsplit("/", 1)[-1], "chunk": args.chunk,
                      "max_seconds": args.max_seconds, "peak_rss_kib": rss_kib(), "modes": results})


if __name__ == "__main__":
    main()
