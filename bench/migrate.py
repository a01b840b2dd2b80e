"""`juki migrate` for the benchmark databases, with a shim for a bug in src/ on PostgreSQL.

register/migrations/0002_append_only_history.py calls `schema_editor.execute(sql)` with the
default params=(); Django's PostgreSQL schema editor then composes the SQL client-side and
psycopg rejects the `%` placeholders of `RAISE EXCEPTION '... % on % ...'`
("incomplete placeholder: '%'"), so `juki migrate` fails on PostgreSQL. Until that is fixed
in src/, this wrapper passes params=None for exactly that statement (the SQL that runs is the
migration's own, unchanged). On SQLite it is plain `migrate`.

    DATABASE_URL=... .venv/bin/python bench/migrate.py
"""
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "juki.conf.dev")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db.backends.postgresql.schema import DatabaseSchemaEditor  # noqa: E402

_execute = DatabaseSchemaEditor.execute


def _execute_shim(self, sql, params=()):
    if params == () and "juki_append_only" in str(sql):
        params = None
    return _execute(self, sql, params)


DatabaseSchemaEditor.execute = _execute_shim

if __name__ == "__main__":
    call_command("migrate", verbosity=int(os.environ.get("MIGRATE_VERBOSITY", "0")), *sys.argv[1:])
