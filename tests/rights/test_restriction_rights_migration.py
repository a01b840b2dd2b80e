"""rights 0003: a live grant of restriction.manage (which used to cover 解除 and 一時解除) gets the two
new rights beside it on upgrade, so nobody loses a step they could take the day before [410]."""
import datetime as dt
import importlib

from django.apps import apps

from juki.accounts.permissions import Perm
from juki.rights.models import Grant

from .conftest import apply, fresh

split = importlib.import_module("juki.rights.migrations.0003_split_restriction_rights").split


def test_live_restriction_grants_get_release_rights(clerk, clerk2, admin_actor, manager_actor, sections):
    from juki.rights import services

    live = apply(admin_actor, sections, target_user=clerk, perms=[Perm.RESTRICTION_MANAGE])
    services.application_approve(actor=manager_actor, application_id=live.id)
    ended = apply(admin_actor, sections, target_user=clerk2, perms=[Perm.RESTRICTION_MANAGE])
    services.application_approve(actor=manager_actor, application_id=ended.id)
    Grant.objects.filter(application=ended).update(ended_on=services.today() - dt.timedelta(days=1), end_reason="revoked")
    assert not fresh(clerk).has_juki_perm(Perm.RESTRICTION_RELEASE)

    split(apps, None)

    user = fresh(clerk)
    assert user.has_juki_perm(Perm.RESTRICTION_RELEASE) and user.has_juki_perm(Perm.RESTRICTION_TEMPORARY_RELEASE)
    added = Grant.objects.filter(perm__in=[Perm.RESTRICTION_RELEASE, Perm.RESTRICTION_TEMPORARY_RELEASE])
    assert {(g.user_id, g.application_id, g.source) for g in added} == {(clerk.pk, live.id, "migration")}
    assert not fresh(clerk2).has_juki_perm(Perm.RESTRICTION_RELEASE)  # an ended grant is not renewed
