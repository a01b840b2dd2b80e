"""Access-log rows cannot be changed, by anyone, at the database (C06, [1370] 改ざん防止).

UPDATE is refused on both engines; DELETE on PostgreSQL (SQLite's test runner empties tables
with DELETE). Retention purges (C07: 7 years) will run as the table owner through a
dedicated, logged procedure — the governance issue.
"""
from django.db import migrations

TABLES = ("audit_accesslog", "audit_accesslogsubject")


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "postgresql":
            schema_editor.execute(
                f"""
                CREATE OR REPLACE FUNCTION juki_append_only() RETURNS trigger AS $$
                BEGIN
                    RAISE EXCEPTION 'juki: % on % is not allowed (append-only)', TG_OP, TG_TABLE_NAME;
                END; $$ LANGUAGE plpgsql;
                CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
                    FOR EACH ROW EXECUTE FUNCTION juki_append_only();
                """,
                params=None,
            )
        elif vendor == "sqlite":
            schema_editor.execute(
                f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE ON {table}
                    BEGIN SELECT RAISE(ABORT, 'juki: UPDATE on {table} is not allowed (append-only)'); END;"""
            )


def backwards(apps, schema_editor):
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only" + (
            f" ON {table}" if schema_editor.connection.vendor == "postgresql" else ""))


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
