"""Contractor staff (C04): pre-registration by name, work applications, the session check."""
import datetime as dt

import pytest

from juki.accounts.permissions import Perm
from juki.accounts.services import staff_create
from juki.audit import gate
from juki.audit.gate import Actor
from juki.audit.models import AccessLog
from juki.core.errors import DomainError, ErrorCode
from juki.rights import contractors, services

from .conftest import apply

DAY = dt.timedelta(days=1)


@pytest.fixture
def vendor_user(db):
    return staff_create(username="vendor1", password="correct-horse-battery-9", role="viewer")


@pytest.fixture
def registered(vendor_user, manager_actor):
    return contractors.contractor_register(actor=manager_actor, company="株式会社北九州システム", user=vendor_user,
                                           full_name="委託 太郎", valid_from=services.today(),
                                           valid_until=services.today() + 60 * DAY)


@pytest.fixture
def work(registered, admin_actor, manager_actor):
    item = contractors.work_application_submit(actor=admin_actor, contractor=registered, description="帳票の改修作業",
                                               valid_from=services.today(), valid_until=services.today() + 5 * DAY)
    return contractors.work_application_approve(actor=manager_actor, work_application_id=item.id)


def test_city_staff_need_no_work_application(clerk):
    assert services.contractor_session_check(clerk, "") == ""


def test_contractor_without_work_application_is_refused(registered, vendor_user):
    for number in ("", "W2000-99999"):
        with pytest.raises(DomainError) as exc:
            services.contractor_session_check(vendor_user, number)
        assert exc.value.code == ErrorCode.WORK_APPLICATION_REQUIRED


def test_pending_work_application_is_not_enough(registered, vendor_user, admin_actor):
    item = contractors.work_application_submit(actor=admin_actor, contractor=registered, description="調査",
                                               valid_from=services.today(), valid_until=services.today())
    with pytest.raises(DomainError) as exc:
        services.contractor_session_check(vendor_user, item.number)
    assert exc.value.code == ErrorCode.WORK_APPLICATION_REQUIRED


def test_approved_work_application_is_returned_and_logged_on_every_row(work, vendor_user, terminal):
    number = services.contractor_session_check(vendor_user, f" {work.number} ")
    assert number == work.number and number.startswith("W")
    actor = Actor(user=vendor_user, terminal=terminal, work_application=number)
    with gate.open(actor, function="person.search", perm=Perm.PERSON_SEARCH):
        pass
    row = AccessLog.objects.filter(function="person.search").latest("id")
    assert (row.user, row.work_application) == (vendor_user, work.number)


def test_work_application_outside_its_period(work, vendor_user, monkeypatch):
    from django.utils import timezone

    monkeypatch.setattr(timezone, "localdate", lambda *a: work.valid_until + DAY)
    with pytest.raises(DomainError) as exc:
        services.contractor_session_check(vendor_user, work.number)
    assert exc.value.code == ErrorCode.WORK_APPLICATION_REQUIRED


def test_work_application_of_another_contractor_is_refused(work, manager_actor):
    other = staff_create(username="vendor2", password="correct-horse-battery-9", role="viewer")
    contractors.contractor_register(actor=manager_actor, company="株式会社北九州システム", user=other, full_name="委託 次郎",
                                    valid_from=services.today(), valid_until=services.today() + DAY)
    with pytest.raises(DomainError) as exc:
        services.contractor_session_check(other, work.number)
    assert exc.value.code == ErrorCode.WORK_APPLICATION_REQUIRED


def test_contractor_rights_only_within_registration(registered, vendor_user, admin_actor, manager_actor, sections):
    with pytest.raises(DomainError) as exc:
        apply(admin_actor, sections, target_user=vendor_user, perms=[Perm.PERSON_VIEW],
              valid_until=registered.valid_until + DAY)
    assert exc.value.code == ErrorCode.CONTRACTOR_NOT_REGISTERED
    ok = apply(admin_actor, sections, target_user=vendor_user, perms=[Perm.PERSON_SEARCH],
               valid_until=registered.valid_until)
    services.application_approve(actor=manager_actor, application_id=ok.id)
    assert Perm.PERSON_SEARCH in services.effective_perms(vendor_user)
    # Outside the registered period the contractor holds nothing, whatever the grants say.
    assert services.effective_perms(vendor_user, on=registered.valid_until + DAY) == frozenset()


def test_unregistered_contractor_cannot_be_target(vendor_user, manager_actor, admin_actor, sections):
    # Registered once, for a past period: a known contractor, not registered for the new one.
    contractors.contractor_register(actor=manager_actor, company="旧委託先", user=vendor_user, full_name="委託 太郎",
                                    valid_from=dt.date(2020, 4, 1), valid_until=dt.date(2021, 3, 31))
    with pytest.raises(DomainError) as exc:
        apply(admin_actor, sections, target_user=vendor_user, perms=[Perm.PERSON_VIEW])
    assert exc.value.code == ErrorCode.CONTRACTOR_NOT_REGISTERED


def test_register_needs_rights_approve(admin_actor, vendor_user):
    from juki.core.errors import AccessDenied

    with pytest.raises(AccessDenied):
        contractors.contractor_register(actor=admin_actor, company="x", user=vendor_user, full_name="x",
                                        valid_from=services.today(), valid_until=services.today())
    assert AccessLog.objects.filter(function="rights.contractor_register").latest("id").outcome == "denied"


def test_a_session_and_a_token_end_with_the_work_application(work, vendor_user, terminal, monkeypatch):
    """C04: checked at every request, not only at login, so a long session cannot outlive the work."""
    from django.test import Client
    from django.utils import timezone
    from rest_framework.test import APIClient

    from juki.accounts.login import token_issue

    client = Client()
    r = client.post("/counter/login/", {"username": vendor_user.username, "password": "correct-horse-battery-9",
                                        "terminal": terminal.code, "work_application": work.number})
    assert r.status_code == 302 and "/login/" not in r["Location"]
    key = token_issue(username=vendor_user.username, password="correct-horse-battery-9", work_application=work.number,
                      terminal=terminal)[0]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_X_TERMINAL_ID=terminal.code)
    assert api.get("/api/v1/master/wards").status_code == 200
    assert client.get("/counter/").status_code == 200

    monkeypatch.setattr(timezone, "localdate", lambda *a: work.valid_until + DAY)
    # The token first: the counter's logout below ends the user's tokens as well (ADR 0015).
    r = api.get("/api/v1/master/wards")
    assert r.status_code == 400 and r.json()["code"] == "work_application_required"
    r = client.get("/counter/")
    assert r.status_code == 302 and "reason=work_ended" in r["Location"]
    assert "作業申請の期間が終わったため" in client.get(r["Location"]).content.decode()
    assert client.get("/counter/").status_code == 302  # logged out
    r = api.get("/api/v1/master/wards")
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"  # the logout ended the token


def test_a_contractors_call_to_the_rights_api_records_its_work_application(work, vendor_user, terminal):
    """Issue 13 (C04): a real contractor's token, issued under an approved work application, calls the
    rights API; the row it leaves (here a refusal: the contractor holds no rights right) carries the
    work application, the user and the terminal. No stub of the application check."""
    from rest_framework.test import APIClient

    from juki.accounts.login import token_issue

    key = token_issue(username=vendor_user.username, password="correct-horse-battery-9", work_application=work.number,
                      terminal=terminal)[0]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_X_TERMINAL_ID=terminal.code)
    refused = api.get("/api/v1/rights/applications")
    assert refused.status_code == 403 and refused.json()["code"] == ErrorCode.PERMISSION_DENIED
    row = AccessLog.objects.filter(function="rights.list").latest("id")
    assert (row.user, row.terminal, row.work_application, row.outcome) == (
        vendor_user, terminal, work.number, AccessLog.DENIED)
