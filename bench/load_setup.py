"""Accounts, terminals and targets for the load test (bench/locustfile.py), in a 1 M database.

    .venv/bin/python bench/load_setup.py --database-url postgresql://postgres@127.0.0.1:55432/juki_load \
        --clerks 500 --reviewers 50 --out /tmp/juki-bench/load/targets.json

A counter session is one user on one terminal, and a newer login ends the older session of the
same user or terminal (C01): so every simulated session gets its own account and its own terminal.
- `load-clerk-NNNN` (role clerk: search, read, 仮登録, certificates) on terminal `LOAD-C-NNNN`;
- `load-review-NNN` (role identity_manager: 本登録 without a second factor; supervisor would need
  TOTP for mynumber.view) on terminal `LOAD-R-NNN`.
Terminals have no ward (本庁): the search form then defaults to 全区, as at bench/bench_search.py.

Accounts go through `accounts.services.staff_create` (grants as for any new account), but all share
one password and one precomputed argon2 hash: hashing 550 passwords would take ~4 minutes of this
2-core machine, and the load test still pays the real argon2 check at every login.

Targets (JSON): per clerk, its own households to move (disjoint, so that no two sessions enter
changes for the same household) and its own persons to search, read and certify, with the search
criteria a clerk types (bench_search.criteria_for: kana + 生年月日, 漢字 + 生年月日, 町字 + 番地 + かな,
宛名番号, 世帯番号). Re-running keeps existing accounts and draws new targets (pass a new --seed).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402

PASSWORD = c.BENCH_PASSWORD
SEARCH_KINDS = ("kana_birth", "kanji_birth", "address_kana", "atena", "household")


def parse():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", default=os.environ.get("DATABASE_URL"), required=not os.environ.get("DATABASE_URL"))
    ap.add_argument("--clerks", type=int, default=500)
    ap.add_argument("--reviewers", type=int, default=50)
    ap.add_argument("--persons-per-clerk", type=int, default=40, help="search/read/certificate targets")
    ap.add_argument("--households-per-clerk", type=int, default=12, help="households to move (each once)")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--out", default=str(c.BENCH_ROOT / "load" / "targets.json"))
    return ap.parse_args()


def clerk_name(i: int) -> tuple[str, str]:
    return f"load-clerk-{i:04d}", f"LOAD-C-{i:04d}"


def reviewer_name(i: int) -> tuple[str, str]:
    return f"load-review-{i:03d}", f"LOAD-R-{i:03d}"


def ensure_accounts(clerks: int, reviewers: int) -> int:
    """Create the missing accounts and terminals; returns how many accounts were made."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.password_validation import validate_password

    from juki.accounts.models import Staff, Terminal
    from juki.accounts.services import staff_create

    wanted = [(*clerk_name(i), "clerk", f"負荷 窓口{i}") for i in range(clerks)]
    wanted += [(*reviewer_name(i), "identity_manager", f"負荷 審査{i}") for i in range(reviewers)]
    have = set(Staff.objects.filter(username__startswith="load-").values_list("username", flat=True))
    terminals = set(Terminal.objects.filter(code__startswith="LOAD-").values_list("code", flat=True))
    Terminal.objects.bulk_create([Terminal(code=code, name=f"負荷試験 {code}", location="ベンチマーク")
                                  for _, code, _, _ in wanted if code not in terminals])
    validate_password(PASSWORD)  # once: the same password for every account
    hashed = make_password(PASSWORD)
    made = 0
    with mock.patch("django.contrib.auth.base_user.make_password", lambda raw, *a, **k: hashed), \
            mock.patch("juki.accounts.services.validate_password", lambda *a, **k: None):
        for username, _, role, full_name in wanted:
            if username not in have:
                staff_create(username=username, password=PASSWORD, role=role, full_name=full_name)
                made += 1
    return made


def ensure_certifier() -> None:
    """The 認証者 (市長) the certificates are signed by, as bench_issue_parallel.py makes it."""
    import datetime as dt

    from juki.certificates.models import Certifier

    if not Certifier.objects.exists():
        Certifier.objects.create(title="北九州市長", name="ベンチ　太郎", valid_from=dt.date(2000, 1, 1))


def draw_households(n: int, rng: random.Random) -> list[dict]:
    """Resident households with their ward, at random (distinct)."""
    from django.db import connection

    out: dict[int, dict] = {}
    with connection.cursor() as cur:
        cur.execute("SELECT MAX(id) FROM register_household")
        hmax = cur.fetchone()[0]
        while len(out) < n:
            ids = list({rng.randint(1, hmax) for _ in range(2 * (n - len(out)) + 10)} - set(out))
            cur.execute(
                """SELECT DISTINCT ON (p.household_id) p.household_id, t.ward_id
                   FROM register_person p JOIN register_personversion v ON v.id = p.current_id
                   JOIN register_town t ON t.id = v.town_id
                   WHERE p.household_id = ANY(%s) AND p.status = 'resident'
                   ORDER BY p.household_id""", [ids])
            for hid, ward in cur.fetchall():
                if len(out) < n:
                    out[hid] = {"id": hid, "ward": ward}
    hs = list(out.values())
    rng.shuffle(hs)
    return hs


def towns_by_ward() -> dict[str, list[list[str]]]:
    """Per ward: [town_code, town_text as the 町字 field shows a picked candidate]."""
    from juki.register.models import Town

    out: dict[str, list[list[str]]] = {}
    for t in Town.objects.filter(is_active=True).select_related("ward").order_by("code"):
        out.setdefault(str(t.ward_id), []).append([t.code, f"{t.ward.name}{t.name}（{t.code}）"])
    return out


def main():
    args = parse()
    c.setup_django(args.database_url)
    import bench_search  # criteria exactly as the search benchmark types them

    from django.db import connection

    t0 = time.time()
    made = ensure_accounts(args.clerks, args.reviewers)
    ensure_certifier()
    t_accounts = time.time() - t0
    rng = random.Random(args.seed)
    persons = bench_search.draw_targets(args.clerks * args.persons_per_clerk, rng)
    households = draw_households(args.clerks * args.households_per_clerk, rng)
    moved = {h["id"] for h in households}
    # A person read or certified by a clerk is not in a household another clerk moves: the read
    # would still work, but a certificate could meet the household between 仮登録 and 本登録.
    with connection.cursor() as cur:
        cur.execute("SELECT id FROM register_person WHERE id = ANY(%s) AND household_id = ANY(%s)",
                    [[p["id"] for p in persons], list(moved)])
        clash = {r[0] for r in cur.fetchall()}
    persons = [p for p in persons if p["id"] not in clash]
    clerks = []
    for i in range(args.clerks):
        username, terminal = clerk_name(i)
        mine = persons[i::args.clerks]
        clerks.append({
            "username": username, "terminal": terminal,
            "persons": [{"id": p["id"], "kind": SEARCH_KINDS[k % len(SEARCH_KINDS)],
                         "criteria": bench_search.criteria_for(SEARCH_KINDS[k % len(SEARCH_KINDS)], p, rng)}
                        for k, p in enumerate(mine)],
            "households": households[i::args.clerks],
        })
    reviewers = [dict(zip(("username", "terminal"), reviewer_name(i))) for i in range(args.reviewers)]
    with connection.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM register_person")
        n_persons = cur.fetchone()[0]
    out = {"password": PASSWORD, "persons_in_register": n_persons, "seed": args.seed, "clerks": clerks,
           "reviewers": reviewers, "towns_by_ward": towns_by_ward()}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, ensure_ascii=False, default=str), encoding="utf-8")
    print(json.dumps({"accounts_made": made, "accounts_seconds": round(t_accounts, 1), "clerks": len(clerks),
                      "reviewers": len(reviewers), "persons": len(persons), "households": len(households),
                      "seconds": round(time.time() - t0, 1), "out": args.out}))


if __name__ == "__main__":
    main()
