"""Triggers that keep `Staff.rights_cache` honest (issue 19): any INSERT, UPDATE or DELETE of a
grant, a posting or a contractor registration, by the services, the admin, a fixture or plain SQL,
empties the stored rights of the users it may concern and moves their `rights_version` on. A
section's grant reaches everyone ever posted to that section.
"""
from django.db import migrations

# table → does a row name a section whose members it concerns (a grant to a section)?
TABLES = {"rights_grant": True, "rights_posting": False, "rights_contractorstaff": False}
STAFF = "accounts_staff"
CLEAR = f"UPDATE {STAFF} SET rights_cache = NULL, rights_version = rights_version + 1"

_PG = f"""
CREATE OR REPLACE FUNCTION juki_rights_cache_clear() RETURNS trigger AS $$
DECLARE
    users bigint[] := ARRAY[]::bigint[];
    sections bigint[] := ARRAY[]::bigint[];
    row_ jsonb;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        row_ := to_jsonb(OLD);
        users := users || (row_->>'user_id')::bigint;
        IF TG_ARGV[0] = 'section' THEN sections := sections || (row_->>'section_id')::bigint; END IF;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        row_ := to_jsonb(NEW);
        users := users || (row_->>'user_id')::bigint;
        IF TG_ARGV[0] = 'section' THEN sections := sections || (row_->>'section_id')::bigint; END IF;
    END IF;
    {CLEAR} WHERE id = ANY(users)
        OR id IN (SELECT user_id FROM rights_posting WHERE section_id = ANY(sections));
    RETURN NULL;
END; $$ LANGUAGE plpgsql;
"""


def _sqlite_where(table: str, ref: str, section: bool) -> str:
    where = f"id = {ref}.user_id"
    if section:
        where += f" OR id IN (SELECT user_id FROM rights_posting WHERE section_id = {ref}.section_id)"
    return where


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table, section in TABLES.items():
        if vendor == "postgresql":
            schema_editor.execute(
                _PG + f"DROP TRIGGER IF EXISTS {table}_rights_cache ON {table}; "
                f"CREATE TRIGGER {table}_rights_cache AFTER INSERT OR UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION juki_rights_cache_clear('{'section' if section else 'user'}');",
                params=None)
        elif vendor == "sqlite":
            for op, refs in (("INSERT", ("NEW",)), ("UPDATE", ("OLD", "NEW")), ("DELETE", ("OLD",))):
                where = " OR ".join(f"({_sqlite_where(table, ref, section)})" for ref in refs)
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_rights_cache_{op.lower()}")
                schema_editor.execute(f"CREATE TRIGGER {table}_rights_cache_{op.lower()} AFTER {op} ON {table} "
                                      f"BEGIN {CLEAR} WHERE {where}; END;")


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_rights_cache ON {table}")
        elif vendor == "sqlite":
            for op in ("insert", "update", "delete"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_rights_cache_{op}")


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0007_staff_rights_cache"),
        ("rights", "0003_split_restriction_rights"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
