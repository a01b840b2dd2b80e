"""The outbox's consumer side: read in order after a cursor, then acknowledge.

Two streams share these rules: the change outbox (異動イベント, `juki.change.v1`) and the
抑止連携 events (`juki.restriction.v1`, `juki.protection.linkage`). Each has its own events, its
own cursors and its own log functions. A cursor belongs to a destination (連携先,
`accounts.destinations`): only its account reads and acknowledges it, on the streams it is
approved for, and each event reaches it with only the items it is approved for (C16).
Delivery is at-least-once: a consumer that crashes between processing and the ack sees the
same events again, so consumers must be idempotent.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, models, transaction

from juki.accounts import destinations
from juki.accounts.destinations import Destination
from juki.accounts.permissions import Perm
from juki.audit import gate
from juki.audit.gate import Actor, GateSession
from juki.core.errors import AccessDenied, DomainError, ErrorCode
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


def _destination(stream: Stream, actor: Actor, code: str) -> Destination:
    """The destination whose cursor is asked for, if this actor is its system actor (ADR 0019). Called
    inside the gate, so every refusal is logged with its code."""
    destination = destinations.destination_get(code)
    if destination is None:
        raise DomainError(ErrorCode.UNKNOWN_DESTINATION, "登録されていない連携先です。連携先の識別子を確認してください。",
                          field="consumer")
    # Only the destination's own system actor; its connector's account acts as it (audit.requests.actor_of).
    if actor.user is not None or actor.system != destination.code:
        raise AccessDenied("他の連携先の連携データは読み取れません。")
    if stream.function not in destination.streams:
        raise AccessDenied("この連携先には、この連携の利用の承認がありません。")
    return destination


def _approved_items(entry: dict, allowed: frozenset[str]) -> dict:
    """The entry with only the keys the destination is approved for; lists of entries likewise (C16)."""
    return {k: [_approved_items(x, allowed) for x in v] if isinstance(v, list) and v and isinstance(v[0], dict) else v
            for k, v in entry.items() if k in allowed}


def read(stream: Stream, *, actor: Actor, destination: str, limit: int = 100, after: int | None = None) -> dict:
    """Up to `limit` events after the destination's cursor, or after `after` (a batch read page by
    page before one ack, or a re-send the destination asked for)."""
    with gate.open(actor, function=f"{stream.function}.read", perm=Perm.OUTBOX_CONSUME,
                   criteria={"consumer": destination, **({"after": after} if after is not None else {})}) as session:
        allowed = _destination(stream, actor, destination).allowed(stream.function)
        cursor = stream.cursors.objects.filter(consumer=destination).first() or stream.cursors(consumer=destination)
        start = cursor.position if after is None else max(0, int(after))
        events = list(stream.events.objects.filter(id__gt=start).order_by("id")[: max(1, min(limit, 1000))])
        session.record(p["person_id"] for e in events for p in e.payload["persons"])
        delivered = stream.deliver(session, [{"position": e.id, **e.payload} for e in events])
        return {"consumer": destination, "position": cursor.position,
                "events": [_approved_items(e, allowed) for e in delivered]}


def ack(stream: Stream, *, actor: Actor, destination: str, position: int) -> dict:
    with gate.open(actor, function=f"{stream.function}.ack", perm=Perm.OUTBOX_CONSUME,
                   criteria={"consumer": destination, "position": position}):
        _destination(stream, actor, destination)
        with transaction.atomic():
            stream.cursors.objects.get_or_create(consumer=destination)
            cursor = stream.cursors.objects.select_for_update().get(consumer=destination)
            if position < cursor.position:
                raise DomainError(ErrorCode.INVALID_INPUT, "確認済みの位置より前には戻せません。", field="position")
            last = stream.events.objects.order_by("-id").values_list("id", flat=True).first() or 0
            if position > last:
                raise DomainError(ErrorCode.INVALID_INPUT, "まだ存在しない位置は確認できません。", field="position")
            cursor.position = position
            cursor.save(update_fields=["position", "updated_at"])
            return {"consumer": destination, "position": position}


# 支援措置・抑止(他システム連携) [440][410]: such persons go out of the change outbox as a block marker only.
CHANGES = Stream("outbox", OutboxEvent, OutboxCursor, protection.outbox_events)


def outbox_read(*, actor: Actor, destination: str, limit: int = 100, after: int | None = None) -> dict:
    return read(CHANGES, actor=actor, destination=destination, limit=limit, after=after)


def outbox_position() -> int:
    """The newest event's position (the lag of a destination is this less its cursor). A number, no
    payload: read without the gate (the guarded manager refuses any query outside it), so a consumer's
    idle turn writes no access-log row."""
    with connection.cursor() as cur:
        cur.execute(f"SELECT MAX(id) FROM {OutboxEvent._meta.db_table}")
        return cur.fetchone()[0] or 0


def outbox_cursor(destination: str) -> int:
    """A destination's acknowledged position (0: none yet); no personal data."""
    return OutboxCursor.objects.filter(consumer=destination).values_list("position", flat=True).first() or 0


def outbox_ack(*, actor: Actor, destination: str, position: int) -> dict:
    return ack(CHANGES, actor=actor, destination=destination, position=position)
