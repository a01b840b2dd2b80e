"""Confirmation and two-person verification of changes [530][540] (C10).

- `change_preview` runs the change service for real inside a transaction that is then rolled
  back, and returns each person's items before and after. The clerk's confirmation screen and
  the reviewer's screen show exactly what committing would write, refused by exactly the same
  rules — there is no second copy of the rules to drift.
- `pending_submit` keeps a checked entry as 仮登録; nothing reaches the register, the outbox or
  certificates until `pending_approve`, by another user with the review right, commits it
  through the same service (recorded as entered by the first clerk, approved by the second).
"""
from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from juki.accounts.permissions import Perm
from juki.audit import gate
from juki.audit.gate import Actor
from juki.core import mynumber
from juki.core.errors import AccessDenied, DomainError, ErrorCode, NotFoundError

from .. import selectors
from ..models import PendingChange, Person
from ..operations import OPERATIONS
from ..reasons import OPERATION_LABELS, Operation
from .writer import Approval, ChangeResult, approving

_SEALED = "__sealed__"

# Items compared on the confirmation screen, in the order of the 住民票 [1010 is the household order].
COMPARED = [
    ("name", "氏名"), ("kana", "フリガナ"), ("birth_date", "生年月日"), ("sex", "性別"),
    ("relationship", "続柄"), ("household_number", "世帯番号"), ("address", "住所"),
    ("domicile", "本籍"), ("domicile_head", "筆頭者"), ("status_label", "状態"),
    ("resident_code", "住民票コード"), ("my_number", "個人番号"), ("nationality", "国籍・地域"),
    ("alias_name", "通称"), ("residence_status", "在留資格"), ("stay_expires_on", "在留期間の満了の日"),
    ("move_out_address", "転出先"),
]


# 本人確認情報 (FILE-2): a correction of these outside a normal 異動 needs the approval of the
# 本人確認情報管理責任者 (C14), whatever the two-person setting says.
IDENTITY_FIELDS = frozenset({
    "family_name", "given_name", "family_name_kana", "given_name_kana", "birth_date", "sex",
    "town_code", "banchi", "katagaki", "resident_code",
})
_CORRECTIONS = {Operation.EX_OFFICIO_CORRECTION, Operation.ERRATUM_CORRECTION, Operation.MINOR_CORRECTION}


def identity_correction(operation: str, payload: dict) -> bool:
    """Is this entry a direct correction of 本人確認情報 (C14)?"""
    if operation in _CORRECTIONS:
        return bool(IDENTITY_FIELDS & set(payload.get("changes") or {}))
    return operation == Operation.MY_NUMBER and payload.get("kind") == "correction"


def _identity_refusal() -> DomainError:
    return DomainError(ErrorCode.IDENTITY_APPROVAL_REQUIRED,
                       "本人確認情報（氏名・生年月日・性別・住所・住民票コード・個人番号）の直接修正は、"
                       "仮登録して本人確認情報管理責任者の承認を受けてください。")


def two_person_required() -> bool:
    return getattr(settings, "JUKI_TWO_PERSON_VERIFICATION", True)


def operation_spec(operation: str):
    try:
        return OPERATIONS[Operation(operation)]
    except ValueError:
        raise NotFoundError("指定された異動処理はありません。") from None


# --- preview ------------------------------------------------------------------------------------


class _Rollback(Exception):
    pass


def _flat(person: dict | None) -> dict[str, str]:
    """The compared items of a person (selectors.version_dict) as display strings."""
    if person is None:
        return {}
    name = person["name"]
    foreign = person.get("foreign") or {}

    def d(value):
        return (value or {}).get("display", "") if isinstance(value, dict) else (value or "")

    return {
        "name": f"{name['family_name']}　{name['given_name']}".strip(),
        "kana": f"{name['family_name_kana']}　{name['given_name_kana']}".strip(),
        "birth_date": d(person["birth_date"]),
        "sex": person["sex_label"],
        "relationship": person["relationship"],
        "household_number": person["household_number"],
        "address": person["address"]["display"],
        "domicile": person["domicile"],
        "domicile_head": person["domicile_head"],
        "status_label": person["status_label"],
        "resident_code": person["resident_code"],
        # Never the number itself on a comparison screen: only whether one is recorded.
        "my_number": "記載あり" if person["has_my_number"] else "",
        "nationality": foreign.get("nationality", ""),
        "alias_name": foreign.get("alias_name", ""),
        "residence_status": foreign.get("residence_status", ""),
        "stay_expires_on": d(foreign.get("stay_expires_on")),
        "move_out_address": person["move_out"]["planned_address"],
    }


def _person_now(actor: Actor, person_id: int) -> dict | None:
    try:
        return selectors.person_get(actor=actor, person_id=person_id)
    except NotFoundError:
        return None


def change_preview(*, actor: Actor, operation: str, payload: dict) -> dict:
    """Run the change, read the result, roll it all back: before/after for the confirmation."""
    spec = operation_spec(operation)
    kwargs = spec.kwargs(payload)
    captured: dict = {}
    with gate.open(actor, function="change.preview", perm=Perm.PERSON_CHANGE,
                   criteria={"operation": operation}) as session:
        try:
            with transaction.atomic():
                result: ChangeResult = spec.service(actor=actor, **kwargs)
                captured["result"] = result
                captured["after"] = {p["id"]: _person_now(actor, p["id"]) for p in result.persons}
                raise _Rollback
        except _Rollback:
            pass
        result = captured["result"]
        existing = set(Person.objects.filter(pk__in=[p["id"] for p in result.persons]).values_list("id", flat=True))
        session.record(existing)
    people = []
    for p in result.persons:
        before = _person_now(actor, p["id"]) if p["id"] in existing else None
        after = captured["after"].get(p["id"])
        b, a = _flat(before), _flat(after)
        rows = [{"label": label, "before": b.get(key, ""), "after": a.get(key, ""),
                 "changed": b.get(key, "") != a.get(key, "")} for key, label in COMPARED
                if b.get(key) or a.get(key)]
        people.append({
            "person_id": p["id"] if before else None,
            "name": (a or b).get("name", ""),
            "reason_label": p["reason_label"],
            "is_new": before is None,
            "rows": rows,
        })
    return {
        "operation": operation,
        "operation_label": OPERATION_LABELS.get(Operation(operation), operation),
        "people": people,
        "warnings": result.warnings,
        "person_ids": sorted(existing),
    }


# --- 仮登録 / 本登録 -------------------------------------------------------------------------------


def _seal_payload(payload: dict) -> tuple[dict, str, bytes | None]:
    """Take every 個人番号 out of the payload into one sealed blob."""
    numbers: list[str] = []

    def walk(value):
        if isinstance(value, dict):
            out = {}
            for k, v in value.items():
                if k == "my_number" and v:
                    numbers.append(str(v))
                    out[k] = f"{_SEALED}{len(numbers) - 1}"
                else:
                    out[k] = walk(v)
            return out
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    clean = walk(payload)
    if not numbers:
        return clean, "", None
    key_id, blob = mynumber.seal_values(numbers)
    return clean, key_id, blob


def _unseal_payload(pending: PendingChange) -> dict:
    if not pending.sealed:
        return pending.payload
    numbers = mynumber.unseal_values(pending.sealed_key_id, pending.sealed)

    def walk(value):
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, str) and value.startswith(_SEALED):
            return numbers[int(value[len(_SEALED):])]
        return value

    return walk(pending.payload)


def _summary(preview: dict) -> str:
    names = [p["name"] for p in preview["people"] if p["name"]]
    who = names[0] if names else ""
    if len(names) > 1:
        who += f" ほか{len(names) - 1}名"
    return f"{preview['operation_label']} {who}".strip()[:200]


def pending_submit(*, actor: Actor, operation: str, payload: dict) -> PendingChange:
    """仮登録: checked by a dry run now, committed only by another user's approval."""
    preview = change_preview(actor=actor, operation=operation, payload=payload)
    with gate.open(actor, function="pending.submit", perm=Perm.PERSON_CHANGE,
                   criteria={"operation": operation}) as session:
        with transaction.atomic():
            ids = preview["person_ids"]
            if ids:
                for other in PendingChange.objects.select_for_update().filter(state=PendingChange.State.PENDING):
                    if set(other.person_ids) & set(ids):
                        raise DomainError(ErrorCode.PENDING_EXISTS,
                                          "この方には審査待ち（仮登録）の異動があります。先にその審査を終えてください。")
            clean, key_id, blob = _seal_payload(payload)
            terminal = actor.terminal
            pending = PendingChange.objects.create(
                operation=operation, payload=clean, sealed_key_id=key_id, sealed=blob, summary=_summary(preview),
                person_ids=ids, ward=getattr(terminal, "ward", None), entered_by=actor.user, entered_terminal=terminal,
            )
            session.record(ids)
            session.criteria["pending_id"] = pending.id
    return pending


def change_enter(*, actor: Actor, operation: str, payload: dict) -> PendingChange | ChangeResult:
    """An entry from the counter: 仮登録 for review where two-person verification is on (the
    default, C10), committed at once where the city has turned it off."""
    if two_person_required() or identity_correction(operation, payload):
        return pending_submit(actor=actor, operation=operation, payload=payload)
    spec = operation_spec(operation)
    return spec.service(actor=actor, **spec.kwargs(payload))


def change_commit(*, actor: Actor, operation: str, kwargs: dict) -> ChangeResult:
    """A change committed at once (the API's /changes endpoints): never a 本人確認情報 correction."""
    if identity_correction(operation, kwargs):
        raise _identity_refusal()
    return operation_spec(operation).service(actor=actor, **kwargs)


def _pending_dict(p: PendingChange) -> dict:
    return {
        "id": p.id,
        "operation": p.operation,
        "operation_label": OPERATION_LABELS.get(Operation(p.operation), p.operation),
        "summary": p.summary,
        "state": p.state,
        "state_label": p.get_state_display(),
        "ward": p.ward.name if p.ward else "",
        "entered_by": p.entered_by.full_name or p.entered_by.username,
        "entered_by_id": p.entered_by_id,
        "entered_at": timezone.localtime(p.entered_at),
        "reviewed_by": (p.reviewed_by.full_name or p.reviewed_by.username) if p.reviewed_by else "",
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
        return rows


def _get(pending_id: int, *, lock: bool = False) -> PendingChange:
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
        pending = _get(pending_id)
        session.record(pending.person_ids)
        out = _pending_dict(pending)
        payload = _unseal_payload(pending)
    if pending.state == PendingChange.State.PENDING:
        try:
            out["preview"] = change_preview(actor=actor, operation=pending.operation, payload=payload)
            out["preview_error"] = None
        except DomainError as exc:
            out["preview"] = None
            out["preview_error"] = exc.message
    out["payload"] = pending.payload  # the sealed form: no plain 個人番号 leaves this service
    return out


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
        pending = _get(pending_id)
        s.record(pending.person_ids)
        _check_reviewer(actor, pending, approving_it=True)
        if identity_correction(pending.operation, pending.payload):
            s.flag("identity_correction")  # C14: kept for review with the approver's name
        payload = _unseal_payload(pending)
    spec = operation_spec(pending.operation)
    kwargs = spec.kwargs(payload)
    with approving(Approval(pending_id=pending.id, entered_by=pending.entered_by, entered_terminal=pending.entered_terminal)):
        return spec.service(actor=actor, **kwargs)


def pending_reject(*, actor: Actor, pending_id: int, comment: str) -> None:
    """差戻し: back to the entering clerk with the reason; nothing was written to the register."""
    comment = (comment or "").strip()
    if not comment:
        raise DomainError(ErrorCode.INVALID_INPUT, "差戻しの理由を入力してください。", field="comment")
    with gate.open(actor, function="pending.reject", perm=Perm.CHANGE_APPROVE, criteria={"pending_id": pending_id}) as s:
        with transaction.atomic():
            pending = _get(pending_id, lock=True)
            s.record(pending.person_ids)
            _check_reviewer(actor, pending)
            pending.state = PendingChange.State.REJECTED
            pending.reviewed_by = actor.user
            pending.reviewed_at = timezone.now()
            pending.review_comment = comment[:2000]
            pending.save(update_fields=["state", "reviewed_by", "reviewed_at", "review_comment"])


def pending_withdraw(*, actor: Actor, pending_id: int) -> None:
    """取下げ by the clerk who entered it (to correct and enter again)."""
    with gate.open(actor, function="pending.withdraw", perm=Perm.PERSON_CHANGE, criteria={"pending_id": pending_id}) as s:
        with transaction.atomic():
            pending = _get(pending_id, lock=True)
            s.record(pending.person_ids)
            if actor.user is None or pending.entered_by_id != actor.user.pk:
                raise AccessDenied("取下げは入力した職員本人だけが行えます。")
            if pending.state not in (PendingChange.State.PENDING, PendingChange.State.REJECTED):
                raise DomainError(ErrorCode.PENDING_CLOSED, f"この仮登録は既に「{pending.get_state_display()}」です。")
            pending.state = PendingChange.State.WITHDRAWN
            pending.save(update_fields=["state"])


def pending_payload(*, actor: Actor, pending_id: int) -> dict:
    """The entry, 個人番号 unsealed, for the entering clerk to correct and enter again.

    No screen calls it yet (a withdrawn entry is typed again); kept with its tests for the
    pre-filled re-entry the issue note lists."""
    with gate.open(actor, function="pending.payload", perm=Perm.PERSON_CHANGE, criteria={"pending_id": pending_id}) as s:
        pending = _get(pending_id)
        s.record(pending.person_ids)
        if actor.user is None or pending.entered_by_id != actor.user.pk:
            raise AccessDenied("入力内容の修正は入力した職員本人だけが行えます。")
        return _unseal_payload(pending)
