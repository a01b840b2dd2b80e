"""Upgrading a database: every existing user keeps the role's rights as a grant (migration 0002)."""
import datetime as dt
from importlib import import_module

from django.apps import apps

from juki.accounts.models import Staff
from juki.accounts.permissions import Perm
from juki.rights import services
from juki.rights.models import Grant

migration = import_module("juki.rights.migrations.0002_existing_staff_grants")


def test_existing_users_get_a_grant_of_their_role(db, settings):
    # Users as they were before juki.rights: a role and no grant.
    Staff.objects.create(username="old-clerk", role="clerk")
    Staff.objects.create(username="old-auditor", role="auditor")
    assert not Grant.objects.exists()
    migration.grant_existing_roles(apps, None)
    until = services.today() + dt.timedelta(days=settings.JUKI_INITIAL_GRANT_DAYS)
    grants = {(g.user.username, g.role, g.source, g.valid_until) for g in Grant.objects.select_related("user")}
    assert grants == {("old-clerk", "clerk", "migration", until), ("old-auditor", "auditor", "migration", until)}
    assert Staff.objects.get(username="old-clerk").has_juki_perm(Perm.PERSON_SEARCH)
