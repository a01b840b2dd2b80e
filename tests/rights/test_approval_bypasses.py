"""Ways round the second person's approval of rights (C02–C03), each closed:
moving oneself, approving for one's own section, rewriting past days, outliving a transfer."""
import datetime as dt

import pytest

from juki.accounts.permissions import Perm
from juki.audit.models import AccessLog
from juki.core.errors import DomainError, ErrorCode
from juki.rights import services
from juki.rights.models import Grant, Posting, RightApplication

from .conftest import apply, fresh

DAY = dt.timedelta(days=1)


def _last_log(function):
    return AccessLog.objects.filter(function=function).latest("id")


def _grant(section, **kw):
    today = services.today()
    return Grant.objects.create(section=section, role="support", valid_from=today, valid_until=today + 30 * DAY, **kw)


@pytest.mark.parametrize("move", ["post", "transfer", "retire"])
def test_an_admin_cannot_move_themself(rights_admin, admin_actor, sections, move):
    _grant(sections["yahata"])  # what a self-posting would have given
    today = services.today()
    call = {"post": lambda: services.staff_post(actor=admin_actor, user=rights_admin, section=sections["yahata"], on=today),
            "transfer": lambda: services.staff_transfer(actor=admin_actor, user=rights_admin, section=sections["yahata"],
                                                        on=today),
            "retire": lambda: services.staff_retire(actor=admin_actor, user=rights_admin, on=today)}[move]
    with pytest.raises(DomainError) as exc:
        call()
    assert exc.value.code == ErrorCode.SELF_APPROVAL
    assert not Posting.objects.filter(user=rights_admin).exists()
    assert not fresh(rights_admin).has_juki_perm(Perm.SUPPORT_MEASURE_MANAGE)
    assert _last_log(f"rights.{move}").outcome == "self_approval"


def test_an_approver_cannot_approve_a_grant_to_their_own_section(manager, admin_actor, manager_actor, sections):
    services.staff_post(actor=admin_actor, user=manager, section=sections["kokura"], on=services.today())
    application = apply(admin_actor, sections, target_section=sections["kokura"], role="support")
    with pytest.raises(DomainError) as exc:
        services.application_approve(actor=manager_actor, application_id=application.id)
    assert exc.value.code == ErrorCode.SELF_APPROVAL and "所属" in exc.value.message
    assert RightApplication.objects.get(pk=application.id).state == "pending"
    assert not fresh(manager).has_juki_perm(Perm.SUPPORT_MEASURE_MANAGE)
    # Another section's grant is approved as usual.
    other = apply(admin_actor, sections, target_section=sections["yahata"], role="support")
    assert services.application_approve(actor=manager_actor, application_id=other.id)


def test_an_approver_posted_to_the_section_later_in_the_period_cannot_approve(manager, admin_actor, manager_actor,
                                                                             sections):
    services.staff_post(actor=admin_actor, user=manager, section=sections["owner"], on=services.today())
    services.staff_transfer(actor=admin_actor, user=manager, section=sections["kokura"], on=services.today() + 5 * DAY)
    application = apply(admin_actor, sections, target_section=sections["kokura"], role="support")
    with pytest.raises(DomainError) as exc:
        services.application_approve(actor=manager_actor, application_id=application.id)
    assert exc.value.code == ErrorCode.SELF_APPROVAL


def test_past_dates_are_refused(clerk, clerk2, admin_actor, manager_actor, sections):
    yesterday = services.today() - DAY
    grant = Grant.objects.filter(user=clerk).get()
    with pytest.raises(DomainError) as exc:
        services.grant_revoke(actor=manager_actor, grant_id=grant.id, on=yesterday)
    assert (exc.value.code, exc.value.field) == (ErrorCode.INVALID_DATE, "on")
    grant.refresh_from_db()
    assert grant.ended_on is None and Perm.PERSON_VIEW in services.effective_perms(clerk, on=yesterday + DAY)
    for call in (lambda: services.staff_transfer(actor=admin_actor, user=clerk, section=sections["yahata"], on=yesterday),
                 lambda: services.staff_retire(actor=admin_actor, user=clerk2, on=yesterday),
                 lambda: services.staff_post(actor=admin_actor, user=clerk2, section=sections["kokura"], on=yesterday)):
        with pytest.raises(DomainError) as exc:
            call()
        assert exc.value.code == ErrorCode.INVALID_DATE
    assert not Posting.objects.exists()
    assert not Grant.objects.filter(ended_on__isnull=False).exists()
    # Today and later are fine.
    services.grant_revoke(actor=manager_actor, grant_id=grant.id, on=services.today() + DAY)
    grant.refresh_from_db()
    assert grant.ended_on == services.today()


def test_a_grant_never_starts_before_its_approval(clerk, admin_actor, manager_actor, sections):
    application = apply(admin_actor, sections, target_user=clerk, perms=[Perm.MY_NUMBER_VIEW])
    # Submitted some days ago for a period that has already begun when it is approved.
    RightApplication.objects.filter(pk=application.id).update(valid_from=services.today() - 3 * DAY)
    grant, = services.application_approve(actor=manager_actor, application_id=application.id)
    assert grant.valid_from == services.today()
    assert Perm.MY_NUMBER_VIEW not in services.effective_perms(clerk, on=services.today() - DAY)
    assert Perm.MY_NUMBER_VIEW in services.effective_perms(clerk)


@pytest.mark.parametrize("move", ["transfer", "retire"])
def test_a_grant_approved_after_a_recorded_transfer_ends_the_day_before_it(clerk, admin_actor, manager_actor,
                                                                            sections, move):
    today = services.today()
    services.staff_post(actor=admin_actor, user=clerk, section=sections["kokura"], on=today)
    on = today + 10 * DAY
    if move == "transfer":
        services.staff_transfer(actor=admin_actor, user=clerk, section=sections["yahata"], on=on)
    else:
        services.staff_retire(actor=admin_actor, user=clerk, on=on)
    application = apply(admin_actor, sections, target_user=clerk, perms=[Perm.SUPPORT_MEASURE_MANAGE],
                        valid_until=today + 60 * DAY)
    grant, = services.application_approve(actor=manager_actor, application_id=application.id)
    grant.refresh_from_db()
    reason = "transfer" if move == "transfer" else "retirement"
    assert (grant.valid_from, grant.ended_on, grant.end_reason) == (today, on - DAY, reason)
    assert Perm.SUPPORT_MEASURE_MANAGE in services.effective_perms(clerk, on=on - DAY)
    assert Perm.SUPPORT_MEASURE_MANAGE not in services.effective_perms(clerk, on=on + DAY)


def test_a_grant_starting_on_the_transfer_day_is_for_the_new_post(clerk, admin_actor, manager_actor, sections):
    today = services.today()
    services.staff_post(actor=admin_actor, user=clerk, section=sections["kokura"], on=today)
    on = today + 10 * DAY
    services.staff_transfer(actor=admin_actor, user=clerk, section=sections["yahata"], on=on)
    application = apply(admin_actor, sections, target_user=clerk, perms=[Perm.SUPPORT_MEASURE_MANAGE],
                        valid_from=on, valid_until=on + 30 * DAY)
    grant, = services.application_approve(actor=manager_actor, application_id=application.id)
    grant.refresh_from_db()
    assert grant.ended_on is None
    assert Perm.SUPPORT_MEASURE_MANAGE in services.effective_perms(clerk, on=on + DAY)
