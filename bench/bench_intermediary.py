"""The 中間サーバー (issue 17): automatic answers per second and their latency, two tenants of N persons
each, with a same-run baseline.

    .venv/bin/python bench/bench_intermediary.py [--persons 1000000] [--threads 8] [--seconds 30]

A PostgreSQL cluster of its own (fsync on) under $BENCH_ROOT/intermediary-pg, the platform's schema
and two tenants (北九州市 401005, 福岡市 401307), each loaded with N 副本 rows and N 符号 through its own
tenant role (row-level security applies to the load as to everything else: COPY is refused); then
`juki intermediary serve` as a process of its own. The inquiries are the network's (`infonet`'s
certificate, mutual TLS, keep-alive per thread): a random resident of a random tenant, 別表第二 48
(厚生労働大臣) with the three items, answered and sealed to a requester's key; each a fresh message id.

- baseline  the same HTTPS round trip to `GET /health` (no database), same threads, same duration
- answer    `POST /providers/<code>/inquiries`, the automatic answer (permit check, 符号 → 副本,
            the seal, the inquiry row and two 情報提供等記録 rows, one transaction)
- serial    the answer again from one thread (latency without contention)
The database is dropped at the start (`--keep` re-uses a loaded one); after the load, VACUUM ANALYZE and
a CHECKPOINT settle it, as a platform would before taking traffic.
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402

TENANTS = {"401005": "北九州市", "401307": "福岡市"}


def parse() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--keep", action="store_true", help="re-use the loaded database")
    return ap.parse_args()


def number(tenant_index: int, i: int) -> str:
    return f"{tenant_index}{i:011d}"


def fugo_of(code: str, i: int) -> str:
    return hashlib.md5(f"{code}-{i}".encode()).hexdigest()


def load(url: str, persons: int) -> dict:
    from juki.intermediary import db

    conns = db.Connections(url)
    took = {}
    for index, code in enumerate(TENANTS, start=1):
        started = time.perf_counter()
        conn = conns.tenant(code)
        # COPY is refused under row-level security: INSERT … SELECT FROM unnest, 50,000 rows a statement.
        with conn.transaction(), conn.cursor() as cur:
            for start in range(0, persons, 50_000):
                rows = range(start, min(persons, start + 50_000))
                heads = [i % 3 == 0 for i in rows]  # about 2.3 persons a household
                cur.execute(
                    "INSERT INTO replica (tenant, unified_number, status, is_head, head_name, relationship, no_auto, "
                    "position) SELECT im_tenant(), n, 'resident', h, hn, r, a, 1 FROM unnest(%s::text[], %s::bool[], "
                    "%s::text[], %s::text[], %s::bool[]) AS t(n, h, hn, r, a)",
                    ([number(index, i) for i in rows], heads, ["" if h else "北九　太郎" for h in heads],
                     ["" if h else "子" for h in heads], [i % 2000 == 1999 for i in rows]))
                cur.execute("INSERT INTO fugo (tenant, unified_number, fugo) SELECT im_tenant(), n, f "
                            "FROM unnest(%s::text[], %s::text[]) AS t(n, f)",
                            ([number(index, i) for i in rows], [fugo_of(code, i) for i in rows]))
        conn.execute("ANALYZE replica")
        conn.execute("ANALYZE fugo")
        conn.commit()
        took[code] = round(time.perf_counter() - started, 1)
        print(f"loaded {code}: {persons} 副本 + 符号 in {took[code]} s", flush=True)
    conns.close()
    return took


def drive(make_client, call, *, threads: int, seconds: float) -> tuple[list[float], int]:
    """`threads` loops calling `call(client, rng)` for `seconds`; every latency, and errors."""
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors = [0] * threads
    stop = time.monotonic() + seconds

    def worker(k: int) -> None:
        client, rng = make_client(), random.Random(k)
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            ok = call(client, rng)
            latencies[k].append(time.perf_counter() - t0)
            errors[k] += not ok

    pool = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return [x for part in latencies for x in part], sum(errors)


def main() -> None:
    args = parse()
    src = c.src_dir()
    if str(src) not in sys.path:
        sys.path.insert(0, str(src))
    import psycopg

    from juki.intermediary import cli, cluster, db, sealing
    from juki.network import pki
    from juki.network.wire import Client

    root = c.BENCH_ROOT
    pg = cluster.start(root / "intermediary-pg")
    network = root / "intermediary-net"
    pki.create(network, municipalities=tuple(TENANTS))
    try:
        if not args.keep:
            with psycopg.connect(pg.url, autocommit=True) as conn:
                conn.execute("DROP DATABASE IF EXISTS intermediary_bench")
        url = db.create_database(pg.url, "intermediary_bench")
        cli.prepare(url, TENANTS)
        results: dict = {"machine": c.machine(), **c.src_info(), "at": dt.datetime.now(dt.timezone.utc).isoformat(),
                         "persons_per_tenant": args.persons, "tenants": len(TENANTS), "threads": args.threads,
                         "seconds": args.seconds}
        if not args.keep:
            results["load_s"] = load(url, args.persons)
            # What a platform does after a bulk load before it takes traffic: statistics, the visibility
            # map, and the checkpoint behind the 4 M rows (without them the first run measured the
            # autovacuum and the checkpoint: p95 594 ms at 8 threads, 2026-12-07 04:00 UTC).
            started = time.perf_counter()
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE replica")
                conn.execute("VACUUM ANALYZE fugo")
                conn.execute("CHECKPOINT")
            results["settle_s"] = round(time.perf_counter() - started, 1)
        proc, base = cli.start_server(url, network)
        try:
            _, public = sealing.new_key()

            def make_client() -> Client:
                return Client(base, directory=network, name="infonet", timeout=30)

            def health(client: Client, rng: random.Random) -> bool:
                return client.call("GET", "/health")[0] == 200

            def answer(client: Client, rng: random.Random) -> bool:
                index = rng.randrange(len(TENANTS))
                code = list(TENANTS)[index]
                i = rng.randrange(args.persons)
                while i % 2000 == 1999:  # 自動応答不可: held, not answered
                    i = rng.randrange(args.persons)
                status, body = client.call("POST", f"/providers/{code}/inquiries", {
                    "message_id": f"bench-{os.getpid()}-{threading.get_ident()}-{time.perf_counter_ns()}",
                    "requester": "req-mhlw", "requester_kind": "厚生労働大臣", "provision": 48, "affair": "048-1",
                    "items": ["is_head", "head_name", "relationship"], "fugo": fugo_of(code, i), "public_key": public})
                return status == 200 and body.get("state") == "answered"

            drive(make_client, answer, threads=args.threads, seconds=3)  # warm the caches and connections
            for name, call, threads in (("baseline", health, args.threads), ("answer", answer, args.threads),
                                        ("serial", answer, 1)):
                times, errors = drive(make_client, call, threads=threads, seconds=args.seconds)
                results[name] = {**c.summary_ms(times), "per_s": round(len(times) / args.seconds, 1), "errors": errors}
                print(name, json.dumps(results[name]), flush=True)
            results["ratio_p95_answer_to_baseline"] = round(results["answer"]["p95_ms"] / results["baseline"]["p95_ms"], 2)
            results["ratio_per_s_answer_to_baseline"] = round(results["answer"]["per_s"] / results["baseline"]["per_s"], 3)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
        c.record("intermediary", results)
    finally:
        pg.stop()


if __name__ == "__main__":
    main()
