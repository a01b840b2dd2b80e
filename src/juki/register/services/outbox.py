"""The outbox's consumer side: read in order after a cursor, then acknowledge.

Two streams share these rules: the change outbox (異動イベント, `juki.change.v1`) and the
抑止連携 events (`juki.restriction.v1`, `juki.protection.linkage`). Each has its own events, its
own cursors and its own log functions. Delivery is at-least-once: a consumer that crashes
between processing and the ack sees the same events again, so consumers must be idempotent.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import models, transaction

from juki.accounts.permissions import Perm
from juki.audit import gate
from juki.audit.gate import Actor, GateSession
from juki.core.errors import DomainError, ErrorCode
from juki.protection import enforcement as protection

from ..models import OutboxCursor, OutboxEvent


@dataclass(frozen=True)
class Stream:
    """One ordered stream of events: the model of its events and of its cursors, the log
    functions' prefix, and what a read hands out (the payloads, as the consumer may see them)."""

    function: str
    events: type[models.Model]
    cursors: type[models.Model]
    deliver: Callable[[GateSession, list[dict]], list[dict]]


def read(stream: Stream, *, actor: Actor, consumer: str, limit: int = 100) -> dict:
    with gate.open(actor, function=f"{stream.function}.read", perm=Perm.OUTBOX_CONSUME,
                   criteria={"consumer": consumer}) as session:
        cursor = stream.cursors.objects.filter(consumer=consumer).first() or stream.cursors(consumer=consumer)
        events = list(stream.events.objects.filter(id__gt=cursor.position).order_by("id")[: max(1, min(limit, 1000))])
        session.record(p["person_id"] for e in events for p in e.payload["persons"])
        return {"consumer": consumer, "position": cursor.position,
                "events": stream.deliver(session, [{"position": e.id, **e.payload} for e in events])}


def ack(stream: Stream, *, actor: Actor, consumer: str, position: int) -> dict:
    with gate.open(actor, function=f"{stream.function}.ack", perm=Perm.OUTBOX_CONSUME,
                   criteria={"consumer": consumer, "position": position}):
        with transaction.atomic():
            stream.cursors.objects.get_or_create(consumer=consumer)
            cursor = stream.cursors.objects.select_for_update().get(consumer=consumer)
            if position < cursor.position:
                raise DomainError(ErrorCode.INVALID_INPUT, "確認済みの位置より前には戻せません。", field="position")
            last = stream.events.objects.order_by("-id").values_list("id", flat=True).first() or 0
            if position > last:
                raise DomainError(ErrorCode.INVALID_INPUT, "まだ存在しない位置は確認できません。", field="position")
            cursor.position = position
            cursor.save(update_fields=["position", "updated_at"])
            return {"consumer": consumer, "position": position}


# 支援措置・抑止(他システム連携) [440][410]: such persons go out of the change outbox as a block marker only.
CHANGES = Stream("outbox", OutboxEvent, OutboxCursor, protection.outbox_events)


def outbox_read(*, actor: Actor, consumer: str, limit: int = 100) -> dict:
    return read(CHANGES, actor=actor, consumer=consumer, limit=limit)


def outbox_ack(*, actor: Actor, consumer: str, position: int) -> dict:
    return ack(CHANGES, actor=actor, consumer=consumer, position=position)
