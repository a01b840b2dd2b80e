"""Django's PostgreSQL backend, keeping psycopg's prepared statements across a ROLLBACK.

psycopg 3 forgets every prepared statement of a connection on any ROLLBACK, ROLLBACK TO SAVEPOINT
included, in case the rollback removed a table a statement was planned on. juki rolls back on
purpose: a change's preview (確認, 仮登録, 審査) runs the change in a savepoint and rolls it back. So
the statements every screen repeats were planned again after each preview: 74 % of PostgreSQL's
statement time under the counter's load was planning (issue 18, BENCHMARKS.md).

A prepared statement is not transactional on the server: a rollback does not deallocate it, and
PostgreSQL re-plans it by itself when a table it reads changes. The one case psycopg guards against,
a table created and dropped inside the rolled-back transaction, never happens in a request; DDL
(migrations, `juki audit partitions`) still clears the cache by its DROP or ALTER, as psycopg does.

This depends on two private names of psycopg (`Connection._prepared`, `PrepareManager.clear` and
`_should_discard`), so pyproject pins psycopg's minor version and `tests/core/test_db_backend.py`
fails if a statement no longer survives a rollback.
"""
from __future__ import annotations

import re

from django.db.backends.postgresql import base
from psycopg._preparing import PrepareManager

# psycopg's own list without ROLLBACK (its regex: DROP|ALTER|ROLLBACK|DISCARD ALL|DEALLOCATE ALL).
_DISCARD = re.compile(rb"^(?:DROP|ALTER|DISCARD ALL|DEALLOCATE ALL)\b").match


class KeepOnRollback(PrepareManager):
    """psycopg's manager, except that a rollback keeps the prepared statements."""

    _discarding = False

    def _should_discard(self, prep, results) -> bool:
        self._discarding = True  # a DROP/ALTER/DISCARD result: clear() clears, as psycopg's does
        try:
            return super()._should_discard(prep, results, _DISCARD)
        finally:
            self._discarding = False

    def clear(self) -> bool:
        # Called by psycopg after every ROLLBACK (connection and savepoint), and by _should_discard.
        return super().clear() if self._discarding else False


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        kept = KeepOnRollback()
        kept.prepare_threshold = connection.prepare_threshold
        kept.prepared_max = connection.prepared_max
        connection._prepared = kept
        return connection
