"""How an entry comes in: from the counter, 仮登録 or (two-person verification off) committed at
once; from the API's /changes endpoints, committed at once only where no review is required."""
from __future__ import annotations

from juki.accounts.permissions import Perm
from juki.audit import gate
from juki.audit.gate import Actor
from juki.core.errors import DomainError, ErrorCode

from ...models import PendingChange
from ..writer import ChangeResult
from .common import operation_spec, run
from .pending import pending_submit
from .rules import identity_correction, identity_refusal, two_person_required


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
        raise identity_refusal()
    # A staff user under review is refused here; so is an actor without a user (a device, a job) that
    # holds no right to change, before its input is even read. Both refusals are logged.
    if (two_person_required() and actor.user is not None) or (actor.user is None and not actor.can(Perm.PERSON_CHANGE)):
        with gate.open(actor, function=f"change.{operation}", perm=Perm.PERSON_CHANGE,
                       criteria={"operation": operation, "refused": "review_required"}):
            raise DomainError(ErrorCode.REVIEW_REQUIRED,
                              "審査（二者確認）を行う設定のため、異動を直接登録することはできません。"
                              "仮登録（POST /api/v1/pending）として入力し、別の職員の審査を受けてください。")
    return run(operation_spec(operation), actor=actor, kwargs=kwargs)
