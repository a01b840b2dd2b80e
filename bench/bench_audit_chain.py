"""The access log with its chain off the critical path (ADR 0007, issue 19 item 3), on PostgreSQL:
log writes per second from N writer processes with the chainer running, against the same writers
with no chainer (rows left unlinked) in the same run, and the time from a row's write to its link.

    bash bench/pg.sh createdb juki_chain
    .venv/bin/python bench/bench_audit_chain.py --database-url $(bash bench/pg.sh url juki_chain) \\
        [--writers 4] [--seconds 15] [--rounds 2] [--subjects 3]

Each writer is a process writing `events.record(...)` rows (a read's log row: one statement, its
subjects included) as fast as it can. Rounds alternate "chainer" / "no chainer" so that drift hits
both; the chainer is `juki audit chain --follow`'s loop (`chain.link()` every 0.2 s) in its own
process. Reported: writes/s each way and their ratio; the chainer's lag, i.e. for each batch the
age of its oldest row when linked (p50, p95, max); and the rows still waiting after the writers
stop. Finally `chain.verify()` over everything. Results go to results/audit_chain.jsonl.
"""
from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402


def _writer(database_url: str, seconds: float, start_at: float, subjects: int, queue) -> None:
    _common.setup_django(database_url)
    from juki.audit import events

    actor = _common.bench_actor()
    n = 0
    time.sleep(max(0.0, start_at - time.time()))
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        events.record(actor, function="bench.event", person_ids=range(n, n + subjects), criteria={"i": n, "q": "ｱｵｷ"})
        n += 1
    queue.put(n)


def _chainer(database_url: str, start_at: float, stop, queue) -> None:
    _common.setup_django(database_url)
    from juki.audit import chain

    lags, rows = [], 0
    time.sleep(max(0.0, start_at - time.time()))
    while not stop.is_set():
        done = chain.link()
        if done.rows:
            lags.append(done.max_lag)
            rows += done.rows
        time.sleep(0.2)
    queue.put((rows, lags))


def _round(database_url: str, writers: int, seconds: float, subjects: int, chained: bool) -> dict:
    ctx = multiprocessing.get_context("spawn")
    queue, chain_queue, stop = ctx.Queue(), ctx.Queue(), ctx.Event()
    start_at = time.time() + 3.0
    procs = [ctx.Process(target=_writer, args=(database_url, seconds, start_at, subjects, queue)) for _ in range(writers)]
    linker = ctx.Process(target=_chainer, args=(database_url, start_at, stop, chain_queue)) if chained else None
    for p in procs + ([linker] if linker else []):
        p.start()
    written = sum(queue.get() for _ in procs)
    for p in procs:
        p.join()
    out = {"chained": chained, "writes": written, "per_s": round(written / seconds, 1)}
    if linker:
        time.sleep(0.5)  # one more pass after the writers stop
        stop.set()
        rows, lags = chain_queue.get()
        linker.join()
        out.update(linked=rows, lag_p50_ms=round(statistics.median(lags) * 1000, 1) if lags else None,
                   lag_p95_ms=round(_common.pct(lags, 95) * 1000, 1) if lags else None,
                   lag_max_ms=round(max(lags) * 1000, 1) if lags else None)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--subjects", type=int, default=3, help="persons named by each log row")
    args = parser.parse_args()
    _common.setup_django(args.database_url)
    from django.core.management import call_command
    from django.db import connections

    from juki.audit import chain

    call_command("migrate", verbosity=0)
    _common.bench_actor()
    # Code from before issue 19 (BENCH_SRC of an older commit) links each row as it writes it,
    # under the head's row lock: its rounds have no chainer to run (the A of an A/B).
    deferred = hasattr(chain, "link")
    if deferred:
        chain.link()
    connections.close_all()
    rounds = []
    for _ in range(args.rounds):
        for chained in ((True, False) if deferred else (False,)):
            rounds.append(_round(args.database_url, args.writers, args.seconds, args.subjects, chained))
            if not chained and deferred:  # what the no-chainer round left: linked here, outside the timing
                chain.link()
                connections.close_all()
    with_chainer = statistics.median(r["per_s"] for r in rounds if r["chained"]) if deferred else None
    without = statistics.median(r["per_s"] for r in rounds if not r["chained"])
    lags = [r["lag_max_ms"] for r in rounds if r["chained"] and r.get("lag_max_ms") is not None]
    started = time.perf_counter()
    result = chain.verify()
    verify_s = time.perf_counter() - started
    assert result.ok, result.summary()
    data = {"bench": "audit_chain", "engine": "postgresql", "writers": args.writers, "seconds": args.seconds,
            "subjects_per_row": args.subjects, "rounds": rounds, "writes_per_s_chainer": with_chainer,
            "writes_per_s_no_chainer": without,
            "ratio": round(with_chainer / without, 3) if without and with_chainer else None,
            "deferred_linking": deferred,
            "lag_max_ms": max(lags) if lags else None,
            "verify_rows": result.rows, "verify_s": round(verify_s, 2),
            "machine": _common.machine(), **_common.src_info()}
    _common.record("audit_chain", data)
    for r in rounds:
        print(r)
    print(f"writes/s with the chainer {with_chainer}, without {without}, ratio {data['ratio']}; "
          f"worst lag {data['lag_max_ms']} ms; verify {result.rows} rows in {verify_s:.1f} s")


if __name__ == "__main__":
    main()
