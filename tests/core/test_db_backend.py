"""juki's PostgreSQL backend keeps prepared statements across a rollback (issue 18: the previews'
savepoint rollbacks made PostgreSQL plan the counter's statements again; juki.core.db.postgresql)."""
import pytest
from django.db import connection, transaction

from juki.core.db.postgresql.base import KeepOnRollback

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="psycopg's prepared statements (PostgreSQL)")

_PROBE = "SELECT %s::int + 1 AS probe_for_the_backend_test"


def _run_probe(times=1):
    with connection.cursor() as cur:
        for i in range(times):
            cur.execute(_PROBE, [i])
            assert cur.fetchone()[0] == i + 1


def _prepared_on_server() -> set[str]:
    with connection.cursor() as cur:
        cur.execute("SELECT name FROM pg_prepared_statements WHERE statement LIKE %s", ["%probe_for_the_backend_test%"])
        return {row[0] for row in cur.fetchall()}


def _prepare_probe() -> set[str]:
    connection.ensure_connection()
    _run_probe(connection.connection.prepare_threshold + 1)
    names = _prepared_on_server()
    assert len(names) == 1, "the probe was not prepared: is server_side_binding/prepare_threshold set?"
    return names


@pytest.mark.django_db
def test_the_engine_is_jukis_and_keeps_psycopgs_settings():
    connection.ensure_connection()
    manager = connection.connection._prepared
    assert isinstance(manager, KeepOnRollback)
    assert manager.prepare_threshold == 5


@pytest.mark.django_db
def test_a_prepared_statement_survives_a_rollback_to_savepoint():
    names = _prepare_probe()
    try:
        with transaction.atomic():
            _run_probe()
            raise RuntimeError("roll the savepoint back, as a change's preview does")
    except RuntimeError:
        pass
    assert _prepared_on_server() == names
    _run_probe()  # still executed as the same prepared statement, not prepared anew
    assert _prepared_on_server() == names


@pytest.mark.django_db(transaction=True)
def test_a_prepared_statement_survives_a_rollback_of_the_transaction():
    names = _prepare_probe()
    with transaction.atomic():
        _run_probe()
        transaction.set_rollback(True)
    _run_probe()
    assert _prepared_on_server() == names


@pytest.mark.django_db
def test_a_drop_still_clears_them_as_psycopg_does():
    names = _prepare_probe()
    with connection.cursor() as cur:
        cur.execute("CREATE TEMPORARY TABLE backend_test_scratch (x int)")
        cur.execute("DROP TABLE backend_test_scratch")
    assert connection.connection._prepared._names == {}
    _run_probe()  # the next statement sends psycopg's DEALLOCATE ALL first
    assert not (_prepared_on_server() & names)
