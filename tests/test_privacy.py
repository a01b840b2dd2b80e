"""個人番号 never rests in plain text: not in any table, not in the database file, not in logs."""
import logging
import os
import tempfile

import pytest

from django.apps import apps
from django.db import connection, router

from juki.audit import gate
from juki.core.errors import DomainError, ErrorCode
from juki.accounts.permissions import Perm
from juki.register import selectors
from juki.register.services import changes

from .conftest import days_ago, move_in_family, person_input
from .register.helpers import TEST, ids, ref

NUMBERS = ["123456789018", "234567890121"]


def _all_rows_text() -> str:
    chunks = []
    with gate.open(TEST, function="test.dump", perm=Perm.PERSON_VIEW), connection.cursor() as cur:
        for model in apps.get_models():
            if not router.allow_migrate_model(connection.alias, model):
                continue  # the CS's models live in its own database (tests/cs checks its sealing)
            cur.execute(f"SELECT * FROM {connection.ops.quote_name(model._meta.db_table)}")
            for row in cur.fetchall():
                for value in row:
                    chunks.append(bytes(value).decode("latin-1") if isinstance(value, (bytes, memoryview)) else str(value))
    return "\n".join(chunks)


@pytest.mark.django_db(transaction=True)
def test_no_plain_my_number_in_the_database_or_the_logs(world, sup_actor, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django.db.backends")
    connection.force_debug_cursor = True  # log every SQL statement with its parameters
    try:
        result = move_in_family(world, members=[person_input(my_number=NUMBERS[0])])
        pid = ids(result)[0]
        changes.my_number_record(actor=world, event_date=days_ago(0), person=ref(pid), my_number=NUMBERS[1],
                                 kind="change_request")
        shown = selectors.person_get(actor=sup_actor, person_id=pid, reveal_my_number=True)
        assert shown["my_number"] == NUMBERS[1]  # it is there, sealed
        # A refused duplicate must not leak the number either (into its message, the log or the SQL log).
        with pytest.raises(DomainError) as refused:
            move_in_family(world, members=[person_input(given_name="二郎", my_number=NUMBERS[1])])
        assert refused.value.code == ErrorCode.ALREADY_RESIDENT and NUMBERS[1] not in refused.value.message
    finally:
        connection.force_debug_cursor = False
    dump = _all_rows_text()
    logs = caplog.text
    assert "register_personversion" in logs  # the SQL log was captured
    for number in NUMBERS:
        assert number not in dump
        assert number not in logs
    if connection.vendor == "sqlite":
        path = os.path.join(tempfile.mkdtemp(), "copy.sqlite3")
        with connection.cursor() as cur:
            cur.execute("VACUUM INTO %s", [path])
        raw = open(path, "rb").read()
        assert len(raw) > 10000
        for number in NUMBERS:
            assert number.encode() not in raw


def test_database_errors_are_logged_without_row_contents():
    import logging

    from django.db import IntegrityError

    from juki.core.logging import RedactDatabaseErrors

    message = "null value violates constraint DETAIL: Failing row contains (青木, 1985-04-01, 福岡県北九州市)"
    try:
        raise IntegrityError(message)  # the traceback shows this line, not the message
    except IntegrityError:
        import sys

        record = logging.LogRecord("juki.api", logging.ERROR, __file__, 1, "unhandled API error (%s)", ("IntegrityError",),
                                   sys.exc_info())
    assert RedactDatabaseErrors().filter(record)
    text = logging.Formatter().format(record)
    assert "IntegrityError" in text and "青木" not in text and "Failing row" not in text
