"""整合性確認 (P8) by hash tree over ranges of 住民票コード (juki.network.merkle), in one process.

    .venv/bin/python bench/bench_consistency.py --records 1000000 [--missing] [--seed 1]
        [--levels 2,4] [--json-out PATH]

Untimed: N synthetic FILE-2-like records with random, valid 住民票コード (mod-11 check digit),
a remote copy with one item changed in one record (and, with --missing, one record dropped), and
each side's record digests (reported separately: a CS would keep them up to date on each change).
Timed: building the tree on each side, the diff through LocalPeer, and, as the baseline of the
same run, a brute-force comparison of the two whole dicts of digests (which, across a network,
would ship every code and digest). Prints one JSON line; --json-out appends it to a file.
Goal: tree build (both sides) + diff ≤ 10 s at 1,000,000 records.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# The code under test: $BENCH_SRC (a snapshot from bench/snapshot.sh) or the work tree's src/.
SRC = Path(os.environ.get("BENCH_SRC") or REPO / "src")
sys.path.insert(0, str(SRC))

from juki.core.checkdigits import mod11_check_digit  # noqa: E402
from juki.network.merkle import DiffStats, LocalPeer, RangeTree, diff, item_differences, record_digest  # noqa: E402

FAMILY = ["山田", "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "中村", "小林", "加藤"]
GIVEN = ["太郎", "花子", "一郎", "美咲", "健太", "陽菜", "翔", "さくら"]
WARDS = ["門司区", "若松区", "戸畑区", "小倉北区", "小倉南区", "八幡東区", "八幡西区"]


def make_records(n: int, seed: int) -> dict[str, dict[str, str | None]]:
    """N records keyed by unique random 住民票コード (10 random digits + check digit)."""
    rng = random.Random(seed)
    bodies: set[int] = set()
    while len(bodies) < n:
        bodies.add(rng.randrange(10**10))
    records = {}
    for serial, body in enumerate(bodies):
        b = f"{body:010d}"
        records[b + str(mod11_check_digit(b))] = {
            "family_name": FAMILY[serial % 10],
            "given_name": GIVEN[serial % 8],
            "birth_date": f"{1930 + serial % 90}-{1 + serial % 12:02d}-{1 + serial % 28:02d}",
            "sex": "12"[serial % 2],
            "address": f"福岡県北九州市{WARDS[serial % 7]}{serial % 50 + 1}丁目{serial % 997 + 1}番",
            "my_number": None,
            "moved_on": None,
            "serial": str(serial),
        }
    return records


def git_head() -> tuple[str, bool | None]:
    """HEAD's short hash, and whether the measured files differ from it (uncommitted edits)."""
    try:
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                              text=True, capture_output=True).stdout.strip()
        dirty = bool(subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--",
                                     "src/juki/network/merkle.py", "bench/bench_consistency.py"],
                                    text=True, capture_output=True).stdout.strip())
    except OSError:
        return "", None
    return head, dirty


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--missing", action="store_true", help="also drop one record from the remote copy")
    ap.add_argument("--levels", default="2,4", help="prefix lengths of the tree levels (default 2,4)")
    ap.add_argument("--json-out", type=Path, help="append the JSON line to this file")
    args = ap.parse_args()
    levels = tuple(int(x) for x in args.levels.split(","))

    t0 = time.perf_counter()
    local_records = make_records(args.records, args.seed)
    codes = list(local_records)
    rng = random.Random(args.seed + 1)
    changed = rng.choice(codes)
    remote_records = dict(local_records)  # shallow: records shared, except the changed one
    remote_records[changed] = dict(local_records[changed], address="福岡県北九州市八幡西区黒崎3丁目15番")
    planted = {changed}
    if args.missing:
        dropped = rng.choice(codes)
        while dropped == changed:
            dropped = rng.choice(codes)
        del remote_records[dropped]
        planted.add(dropped)
    generate_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    local_digests = {c: record_digest(r) for c, r in local_records.items()}
    t1 = time.perf_counter()
    remote_digests = {c: record_digest(r) for c, r in remote_records.items()}
    t2 = time.perf_counter()
    digest_s = (t1 - t0, t2 - t1)

    # Timed: the 整合性確認 itself.
    t0 = time.perf_counter()
    local_tree = RangeTree(local_digests, levels=levels)
    t1 = time.perf_counter()
    remote_tree = RangeTree(remote_digests, levels=levels)
    t2 = time.perf_counter()
    stats = DiffStats()
    found = diff(local_tree, LocalPeer(remote_tree), stats)
    t3 = time.perf_counter()
    build_s = (t1 - t0, t2 - t1)
    diff_s = t3 - t2
    total_s = t3 - t0

    t0 = time.perf_counter()
    brute = sorted({c for c, _ in local_digests.items() ^ remote_digests.items()})
    brute_s = time.perf_counter() - t0

    rows = item_differences({c: local_records[c] for c in found if c in local_records},
                            {c: remote_records[c] for c in found if c in remote_records})
    ok = found == sorted(planted) == brute
    commit, dirty = git_head()
    result = {
        "bench": "consistency",
        "records": args.records,
        "levels": list(levels),
        "planted": sorted(planted),
        "found": found,
        "found_items": [[r["resident_code"], r["item"]] for r in rows],
        "ok": ok,
        "generate_s": round(generate_s, 3),
        "digest_s_per_side": [round(x, 3) for x in digest_s],
        "build_s_per_side": [round(x, 3) for x in build_s],
        "diff_s": round(diff_s, 6),
        "total_s": round(total_s, 3),
        "round_trips": stats.round_trips,
        "paths_sent": stats.paths_sent,
        "hashes_exchanged": stats.hashes,
        "codes_exchanged": stats.codes,
        "brute_force_s": round(brute_s, 3),
        "brute_force_codes_exchanged": len(remote_digests),
        "ratio_tree_to_brute_force": round(total_s / brute_s, 2) if brute_s else None,
        "goal_s": 10,
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "commit": commit,
        "dirty": dirty,
        "src": str(SRC),
    }
    line = json.dumps(result, ensure_ascii=False)
    print(line)
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        with open(args.json_out, "a", encoding="utf-8") as f:
            f.write(line + "\n")
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
