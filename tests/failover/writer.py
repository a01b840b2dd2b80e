"""A clerk's changes in a loop, for the failover test and benchmark: one 誤記修正 after another on the
seeded residents, each change's id printed once `change_scope` returned (the change is acknowledged).
A database error (the primary gone) closes the connection and tries again, as a request would be tried
again by the clerk; the next connection goes to whichever node libpq finds writable.

    DATABASE_URL=… JUKI_VAR_DIR=… python -m tests.failover.writer
"""
import datetime as dt
import os
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "juki.conf.dev")
django.setup()

from django.db import DatabaseError, InterfaceError, connection  # noqa: E402

from juki.register.services import changes  # noqa: E402
from juki.register.services.writer import PersonRef  # noqa: E402
from tests.helpers import TEST_ACTOR  # noqa: E402


def residents() -> list[tuple[int, int]]:
    with connection.cursor() as cur:
        cur.execute("SELECT id, latest_seq FROM register_person WHERE status = 'resident' ORDER BY id LIMIT 20")
        return cur.fetchall()


def main() -> None:
    i = 0
    while True:
        try:
            for pid, seq in residents():
                result = changes.erratum_correction(actor=TEST_ACTOR, event_date=dt.date.today(),
                                                    person=PersonRef(pid, seq),
                                                    changes={"domicile": f"福岡県北九州市小倉北区城内{i % 97 + 1}番"})
                print(result.change_id, flush=True)
                i += 1
        except (DatabaseError, InterfaceError) as exc:
            print(f"error {type(exc).__name__}", file=sys.stderr, flush=True)
            connection.close()
            time.sleep(0.1)


if __name__ == "__main__":
    main()
