"""What needs review, and why: the city's two-person verification (C10), and the direct
corrections of 本人確認情報 that need the approval of its 管理責任者 whatever the city's setting (C14)."""
from __future__ import annotations

from django.conf import settings

from juki.accounts.permissions import Perm
from juki.audit import gate
from juki.audit.gate import Actor
from juki.core.errors import DomainError, ErrorCode

from ...read_models import IDENTITY_FIELDS
from ...reasons import Operation


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
    from ...models import Change, PersonVersion

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


def identity_refusal() -> DomainError:
    return DomainError(ErrorCode.IDENTITY_APPROVAL_REQUIRED,
                       "本人確認情報（氏名・通称・生年月日・性別・住所・住民票コード・個人番号）の直接修正"
                       "（これらの項目を元に戻す異動の取消しを含みます）は、"
                       "仮登録して本人確認情報管理責任者の承認を受けてください。")


def two_person_required() -> bool:
    return getattr(settings, "JUKI_TWO_PERSON_VERIFICATION", True)
