"""庁内連携 (issue 16) over the seeded register, each figure with a same-run baseline.

    .venv/bin/python bench/bench_linkage.py --database-url postgresql://postgres@127.0.0.1:55432/juki_seed_1000000

Modes:
  baseline   a plain keyset scan of every person's current version (bench_bulk.py's baseline): no gate,
             no ORM, rows fetched as tuples and dropped
  snapshot   extract.snapshot_hand_over for `atena` (ADR 0020: the outbox entries, 1 M subjects)
  monthly    engine.collect_full for 住宅管理課 (fixed width, CP932) and 乳幼児健診 (CSV, CP932): the
             month's full file, read through the gate (1 M subjects) and written to the spool
  lag        commit → delivered for 税制課 (随時): a receiving service and `juki linkage run --only tax`
             as processes of their own, `--changes` 転居 committed here one after another at `--rate`
             per second; the lag of each is the service's `received_at` less the commit's end. The
             same-run baseline is the 転居's own time (start → commit).
The full-file modes run in a transaction that is rolled back (the log rows, their subjects and the
deliveries are discarded; the files stay under $JUKI_LINKAGE_DIR/spool). The lag mode commits its
changes (the bench database is a throwaway).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402
from bench_bulk import _SCAN, Stop  # noqa: E402 - the same baseline scan as the bulk reads' benchmark


def parse() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", default=os.environ.get("DATABASE_URL"), required=not os.environ.get("DATABASE_URL"))
    ap.add_argument("--modes", default="baseline,snapshot,monthly,lag")
    ap.add_argument("--changes", type=int, default=200)
    ap.add_argument("--rate", type=float, default=4.0, help="lag: 転居 per second")
    return ap.parse_args()


def main() -> None:
    args = parse()
    os.environ.setdefault("JUKI_LINKAGE_DIR", str(c.BENCH_ROOT / "linkage"))
    c.setup_django(args.database_url)
    from django.db import connection, transaction

    from juki.accounts import destinations
    from juki.audit.gate import Actor
    from juki.linkage import approvals, config, engine
    from juki.linkage.models import Delivery
    from juki.register.services import extract, outbox

    config.ensure_pki([d.code for d in destinations.LINKAGE])
    config.signing_key()
    approvals.demo_approvals(Actor.system_actor("demo_setup"))
    relaxed = extract._consistent_view
    extract._consistent_view = lambda *, strict: relaxed(strict=False)  # inside the rolled-back transaction

    def rolled_back(fn):
        out = {}
        try:
            with transaction.atomic():
                out = fn()
                raise Stop
        except Stop:
            pass
        return out

    def baseline() -> dict:
        n, last, start = 0, 0, time.perf_counter()
        with connection.cursor() as cur:
            while True:
                cur.execute(_SCAN, [last, 2000])
                rows = cur.fetchall()
                if not rows:
                    break
                n += len(rows)
                last = rows[-1][0]
        return {"persons": n, "seconds": time.perf_counter() - start}

    def snapshot() -> dict:
        seen = [0]
        start = time.perf_counter()
        extract.snapshot_hand_over(actor=Actor.system_actor("atena"), destination="atena",
                                   sink=lambda b: seen.__setitem__(0, seen[0] + len(b)))
        return {"persons": seen[0], "seconds": time.perf_counter() - start}

    def full(code: str) -> dict:
        start = time.perf_counter()
        outcome = engine.collect_full(code, kind=Delivery.Kind.MONTHLY, period="bench")
        seconds = time.perf_counter() - start
        d = Delivery.objects.get(destination=code, sequence=outcome.collected[0])
        return {"persons": d.persons, "seconds": seconds, "bytes": d.file_bytes, "substituted": d.substituted,
                "withheld": d.withheld}

    results: dict = {"machine": c.machine(), **c.src_info(), "at": dt.datetime.now(dt.timezone.utc).isoformat()}
    modes = args.modes.split(",")
    if "baseline" in modes:
        results["baseline"] = rolled_back(baseline)
        print("baseline", results["baseline"], flush=True)
    if "snapshot" in modes:
        results["snapshot"] = rolled_back(snapshot)
        print("snapshot", results["snapshot"], flush=True)
    if "monthly" in modes:
        for code in ("public-housing", "infant-checkup"):
            results[f"monthly:{code}"] = rolled_back(lambda: full(code))
            print(code, results[f"monthly:{code}"], flush=True)
    if "lag" in modes:
        results["lag"] = lag(args, engine, outbox, Delivery, config)
        print("lag", results["lag"], flush=True)
    base = results.get("baseline", {}).get("seconds")
    for key, value in list(results.items()):
        if isinstance(value, dict) and "seconds" in value and base and key != "baseline":
            value["ratio_to_baseline"] = round(value["seconds"] / base, 2)
    c.RESULTS.mkdir(parents=True, exist_ok=True)
    with open(c.RESULTS / "linkage.jsonl", "a") as f:
        f.write(json.dumps(results, ensure_ascii=False, default=str) + "\n")
    print(json.dumps(results, ensure_ascii=False, default=str, indent=1))


def lag(args, engine, outbox, Delivery, config) -> dict:
    """随時: the time from a 転居's commit to the 税制課's service storing it."""
    from django.db import connection

    from juki.audit.gate import Actor
    from juki.network import wire
    from django.db.models import Count

    from juki.register.models import Person, Town
    from juki.register.services import changes
    from juki.register.services.people import Address
    from juki.register.services.writer import PersonRef

    code = "tax"
    Delivery.objects.filter(destination=code).delete()
    store = config.root() / "receivers" / f"{code}.bench.sqlite3"
    store.unlink(missing_ok=True)
    pem = config.root() / "signing.pub.pem"
    from juki.linkage import signing

    pem.write_text(signing.public_pem(config.signing_key()))
    env = c.server_env()
    config.port_file(code).unlink(missing_ok=True)
    receiver = subprocess.Popen([sys.executable, "-m", "juki.linkage.receiver", "--destination", code, "--pki",
                                 str(config.pki_dir()), "--store", str(store), "--sender-key", str(pem), "--sender",
                                 config.sender(), "--port-file", str(config.port_file(code))], env=env,
                                stdout=subprocess.DEVNULL)
    consumer = None
    try:
        while not config.port_file(code).exists():
            time.sleep(0.05)
        actor = c.bench_actor()
        run = int(time.time()) % 997 + 1  # a new address each run (the same movers may be picked again)
        town = Town.objects.order_by("code").first()
        from juki.audit import gate

        with gate.open(Actor.system_actor("jukinet"), function="bench.pick", perm="identity.link"):
            # Persons living alone: each 転居 moves a whole household, one person.
            alone = (Person.objects.filter(status="resident").values("household_id").annotate(n=Count("id"))
                     .filter(n=1).values_list("household_id", flat=True)[: args.changes])
            movers = list(Person.objects.filter(status="resident", household_id__in=list(alone))
                          .values_list("id", "latest_seq"))
        # Started at the outbox's head (no initial full of 1 M persons here: the monthly mode measures
        # that): a first 転居 gives the seeded register its first event, and the cursor goes there.
        pid, seq = movers.pop()
        changes.move_within_city(actor=actor, event_date=dt.date.today(), notified_on=dt.date.today(),
                                 persons=[PersonRef(pid, seq)], address=Address(town.code, f"899番{run}号"))
        position = outbox.outbox_position()
        if outbox.outbox_cursor(code) < position:
            outbox.outbox_ack(actor=Actor.system_actor(code), destination=code, position=position)
        consumer = subprocess.Popen([sys.executable, "-m", "juki.cli", "linkage", "run", "--only", code], env=env)
        time.sleep(2)  # its start-up
        commits: dict[int, tuple[float, float]] = {}
        for i, (pid, seq) in enumerate(movers[: args.changes]):
            t0 = time.time()
            result = changes.move_within_city(actor=actor, event_date=dt.date.today(), notified_on=dt.date.today(),
                                              persons=[PersonRef(pid, seq)],
                                              address=Address(town.code, f"{900 + i}番{run}号"))
            commits[result.change_id] = (t0, time.time())
            time.sleep(max(0.0, 1 / args.rate - (time.time() - t0)))
        deadline = time.time() + 60
        client = wire.Client(f"https://127.0.0.1:{config.port_file(code).read_text()}", directory=config.pki_dir(),
                             name=config.sender())
        arrived: dict[int, float] = {}
        while time.time() < deadline and len(arrived) < len(commits):
            status, body = client.call("GET", "/deliveries?after=0")
            for d in body["deliveries"]:
                at = dt.datetime.fromisoformat(d["received_at"]).timestamp()
                for r in d["payload"]["records"]:
                    if r["change_id"] in commits:
                        arrived.setdefault(r["change_id"], at)
            time.sleep(0.2)
        lags = [arrived[k] - commits[k][1] for k in arrived]
        own = [end - start for start, end in commits.values()]
        out = {"changes": len(commits), "delivered": len(arrived), "lag": c.summary_ms(lags),
               "change": c.summary_ms(own), "deliveries": len(body["deliveries"])}
        out["ratio_lag_p95_to_change_p95"] = round(out["lag"]["p95_ms"] / out["change"]["p95_ms"], 2)
        connection.close()
        return out
    finally:
        for proc in (consumer, receiver):
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=10)


if __name__ == "__main__":
    main()
