"""利用申請 → 承認 → 開始 (C16): what a destination receives, and for how long.

The registry (`accounts.destinations.REGISTER_ITEMS_OF`) is the most a destination may ever receive,
set by a reviewed commit; an application names the items it needs among those, its purpose, legal
basis and period. Another person approves it (never the applicant), and an operator starts it: from
then on, and only until its last day, the destination receives exactly those items. Each step is a
log row of its own (category 設定).
"""
from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from juki.accounts import destinations
from juki.accounts.permissions import Perm
from juki.audit import gate
from juki.audit.gate import Actor
from juki.core import clock
from juki.core.errors import DomainError, ErrorCode, NotFoundError

from .models import Approval


def destination(code: str) -> destinations.Destination:
    found = destinations.destination_get(code)
    if found is None or not found.delivery:
        raise DomainError(ErrorCode.UNKNOWN_DESTINATION, "庁内連携の連携先ではありません。", field="destination")
    return found


def active(code: str, on: dt.date | None = None) -> Approval | None:
    """The application in force for `code` on `on` (today): started, and within its period."""
    on = on or clock.today()
    return (Approval.objects.filter(destination=code, state=Approval.State.ACTIVE, starts_on__lte=on, ends_on__gte=on)
            .first())


def _check_items(found: destinations.Destination, items) -> list[str]:
    items = sorted(set(items))
    if not items:
        raise DomainError(ErrorCode.INVALID_INPUT, "利用する項目を一つ以上選んでください。", field="items")
    if extra := [i for i in items if i not in found.register_items]:
        raise DomainError(ErrorCode.ITEM_NOT_PERMITTED, "この連携先が利用できない項目が含まれています。", field="items",
                          details={"items": extra})
    return items


def apply(actor: Actor, *, code: str, items, purpose: str, legal_basis: str, starts_on: dt.date, ends_on: dt.date,
          note: str = "") -> Approval:
    with gate.open(actor, function="linkage.approval.apply", perm=Perm.LINKAGE_MANAGE,
                   criteria={"destination": code, "items": sorted(set(items))}) as session:
        found = destination(code)
        items = _check_items(found, items)
        if ends_on < starts_on:
            raise DomainError(ErrorCode.INVALID_PERIOD, "利用終了日は利用開始日以降の日にしてください。", field="ends_on")
        if not purpose.strip() or not legal_basis.strip():
            raise DomainError(ErrorCode.INVALID_INPUT, "利用目的と根拠法令を記入してください。",
                              field="purpose" if not purpose.strip() else "legal_basis")
        approval = Approval.objects.create(
            destination=code, items=items, purpose=purpose.strip(), legal_basis=legal_basis.strip(), starts_on=starts_on,
            ends_on=ends_on, applied_by=actor.user, applied_system="" if actor.user else (actor.system or ""),
            note=note.strip())
        session.criteria["approval"] = approval.id
        return approval


def _locked(approval_id: int, *states, code: str | None = None) -> Approval:
    approval = Approval.objects.select_for_update().filter(id=approval_id).first()
    if approval is None or (code is not None and approval.destination != code):
        raise NotFoundError("利用申請が見つかりません。")
    if states and approval.state not in states:
        raise DomainError(ErrorCode.APPROVAL_STATE, f"この利用申請は「{approval.get_state_display()}」です。この操作はできません。")
    return approval


def decide(actor: Actor, approval_id: int, *, approve: bool, note: str = "", code: str | None = None) -> Approval:
    """承認 or 却下, by someone other than the applicant (C16)."""
    with gate.open(actor, function="linkage.approval.decide", perm=Perm.LINKAGE_APPROVE,
                   criteria={"approval": approval_id, "approve": approve}), transaction.atomic():
        approval = _locked(approval_id, Approval.State.APPLIED, code=code)
        if actor.user is not None and approval.applied_by_id == actor.user.id:
            raise DomainError(ErrorCode.SELF_APPROVAL, "自分が申請した利用申請は承認できません。別の承認者が承認してください。")
        approval.state = Approval.State.APPROVED if approve else Approval.State.REJECTED
        approval.decided_by, approval.decided_at = actor.user, timezone.now()
        if note.strip():
            approval.note = f"{approval.note}\n{note.strip()}".strip()
        approval.save()
        return approval


def activate(actor: Actor, approval_id: int, *, code: str | None = None) -> Approval:
    """開始: the approved application replaces the one in use (which ends)."""
    with gate.open(actor, function="linkage.approval.activate", perm=Perm.LINKAGE_MANAGE,
                   criteria={"approval": approval_id}), transaction.atomic():
        approval = _locked(approval_id, Approval.State.APPROVED, code=code)
        if approval.starts_on > clock.today():  # the one in use would end with nothing in force until then
            raise DomainError(ErrorCode.APPROVAL_STATE, f"利用開始日（{approval.starts_on:%Y年%-m月%-d日}）になってから開始してください。")
        if approval.ends_on < clock.today():
            raise DomainError(ErrorCode.APPROVAL_STATE, "利用期間が終わった申請は開始できません。")
        now = timezone.now()
        Approval.objects.filter(destination=approval.destination, state=Approval.State.ACTIVE).update(
            state=Approval.State.ENDED, ended_at=now)
        approval.state, approval.activated_at = Approval.State.ACTIVE, now
        approval.save()
        return approval


def end(actor: Actor, approval_id: int, *, note: str = "", code: str | None = None) -> Approval:
    """終了: the destination receives nothing more; what it would have received is recorded as refused."""
    with gate.open(actor, function="linkage.approval.end", perm=Perm.LINKAGE_MANAGE,
                   criteria={"approval": approval_id}), transaction.atomic():
        approval = _locked(approval_id, Approval.State.ACTIVE, Approval.State.APPROVED, code=code)
        approval.state, approval.ended_at = Approval.State.ENDED, timezone.now()
        if note.strip():
            approval.note = f"{approval.note}\n{note.strip()}".strip()
        approval.save()
        return approval


# The demo city's applications: each destination's every item, approved before the system went live
# (the registry's `approved_on`) until the end of the fiscal year after this one.
def demo_approvals(actor: Actor, *, until: dt.date | None = None) -> int:
    today = clock.today()
    until = until or dt.date(today.year + (1 if today.month <= 3 else 2), 3, 31)
    made = 0
    for found in destinations.LINKAGE:
        if Approval.objects.filter(destination=found.code).exists():
            continue
        with transaction.atomic():
            approval = Approval.objects.create(
                destination=found.code, items=sorted(found.register_items), purpose=found.purpose,
                legal_basis=found.legal_basis, starts_on=found.approved_on, ends_on=until, applied_system=actor.system or "",
                state=Approval.State.ACTIVE, decided_at=timezone.now(), activated_at=timezone.now(),
                note="デモの市の初期設定（システム稼働時の利用申請の承認に基づく）")
        made += approval.id > 0
    return made
