"""審査: 本登録 through the change service, as entered by the first clerk, or 差戻し with the reason
— by another user than the one who entered it."""
from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from juki.accounts.permissions import Perm
from juki.audit import gate
from juki.audit.gate import Actor
from juki.core.errors import AccessDenied, DomainError, ErrorCode

from ...models import PendingChange, PendingEvent
from ..writer import Approval, ChangeResult, approving
from .common import operation_spec, run
from .pending import add_event, fetch, guard_protected
from .rules import identity_correction
from .sealing import unseal_payload


def _check_reviewer(actor: Actor, pending: PendingChange, *, approving_it: bool = False) -> None:
    if not actor.can(Perm.CHANGE_APPROVE):
        raise AccessDenied("審査（本登録・差戻し）の権限がありません。")
    if actor.user is not None and actor.user.pk == pending.entered_by_id:
        raise DomainError(ErrorCode.SELF_APPROVAL, "入力した職員本人は審査できません。別の職員が審査してください。")
    if pending.state != PendingChange.State.PENDING:
        raise DomainError(ErrorCode.PENDING_CLOSED, f"この仮登録は既に「{pending.get_state_display()}」です。")
    if approving_it and identity_correction(pending.operation, pending.payload) \
            and not actor.can(Perm.IDENTITY_CORRECTION_APPROVE):
        raise AccessDenied("本人確認情報の直接修正は、本人確認情報管理責任者の権限を持つ職員だけが本登録できます。")


def pending_approve(*, actor: Actor, pending_id: int) -> ChangeResult:
    """本登録: commit the entry through its change service, as entered by the first clerk."""
    with gate.open(actor, function="pending.approve", perm=Perm.CHANGE_APPROVE, criteria={"pending_id": pending_id}) as s:
        pending = fetch(pending_id)
        s.record(pending.person_ids)
        guard_protected(s, pending)
        _check_reviewer(actor, pending, approving_it=True)
        if identity_correction(pending.operation, pending.payload):
            s.flag("identity_correction")  # C14: kept for review with the approver's name
        payload = unseal_payload(pending)
    spec = operation_spec(pending.operation)
    kwargs = spec.kwargs(payload)
    with approving(Approval(pending_id=pending.id, entered_by=pending.entered_by, entered_terminal=pending.entered_terminal)):
        return run(spec, actor=actor, kwargs=kwargs)


def pending_reject(*, actor: Actor, pending_id: int, comment: str) -> None:
    """差戻し: back to the entering clerk with the reason; nothing was written to the register."""
    comment = (comment or "").strip()
    if not comment:
        raise DomainError(ErrorCode.INVALID_INPUT, "差戻しの理由を入力してください。", field="comment")
    with gate.open(actor, function="pending.reject", perm=Perm.CHANGE_APPROVE, criteria={"pending_id": pending_id}) as s:
        with transaction.atomic():
            pending = fetch(pending_id, lock=True)
            s.record(pending.person_ids)
            guard_protected(s, pending)
            _check_reviewer(actor, pending)
            pending.state = PendingChange.State.REJECTED
            pending.reviewed_by = actor.user
            pending.reviewed_at = timezone.now()
            pending.review_comment = comment[:2000]
            pending.save(update_fields=["state", "reviewed_by", "reviewed_at", "review_comment"])
            add_event(pending, PendingEvent.Kind.RETURNED, actor, comment[:2000])
