"""Existing databases: before this app, `Staff.role` granted the role's rights by itself. Give every
existing user a grant of that role (from today for JUKI_INITIAL_GRANT_DAYS, source 既存利用者の移行),
so that nobody loses or gains a right on upgrade; from then on rights are applied for and approved."""
import datetime as dt

from django.conf import settings
from django.db import migrations
from django.utils import timezone


def grant_existing_roles(apps, schema_editor):
    Staff = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    Grant = apps.get_model("rights", "Grant")
    start = timezone.localdate()
    until = start + dt.timedelta(days=getattr(settings, "JUKI_INITIAL_GRANT_DAYS", 365))
    Grant.objects.bulk_create([
        Grant(user_id=pk, role=role, valid_from=start, valid_until=until, source="migration")
        for pk, role in Staff.objects.exclude(role="").values_list("pk", "role")
    ])


class Migration(migrations.Migration):
    dependencies = [
        ("rights", "0001_initial"),
        ("accounts", "0004_staff_resident_person"),
    ]

    operations = [migrations.RunPython(grant_existing_roles, migrations.RunPython.noop)]
