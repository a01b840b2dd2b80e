"""History rows are append-only, enforced by the database itself (ADR 0001).

UPDATE is refused on both engines. DELETE is refused on PostgreSQL; on SQLite it is left
to the application because the test runner empties tables with DELETE between tests
(PostgreSQL's TRUNCATE does not fire row triggers).
"""
from django.db import migrations

TABLES = ("register_personversion", "register_change")


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "postgresql":
            schema_editor.execute(
                f"""
                CREATE OR REPLACE FUNCTION juki_append_only() RETURNS trigger AS $$
                BEGIN
                    RAISE EXCEPTION 'juki: % on % is not allowed (append-only history)', TG_OP, TG_TABLE_NAME;
                END; $$ LANGUAGE plpgsql;
                CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
                    FOR EACH ROW EXECUTE FUNCTION juki_append_only();
                """,
                params=None,  # the body contains % placeholders of RAISE, not query parameters
            )
        elif vendor == "sqlite":
            schema_editor.execute(
                f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE ON {table}
                    BEGIN SELECT RAISE(ABORT, 'juki: UPDATE on {table} is not allowed (append-only history)'); END;"""
            )


def backwards(apps, schema_editor):
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only" + (
            f" ON {table}" if schema_editor.connection.vendor == "postgresql" else ""))


class Migration(migrations.Migration):
    dependencies = [("register", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
