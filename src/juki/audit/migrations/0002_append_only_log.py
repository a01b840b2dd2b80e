"""Access-log rows cannot be changed at the database (C06, [1370] 改ざん防止).

Retention purges (C07: 7 years) run through `juki audit purge`, a dedicated, logged procedure
(ADR 0007).
"""
from django.db import migrations

from juki.core import append_only


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [append_only.operation("audit_accesslog", "audit_accesslogsubject")]
