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
from juki.core.wareki import display_date
from juki.protection import enforcement as protection

from .. import read_models, selectors
from ..read_models import IDENTITY_FIELDS
from ..models import Household, PendingChange, PendingEvent, Person, ResidentKind, Sex, Status
from ..operations import OPERATIONS
from ..reasons import OPERATION_LABELS, Operation
from . import entry
from .writer import Approval, ChangeResult, HouseholdRef, Notifier, PersonRef, approving, notified_by

_SEALED = "__sealed__"

# Items compared on the confirmation screen, in the order of the 住民票 [1010 is the household order].
# Every item a change can write is here (issue 12: a reviewer approves only what they saw).
COMPARED = [
    ("resident_kind", "住民種別"), ("name", "氏名"), ("kana", "フリガナ"), ("former_surname", "旧氏"), ("former_surname_kana", "旧氏フリガナ"),
    ("birth_date", "生年月日"), ("sex", "性別"),
    ("relationship", "続柄"), ("household_number", "世帯番号"), ("address", "住所"),
    ("became_resident_on", "住民となった年月日"), ("address_set_on", "住所を定めた年月日"), ("notified_on", "届出日"),
    ("previous_address", "転入前住所"),
    ("domicile", "本籍"), ("domicile_head", "筆頭者"), ("status_label", "状態"), ("removed_on", "消除日"),
    ("resident_code", "住民票コード"), ("my_number", "個人番号"), ("nationality", "国籍・地域"),
    ("kanji_name", "漢字氏名"), ("alias_name", "通称"), ("alias_name_kana", "通称フリガナ"),
    ("article_30_45_category", "第30条の45に規定する区分"), ("residence_status", "在留資格"),
    ("period_of_stay", "在留期間"), ("stay_expires_on", "在留期間の満了の日"),
    ("residence_card_number", "在留カード等番号"),
    ("move_out_address", "転出先"), ("move_out_planned_on", "転出予定日"),
    ("move_out_confirmed_address", "転出先（確定）"), ("move_out_confirmed_on", "転出年月日（確定）"),
    ("move_in_notice_on", "転入通知を受けた日"),
]


# The same items as columns of a version (the address by its town's id; the 個人番号 by its digest).
_IDENTITY_COLUMNS = tuple(sorted((IDENTITY_FIELDS - {"town_code"}) | {"town_id", "my_number_digest"}))
_CORRECTIONS = {Operation.EX_OFFICIO_CORRECTION, Operation.ERRATUM_CORRECTION, Operation.MINOR_CORRECTION}


def identity_correction(operation: str, payload: dict, *, actor: Actor | None = None) -> bool:
    """Is this entry a direct correction of 本人確認情報 (C14)?

    A 異動の取消し is one when it undoes such a correction, or any change that altered these items
    (restoring the old values is as direct as a correction). Finding that out reads the register:
    inside an open gate it reads through it, else through one opened for `actor`; with neither it
    answers True (ask for the approval rather than skip it)."""
    if operation in _CORRECTIONS:
        return bool(IDENTITY_FIELDS & set(payload.get("changes") or {}))
    if operation == Operation.MY_NUMBER:
        return payload.get("kind") == "correction"  # "change" is the resident's 変更請求: a normal 異動
    if operation == Operation.CANCEL:
        try:
            change_id = int(payload.get("change_id"))
        except (TypeError, ValueError):
            return False  # refused by the input check anyway
        if gate.current() is not None:
            return _restores_identity(change_id)
        if actor is None:
            return True
        with gate.open(actor, function="change.identity_check", perm=Perm.PERSON_CHANGE,
                       criteria={"change_id": change_id}):
            return _restores_identity(change_id)
    return False


def _restores_identity(change_id: int) -> bool:
    """Would cancelling this change put back other 本人確認情報 than it now shows?"""
    from ..models import Change, PersonVersion

    target = Change.objects.filter(pk=change_id).values_list("operation", flat=True).first()
    if target is None:
        return False  # the cancel itself answers "not found"
    if target in _CORRECTIONS or target == Operation.MY_NUMBER:
        return True
    ours = list(PersonVersion.objects.filter(change_id=change_id).order_by("person_id", "seq")
                .values("person_id", "seq", *_IDENTITY_COLUMNS))
    firsts: dict[int, int] = {}
    for v in ours:
        firsts.setdefault(v["person_id"], v["seq"])
    for person_id, seq in firsts.items():
        prior = (PersonVersion.objects.filter(person_id=person_id, seq__lt=seq).order_by("-seq")
                 .values(*_IDENTITY_COLUMNS).first())
        if prior is None:
            continue  # created by the change: cancelling it removes the record, it restores nothing
        if any({k: v[k] for k in _IDENTITY_COLUMNS} != prior for v in ours if v["person_id"] == person_id):
            return True
    return False


def _identity_refusal() -> DomainError:
    return DomainError(ErrorCode.IDENTITY_APPROVAL_REQUIRED,
                       "本人確認情報（氏名・通称・生年月日・性別・住所・住民票コード・個人番号）の直接修正"
                       "（これらの項目を元に戻す異動の取消しを含みます）は、"
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


def _flat(record: read_models.PersonRecord | None) -> dict[str, str]:
    """The compared items of a person's record as display strings (None: hidden from this user)."""
    if record is None:
        return {}
    name, foreign, move_out, address = record.name, record.foreign, record.move_out, record.address

    def d(value, *, western: bool = False) -> str:
        return display_date(value, western=western) if value else ""

    return {
        "resident_kind": ResidentKind(record.resident_kind).label,
        "name": name.full,
        "kana": name.full_kana,
        "birth_date": d(record.birth_date, western=record.is_foreign),
        "sex": Sex(record.sex).label,
        "relationship": record.relationship,
        "household_number": record.household_number,
        "address": address.display if address else None,
        "former_surname": name.former_surname,
        "former_surname_kana": name.former_surname_kana,
        "became_resident_on": d(record.became_resident_on),
        "address_set_on": d(record.address_set_on),
        "notified_on": d(record.notified_on),
        "previous_address": record.previous_address,
        "domicile": record.domicile,
        "domicile_head": record.domicile_head,
        "status_label": record.status_label,
        "removed_on": d(record.removed_on),
        "resident_code": record.resident_code,
        # Never the number itself on a comparison screen: only whether one is recorded.
        "my_number": "記載あり" if record.has_my_number else "",
        **{k: (getattr(foreign, k) if foreign else "") for k in (
            "nationality", "kanji_name", "alias_name", "alias_name_kana", "article_30_45_category",
            "residence_status", "period_of_stay", "residence_card_number")},
        "stay_expires_on": d(foreign.stay_expires_on, western=True) if foreign else "",
        "move_out_address": move_out.planned_address,
        "move_out_planned_on": d(move_out.planned_on),
        "move_out_confirmed_address": move_out.confirmed_address,
        "move_out_confirmed_on": d(move_out.confirmed_on),
        "move_in_notice_on": d(move_out.notice_on),
    }


def _person_now(actor: Actor, person_id: int) -> read_models.PersonRecord | None:
    try:
        return selectors.person_read(actor=actor, person_id=person_id).record
    except NotFoundError:
        return None


def run(spec, *, actor: Actor, kwargs: dict) -> ChangeResult:
    """Call the operation's service with the 届出人 (common to every 届出) set for the writer."""
    kwargs = dict(kwargs)
    notifier = Notifier(name=(kwargs.pop("notifier_name", "") or "").strip(),
                        relationship=(kwargs.pop("notifier_relationship", "") or "").strip())
    with notified_by(notifier):
        return spec.service(actor=actor, **kwargs)


def change_preview(*, actor: Actor, operation: str, payload: dict) -> dict:
    """Run the change, read the result, roll it all back: before/after for the confirmation."""
    spec = operation_spec(operation)
    kwargs = spec.kwargs(payload)
    captured: dict = {}
    with gate.open(actor, function="change.preview", perm=Perm.PERSON_CHANGE,
                   criteria={"operation": operation}) as session:
        try:
            with transaction.atomic():
                result: ChangeResult = run(spec, actor=actor, kwargs=kwargs)
                captured["result"] = result
                captured["after"] = {p["id"]: _person_now(actor, p["id"]) for p in result.persons}
                raise _Rollback
        except _Rollback:
            pass
        except DomainError:
            # The service's own log row went with the rollback: this row names whom the refused
            # attempt was about, so it is part of their record of use (開示請求, analysis).
            _record_named(session, kwargs)
            raise
        result = captured["result"]
        existing = set(Person.objects.filter(pk__in=[p["id"] for p in result.persons]).values_list("id", flat=True))
        households = [v["id"] for v in (payload.get("destination"), payload.get("target"))
                      if isinstance(v, dict) and v.get("id") is not None]
        numbers = dict(Household.objects.filter(pk__in=households).values_list("id", "number")) if households else {}
        session.record(existing)
        if protection.protected_ids(existing):
            session.flag(protection.FLAG)
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
    names = {p["person_id"]: p["name"] for p in people if p["person_id"]}
    return {
        "operation": operation,
        "operation_label": OPERATION_LABELS.get(Operation(operation), operation),
        "entry": entry.rows(operation, payload, names=names, household_numbers=numbers),
        "people": people,
        "warnings": result.warnings,
        "person_ids": sorted(existing),
    }


def _record_named(session: gate.GateSession, kwargs: dict) -> None:
    """Record the persons a change names, and the protected residents of the households it names."""
    persons, households = set(), set()

    def walk(value):
        if isinstance(value, PersonRef):
            persons.add(value.id)
        elif isinstance(value, HouseholdRef):
            households.add(value.id)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, (list, tuple, set)):
            for v in value:
                walk(v)

    walk(kwargs)
    residents = set(Person.objects.filter(household_id__in=households, status=Status.RESIDENT)
                    .values_list("id", flat=True)) if households else set()
    protected = protection.protected_ids(persons | residents)
    session.record(persons | protected)
    if protected:
        session.flag(protection.FLAG)


# --- 仮登録 / 本登録 -------------------------------------------------------------------------------


def _seal_payload(payload: dict) -> tuple[dict, str, bytes | None]:
    """Take every 個人番号 out of the payload into one sealed blob."""
    numbers: list[str] = []

    def seal(value) -> str:
        if not value:
            return value
        numbers.append(str(value))
        return f"{_SEALED}{len(numbers) - 1}"

    def walk(value):
        if isinstance(value, dict):
            out = {}
            for k, v in value.items():
                if (k == "my_number" or k.endswith("-my_number")) and v:  # the payload's and the form's
                    out[k] = [seal(x) for x in v] if isinstance(v, list) else seal(v)
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


def _unseal_payload(pending: PendingChange, *, form: bool = False) -> dict:
    """The entry's payload (or, with `form`, what was typed on the counter's form), 個人番号 unsealed."""
    value = pending.form_data if form else pending.payload
    if not pending.sealed:
        return value
    numbers = mynumber.unseal_values(pending.sealed_key_id, pending.sealed)

    def walk(value):
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, str) and value.startswith(_SEALED):
            return numbers[int(value[len(_SEALED):])]
        return value

    return walk(value)


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
                returned = _get(resubmit_of, lock=True)
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
            sealed, key_id, blob = _seal_payload({"payload": payload, "form": form_data or {}})
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
            _event(pending, kind, actor)
            session.record(ids)
            session.criteria["pending_id"] = pending.id
    return pending


def _event(pending: PendingChange, kind: str, actor: Actor, comment: str = "") -> None:
    PendingEvent.objects.create(pending=pending, kind=kind, by=actor.user, comment=comment)


def _check_own(actor: Actor, pending: PendingChange) -> None:
    if actor.user is None or pending.entered_by_id != actor.user.pk:
        raise AccessDenied("入力内容の修正・取下げは、入力した職員本人だけが行えます。")


def change_enter(*, actor: Actor, operation: str, payload: dict, form_data: dict | None = None,
                 resubmit_of: int | None = None) -> PendingChange | ChangeResult:
    """An entry from the counter: 仮登録 for review where two-person verification is on (the
    default, C10), committed at once where the city has turned it off. A returned entry that is
    corrected always goes back to review: it was entered under review."""
    if two_person_required() or resubmit_of is not None or identity_correction(operation, payload, actor=actor):
        return pending_submit(actor=actor, operation=operation, payload=payload, form_data=form_data,
                              resubmit_of=resubmit_of)
    spec = operation_spec(operation)
    return run(spec, actor=actor, kwargs=spec.kwargs(payload))


def change_commit(*, actor: Actor, operation: str, kwargs: dict) -> ChangeResult:
    """A change committed at once (the API's /changes endpoints): never a 本人確認情報 correction,
    and for a staff user only where the city has turned two-person verification off — else the API
    would be a way around the review (C10). A system actor (no staff user) commits what it was started
    for, if its listed rights hold the operation's (ADR 0019); a device holds none."""
    if identity_correction(operation, kwargs, actor=actor):
        raise _identity_refusal()
    # A staff user under review is refused here; so is an actor without a user (a device, a job) that
    # holds no right to change, before its input is even read. Both refusals are logged.
    if (two_person_required() and actor.user is not None) or (actor.user is None and not actor.can(Perm.PERSON_CHANGE)):
        with gate.open(actor, function=f"change.{operation}", perm=Perm.PERSON_CHANGE,
                       criteria={"operation": operation, "refused": "review_required"}):
            raise DomainError(ErrorCode.REVIEW_REQUIRED,
                              "審査（二者確認）を行う設定のため、異動を直接登録することはできません。"
                              "仮登録（POST /api/v1/pending）として入力し、別の職員の審査を受けてください。")
    return run(operation_spec(operation), actor=actor, kwargs=kwargs)


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


def _guard_protected(session: gate.GateSession, pending: PendingChange) -> None:
    """Reviewing (or re-opening) an entry about a protected person needs `support.manage`."""
    protection.guard_change(session, pending.person_ids)


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
        if _mask(session, out, protection.protected_ids(pending.person_ids)):
            return out | {"payload": None, "preview": None, "preview_error": None, "events": []}
        payload = _unseal_payload(pending)
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
        _guard_protected(s, pending)
        _check_reviewer(actor, pending, approving_it=True)
        if identity_correction(pending.operation, pending.payload):
            s.flag("identity_correction")  # C14: kept for review with the approver's name
        payload = _unseal_payload(pending)
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
            pending = _get(pending_id, lock=True)
            s.record(pending.person_ids)
            _guard_protected(s, pending)
            _check_reviewer(actor, pending)
            pending.state = PendingChange.State.REJECTED
            pending.reviewed_by = actor.user
            pending.reviewed_at = timezone.now()
            pending.review_comment = comment[:2000]
            pending.save(update_fields=["state", "reviewed_by", "reviewed_at", "review_comment"])
            _event(pending, PendingEvent.Kind.RETURNED, actor, comment[:2000])


def pending_withdraw(*, actor: Actor, pending_id: int) -> None:
    """取下げ by the clerk who entered it (to correct and enter again)."""
    with gate.open(actor, function="pending.withdraw", perm=Perm.PERSON_CHANGE, criteria={"pending_id": pending_id}) as s:
        with transaction.atomic():
            pending = _get(pending_id, lock=True)
            s.record(pending.person_ids)
            _check_own(actor, pending)
            if pending.state not in (PendingChange.State.PENDING, PendingChange.State.REJECTED):
                raise DomainError(ErrorCode.PENDING_CLOSED, f"この仮登録は既に「{pending.get_state_display()}」です。")
            pending.state = PendingChange.State.WITHDRAWN
            pending.save(update_fields=["state"])
            _event(pending, PendingEvent.Kind.WITHDRAWN, actor)


def pending_form(*, actor: Actor, pending_id: int) -> tuple[PendingChange, dict]:
    """A returned entry and what its clerk typed (個人番号 unsealed), to correct and resubmit."""
    with gate.open(actor, function="pending.correct", perm=Perm.PERSON_CHANGE, criteria={"pending_id": pending_id}) as s:
        pending = _get(pending_id)
        s.record(pending.person_ids)
        _check_own(actor, pending)
        if pending.state != PendingChange.State.REJECTED:
            raise DomainError(ErrorCode.PENDING_CLOSED,
                              f"この仮登録は「{pending.get_state_display()}」のため、修正して再提出できません。")
        if not pending.form_data:
            raise DomainError(ErrorCode.INVALID_INPUT,
                              "この仮登録は入力画面の内容を持っていません（APIからの入力）。取り下げて入力し直してください。")
        _guard_protected(s, pending)  # the person may have come under a 支援措置 since
        return pending, _unseal_payload(pending, form=True)


def pending_payload(*, actor: Actor, pending_id: int) -> dict:
    """The entry, 個人番号 unsealed, for the entering clerk (the API's correction path)."""
    with gate.open(actor, function="pending.payload", perm=Perm.PERSON_CHANGE, criteria={"pending_id": pending_id}) as s:
        pending = _get(pending_id)
        s.record(pending.person_ids)
        _check_own(actor, pending)
        _guard_protected(s, pending)  # the person may have come under a 支援措置 since
        return _unseal_payload(pending)
