"""On PostgreSQL the access log becomes a table partitioned by month of `at` (ADR 0030).

Each subject row gets its log row's `at` (`log_at`), so a person's history is looked up by (id, at)
in each row's month only; the person index becomes (person_id, log_at, log_id).

The rows are copied into the new table with their ids, seq and hashes, so the chain is the
same chain. A partitioned table's keys must hold the partition column: the primary key becomes
(id, at), seq is unique with at (the chainer numbers under one lock; `verify` finds a duplicate
as a gap), and the subjects' foreign key goes (it could only name (id, at)). Every other index
and key is made again under its old name. SQLite keeps its one table.
"""
from django.conf import settings
from django.db import migrations, models

from juki.core import append_only

LOG = "audit_accesslog"
SUBJECT = "audit_accesslogsubject"
OLD = "audit_accesslog_unpartitioned"


def log_at(apps, schema_editor):
    with schema_editor.connection.cursor() as cur:
        if schema_editor.connection.vendor == "postgresql":
            cur.execute(f"UPDATE {SUBJECT} s SET log_at = l.at FROM {LOG} l WHERE l.id = s.log_id")
        else:
            cur.execute(f"UPDATE {SUBJECT} SET log_at = (SELECT at FROM {LOG} WHERE {LOG}.id = {SUBJECT}.log_id)")


def partition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from juki.audit import partitions

    with schema_editor.connection.cursor() as cur:
        cur.execute("SELECT indexdef FROM pg_indexes i WHERE tablename = %s AND schemaname = current_schema() "
                    "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)", [LOG])
        indexes = [row[0] for row in cur.fetchall()]
        cur.execute("SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass "
                    "AND contype IN ('f', 'u', 'p')", [LOG])
        constraints = cur.fetchall()
        cur.execute(f"ALTER TABLE {LOG} RENAME TO {OLD}")
        cur.execute(f"CREATE TABLE {LOG} (LIKE {OLD} INCLUDING DEFAULTS) PARTITION BY RANGE (at)")
        cur.execute(f"CREATE TABLE {partitions.DEFAULT} PARTITION OF {LOG} DEFAULT")
        cur.execute(f"SELECT min(at) FROM {OLD}")
        oldest = cur.fetchone()[0]
        partitions.ensure(since=partitions.month_of(oldest) if oldest else None)
        cur.execute(f"INSERT INTO {LOG} SELECT * FROM {OLD}")
        cur.execute(f"SELECT max(id) FROM {OLD}")
        last_id = cur.fetchone()[0]
        cur.execute(f"DROP TABLE {OLD}")  # its identity sequence goes with it; a plain one follows
        cur.execute(f"CREATE SEQUENCE {LOG}_id_seq OWNED BY {LOG}.id")
        if last_id:
            cur.execute(f"SELECT setval('{LOG}_id_seq', %s)", [last_id])
        cur.execute(f"ALTER TABLE {LOG} ALTER COLUMN id SET DEFAULT nextval('{LOG}_id_seq')")
        for name, kind, definition in constraints:
            if kind == "p":
                definition = "PRIMARY KEY (id, at)"
            elif kind == "u":
                definition = definition.replace(")", ", at)", 1)  # UNIQUE (seq) → UNIQUE (seq, at)
            cur.execute(f'ALTER TABLE {LOG} ADD CONSTRAINT "{name}" {definition}')
        for definition in indexes:
            cur.execute(definition)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0005_chain_linked_afterwards"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="accesslogsubject",
            name="log",
            field=models.ForeignKey(db_constraint=False, on_delete=models.deletion.PROTECT, related_name="subjects",
                                    to="audit.accesslog"),
        ),
        migrations.AlterField(  # the (user, at) index serves every look-up by user
            model_name="accesslog",
            name="user",
            field=models.ForeignKey(db_index=False, null=True, on_delete=models.deletion.PROTECT,
                                    to=settings.AUTH_USER_MODEL, verbose_name="操作者"),
        ),
        append_only.drop_operation(SUBJECT),  # the one rewrite: each subject gets its row's `at`
        migrations.AddField(
            model_name="accesslogsubject",
            name="log_at",
            field=models.DateTimeField(null=True, verbose_name="記録の日時"),
        ),
        migrations.RunPython(log_at, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="accesslogsubject",
            name="log_at",
            field=models.DateTimeField(verbose_name="記録の日時"),
        ),
        migrations.AlterField(
            model_name="accesslogsubject",
            name="person_id",
            field=models.BigIntegerField(),
        ),
        migrations.AddIndex(
            model_name="accesslogsubject",
            index=models.Index(fields=["person_id", "log_at", "log"], name="audit_subject_person_at"),
        ),
        migrations.RunPython(partition, migrations.RunPython.noop, elidable=False),
        # The subjects' triggers were lifted above (and SQLite's rebuild drops them); the new log table has none yet.
        append_only.operation(LOG, SUBJECT),
    ]
