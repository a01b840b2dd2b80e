"""History rows are append-only, enforced by the database itself (ADR 0001)."""
from django.db import migrations

from juki.core import append_only


class Migration(migrations.Migration):
    dependencies = [("register", "0001_initial")]
    operations = [append_only.operation("register_personversion", "register_change")]
