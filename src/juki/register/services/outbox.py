"""The change outbox's consumer side: read in order after a cursor, then acknowledge.

Delivery is at-least-once: a consumer that crashes between processing and `outbox_ack` sees
the same events again, so consumers must be idempotent on `change_id`.
"""
from __future__ import annotations

from django.db import transaction

from juki.accounts.permissions import Perm
from juki.audit import gate
from juki.audit.gate import Actor
from juki.core.errors import DomainError, ErrorCode
from juki.protection import enforcement as protection

from ..models import OutboxCursor, OutboxEvent


def outbox_read(*, actor: Actor, consumer: str, limit: int = 100) -> dict:
    with gate.open(actor, function="outbox.read", perm=Perm.OUTBOX_CONSUME, criteria={"consumer": consumer}) as session:
        cursor = OutboxCursor.objects.filter(consumer=consumer).first() or OutboxCursor(consumer=consumer)
        events = list(OutboxEvent.objects.filter(id__gt=cursor.position).order_by("id")[: max(1, min(limit, 1000))])
        session.record(p["person_id"] for e in events for p in e.payload["persons"])
        return {
            "consumer": consumer,
            "position": cursor.position,
            # 支援措置・抑止(他システム連携) [440][410]: such persons go out as a block marker only.
            "events": protection.outbox_events(session, [{"position": e.id, **e.payload} for e in events]),
        }


def outbox_ack(*, actor: Actor, consumer: str, position: int) -> dict:
    with gate.open(actor, function="outbox.ack", perm=Perm.OUTBOX_CONSUME,
                   criteria={"consumer": consumer, "position": position}):
        with transaction.atomic():
            OutboxCursor.objects.get_or_create(consumer=consumer)
            cursor = OutboxCursor.objects.select_for_update().get(consumer=consumer)
            if position < cursor.position:
                raise DomainError(ErrorCode.INVALID_INPUT, "確認済みの位置より前には戻せません。", field="position")
            last = OutboxEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
            if position > last:
                raise DomainError(ErrorCode.INVALID_INPUT, "まだ存在しない位置は確認できません。", field="position")
            cursor.position = position
            cursor.save(update_fields=["position", "updated_at"])
            return {"consumer": consumer, "position": position}
