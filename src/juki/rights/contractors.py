"""Contractor staff (委託先職員, C04).

A contractor can be granted rights only within a period for which the system's owning manager
has registered them by name, and every session of theirs must name an approved work application
(作業申請) valid that day; the login puts its number into `Actor.work_application`, so that every
log row of the session carries it.
"""
from __future__ import annotations

import datetime as dt

from django.utils import timezone

from juki.accounts.models import Staff
from juki.accounts.permissions import Perm
from juki.audit.gate import Actor
from juki.core.errors import DomainError, ErrorCode, NotFoundError, required_text

from .common import check_period, logged, require_user, today
from .models import ContractorCompany, ContractorStaff, WorkApplication


def is_contractor(user) -> bool:
    return user is not None and user.pk is not None and ContractorStaff.objects.filter(user=user).exists()


def registration_covers(user, valid_from: dt.date, valid_until: dt.date) -> bool:
    return ContractorStaff.objects.filter(user=user, valid_from__lte=valid_from, valid_until__gte=valid_until).exists()


def contractor_register(*, actor: Actor, company: str, user: Staff, full_name: str, valid_from: dt.date,
                        valid_until: dt.date) -> ContractorStaff:
    """事前登録 by name, decided by the system's owning manager (recorded as approver)."""
    with logged(actor, "rights.contractor_register", Perm.RIGHTS_APPROVE, {"user_id": user.pk, "company": company}):
        approver = require_user(actor)
        if approver.pk == user.pk:
            raise DomainError(ErrorCode.SELF_APPROVAL, "自分自身を委託先職員として登録することはできません。")
        check_period(valid_from, valid_until, allow_past=True)
        name = required_text(company, "company", "委託先名", 100)
        firm, _ = ContractorCompany.objects.get_or_create(name=name)
        return ContractorStaff.objects.create(company=firm, user=user, full_name=required_text(full_name, "full_name", "氏名", 60),
                                              valid_from=valid_from, valid_until=valid_until, approved_by=approver)


def work_application_submit(*, actor: Actor, contractor: ContractorStaff, description: str, valid_from: dt.date,
                            valid_until: dt.date) -> WorkApplication:
    """作業申請 by the section supervising the contractor's work."""
    with logged(actor, "rights.work_apply", Perm.RIGHTS_ADMIN, {"contractor_id": contractor.pk}) as log:
        applicant = require_user(actor)
        check_period(valid_from, valid_until)
        if not (contractor.valid_from <= valid_from and valid_until <= contractor.valid_until):
            raise DomainError(ErrorCode.CONTRACTOR_NOT_REGISTERED, "作業期間が委託先職員の登録期間を超えています。",
                              field="valid_until")
        item = WorkApplication.objects.create(
            contractor=contractor, submitted_by=applicant,
            description=required_text(description, "description", "作業内容", 2000), valid_from=valid_from, valid_until=valid_until)
        item.number = f"W{item.submitted_at:%Y}-{item.pk:05d}"
        item.save(update_fields=["number"])
        log["number"] = item.number
        return item


def work_application_approve(*, actor: Actor, work_application_id: int) -> WorkApplication:
    with logged(actor, "rights.work_approve", Perm.RIGHTS_APPROVE, {"work_application_id": work_application_id}):
        approver = require_user(actor)
        item = WorkApplication.objects.select_for_update().filter(pk=work_application_id).first()
        if item is None:
            raise NotFoundError("該当する作業申請がありません。")
        if item.state != WorkApplication.State.PENDING:
            raise DomainError(ErrorCode.APPLICATION_CLOSED, f"この作業申請は既に「{item.get_state_display()}」です。")
        if item.submitted_by_id == approver.pk:
            raise DomainError(ErrorCode.SELF_APPROVAL, "自分が申請した作業申請は承認できません。")
        item.state = WorkApplication.State.APPROVED
        item.approved_by = approver
        item.approved_at = timezone.now()
        item.save(update_fields=["state", "approved_by", "approved_at"])
        return item


def contractor_session_check(user, work_application: str) -> str:
    """At login: "" for the city's own staff; for a contractor, the number of an approved work
    application of theirs valid today, or `work_application_required`."""
    if not is_contractor(user):
        return ""
    number = (work_application or "").strip()
    day = today()
    ok = number and WorkApplication.objects.filter(
        number=number, contractor__user=user, state=WorkApplication.State.APPROVED,
        valid_from__lte=day, valid_until__gte=day, contractor__valid_from__lte=day, contractor__valid_until__gte=day,
    ).exists()
    if not ok:
        raise DomainError(ErrorCode.WORK_APPLICATION_REQUIRED,
                          "委託先職員は、本日有効な承認済みの作業申請番号を入力してください。", field="work_application")
    return number
