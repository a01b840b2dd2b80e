"""Database triggers that make tables append-only (used by migrations).

UPDATE is refused on both engines; DELETE on PostgreSQL only, because on SQLite the test
runner empties tables with DELETE between tests (PostgreSQL's TRUNCATE fires no row
triggers). Retention jobs that must remove rows run as a sanctioned, logged procedure.

SQLite rebuilds a table for most AlterField operations and the rebuild drops its triggers:
a migration that alters one of these tables must end with `operation(...)` again (it is
idempotent).
"""
from django.db import migrations

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION juki_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'juki: % on % is not allowed (append-only)', TG_OP, TG_TABLE_NAME;
END; $$ LANGUAGE plpgsql;
"""


def operation(*tables: str) -> migrations.RunPython:
    def forwards(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        for table in tables:
            drop = f"DROP TRIGGER IF EXISTS {table}_append_only" + (f" ON {table}" if vendor == "postgresql" else "")
            schema_editor.execute(drop)
            if vendor == "postgresql":
                schema_editor.execute(
                    _PG_FUNCTION + f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                    "FOR EACH ROW EXECUTE FUNCTION juki_append_only();",
                    params=None,  # the body holds RAISE's % placeholders, not query parameters
                )
            elif vendor == "sqlite":
                schema_editor.execute(
                    f"CREATE TRIGGER {table}_append_only BEFORE UPDATE ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'juki: UPDATE on {table} is not allowed (append-only)'); END;"
                )

    def backwards(apps, schema_editor):
        on = schema_editor.connection.vendor == "postgresql"
        for table in tables:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only" + (f" ON {table}" if on else ""))

    return migrations.RunPython(forwards, backwards)
