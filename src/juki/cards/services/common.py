"""What the card services share: the PIN attempts allowed, the holder and the card read inside the
open gate, a card's history row and change of state, the checks of typed text, and a card as the
services return it."""
from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from juki.audit.gate import Actor, GateSession
from juki.core.errors import DomainError, ErrorCode, NotFoundError
from juki.protection import enforcement
from juki.register.models import Person, Status

from ..models import Card, CardEndReason, CardEvent, CardEventKind, CardState


def max_attempts() -> int:
    return settings.JUKI_CARD_PIN_ATTEMPTS


def _person(person_id: int) -> tuple[str, dt.date | None]:
    """(status, birth date) of a person, inside the open gate."""
    row = (Person.objects.filter(pk=person_id).values_list("status", "current__birth_date").first())
    if row is None:
        raise NotFoundError("指定された住民が見つかりません。")
    return row


def _resident(person_id: int) -> dt.date | None:
    """The birth date of a resident; refuses a removed person (a card is for residents only)."""
    status, birth_date = _person(person_id)
    if status != Status.RESIDENT:
        raise DomainError(ErrorCode.NOT_RESIDENT, "住民記録が消除されている方には、市民カードの交付・暗証番号の再設定・一時停止の解除はできません。")
    return birth_date


def _card(session: GateSession, card_id: int, *, lock: bool = True) -> Card:
    """The card, locked for the change. A screen for one person passes `person_id` in the criteria:
    a card of somebody else is then not found."""
    rows = Card.objects.select_related("seal_registration")
    card = (rows.select_for_update(of=("self",)) if lock else rows).filter(pk=card_id).first()
    person_id = session.criteria.get("person_id")
    if card is None or (person_id is not None and card.person_id != person_id):
        raise NotFoundError("指定された市民カードが見つかりません。")
    session.record([card.person_id])
    enforcement.guard_read(session, [card.person_id])
    return card


def _event(card: Card, actor: Actor, kind: CardEventKind, *, on: dt.date | None = None, document: str = "",
           note: str = "") -> CardEvent:
    now = timezone.now()
    return CardEvent.objects.create(card=card, kind=kind, on=on or timezone.localdate(now), at=now, by=actor.user,
                                    system="" if actor.user else actor.system, document=document.strip()[:60],
                                    note=note.strip()[:200])


def _set_state(card: Card, state: CardState, **fields) -> None:
    card.state = state
    card.state_changed_at = timezone.now()
    for name, value in fields.items():
        setattr(card, name, value)
    card.save(update_fields=["state", "state_changed_at", *fields])


def _require(card: Card, *states: CardState, message: str) -> None:
    if card.state not in states:
        raise DomainError(ErrorCode.CARD_STATE, message)


def _required_text(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise DomainError(ErrorCode.INVALID_INPUT, message, field=field)
    return value


def card_dict(card: Card, *, history: list[CardEvent] | None = None) -> dict:
    seal = card.seal_registration
    out = {
        "card_id": card.pk,
        "number": card.number,
        "person_id": card.person_id,
        "state": card.state,
        "state_label": CardState(card.state).label,
        "usable": card.state == CardState.ACTIVE,
        "failed_pins": card.failed_pins,
        "issued_on": card.issued_on.isoformat(),
        "issued_by": card.issued_by.username if card.issued_by else "",
        "ended_on": card.ended_on.isoformat() if card.ended_on else None,
        "end_reason": card.end_reason,
        "end_reason_label": CardEndReason(card.end_reason).label if card.end_reason else "",
        "collected_on": card.collected_on.isoformat() if card.collected_on else None,
        "seal_registration_id": seal.pk if seal else None,
        "seal_number": seal.number if seal else "",
        "seal_state": seal.state if seal else "",
        "reissue_of": card.reissue_of.number if card.reissue_of_id else None,
    }
    if history is not None:
        out["history"] = [{
            "seq": i, "kind": e.kind, "kind_label": CardEventKind(e.kind).label, "on": e.on.isoformat(),
            "at": e.at.isoformat(), "by": e.by.username if e.by else e.system, "document": e.document, "note": e.note,
        } for i, e in enumerate(history, start=1)]
    return out
