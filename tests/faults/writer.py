"""A clerk at work, for the fault tests: register changes one after another through the services, each
change's id printed (and flushed) only once its `change_scope` has returned — the change is then
acknowledged, as a 201 would be to the counter. Run as a process of its own with the real settings:

    DATABASE_URL=… JUKI_VAR_DIR=… python tests/faults/writer.py [--count N] [--move-in]

It alternates a 誤記修正 of one resident (one version) and a 転居 of a whole household (one version per
member) over the seeded residents; `--move-in` first records one 転入 of a new household (new 宛名番号
and 世帯番号 from the register's sequences). `--count 0` writes until it is killed. Output: change ids
only, one a line (no personal data).
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "juki.conf.dev")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from juki.accounts.models import Staff, Terminal  # noqa: E402
from juki.audit.gate import Actor  # noqa: E402
from juki.register.services import changes  # noqa: E402
from juki.register.services.people import Address  # noqa: E402
from juki.register.services.writer import PersonRef  # noqa: E402


def _residents(limit: int) -> list[tuple[int, int, int]]:
    with connection.cursor() as cur:
        cur.execute("SELECT id, latest_seq, household_id FROM register_person WHERE status = 'resident' "
                    "ORDER BY id LIMIT %s", [limit])
        return cur.fetchall()


def _household(household_id: int) -> tuple[list[PersonRef], str]:
    with connection.cursor() as cur:
        cur.execute("SELECT p.id, p.latest_seq, t.code FROM register_person p "
                    "JOIN register_personversion v ON v.id = p.current_id JOIN register_town t ON t.id = v.town_id "
                    "WHERE p.household_id = %s AND p.status = 'resident' ORDER BY p.id", [household_id])
        rows = cur.fetchall()
    return [PersonRef(pid, seq) for pid, seq, _ in rows], rows[0][2]


def _move_in(actor: Actor) -> int:
    with connection.cursor() as cur:
        cur.execute("SELECT code FROM register_town WHERE is_active ORDER BY code LIMIT 1")
        town = cur.fetchone()[0]
    person = {"family_name": "試験", "given_name": "太郎", "family_name_kana": "シケン", "given_name_kana": "タロウ",
              "birth_date": dt.date(1980, 1, 1), "sex": 1, "relationship": "世帯主",
              "domicile": "福岡県北九州市小倉北区城内1番", "domicile_head": "試験　太郎"}
    today = dt.date.today()
    return changes.move_in(actor=actor, event_date=today, notified_on=today, origin="domestic", persons=[person],
                           destination=changes.NEW, address=Address(town, "900番1号"),
                           previous_address="福岡県福岡市博多区博多駅前二丁目1番1号").change_id


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=0, help="changes to write (0: until killed)")
    parser.add_argument("--move-in", action="store_true")
    parser.add_argument("--user", default="demo-clerk")
    parser.add_argument("--terminal", default="DEMO-01")
    parser.add_argument("--pause", type=float, default=0.0, help="seconds between changes")
    args = parser.parse_args()
    actor = Actor(user=Staff.objects.get(username=args.user), terminal=Terminal.objects.get(code=args.terminal))
    today = dt.date.today()
    done = 0
    if args.move_in:
        print(_move_in(actor), flush=True)
        done += 1
    i = 0
    while args.count == 0 or done < args.count:
        i += 1
        residents = _residents(40)  # read again each time: the last change moved their 履歴番号 on
        pid, seq, household_id = residents[i % len(residents)]
        if i % 2:
            result = changes.erratum_correction(actor=actor, event_date=today, person=PersonRef(pid, seq),
                                                changes={"domicile": f"福岡県北九州市小倉北区城内{i % 97 + 1}番"})
        else:
            members, town = _household(household_id)
            result = changes.move_within_city(actor=actor, event_date=today, notified_on=today, persons=members,
                                              address=Address(town, f"{i % 500 + 1}番{i % 7 + 1}号"))
        print(result.change_id, flush=True)  # acknowledged: the change has committed
        done += 1
        if args.pause:
            time.sleep(args.pause)

if __name__ == "__main__":
    main()
