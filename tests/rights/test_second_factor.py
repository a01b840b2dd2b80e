"""C01: a right in TWO_FACTOR_PERMS is used only in a session that passed the second factor,
in the services (`Actor.can`) and at the API's door (`RightRequired`) alike."""
import pytest

from juki.accounts.permissions import TWO_FACTOR_PERMS, Perm
from juki.audit.gate import Actor
from juki.audit.models import AccessLog
from juki.core.errors import AccessDenied
from juki.rights import services
from juki.rights.models import RightApplication

from ..conftest import api_for, token_issue
from .conftest import apply, fresh
from .test_api import _body


def _last(function):
    return AccessLog.objects.filter(function=function).latest("id")


def test_sensitive_rights_need_the_second_factor_others_do_not(rights_admin, supervisor, terminal):
    assert {Perm.RIGHTS_ADMIN, Perm.RIGHTS_APPROVE, Perm.MY_NUMBER_VIEW} <= TWO_FACTOR_PERMS
    without = Actor(user=rights_admin, terminal=terminal)
    assert without.holds(Perm.RIGHTS_ADMIN) and not without.can(Perm.RIGHTS_ADMIN)
    assert Actor(user=rights_admin, terminal=terminal, second_factor=True).can(Perm.RIGHTS_ADMIN)
    sup = Actor(user=supervisor, terminal=terminal)
    assert sup.can(Perm.PERSON_VIEW) and not sup.can(Perm.MY_NUMBER_VIEW)  # only the sensitive one
    # No login: a job started from the server's shell uses its listed rights without a second factor…
    assert Actor.system_actor("cli.totp_enrol").can(Perm.RIGHTS_ADMIN)
    assert not Actor.system_actor("cli.totp_enrol").can(Perm.RIGHTS_APPROVE)  # …and no right it does not list (ADR 0019)


def test_an_admin_without_the_second_factor_cannot_apply(rights_admin, clerk, sections, terminal):
    without = Actor(user=rights_admin, terminal=terminal, second_factor=False)
    with pytest.raises(AccessDenied):
        apply(without, sections, target_user=clerk, perms=[Perm.MY_NUMBER_VIEW])
    row = _last("rights.apply")
    assert (row.outcome, row.user) == (AccessLog.DENIED, rights_admin)
    assert not RightApplication.objects.exists()
    application = apply(Actor(user=rights_admin, terminal=terminal, second_factor=True), sections,
                        target_user=clerk, perms=[Perm.MY_NUMBER_VIEW])
    assert application.state == RightApplication.State.PENDING
    assert _last("rights.apply").outcome == "done"


def test_a_manager_without_the_second_factor_cannot_approve(manager, admin_actor, clerk, sections, terminal):
    application = apply(admin_actor, sections, target_user=clerk, perms=[Perm.MY_NUMBER_VIEW])
    with pytest.raises(AccessDenied):
        services.application_approve(actor=Actor(user=manager, terminal=terminal), application_id=application.id)
    assert _last("rights.approve").outcome == AccessLog.DENIED
    assert RightApplication.objects.get().state == RightApplication.State.PENDING


def test_a_token_issued_without_the_second_factor_cannot_use_a_right_gained_later(
        clerk, admin_actor, manager_actor, sections, terminal, monkeypatch):
    import datetime as dt

    from django.utils import timezone
    from rest_framework.test import APIClient

    # The clerk is given rights.admin from tomorrow. Approving it ends the clerk's tokens (ADR 0015),
    # so the token is issued afterwards, today, when the clerk needs no OTP yet.
    tomorrow = services.today() + dt.timedelta(days=1)
    granted = apply(admin_actor, sections, target_user=clerk, perms=[Perm.RIGHTS_ADMIN], valid_from=tomorrow)
    services.application_approve(actor=manager_actor, application_id=granted.id)
    key, token = token_issue(username=clerk.username, password=clerk.plain_password,
                             terminal=terminal)  # a clerk needs no OTP
    assert not token.second_factor
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_X_TERMINAL_ID=terminal.code)
    # Tomorrow the grant is in force, and the token, issued without the second factor, still lives.
    monkeypatch.setattr(timezone, "localdate", lambda *a: tomorrow)
    assert fresh(clerk).has_juki_perm(Perm.RIGHTS_ADMIN)
    before = RightApplication.objects.count()
    r = client.post("/api/v1/rights/applications", _body(target_user="admin1"), format="json")
    assert r.status_code == 403 and r.json()["code"] == "permission_denied"
    row = _last("rights.apply")
    assert (row.outcome, row.user) == (AccessLog.DENIED, clerk)
    assert RightApplication.objects.count() == before
    # A token issued after the second factor may use it.
    now_admin = fresh(clerk)
    now_admin.plain_password = clerk.plain_password
    r = api_for(now_admin, terminal).post("/api/v1/rights/applications", _body(target_user="admin1"), format="json")
    assert r.status_code == 201, r.content
    assert RightApplication.objects.count() == before + 1
