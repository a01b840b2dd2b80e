"""Database triggers that make tables append-only (used by migrations).

UPDATE is refused on both engines; DELETE on PostgreSQL only, because on SQLite the test
runner empties tables with DELETE between tests (PostgreSQL's TRUNCATE fires no row
triggers). Retention jobs that must remove rows run as a sanctioned, logged procedure: on the
tables in `PURGEABLE` the PostgreSQL trigger lets a DELETE through only inside a transaction
that ran `SET LOCAL juki.audit_purge = 'on'` (`juki audit purge`, ADR 0007). That keeps an
ordinary DELETE by the application out; it is no barrier to someone who can run SQL as the
application's role — the hash chain and the signed checkpoints are what detect that.

The access log is written unlinked and linked into its hash chain afterwards (ADR 0007): on the
tables in `LINKABLE` one UPDATE is allowed, the one that fills the chain columns of a row that has
none yet and changes nothing else. A linked row is as fixed as any other.

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


# table → the columns a re-key of the 個人番号 may rewrite (juki.core.rekey, issue 18): on PostgreSQL an
# UPDATE that changes these and nothing else passes inside a transaction that set `juki.rekey`.
REKEYABLE = {"register_personversion": ("my_number_key_id", "my_number_cipher"),
             "certificates_certificatesnapshot": ("sealed",)}
# The column that must change for a re-key to pass: a "re-key" to the same key is a rewrite, refused.
_REKEY_MOVES = {"register_personversion": "my_number_key_id", "certificates_certificatesnapshot": "sealed"}
REKEY_SETTING = "juki.rekey"


def _pg_rekeyable_function(table: str) -> tuple[str, str]:
    strip = " ".join(f"- '{c}'" for c in REKEYABLE[table])
    name = f"juki_{table}_guard"
    return name, f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND current_setting('{REKEY_SETTING}', true) = 'on'
       AND NEW.{_REKEY_MOVES[table]} IS DISTINCT FROM OLD.{_REKEY_MOVES[table]}
       AND (to_jsonb(NEW) {strip}) = (to_jsonb(OLD) {strip}) THEN
        RETURN NEW;  -- the 個人番号 re-sealed under the active key, nothing else
    END IF;
    RAISE EXCEPTION 'juki: % on % is not allowed (append-only)', TG_OP, TG_TABLE_NAME;
END; $$ LANGUAGE plpgsql;
"""


# table → (the column that is NULL until the row is linked, the chain columns the link fills)
LINKABLE = {"audit_accesslog": ("seq", ("seq", "prev_hash", "row_hash"))}


def _pg_linkable_function(table: str) -> tuple[str, str]:
    marker, columns = LINKABLE[table]
    strip = " ".join(f"- '{c}'" for c in columns)
    name = f"juki_{table}_guard"
    return name, f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('{PURGE_SETTING}', true) = 'on' THEN
        RETURN OLD;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.{marker} IS NULL AND NEW.{marker} IS NOT NULL
       AND (to_jsonb(NEW) {strip}) = (to_jsonb(OLD) {strip}) THEN
        RETURN NEW;  -- the chainer links the row (ADR 0007)
    END IF;
    RAISE EXCEPTION 'juki: % on % is not allowed (append-only)', TG_OP, TG_TABLE_NAME;
END; $$ LANGUAGE plpgsql;
"""


def _sqlite_link_condition(schema_editor, table: str) -> str:
    """WHEN clause of SQLite's UPDATE trigger: anything but a link of an unlinked row."""
    marker, chain_columns = LINKABLE[table]
    with schema_editor.connection.cursor() as cur:
        columns = [c.name for c in schema_editor.connection.introspection.get_table_description(cur, table)]
    same = " AND ".join(f'NEW."{c}" IS OLD."{c}"' for c in columns if c not in chain_columns)
    return f"NOT (OLD.{marker} IS NULL AND NEW.{marker} IS NOT NULL AND {same})"


def operation(*tables: str) -> migrations.RunPython:
    def forwards(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        for table in tables:
            drop = f"DROP TRIGGER IF EXISTS {table}_append_only" + (f" ON {table}" if vendor == "postgresql" else "")
            schema_editor.execute(drop)
            if vendor == "postgresql" and (table in LINKABLE or table in REKEYABLE):
                function, body = (_pg_linkable_function if table in LINKABLE else _pg_rekeyable_function)(table)
                schema_editor.execute(
                    body + f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                    f"FOR EACH ROW EXECUTE FUNCTION {function}();", params=None)
            elif vendor == "sqlite" and table in LINKABLE:
                schema_editor.execute(
                    f"CREATE TRIGGER {table}_append_only BEFORE UPDATE ON {table} "
                    f"WHEN {_sqlite_link_condition(schema_editor, table)} "
                    f"BEGIN SELECT RAISE(ABORT, 'juki: UPDATE on {table} is not allowed (append-only)'); END;")
            elif vendor == "postgresql":
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
