"""Change operations through the full service path (versions + household bump + access log +
outbox, one transaction each), one client, plus a same-run pgbench baseline.

    .venv/bin/python bench/bench_changes.py --database-url postgresql://postgres@127.0.0.1:55432/juki_seed_1000000

Phases (each bounded by --n changes and --max-seconds):
  move   転居 of a whole household within its ward: changes.move_within_city(persons=all current members)
  wardmove  the same into another ward (区間異動: 除票 + new entry per member, new 世帯番号)
  birth  出生 into an existing Japanese household: changes.birth (draws a 住民票コード from stock)
  mix    3 転居 (same ward) : 1 出生, interleaved
  read+move (optional, --read-move): selectors.household_get, then the 転居 built from what it
         returned — a clerk's screen-then-submit, both through the access gate.

Households are drawn at random (seeded) from the register via raw SQL *before* timing, each
household is used once, so the versions passed in are the current ones. Every phase counts
each operation's SQL statements on a few untimed warm-up operations.

pgbench: `pgbench -i -s 10` into database `pgbench` on the same server, then
`pgbench -c 1 -j 1 -T <s>` before and after the change phases; the report gives
changes/s ÷ pgbench tps.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402


def parse() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", default=os.environ.get("DATABASE_URL"), required=not os.environ.get("DATABASE_URL"))
    ap.add_argument("--n", type=int, default=3000, help="changes per phase (upper bound)")
    ap.add_argument("--max-seconds", type=float, default=40, help="time cap per phase")
    ap.add_argument("--phases", default="move,birth,mix,wardmove", help="comma list of move,birth,mix,wardmove,readmove")
    ap.add_argument("--seed", type=int, default=42, help="household/address draw (use a new one when re-running on the same database)")
    ap.add_argument("--warmup", type=int, default=20, help="untimed operations per phase (query counting)")
    ap.add_argument("--pgbench-seconds", type=int, default=20, help="0 to skip")
    ap.add_argument("--pgbench-db", default="pgbench")
    ap.add_argument("--pgbench-scale", type=int, default=10)
    ap.add_argument("--db-options", type=json.loads, default=None,
                    help='experiment: JSON merged into DATABASES OPTIONS, e.g. \'{"server_side_binding": true, "prepare_threshold": 5}\'')
    ap.add_argument("--sql-dump", default=str(c.BENCH_ROOT / "logs" / "change_sql.txt"),
                    help="statements of one operation of each kind are written here")
    return ap.parse_args()


# --- pgbench -----------------------------------------------------------------------------------


def pgbench_init(args) -> None:
    conn = c.pg_conn_args(args.database_url)
    base = ["-h", conn["host"], "-p", conn["port"], "-U", conn["user"]]
    c.run(["psql", *base, "-qAt", "-d", "postgres", "-c", f'DROP DATABASE IF EXISTS "{args.pgbench_db}"',
           "-c", f'CREATE DATABASE "{args.pgbench_db}"'])
    c.run(["pgbench", *base, "-i", "-q", "-s", str(args.pgbench_scale), args.pgbench_db])


def pgbench_run(args) -> float:
    conn = c.pg_conn_args(args.database_url)
    out = c.run(["pgbench", "-h", conn["host"], "-p", conn["port"], "-U", conn["user"], "-c", "1", "-j", "1",
                 "-T", str(args.pgbench_seconds), "-n", args.pgbench_db]).stdout
    m = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", out) or re.search(r"tps = ([0-9.]+)", out)
    return float(m.group(1))


# --- picking the households --------------------------------------------------------------------


def pick_households(count: int, rng: random.Random, *, japanese_only: bool, exclude: set[int]) -> list[dict]:
    """Random households with ≥1 current resident: id, lock_version, members [(id, latest_seq)], head family name."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT MAX(id) FROM register_household")
        hmax = cur.fetchone()[0]
    out: list[dict] = []
    tried: set[int] = set(exclude)
    while len(out) < count and len(tried) < hmax:
        batch = []
        while len(batch) < min(2000, 2 * (count - len(out)) + 10) and len(tried) < hmax:
            h = rng.randint(1, hmax)
            if h not in tried:
                tried.add(h)
                batch.append(h)
        marks = ", ".join(["%s"] * len(batch))
        with connection.cursor() as cur:
            cur.execute(
                f"""SELECT p.household_id, h.lock_version, p.id, p.latest_seq, v.resident_kind, v.relationship, v.family_name, v.town_id
                    FROM register_person p
                    JOIN register_household h ON h.id = p.household_id
                    JOIN register_personversion v ON v.id = p.current_id
                    WHERE p.status = 'resident' AND p.household_id IN ({marks})
                    ORDER BY p.household_id, p.id""",
                batch,
            )
            rows = cur.fetchall()
        by: dict[int, dict] = {}
        for hid, lock, pid, seq, kind, rel, fam, town in rows:
            h = by.setdefault(hid, {"id": hid, "lock_version": lock, "members": [], "japanese": True, "family_name": fam,
                                    "town_id": town})
            h["members"].append((pid, seq))
            h["japanese"] &= kind == "J"
            if rel == "世帯主":
                h["family_name"] = fam
        for hid in batch:  # keep the random order
            h = by.get(hid)
            if h and (h["japanese"] or not japanese_only):
                out.append(h)
                if len(out) >= count:
                    break
    return out


# --- operations --------------------------------------------------------------------------------


class Ops:
    def __init__(self, actor, rng: random.Random):
        from django.utils import timezone
        from juki.register.models import Town

        self.actor = actor
        self.rng = rng
        towns = list(Town.objects.filter(is_active=True).order_by("code").values_list("id", "code", "ward_id"))
        self.ward_of = {tid: ward for tid, _, ward in towns}
        self.codes_by_ward: dict[int, list[str]] = {}
        for _, code, ward in towns:
            self.codes_by_ward.setdefault(ward, []).append(code)
        self.today = timezone.localdate()

    def address(self, h: dict, *, other_ward: bool = False):
        """A new address (banchi 31–60: seed uses 1–30, so it always differs) in the household's
        ward — a plain 転居 — or, with other_ward, in another ward (区間異動)."""
        from juki.register.services.people import Address

        ward = self.ward_of[h["town_id"]]
        if other_ward:
            ward = self.rng.choice([w for w in self.codes_by_ward if w != ward])
        return Address(self.rng.choice(self.codes_by_ward[ward]), f"{self.rng.randint(31, 60)}番{self.rng.randint(1, 40)}号",
                       f"ベンチ{self.rng.randint(100, 999)}号室")

    def move(self, h: dict, *, other_ward: bool = False):
        from juki.register.services import changes
        from juki.register.services.writer import PersonRef

        return changes.move_within_city(
            actor=self.actor, event_date=self.today, notified_on=self.today,
            persons=[PersonRef(pid, seq) for pid, seq in h["members"]], address=self.address(h, other_ward=other_ward))

    def ward_move(self, h: dict):
        return self.move(h, other_ward=True)

    def birth(self, h: dict):
        from juki.register.services import changes
        from juki.register.services.writer import HouseholdRef

        sex = self.rng.choice((1, 2))
        child = {"family_name": h["family_name"], "given_name": "太郎" if sex == 1 else "花子",
                 "given_name_kana": "タロウ" if sex == 1 else "ハナコ", "sex": sex, "relationship": "子",
                 "resident_kind": "J"}
        return changes.birth(actor=self.actor, event_date=self.today, notified_on=self.today, child=child,
                             destination=HouseholdRef(h["id"], h["lock_version"]))

    def read_move(self, h: dict):
        from juki.register import selectors
        from juki.register.services import changes
        from juki.register.services.writer import PersonRef

        seen = selectors.household_get(actor=self.actor, household_id=h["id"])
        refs = [PersonRef(m["person_id"], m["version"]) for m in seen["members"] if m["status"] == "resident"]
        return changes.move_within_city(actor=self.actor, event_date=self.today, notified_on=self.today,
                                        persons=refs, address=self.address(h))


class QueryCounter:
    def __init__(self):
        self.n = 0
        self.sql: list[str] = []
        self.keep = False

    def __call__(self, execute, sql, params, many, context):
        self.n += 1
        if self.keep:
            self.sql.append(sql)
        return execute(sql, params, many, context)


def run_phase(name: str, ops: Ops, plan: list[tuple[str, dict]], args, dump) -> dict:
    from django.db import connection
    from juki.core.errors import DomainError

    fn = {"move": ops.move, "wardmove": ops.ward_move, "birth": ops.birth, "readmove": ops.read_move}
    counter = QueryCounter()
    warm, timed = plan[: args.warmup], plan[args.warmup:]
    queries: dict[str, list[int]] = {}
    with connection.execute_wrapper(counter):
        for i, (kind, h) in enumerate(warm):
            counter.n, counter.keep, counter.sql = 0, i < 2 or kind not in queries, []
            fn[kind](h)
            queries.setdefault(kind, []).append(counter.n)
            if counter.keep and kind not in dump:
                dump[kind] = list(counter.sql)
    lat: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    done = 0
    started = time.perf_counter()
    deadline = started + args.max_seconds
    for kind, h in timed:
        t0 = time.perf_counter()
        try:
            fn[kind](h)
        except DomainError as exc:  # counted, not timed
            errors[str(exc.code)] = errors.get(str(exc.code), 0) + 1
            continue
        t1 = time.perf_counter()
        lat.setdefault(kind, []).append(t1 - t0)
        done += 1
        if t1 > deadline:
            break
    elapsed = time.perf_counter() - started
    persons_written = sum(len(h["members"]) for k, h in timed[: done + sum(errors.values())] if k in ("move", "wardmove", "readmove"))
    return {
        "phase": name,
        "changes": done,
        "seconds": round(elapsed, 2),
        "changes_per_s": round(done / elapsed, 1) if elapsed else None,
        "latency": {k: c.summary_ms(v) for k, v in lat.items()},
        "queries_per_op": {k: {"min": min(v), "max": max(v), "mean": round(sum(v) / len(v), 1)} for k, v in queries.items()},
        "errors": errors,
        "persons_moved": persons_written,
    }


def main() -> None:
    args = parse()
    c.setup_django(args.database_url, args.db_options)
    from django.db import connection

    rng = random.Random(args.seed)
    actor = c.bench_actor()
    ops = Ops(actor, rng)
    with connection.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM register_person")
        persons = cur.fetchone()[0]
        cur.execute("SELECT COUNT(*) FROM register_residentcodestock WHERE used = %s", [False])
        stock = cur.fetchone()[0]
    print(f"register: {persons:,} persons, {stock:,} unused resident codes", flush=True)

    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    per = args.n + args.warmup
    used: set[int] = set()
    plans: dict[str, list[tuple[str, dict]]] = {}
    for p in phases:
        if p in ("move", "wardmove", "readmove"):
            hs = pick_households(per, rng, japanese_only=False, exclude=used)
            plans[p] = [(p, h) for h in hs]
        elif p == "birth":
            hs = pick_households(per, rng, japanese_only=True, exclude=used)
            plans[p] = [("birth", h) for h in hs]
        elif p == "mix":
            hs = pick_households(per, rng, japanese_only=True, exclude=used)
            plans[p] = [("birth" if i % 4 == 3 else "move", h) for i, h in enumerate(hs)]
        else:
            raise SystemExit(f"unknown phase {p}")
        used.update(h["id"] for _, h in plans[p])
    print("picked households: " + ", ".join(f"{k}={len(v)}" for k, v in plans.items()), flush=True)

    is_pg = connection.vendor == "postgresql"
    result: dict = {"bench": "changes", "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
                    "machine": c.machine(), "engine": connection.vendor, "persons_in_register": persons,
                    "n_per_phase": args.n, "max_seconds_per_phase": args.max_seconds,
                    "db_options": args.db_options, "code": c.src_info()}
    if is_pg:
        with connection.cursor() as cur:
            cur.execute("SHOW server_version")
            result["postgresql"] = cur.fetchone()[0]
    if is_pg and args.pgbench_seconds:
        pgbench_init(args)
        result["pgbench_tps_before"] = pgbench_run(args)
        print(f"pgbench before: {result['pgbench_tps_before']:.1f} tps", flush=True)

    dump: dict[str, list[str]] = {}
    result["phases"] = []
    for p in phases:
        r = run_phase(p, ops, plans[p], args, dump)
        print(f"{p}: {r['changes']} changes in {r['seconds']} s = {r['changes_per_s']}/s", flush=True)
        result["phases"].append(r)

    if is_pg and args.pgbench_seconds:
        result["pgbench_tps_after"] = pgbench_run(args)
        tps = (result["pgbench_tps_before"] + result["pgbench_tps_after"]) / 2
        result["pgbench_tps_mean"] = round(tps, 1)
        for r in result["phases"]:
            r["ratio_to_pgbench"] = round(r["changes_per_s"] / tps, 3)
    result["machine_loadavg_after"] = os.getloadavg()

    Path(args.sql_dump).parent.mkdir(parents=True, exist_ok=True)
    with open(args.sql_dump, "w", encoding="utf-8") as f:
        for kind, stmts in dump.items():
            f.write(f"=== {kind}: {len(stmts)} statements\n")
            for s in stmts:
                f.write(s.replace("\n", " ")[:400] + "\n")
    c.record("changes", result)


if __name__ == "__main__":
    main()
