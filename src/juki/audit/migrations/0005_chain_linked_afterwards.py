"""The access log is written unlinked and linked into its hash chain by the chainer (ADR 0007).

The chain columns may be empty until then, a partial index finds the rows still to link, and the
append-only trigger of the log table now lets exactly that one UPDATE through (`core.append_only`).
SQLite's table rebuild drops the trigger, so it is made again at the end.
"""
from django.conf import settings
from django.db import migrations, models

from juki.core import append_only


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0006_api_token_terminal'),
        ('audit', '0004_hash_chain'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='accesslog',
            name='prev_hash',
            field=models.CharField(blank=True, default='', max_length=64, verbose_name='前の記録のハッシュ'),
        ),
        migrations.AlterField(
            model_name='accesslog',
            name='row_hash',
            field=models.CharField(blank=True, default='', max_length=64, verbose_name='ハッシュ'),
        ),
        migrations.AlterField(
            model_name='accesslog',
            name='seq',
            field=models.BigIntegerField(null=True, unique=True, verbose_name='連番'),
        ),
        migrations.AddIndex(
            model_name='accesslog',
            index=models.Index(condition=models.Q(('seq__isnull', True)), fields=['id'], name='audit_log_unlinked'),
        ),
        append_only.operation("audit_accesslog"),
    ]
