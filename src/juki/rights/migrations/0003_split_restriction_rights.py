"""[410] made 抑止の解除 and 一時解除 rights of their own (`restriction.release`,
`restriction.temporary_release`); before, `restriction.manage` covered both. So that nobody who
could release on the day of the upgrade loses it, every grant of `restriction.manage` still in
force gets the two new rights beside it: same holder, period, application and approver, source
既存利用者の移行. Roles need nothing: their rights are defined in code."""
from django.db import migrations
from django.utils import timezone

NEW = ("restriction.release", "restriction.temporary_release")


def split(apps, schema_editor):
    Grant = apps.get_model("rights", "Grant")
    live = Grant.objects.filter(perm="restriction.manage", ended_on__isnull=True,
                                valid_until__gte=timezone.localdate())
    Grant.objects.bulk_create([
        Grant(user_id=g.user_id, section_id=g.section_id, perm=perm, valid_from=g.valid_from,
              valid_until=g.valid_until, source="migration", application_id=g.application_id,
              approved_by_id=g.approved_by_id)
        for g in live for perm in NEW
    ])


class Migration(migrations.Migration):
    dependencies = [("rights", "0002_existing_staff_grants")]

    operations = [migrations.RunPython(split, migrations.RunPython.noop)]
