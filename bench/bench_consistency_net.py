"""整合性確認 through the real processes: the city's CS walks the prefecture server's hash tree over
mutual TLS and finds one planted difference among --records records.

    .venv/bin/python bench/bench_consistency_net.py --records 1000000

Both stores are filled directly (the CS's SQLite through its own settings and migrations, the
prefecture's SQLite file) with the same synthetic FILE-2 records and their digests, as the CS and
the prefecture write them; then one record's address is changed at the prefecture. Timed: the
operator's request (`POST /consistency/run` to the CS, as S2), which builds the CS's tree from its
database, walks the prefecture's (which builds its own from its database) and fetches the differing
records. Same-run baseline: reading every (code, digest) pair of both stores and comparing them in
one process (what a check without the tree would at least cost, before any network).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402


def parse() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=3)
    return ap.parse_args()


def records(n: int, rng: random.Random):
    from juki.core.checkdigits import mod11_check_digit

    seen = set()
    while len(seen) < n:
        body = f"{rng.randrange(10**10):010d}"
        if body in seen:
            continue
        seen.add(body)
        code = body + str(mod11_check_digit(body))
        i = len(seen)
        yield code, {"resident_code": code, "name": f"試験　{i}", "name_kana": "シケン", "birth_date": "1980-01-01",
                     "sex": "1", "municipality_code": "401005", "town_code": "40106001000",
                     "address": f"小倉北区城内{i % 50 + 1}番{i % 30 + 1}号", "seq": i, "record_status": "entry"}


def main() -> None:
    args = parse()
    root = c.BENCH_ROOT / "consistency-net"
    shutil.rmtree(root, ignore_errors=True)
    (root / "cs").mkdir(parents=True)
    os.environ.update(JUKI_VAR_DIR=str(root), JUKI_CS_DIR=str(root / "cs"), PYTHONPATH=str(c.src_dir()))
    sys.path.insert(0, str(c.src_dir()))
    from juki.network import cli as network_cli
    from juki.network import consistency
    from juki.network.wire import Client

    env = {**os.environ}
    subprocess.run([sys.executable, "-m", "juki.cli", "cs", "migrate"], env=env, check=True)
    procs, description = network_cli.start(root / "network", ports=dict.fromkeys(network_cli.PEERS, 0))
    digest_key = consistency.key(root / "network")
    cs_proc = None
    try:
        t = time.perf_counter()
        rng = random.Random(args.seed)
        now = dt.datetime.now(dt.timezone.utc).isoformat()
        cs_db = sqlite3.connect(root / "cs" / "cs.sqlite3")
        pref_db = sqlite3.connect(root / "network" / "prefecture.sqlite3", timeout=60)
        planted = None
        batch_cs, batch_pref = [], []
        for i, (code, items) in enumerate(records(args.records, rng)):
            digest = consistency.digest_of(items, "entry", digest_key)
            batch_cs.append((code, i + 1, "entry", json.dumps(items, ensure_ascii=False), "", None, "", now, None, digest))
            remote = items
            if i == args.records // 2:  # the one difference: an address at the prefecture
                planted = code
                remote = {**items, "address": "小倉北区城内99番99号"}
            batch_pref.append((code, "401005", i + 1, json.dumps(consistency.record_view(remote, "entry"), ensure_ascii=False),
                               now, consistency.digest_of(remote, "entry", digest_key)))
            if len(batch_cs) >= 50000:
                _flush(cs_db, pref_db, batch_cs, batch_pref)
        _flush(cs_db, pref_db, batch_cs, batch_pref)
        pref_db.execute("INSERT INTO cities VALUES ('401005', ?) ON CONFLICT (municipality) DO UPDATE SET last_seq = ?",
                        (args.records, args.records))
        pref_db.commit()
        fill_s = time.perf_counter() - t

        # Baseline: every pair of both stores read and compared in one process.
        t = time.perf_counter()
        local = dict(cs_db.execute("SELECT resident_code, digest FROM cs_identityversion WHERE superseded_at IS NULL"))
        remote = dict(pref_db.execute("SELECT resident_code, digest FROM records WHERE municipality = '401005'"))
        brute = sorted(k for k in local.keys() | remote.keys() if local.get(k) != remote.get(k))
        brute_s = time.perf_counter() - t
        cs_db.close()
        pref_db.close()
        assert brute == [planted], brute

        cs_proc = subprocess.Popen([sys.executable, "-m", "juki.cli", "cs", "serve", "--network", str(root / "network"),
                                    "--port", "0"], env=env)
        port_file = root / "network" / "cs-401005.port"
        while not port_file.exists():
            assert cs_proc.poll() is None, "the CS did not start"
            time.sleep(0.05)
        s2 = Client(f"https://127.0.0.1:{port_file.read_text()}", directory=root / "network", name="s2-401005", timeout=600)
        runs = []
        for _ in range(3):
            t = time.perf_counter()
            status, answer = s2.call("POST", "/consistency/run", {"peer": "prefecture"})
            runs.append(time.perf_counter() - t)
            assert status == 200 and answer["differing"] == 1, answer
        run = s2.call("GET", "/consistency/runs")[1]["runs"][0]
        found = [(d["resident_code"], d["item"]) for d in run["differences"]]
        assert found == [(planted, "address")], found
        best = min(runs)
        result = {"bench": "consistency_net", **c.src_info(), "machine": c.machine(),
                  "date": dt.datetime.now().isoformat(timespec="seconds"), "records": args.records,
                  "fill_s": round(fill_s, 1), "check_s": [round(x, 2) for x in runs], "check_best_s": round(best, 2),
                  "found": found, "stats": run["stats"], "brute_force_local_s": round(brute_s, 2),
                  "ratio_check_to_brute": round(best / brute_s, 2), "goal_s": 10}
        c.record("consistency_net", result)
    finally:
        if cs_proc is not None and cs_proc.poll() is None:
            cs_proc.terminate()
            cs_proc.wait(timeout=10)
        network_cli.stop(procs)


def _flush(cs_db, pref_db, batch_cs, batch_pref) -> None:
    cs_db.executemany("INSERT INTO cs_identityversion (resident_code, seq, kind, items, my_number_key_id, "
                      "my_number_cipher, my_number_digest, received_at, superseded_at, digest) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", batch_cs)
    pref_db.executemany("INSERT INTO records VALUES (?, ?, ?, ?, ?, ?)", batch_pref)
    cs_db.commit()
    pref_db.commit()
    batch_cs.clear()
    batch_pref.clear()


if __name__ == "__main__":
    main()
