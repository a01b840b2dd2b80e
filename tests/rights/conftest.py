import datetime as dt

import pytest

from juki.accounts.models import Staff
from juki.audit.gate import Actor
from juki.rights import services
from juki.rights.models import Section


@pytest.fixture
def sections(db):
    return {
        "owner": Section.objects.create(code="S-JUKI", name="市民課（システム所管）", is_system_owner=True),
        "kokura": Section.objects.create(code="S-KOKURA", name="小倉北区役所 市民課"),
        "yahata": Section.objects.create(code="S-YAHATA", name="八幡西区役所 市民課"),
    }


@pytest.fixture
def admin_actor(rights_admin, terminal):
    # rights.admin is used only in a session that passed the second factor (C01): a proper login.
    return Actor(user=rights_admin, terminal=terminal, second_factor=True)


@pytest.fixture
def manager_actor(manager, terminal):
    return Actor(user=manager, terminal=terminal, second_factor=True)


def fresh(user) -> Staff:
    """A new object, as the next request would load it (has_juki_perm caches per object and day)."""
    return Staff.objects.get(pk=user.pk)


def apply(actor, sections, *, target_user=None, target_section=None, role="", perms=(), valid_from=None,
          valid_until=None):
    today = services.today()
    return services.application_submit(
        actor=actor, role=role, perms=perms, valid_from=valid_from or today,
        valid_until=valid_until or today + dt.timedelta(days=30), business_name="住民記録事務",
        business_outline="窓口での証明書交付", purpose="交付時の本人確認", legal_basis="住民基本台帳法第12条",
        applying_section=sections["owner"], using_section=sections["kokura"], target_user=target_user,
        target_section=target_section)
