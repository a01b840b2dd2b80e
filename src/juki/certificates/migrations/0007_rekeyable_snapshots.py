"""The append-only trigger of certificates_certificatesnapshot lets one more change through on PostgreSQL: the 個人番号
re-sealed under the active key (juki.core.rekey, issue 18). SQLite's trigger is unchanged."""
from django.db import migrations

from juki.core import append_only


class Migration(migrations.Migration):
    dependencies = [("certificates", "0006_number_ledger")]
    operations = [append_only.operation("certificates_certificatesnapshot")]
