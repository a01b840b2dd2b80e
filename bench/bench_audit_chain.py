"""Cost of the hash-chained access log (ADR 0007) on SQLite: N gate log writes with the chain vs. a
baseline that inserts the row as before the chain (no head lock, no hash), in the same run.

    .venv/bin/python bench/bench_audit_chain.py [--writes 2000] [--rounds 3] [--subjects 3]

Each write is `events.record(...)`: one transaction with the log row and its subjects, as a read
writes it. Rounds alternate chain / baseline so that drift (disk cache, WAL growth) hits both.
Finally `chain.verify()` is timed over the chained rows. Fresh database under
$BENCH_ROOT/sqlite/audit_chain.sqlite3; results appended to results/audit_chain.jsonl.
"""
from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

BASELINE_SEQ = 10**12  # baseline rows get numbers far from the chain's, and are removed before verify


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--subjects", type=int, default=3, help="persons named by each log row")
    args = parser.parse_args()

    path = _common.BENCH_ROOT / "sqlite" / "audit_chain.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    _common.setup_django(f"sqlite:///{path}")

    from django.core.management import call_command
    from django.db import connection

    from juki.audit import chain, events
    from juki.core import sql

    call_command("migrate", verbosity=0)
    actor = _common.bench_actor()
    chained_append = chain.append
    numbers = itertools.count(BASELINE_SEQ)

    def baseline_append(entry, person_ids):  # the row as the gate inserted it before the chain
        entry.seq, entry.prev_hash, entry.row_hash = next(numbers), "", ""
        return sql.insert(entry)

    def run(append) -> tuple[float, float]:
        """Wall and CPU seconds (CPU time is steadier when other jobs share the machine)."""
        chain.append = append
        try:
            start, cpu = time.perf_counter(), time.process_time()
            for i in range(args.writes):
                events.record(actor, function="bench.event", person_ids=range(i, i + args.subjects),
                              criteria={"i": i, "q": "ｱｵｷ"})
            return time.perf_counter() - start, time.process_time() - cpu
        finally:
            chain.append = chained_append

    run(chained_append)  # warm-up: statement caches, page cache
    times = {"chain": [], "baseline": []}
    cpu = {"chain": [], "baseline": []}
    for _ in range(args.rounds):
        for name, append in (("chain", chained_append), ("baseline", baseline_append)):
            wall, used = run(append)
            times[name].append(wall)
            cpu[name].append(used)

    with connection.cursor() as cur:  # leave only the chain for verify (SQLite has no DELETE trigger)
        cur.execute("DELETE FROM audit_accesslogsubject WHERE log_id IN (SELECT id FROM audit_accesslog WHERE seq >= %s)",
                    [BASELINE_SEQ])
        cur.execute("DELETE FROM audit_accesslog WHERE seq >= %s", [BASELINE_SEQ])
    start = time.perf_counter()
    result = chain.verify()
    verify_s = time.perf_counter() - start
    assert result.ok, result.summary()

    def per_write_us(name, source=times):
        return round(statistics.median(source[name]) / args.writes * 1e6, 1)

    data = {
        "bench": "audit_chain", "engine": "sqlite", "writes_per_round": args.writes, "rounds": args.rounds,
        "subjects_per_row": args.subjects,
        "chain_us_per_write": per_write_us("chain"), "baseline_us_per_write": per_write_us("baseline"),
        "ratio": round(statistics.median(times["chain"]) / statistics.median(times["baseline"]), 3),
        "chain_cpu_us_per_write": per_write_us("chain", cpu), "baseline_cpu_us_per_write": per_write_us("baseline", cpu),
        "cpu_ratio": round(statistics.median(cpu["chain"]) / statistics.median(cpu["baseline"]), 3),
        "chain_round_s": [round(t, 3) for t in times["chain"]],
        "baseline_round_s": [round(t, 3) for t in times["baseline"]],
        "verify_rows": result.rows, "verify_s": round(verify_s, 3),
        "verify_rows_per_s": round(result.rows / verify_s) if verify_s else None,
        "machine": _common.machine(), **_common.src_info(),
    }
    _common.record("audit_chain", data)


if __name__ == "__main__":
    main()
