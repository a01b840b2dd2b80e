"""Effective rights come from grants in force on the day (C03): they lapse without any job."""
import datetime as dt
from unittest import mock

import pytest

from juki.accounts.permissions import Perm, perms_of_role
from juki.accounts.services import staff_create
from juki.core.errors import DomainError, ErrorCode
from juki.rights import services
from juki.rights.models import Grant

from .conftest import apply, fresh

DAY = dt.timedelta(days=1)


def test_staff_create_grants_its_role_as_initial_setting(clerk, settings):
    grant = Grant.objects.get(user=clerk)
    assert (grant.role, grant.source, grant.approved_by, grant.application) == ("clerk", "initial", None, None)
    assert grant.valid_until == services.today() + dt.timedelta(days=settings.JUKI_INITIAL_GRANT_DAYS)
    assert services.effective_perms(clerk) == perms_of_role("clerk")
    assert clerk.has_juki_perm(Perm.PERSON_SEARCH) and not clerk.has_juki_perm(Perm.MY_NUMBER_VIEW)


def test_role_field_alone_grants_nothing(clerk):
    clerk.role = "supervisor"  # the label changes, the grants do not
    clerk.save()
    assert not fresh(clerk).has_juki_perm(Perm.MY_NUMBER_VIEW)


def test_user_without_grant_has_nothing(db):
    user = staff_create(username="nogrant", password="correct-horse-battery-9", role="clerk")
    Grant.objects.filter(user=user).delete()
    assert services.effective_perms(user) == frozenset()
    assert not fresh(user).has_juki_perm(Perm.PERSON_VIEW)


def test_a_right_expires_at_the_end_of_its_period(clerk, admin_actor, manager_actor, sections):
    application = apply(admin_actor, sections, target_user=clerk, perms=[Perm.MY_NUMBER_VIEW],
                        valid_until=services.today() + 10 * DAY)
    services.application_approve(actor=manager_actor, application_id=application.id)
    last = services.today() + 10 * DAY
    assert Perm.MY_NUMBER_VIEW in services.effective_perms(clerk, on=last)
    assert Perm.MY_NUMBER_VIEW not in services.effective_perms(clerk, on=last + DAY)
    # The same through has_juki_perm: move the clock past the last day on one long-lived object.
    user = fresh(clerk)
    assert user.has_juki_perm(Perm.MY_NUMBER_VIEW)
    with mock.patch("django.utils.timezone.localdate", return_value=last + DAY):
        assert not user.has_juki_perm(Perm.MY_NUMBER_VIEW)  # the cache is per day, not per object
        assert user.has_juki_perm(Perm.PERSON_VIEW)  # the 初期設定 grant runs JUKI_INITIAL_GRANT_DAYS


def test_cache_keeps_day_boundary(clerk):
    user = fresh(clerk)
    end = Grant.objects.get(user=clerk).valid_until
    with mock.patch("django.utils.timezone.localdate", return_value=end):
        assert user.has_juki_perm(Perm.PERSON_VIEW)
    with mock.patch("django.utils.timezone.localdate", return_value=end + DAY):
        assert not user.has_juki_perm(Perm.PERSON_VIEW)


def test_future_grant_is_scheduled(clerk, admin_actor, manager_actor, sections):
    start = services.today() + 5 * DAY
    application = apply(admin_actor, sections, target_user=clerk, perms=[Perm.MY_NUMBER_VIEW], valid_from=start)
    services.application_approve(actor=manager_actor, application_id=application.id)
    assert Perm.MY_NUMBER_VIEW not in services.effective_perms(clerk)
    assert Perm.MY_NUMBER_VIEW not in services.effective_perms(clerk, on=start - DAY)
    assert Perm.MY_NUMBER_VIEW in services.effective_perms(clerk, on=start)


def test_section_grant_follows_the_posting(clerk, clerk2, admin_actor, manager_actor, sections):
    services.staff_post(actor=admin_actor, user=clerk, section=sections["kokura"], on=services.today())
    application = apply(admin_actor, sections, target_section=sections["kokura"], perms=[Perm.RESTRICTION_MANAGE])
    services.application_approve(actor=manager_actor, application_id=application.id)
    assert Perm.RESTRICTION_MANAGE in services.effective_perms(clerk)
    assert Perm.RESTRICTION_MANAGE not in services.effective_perms(clerk2)  # not posted there
    services.staff_transfer(actor=admin_actor, user=clerk, section=sections["yahata"], on=services.today() + DAY)
    assert Perm.RESTRICTION_MANAGE in services.effective_perms(clerk)
    assert Perm.RESTRICTION_MANAGE not in services.effective_perms(clerk, on=services.today() + DAY)


def test_inactive_user_has_nothing(clerk):
    clerk.is_active = False
    assert services.effective_perms(clerk) == frozenset()
    assert not clerk.has_juki_perm(Perm.PERSON_VIEW)


def test_role_grant_ensure_for_setup_commands(clerk):
    assert services.role_grant_ensure(clerk, "clerk") is None  # already in force
    Grant.objects.filter(user=clerk).update(valid_until=services.today() - DAY, valid_from=services.today() - 2 * DAY)
    grant = services.role_grant_ensure(clerk, "clerk")
    assert grant is not None and grant.source == "initial"
    assert fresh(clerk).has_juki_perm(Perm.PERSON_SEARCH)


def test_an_approver_cannot_be_posted_into_a_section_whose_grant_they_approved(manager, admin_actor, manager_actor,
                                                                                 sections):
    application = apply(admin_actor, sections, target_section=sections["kokura"], perms=[Perm.RESTRICTION_MANAGE])
    services.application_approve(actor=manager_actor, application_id=application.id)
    with pytest.raises(DomainError) as exc:
        services.staff_post(actor=admin_actor, user=manager, section=sections["kokura"], on=services.today())
    assert exc.value.code == ErrorCode.SELF_APPROVAL and exc.value.field == "section"
    assert Perm.RESTRICTION_MANAGE not in services.effective_perms(fresh(manager))
    # Another section is fine, and once the grant has ended the approver may be posted there too.
    services.staff_post(actor=admin_actor, user=manager, section=sections["yahata"], on=services.today())
    grant = Grant.objects.get(section=sections["kokura"])
    services.grant_revoke(actor=manager_actor, grant_id=grant.id)
    services.staff_transfer(actor=admin_actor, user=manager, section=sections["kokura"], on=services.today() + 2 * DAY)
