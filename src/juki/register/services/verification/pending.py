"""The 仮登録 queue: an entry submitted (or, once returned, corrected and resubmitted), listed and
read with a fresh preview, withdrawn or reopened by its clerk. Deciding on it is `review`'s."""
from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from juki.accounts.permissions import Perm
from juki.audit import gate
from juki.audit.gate import Actor
from juki.core.errors import AccessDenied, DomainError, ErrorCode, NotFoundError
from juki.protection import enforcement as protection

from ...models import PendingChange, PendingEvent
from ...reasons import OPERATION_LABELS, Operation
from .preview import change_preview
from .rules import identity_correction
from .sealing import seal_payload, unseal_payload

# What a user without `support.manage` sees of an entry about a protected person (ADR 0009).
PROTECTED_SUMMARY = "支援措置対象者の異動（内容は表示できません）"


def _summary(preview: dict, *, protected: bool = False) -> str:
    if protected:  # no name is stored for a protected person, not even for those who may see it
        return f"{preview['operation_label']}（支援措置対象者）"
    names = [p["name"] for p in preview["people"] if p["name"]]
    who = names[0] if names else ""
    if len(names) > 1:
        who += f" ほか{len(names) - 1}名"
    return f"{preview['operation_label']} {who}".strip()[:200]


def pending_submit(*, actor: Actor, operation: str, payload: dict, form_data: dict | None = None,
                   resubmit_of: int | None = None) -> PendingChange:
    """仮登録: checked by a dry run now, committed only by another user's approval.

    `resubmit_of` names a returned (差戻し) entry of the same clerk: it is corrected in place and
    goes back to the reviewers, its history (entered, returned with the reason, resubmitted) kept."""
    preview = change_preview(actor=actor, operation=operation, payload=payload)
    with gate.open(actor, function="pending.resubmit" if resubmit_of else "pending.submit", perm=Perm.PERSON_CHANGE,
                   criteria={"operation": operation, **({"pending_id": resubmit_of} if resubmit_of else {})}) as session:
        with transaction.atomic():
            ids = preview["person_ids"]
            returned = None
            if resubmit_of is not None:
                returned = fetch(resubmit_of, lock=True)
                session.record(returned.person_ids)
                _check_own(actor, returned)
                if returned.state != PendingChange.State.REJECTED or returned.operation != operation:
                    raise DomainError(ErrorCode.PENDING_CLOSED,
                                      f"この仮登録は「{returned.get_state_display()}」のため、修正して再提出できません。")
            if ids:
                others = PendingChange.objects.select_for_update().filter(state=PendingChange.State.PENDING)
                for other in others.exclude(pk=resubmit_of) if resubmit_of else others:
                    if set(other.person_ids) & set(ids):
                        raise DomainError(ErrorCode.PENDING_EXISTS,
                                          "この方には審査待ち（仮登録）の異動があります。先にその審査を終えてください。")
            sealed, key_id, blob = seal_payload({"payload": payload, "form": form_data or {}})
            terminal = actor.terminal
            protected = bool(protection.protected_ids(ids))
            if protected:
                session.flag(protection.FLAG)
            fields = dict(payload=sealed["payload"], form_data=sealed["form"], sealed_key_id=key_id, sealed=blob,
                          summary=_summary(preview, protected=protected), person_ids=ids)
            if returned is not None:
                for name, value in fields.items():
                    setattr(returned, name, value)
                returned.state = PendingChange.State.PENDING
                returned.save(update_fields=[*fields, "state"])
                pending = returned
                kind = PendingEvent.Kind.RESUBMITTED
            else:
                pending = PendingChange.objects.create(
                    operation=operation, ward=getattr(terminal, "ward", None), entered_by=actor.user,
                    entered_terminal=terminal, **fields)
                kind = PendingEvent.Kind.ENTERED
            add_event(pending, kind, actor)
            session.record(ids)
            session.criteria["pending_id"] = pending.id
    return pending


# `add_event`, `guard_protected` and `fetch` are public: `review` handles an entry the same way.
def add_event(pending: PendingChange, kind: str, actor: Actor, comment: str = "") -> None:
    PendingEvent.objects.create(pending=pending, kind=kind, by=actor.user, comment=comment)


def _check_own(actor: Actor, pending: PendingChange) -> None:
    if actor.user is None or pending.entered_by_id != actor.user.pk:
        raise AccessDenied("入力内容の修正・取下げは、入力した職員本人だけが行えます。")


def _pending_dict(p: PendingChange) -> dict:
    return {
        "id": p.id,
        "operation": p.operation,
        "operation_label": OPERATION_LABELS.get(Operation(p.operation), p.operation),
        "slug": p.operation.replace("_", "-"),
        "summary": p.summary,
        "state": p.state,
        "state_label": p.get_state_display(),
        "ward": p.ward.name if p.ward else "",
        "entered_by": p.entered_by.display_name,
        "entered_by_id": p.entered_by_id,
        "entered_at": timezone.localtime(p.entered_at),
        "reviewed_by": p.reviewed_by.display_name if p.reviewed_by else "",
        "reviewed_at": timezone.localtime(p.reviewed_at) if p.reviewed_at else None,
        "review_comment": p.review_comment,
        "change_id": p.change_id,
        "person_ids": p.person_ids,
        "identity_correction": identity_correction(p.operation, p.payload),
    }


def pending_list(*, actor: Actor, ward_code: str = "", states: tuple[str, ...] = (PendingChange.State.PENDING,),
                 entered_by=None, limit: int = 200) -> list[dict]:
    with gate.open(actor, function="pending.list", perm=Perm.PERSON_CHANGE,
                   criteria={"ward": ward_code, "states": list(states)}) as session:
        qs = PendingChange.objects.select_related("ward", "entered_by", "reviewed_by").filter(state__in=states)
        if ward_code:
            qs = qs.filter(ward__code=ward_code)
        if entered_by is not None:
            qs = qs.filter(entered_by=entered_by)
        rows = [_pending_dict(p) for p in qs.order_by("entered_at", "id")[:limit]]
        session.record(pid for r in rows for pid in r["person_ids"])
        protected = protection.protected_ids(pid for r in rows for pid in r["person_ids"])
        for row in rows:
            _mask(session, row, protected)
        return rows


def _mask(session: gate.GateSession, row: dict, protected: set[int]) -> bool:
    """An entry about a protected person: flagged, and for a user without `support.manage`
    nothing of its content (names, the reviewer's comment) — only that it exists (ADR 0009)."""
    row["masked"] = False
    if not protected & set(row["person_ids"]):
        return False
    session.flag(protection.FLAG)
    if session.actor.can(Perm.SUPPORT_MEASURE_MANAGE):
        return False
    row.update(masked=True, summary=PROTECTED_SUMMARY, review_comment="")
    return True


def guard_protected(session: gate.GateSession, pending: PendingChange) -> None:
    """Reviewing (or re-opening) an entry about a protected person needs `support.manage`."""
    protection.guard_change(session, pending.person_ids)


def fetch(pending_id: int, *, lock: bool = False) -> PendingChange:
    qs = PendingChange.objects.select_related("ward", "entered_by", "reviewed_by", "entered_terminal")
    if lock:
        qs = qs.select_for_update(of=("self",))
    pending = qs.filter(pk=pending_id).first()
    if pending is None:
        raise NotFoundError("指定された仮登録が見つかりません。")
    return pending


def pending_get(*, actor: Actor, pending_id: int) -> dict:
    """The entry with a fresh before/after: the register may have moved on since it was entered."""
    with gate.open(actor, function="pending.view", perm=Perm.PERSON_CHANGE, criteria={"pending_id": pending_id}) as session:
        pending = fetch(pending_id)
        session.record(pending.person_ids)
        out = _pending_dict(pending)
        if _mask(session, out, protection.protected_ids(pending.person_ids)):
            return out | {"payload": None, "preview": None, "preview_error": None, "events": []}
        payload = unseal_payload(pending)
        out["events"] = [{"kind": e.kind, "label": e.get_kind_display(), "at": timezone.localtime(e.at),
                          "by": e.by.display_name, "comment": e.comment}
                         for e in PendingEvent.objects.select_related("by").filter(pending=pending)]
    # A returned entry is shown too: its clerk corrects it from what they entered.
    if pending.state in (PendingChange.State.PENDING, PendingChange.State.REJECTED):
        try:
            out["preview"] = change_preview(actor=actor, operation=pending.operation, payload=payload)
            out["preview_error"] = None
        except DomainError as exc:
            out["preview"] = None
            out["preview_error"] = exc.message
    out["payload"] = pending.payload  # the sealed form: no plain 個人番号 leaves this service
    return out


def pending_withdraw(*, actor: Actor, pending_id: int) -> None:
    """取下げ by the clerk who entered it (to correct and enter again)."""
    with gate.open(actor, function="pending.withdraw", perm=Perm.PERSON_CHANGE, criteria={"pending_id": pending_id}) as s:
        with transaction.atomic():
            pending = fetch(pending_id, lock=True)
            s.record(pending.person_ids)
            _check_own(actor, pending)
            if pending.state not in (PendingChange.State.PENDING, PendingChange.State.REJECTED):
                raise DomainError(ErrorCode.PENDING_CLOSED, f"この仮登録は既に「{pending.get_state_display()}」です。")
            pending.state = PendingChange.State.WITHDRAWN
            pending.save(update_fields=["state"])
            add_event(pending, PendingEvent.Kind.WITHDRAWN, actor)


def pending_form(*, actor: Actor, pending_id: int) -> tuple[PendingChange, dict]:
    """A returned entry and what its clerk typed (個人番号 unsealed), to correct and resubmit."""
    with gate.open(actor, function="pending.correct", perm=Perm.PERSON_CHANGE, criteria={"pending_id": pending_id}) as s:
        pending = fetch(pending_id)
        s.record(pending.person_ids)
        _check_own(actor, pending)
        if pending.state != PendingChange.State.REJECTED:
            raise DomainError(ErrorCode.PENDING_CLOSED,
                              f"この仮登録は「{pending.get_state_display()}」のため、修正して再提出できません。")
        if not pending.form_data:
            raise DomainError(ErrorCode.INVALID_INPUT,
                              "この仮登録は入力画面の内容を持っていません（APIからの入力）。取り下げて入力し直してください。")
        guard_protected(s, pending)  # the person may have come under a 支援措置 since
        return pending, unseal_payload(pending, form=True)


def pending_payload(*, actor: Actor, pending_id: int) -> dict:
    """The entry, 個人番号 unsealed, for the entering clerk (the API's correction path)."""
    with gate.open(actor, function="pending.payload", perm=Perm.PERSON_CHANGE, criteria={"pending_id": pending_id}) as s:
        pending = fetch(pending_id)
        s.record(pending.person_ids)
        _check_own(actor, pending)
        guard_protected(s, pending)  # the person may have come under a 支援措置 since
        return unseal_payload(pending)
