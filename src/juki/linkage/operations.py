"""The operator's steps on a destination's deliveries, each a log row of its own: put a dead letter back
in line, re-send from a position (the re-read itself is a provision row of the engine's)."""
from __future__ import annotations

from django.db import transaction

from juki.accounts.permissions import Perm
from juki.audit import gate
from juki.audit.gate import Actor
from juki.core.errors import DomainError, ErrorCode

from . import approvals, engine
from .models import Delivery


def retry(actor: Actor, *, code: str, sequence: int) -> None:
    with gate.open(actor, function="linkage.operate.retry", perm=Perm.LINKAGE_MANAGE,
                   criteria={"destination": code, "sequence": sequence}), transaction.atomic():
        approvals.destination(code)
        if not Delivery.objects.filter(destination=code, sequence=sequence, state=Delivery.State.DEAD).update(
                state=Delivery.State.PENDING, last_error=""):
            raise DomainError(ErrorCode.DELIVERY_STATE, "送信不能の配信ではありません。")


def resend(actor: Actor, *, code: str, after: int) -> engine.Outcome:
    with gate.open(actor, function="linkage.operate.resend", perm=Perm.LINKAGE_MANAGE,
                   criteria={"destination": code, "after": after}) as session:
        approvals.destination(code)
        outcome = engine.resend(code, after=after)
        if not outcome.collected and not outcome.refused:
            raise DomainError(ErrorCode.DELIVERY_STATE, "この位置の後に、再送する異動はありません。", field="after")
        session.criteria["sequences"] = outcome.collected
        return outcome
