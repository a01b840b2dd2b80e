"""申請・承認・却下・取下げ・取消し, 異動・退職 (C03) and their log rows."""
import datetime as dt

import pytest

from juki.accounts.permissions import Perm
from juki.audit.models import AccessLog
from juki.core.errors import AccessDenied, DomainError, ErrorCode
from juki.rights import common, services
from juki.rights.models import Grant, Posting, RightApplication

from .conftest import apply, fresh

DAY = dt.timedelta(days=1)


def _last_log(function):
    return AccessLog.objects.filter(function=function).order_by("-id").first()


def test_apply_and_approve_gives_the_right(clerk, rights_admin, manager, admin_actor, manager_actor, sections):
    application = apply(admin_actor, sections, target_user=clerk, role="support", perms=[Perm.MY_NUMBER_VIEW])
    assert application.state == RightApplication.State.PENDING and application.number.startswith("R")
    assert not fresh(clerk).has_juki_perm(Perm.SUPPORT_MEASURE_MANAGE)
    # A comment over 2,000 characters is refused whole, never cut, and nothing is approved.
    with pytest.raises(DomainError) as too_long:
        services.application_approve(actor=manager_actor, application_id=application.id, comment="承" * 2001)
    assert (too_long.value.code, too_long.value.field) == (ErrorCode.INVALID_INPUT, "comment")
    assert too_long.value.message == "意見は2000文字以内で入力してください。"
    assert RightApplication.objects.get(pk=application.id).state == "pending"
    assert not Grant.objects.filter(application=application).exists()
    grants = services.application_approve(actor=manager_actor, application_id=application.id, comment=" 承認します ")
    assert sorted((g.role, g.perm) for g in grants) == [("", Perm.MY_NUMBER_VIEW), ("support", "")]
    assert all(g.approved_by == manager and g.application == application for g in grants)
    user = fresh(clerk)
    assert user.has_juki_perm(Perm.SUPPORT_MEASURE_MANAGE) and user.has_juki_perm(Perm.MY_NUMBER_VIEW)
    application.refresh_from_db()
    assert (application.state, application.decided_by, application.comment) == ("approved", manager, "承認します")
    log = _last_log("rights.approve")
    assert (log.category, log.outcome, log.user) == ("settings", "done", manager)
    assert _last_log("rights.apply").user == rights_admin


def test_self_approval_is_refused(clerk, manager, manager_actor, admin_actor, sections, terminal):
    from juki.audit.gate import Actor

    # An application naming the manager: the manager cannot approve a grant to themself.
    both = apply(admin_actor, sections, target_user=manager, perms=[Perm.RIGHTS_ADMIN])
    with pytest.raises(DomainError) as exc:
        services.application_approve(actor=manager_actor, application_id=both.id)
    assert exc.value.code == ErrorCode.SELF_APPROVAL  # a grant to oneself
    # An approver who applied: the admin is made an approver too, and still cannot approve their own application.
    approver = apply(admin_actor, sections, target_user=admin_actor.user, perms=[Perm.RIGHTS_APPROVE])
    services.application_approve(actor=manager_actor, application_id=approver.id)
    other = apply(admin_actor, sections, target_user=clerk, perms=[Perm.MY_NUMBER_VIEW])
    admin = Actor(user=fresh(admin_actor.user), terminal=terminal, second_factor=True)
    assert admin.can(Perm.RIGHTS_APPROVE)
    with pytest.raises(DomainError) as exc:
        services.application_approve(actor=admin, application_id=other.id)
    assert exc.value.code == ErrorCode.SELF_APPROVAL
    assert RightApplication.objects.get(pk=other.id).state == "pending"
    assert not Grant.objects.filter(application=other).exists()
    assert _last_log("rights.approve").outcome == "self_approval"


def test_clerk_cannot_apply_or_approve_and_is_logged(actor, clerk, sections, admin_actor):
    with pytest.raises(AccessDenied):
        apply(actor, sections, target_user=clerk, perms=[Perm.MY_NUMBER_VIEW])
    assert _last_log("rights.apply").outcome == AccessLog.DENIED
    application = apply(admin_actor, sections, target_user=clerk, perms=[Perm.MY_NUMBER_VIEW])
    with pytest.raises(AccessDenied):
        services.application_approve(actor=actor, application_id=application.id)
    assert _last_log("rights.approve").outcome == AccessLog.DENIED
    with pytest.raises(AccessDenied):
        services.application_approve(actor=admin_actor, application_id=application.id)  # admin applies, not decides


@pytest.mark.parametrize("kwargs, code", [
    ({"valid_until": None}, ErrorCode.INVALID_PERIOD),
    ({"valid_from": dt.date(2000, 1, 1)}, ErrorCode.INVALID_PERIOD),
    ({"valid_until": dt.date(2099, 3, 31)}, ErrorCode.INVALID_PERIOD),
    ({"perms": ["no.such"]}, ErrorCode.INVALID_INPUT),
    ({"perms": []}, ErrorCode.INVALID_INPUT),
])
def test_application_is_checked(clerk, admin_actor, sections, kwargs, code):
    args = {"target_user": clerk, "perms": [Perm.MY_NUMBER_VIEW], **kwargs}
    if kwargs.get("valid_until", 1) is None:
        with pytest.raises(DomainError) as exc:
            services.application_submit(
                actor=admin_actor, perms=args["perms"], valid_from=services.today(), valid_until=None,
                business_name="x", business_outline="x", purpose="x", legal_basis="x",
                applying_section=sections["owner"], using_section=sections["kokura"], target_user=clerk)
    else:
        with pytest.raises(DomainError) as exc:
            apply(admin_actor, sections, **args)
    assert exc.value.code == code
    assert not RightApplication.objects.exists()


def test_max_until_is_end_of_next_fiscal_year(settings):
    assert common.max_until(dt.date(2026, 11, 26)) == dt.date(2028, 3, 31)
    assert common.max_until(dt.date(2027, 2, 1)) == dt.date(2028, 3, 31)
    settings.JUKI_RIGHTS_MAX_FISCAL_YEARS = 0
    assert common.max_until(dt.date(2026, 4, 1)) == dt.date(2027, 3, 31)


def test_reject_needs_a_comment_and_withdraw_is_the_applicants(clerk, admin_actor, manager_actor, sections):
    application = apply(admin_actor, sections, target_user=clerk, perms=[Perm.MY_NUMBER_VIEW])
    with pytest.raises(DomainError) as exc:
        services.application_reject(actor=manager_actor, application_id=application.id, comment=" ")
    assert exc.value.field == "comment"
    assert exc.value.code == ErrorCode.INVALID_INPUT
    services.application_reject(actor=manager_actor, application_id=application.id, comment="目的が不明確です")
    application.refresh_from_db()
    assert (application.state, application.comment) == ("rejected", "目的が不明確です")
    with pytest.raises(DomainError) as exc:
        services.application_approve(actor=manager_actor, application_id=application.id)
    assert exc.value.code == ErrorCode.APPLICATION_CLOSED
    second = apply(admin_actor, sections, target_user=clerk, perms=[Perm.MY_NUMBER_VIEW])
    services.application_withdraw(actor=admin_actor, application_id=second.id)
    assert RightApplication.objects.get(pk=second.id).state == "withdrawn"
    assert not Grant.objects.filter(perm=Perm.MY_NUMBER_VIEW).exists()


def test_transfer_ends_the_users_grants(clerk, admin_actor, manager_actor, sections):
    application = apply(admin_actor, sections, target_user=clerk, perms=[Perm.MY_NUMBER_VIEW])
    services.application_approve(actor=manager_actor, application_id=application.id)
    on = services.today() + 3 * DAY
    posting = services.staff_transfer(actor=admin_actor, user=clerk, section=sections["yahata"], on=on)
    assert (posting.section, posting.since, posting.status) == (sections["yahata"], on, "active")
    assert Perm.MY_NUMBER_VIEW in services.effective_perms(clerk, on=on - DAY)
    assert services.effective_perms(clerk, on=on) == frozenset()  # the 初期設定 role ended too
    assert set(Grant.objects.filter(user=clerk).values_list("ended_on", "end_reason")) == {(on - DAY, "transfer")}
    log = _last_log("rights.transfer")
    assert (log.category, log.criteria["grants_ended"]) == ("settings", 2)


def test_transfer_today_removes_rights_now(clerk, admin_actor, sections):
    assert fresh(clerk).has_juki_perm(Perm.PERSON_VIEW)
    services.staff_transfer(actor=admin_actor, user=clerk, section=sections["yahata"], on=services.today())
    assert not fresh(clerk).has_juki_perm(Perm.PERSON_VIEW)
    assert not clerk.has_juki_perm(Perm.PERSON_VIEW)  # the object passed in forgot its cache


def test_retirement_ends_everything_including_section_rights(clerk, admin_actor, manager_actor, sections):
    services.staff_post(actor=admin_actor, user=clerk, section=sections["kokura"], on=services.today())
    application = apply(admin_actor, sections, target_section=sections["kokura"], perms=[Perm.RESTRICTION_MANAGE])
    services.application_approve(actor=manager_actor, application_id=application.id)
    on = services.today() + DAY
    services.staff_retire(actor=admin_actor, user=clerk, on=on)
    assert Perm.RESTRICTION_MANAGE in services.effective_perms(clerk)
    assert services.effective_perms(clerk, on=on) == frozenset()
    assert Posting.objects.get(user=clerk, until__isnull=True).status == "retired"
    assert Grant.objects.filter(section=sections["kokura"], ended_on__isnull=True).exists()  # the section keeps it


def test_transfer_needs_rights_admin(actor, clerk2, sections):
    with pytest.raises(AccessDenied):
        services.staff_transfer(actor=actor, user=clerk2, section=sections["yahata"], on=services.today())
    assert _last_log("rights.transfer").outcome == AccessLog.DENIED
    assert not Posting.objects.exists()


def test_revoke(clerk, admin_actor, manager_actor, sections):
    application = apply(admin_actor, sections, target_user=clerk, perms=[Perm.MY_NUMBER_VIEW])
    grant, = services.application_approve(actor=manager_actor, application_id=application.id)
    services.grant_revoke(actor=manager_actor, grant_id=grant.id)
    grant.refresh_from_db()
    assert (grant.ended_on, grant.end_reason) == (services.today() - DAY, "revoked")
    assert not fresh(clerk).has_juki_perm(Perm.MY_NUMBER_VIEW)
