"""住基ネット: from a commit at the counter to stored at the prefecture server, through the real processes.

    .venv/bin/python bench/bench_jukinet.py --persons 20000 --changes 2000 --latency 200

A fresh register (SQLite, seeded with --persons) under $BENCH_ROOT/jukinet/, the network's peers and
the city's CS each as its own process (the CS on SQLite, or on PostgreSQL with --cs-database-url),
and the S2 consumer as its own process (`juki jukinet run`), exactly as `juki network up`,
`juki cs serve` and `juki jukinet run` start them.

Phases:
  load        `juki jukinet load`: every person to the CS (snapshot hand-over), until the prefecture has them.
  throughput  --changes 転居 of whole households committed with the consumer paused (SIGSTOP; their rate
              is the register's own commit rate: the baseline), then the consumer let go and timed until
              the prefecture has applied every update: updates/s through S2 → CS → prefecture, and its
              ratio to the register's commit rate (≥ 1: the link keeps up with the counter).
  latency     the consumer running; --latency 転居 committed one every 1/--rate s; each one's time from
              its commit to its arrival at the prefecture (the prefecture's received_at of its first
              member's update); p50/p95, and the ratio of p50 to one mutual-TLS round trip to the
              prefecture measured in the same run.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402


def parse() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--persons", type=int, default=20000)
    ap.add_argument("--changes", type=int, default=2000, help="households moved in the throughput phase")
    ap.add_argument("--latency", type=int, default=200, help="moves timed one by one in the latency phase")
    ap.add_argument("--rate", type=float, default=10.0, help="moves per second in the latency phase")
    ap.add_argument("--cs-database-url", default="", help="the CS on PostgreSQL (default: its own SQLite file)")
    ap.add_argument("--towns", default=os.environ.get("TOWNS", "/work/shared/data/kitakyushu-towns.csv"))
    ap.add_argument("--seed", type=int, default=7)
    return ap.parse_args()


def main() -> None:
    args = parse()
    root = c.BENCH_ROOT / "jukinet"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    os.environ.update(JUKI_VAR_DIR=str(root), JUKI_NETWORK_DIR=str(root / "network"), JUKI_CS_DIR=str(root / "cs"),
                      DJANGO_SETTINGS_MODULE="juki.conf.dev")
    os.environ.pop("DATABASE_URL", None)
    if args.cs_database_url:
        os.environ["JUKI_CS_DATABASE_URL"] = args.cs_database_url
    c.setup_django(None)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    towns = args.towns if Path(args.towns).exists() else str(c.src_dir() / "juki/register/data/demo-towns.csv")
    call_command("load_towns", towns, verbosity=0)
    t = time.perf_counter()
    call_command("seed", persons=args.persons, seed=1, no_progress=True, verbosity=0)
    seed_s = time.perf_counter() - t

    from juki.jukinet import connection, services
    from juki.network import cli as network_cli
    from juki.network import pki
    from juki.network.wire import Client

    procs, description = network_cli.start(root / "network", ports=dict.fromkeys(network_cli.PEERS, 0))
    env = {**os.environ, "PYTHONPATH": str(c.src_dir())}
    cs_proc = subprocess.Popen([sys.executable, "-m", "juki.cli", "cs", "serve", "--network", str(root / "network"),
                                "--port", "0"], env=env)
    consumer = None
    try:
        port_file = root / "network" / f"{pki.cs_name('401005')}.port"
        while not port_file.exists():
            assert cs_proc.poll() is None, "the CS did not start"
            time.sleep(0.05)
        cs = connection.cs_client()
        prefecture = Client(description["peers"]["prefecture"], directory=root / "network", name="cs-401005")

        def applied() -> int:
            return prefecture.call("GET", "/status")[1]["cities"].get("401005", 0)

        def wait_applied(target: int, timeout: float = 3600) -> float:
            start = time.perf_counter()
            while applied() < target:
                assert time.perf_counter() - start < timeout, "the prefecture did not catch up"
                time.sleep(0.02)
            return time.perf_counter()

        # load
        t = time.perf_counter()
        loaded = services.load(cs)
        end = wait_applied(loaded["accepted"])
        load_s = end - t

        # throughput: commit with the consumer stopped, then drain
        rng = random.Random(args.seed)
        from bench_changes import Ops, pick_households

        ops = Ops(c.bench_actor(), rng)
        households = pick_households(args.changes + args.latency + 1, rng, japanese_only=False, exclude=set())
        batch, timed = households[:args.changes], households[args.changes:]
        # The consumer started and warmed up (one move through), then paused (SIGSTOP) while the
        # batch is committed, and let go (SIGCONT) with the clock running: a backlog drained at full speed.
        consumer = subprocess.Popen([sys.executable, "-m", "juki.cli", "jukinet", "run", "--interval", "0.02"], env=env)
        warm = timed.pop()
        base = applied()
        ops.move(warm)
        wait_applied(base + len(warm["members"]))
        consumer.send_signal(signal.SIGSTOP)
        base = applied()
        t = time.perf_counter()
        updates = 0
        for h in batch:
            ops.move(h)
            updates += len(h["members"])
        commit_s = time.perf_counter() - t
        t = time.perf_counter()
        consumer.send_signal(signal.SIGCONT)
        end = wait_applied(base + updates)
        drain_s = end - t
        register_rate = updates / commit_s
        link_rate = updates / drain_s

        # latency: the consumer running, moves paced
        rtt = []
        for _ in range(50):
            r0 = time.perf_counter()
            prefecture.call("GET", "/status")
            rtt.append(time.perf_counter() - r0)
        start_seq = applied()
        committed: list[tuple[set[int], float]] = []
        for h in timed:
            due = time.time()
            ops.move(h)
            committed.append(({pid for pid, _ in h["members"]}, time.time()))
            time.sleep(max(0.0, 1 / args.rate - (time.time() - due)))
        wait_applied(start_seq + sum(len(h["members"]) for h in timed))
        log = []
        after = start_seq
        while True:
            page = prefecture.call("GET", f"/updates?after={after}")[1]["updates"]
            if not page:
                break
            log += page
            after = page[-1]["seq"]
        arrival = {}
        for u in log:  # first arrival of each resident code
            arrival.setdefault(u["resident_code"], dt.datetime.fromisoformat(u["received_at"]).timestamp())
        codes = _codes([pid for ids, _ in committed for pid in ids])
        latencies = []
        for ids, at in committed:
            first = min(arrival[codes[pid]] for pid in ids if codes.get(pid) in arrival)
            latencies.append(first - at)
        lat = c.summary_ms(latencies)
        rtt_ms = c.summary_ms(rtt)
        result = {
            "bench": "jukinet", **c.src_info(), "machine": c.machine(), "date": dt.datetime.now().isoformat(timespec="seconds"),
            "persons": args.persons, "cs_database": "postgresql" if args.cs_database_url else "sqlite", "seed_s": round(seed_s, 1),
            "load": {"persons": loaded["accepted"], "seconds": round(load_s, 2), "per_s": round(loaded["accepted"] / load_s, 1)},
            "throughput": {"households": len(batch), "updates": updates, "register_commit_per_s": round(register_rate, 1),
                           "link_updates_per_s": round(link_rate, 1), "ratio_to_register": round(link_rate / register_rate, 2),
                           "goal_per_s": 200},
            "latency": {**lat, "moves": len(latencies), "rate_per_s": args.rate, "goal_p95_ms": 2000,
                        "mtls_rtt_p50_ms": rtt_ms["p50_ms"], "ratio_p50_to_rtt": round(lat["p50_ms"] / rtt_ms["p50_ms"], 1)},
        }
        c.record("jukinet", result)
    finally:
        for proc in [consumer, cs_proc]:
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=10)
        network_cli.stop(procs)


def _codes(person_ids: list[int]) -> dict[int, str]:
    from django.db import connection

    out = {}
    ids = sorted(set(person_ids))
    for i in range(0, len(ids), 500):
        part = ids[i:i + 500]
        with connection.cursor() as cur:
            cur.execute(f"SELECT p.id, v.resident_code FROM register_person p JOIN register_personversion v "
                        f"ON v.id = p.current_id WHERE p.id IN ({','.join(['%s'] * len(part))})", part)
            out.update(dict(cur.fetchall()))
    return out


if __name__ == "__main__":
    main()
