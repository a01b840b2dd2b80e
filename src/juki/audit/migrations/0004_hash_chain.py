"""The access log becomes a hash chain with signed checkpoints (ADR 0007).

Existing rows are numbered and hashed in id order, so an old database verifies after the
upgrade. The append-only triggers are lifted for that one rewrite and put back at the end
(SQLite's table rebuilds drop them anyway).
"""
import django.utils.timezone
from django.db import migrations, models

from juki.core import append_only

LOG_TABLES = ("audit_accesslog", "audit_accesslogsubject")


def backfill(apps, schema_editor):
    from juki.audit.chain import GENESIS, HASHED, digest

    AccessLog = apps.get_model("audit", "AccessLog")
    AccessLogSubject = apps.get_model("audit", "AccessLogSubject")
    ChainHead = apps.get_model("audit", "ChainHead")
    prev, seq, last_id = GENESIS, 0, 0
    fields = ["id", *[n for n in HASHED if n != "seq"]]
    while chunk := list(AccessLog.objects.filter(id__gt=last_id).order_by("id").values(*fields)[:2000]):
        subjects = {}
        for log_id, person_id in AccessLogSubject.objects.filter(log_id__in=[r["id"] for r in chunk]).values_list(
            "log_id", "person_id"
        ):
            subjects.setdefault(log_id, []).append(person_id)
        for row in chunk:
            seq += 1
            row["seq"] = seq
            row_hash = digest(row, subjects.get(row["id"], ()), prev)
            AccessLog.objects.filter(pk=row["id"]).update(seq=seq, prev_hash=prev, row_hash=row_hash)
            prev = row_hash
        last_id = chunk[-1]["id"]
    ChainHead.objects.create(id=1, seq=seq, row_hash=prev)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0003_log_category_and_flags"),
    ]

    operations = [
        append_only.drop_operation(*LOG_TABLES),
        migrations.AlterField(
            model_name="accesslog",
            name="at",
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now, editable=False, verbose_name="日時"),
        ),
        migrations.AddField(
            model_name="accesslog",
            name="seq",
            field=models.BigIntegerField(null=True, verbose_name="連番"),
        ),
        migrations.AddField(
            model_name="accesslog",
            name="prev_hash",
            field=models.CharField(default="", max_length=64, verbose_name="前の記録のハッシュ"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="accesslog",
            name="row_hash",
            field=models.CharField(default="", max_length=64, verbose_name="ハッシュ"),
            preserve_default=False,
        ),
        migrations.CreateModel(
            name="ChainHead",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ("seq", models.BigIntegerField(default=0)),
                ("row_hash", models.CharField(max_length=64)),
            ],
            options={"verbose_name": "ハッシュチェーンの先頭"},
        ),
        migrations.CreateModel(
            name="Checkpoint",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("seq", models.BigIntegerField(db_index=True, verbose_name="連番")),
                ("row_hash", models.CharField(max_length=64, verbose_name="ハッシュ")),
                ("at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="日時")),
                ("kind", models.CharField(choices=[("periodic", "定期"), ("purge", "保存期間経過による削除")],
                                          default="periodic", max_length=10, verbose_name="種類")),
                ("key_id", models.CharField(max_length=16, verbose_name="鍵ID")),
                ("signature", models.CharField(max_length=88, verbose_name="署名")),
            ],
            options={"verbose_name": "監査ログのチェックポイント", "verbose_name_plural": "監査ログのチェックポイント"},
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="accesslog",
            name="seq",
            field=models.BigIntegerField(unique=True, verbose_name="連番"),
        ),
        append_only.operation(*LOG_TABLES, "audit_checkpoint"),
    ]
