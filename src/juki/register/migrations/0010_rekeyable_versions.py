"""The append-only trigger of register_personversion lets one more change through on PostgreSQL: the 個人番号
re-sealed under the active key (juki.core.rekey, issue 18). SQLite's trigger is unchanged."""
from django.db import migrations

from juki.core import append_only


class Migration(migrations.Migration):
    dependencies = [("register", "0009_transfer_certificates")]
    operations = [append_only.operation("register_personversion")]
