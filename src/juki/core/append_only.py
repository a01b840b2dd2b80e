"""Database triggers that make tables append-only (used by migrations).

UPDATE is refused on both engines; DELETE on PostgreSQL only, because on SQLite the test
runner empties tables with DELETE between tests (PostgreSQL's TRUNCATE fires no row
triggers). Retention jobs that must remove rows run as a sanctioned, logged procedure: on the
tables in `PURGEABLE` the PostgreSQL trigger lets a DELETE through only inside a transaction
that ran `SET LOCAL juki.audit_purge = 'on'` (`juki audit purge`, ADR 0007). That keeps an
ordinary DELETE by the application out; it is no barrier to someone who can run SQL as the
application's role — the hash chain and the signed checkpoints are what detect that.

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


PURGEABLE = {"audit_accesslog", "audit_accesslogsubject"}
PURGE_SETTING = "juki.audit_purge"

_PG_PURGEABLE_FUNCTION = f"""
CREATE OR REPLACE FUNCTION juki_append_only_purgeable() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('{PURGE_SETTING}', true) = 'on' THEN
        RETURN OLD;
    END IF;
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
                function = "juki_append_only_purgeable" if table in PURGEABLE else "juki_append_only"
                body = _PG_PURGEABLE_FUNCTION if table in PURGEABLE else _PG_FUNCTION
                schema_editor.execute(
                    body + f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                    f"FOR EACH ROW EXECUTE FUNCTION {function}();",
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


def drop_operation(*tables: str) -> migrations.RunPython:
    """Remove the triggers for a data migration that must rewrite rows (re-add with `operation`)."""
    forwards = operation(*tables)
    return migrations.RunPython(forwards.reverse_code, forwards.code)
