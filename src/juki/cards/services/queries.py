"""Reading a person's cards at the counter."""
from __future__ import annotations

from juki.accounts.permissions import Perm
from juki.audit import gate
from juki.audit.gate import Actor
from juki.protection import enforcement
from juki.register.models import Status

from ..models import LIVE_STATES, Card, CardEvent
from .common import _person, card_dict, max_attempts


def cards_for_person(*, actor: Actor, person_id: int) -> dict:
    """The person's cards, newest first, each with its history (履歴連番 in order)."""
    with gate.open(actor, function="card.list", perm=Perm.CARD_MANAGE, criteria={"person_id": person_id}) as session:
        session.record([person_id])
        enforcement.guard_read(session, [person_id])  # 支援措置・照会抑止: as the register's own reads
        status, _birth = _person(person_id)
        cards = list(Card.objects.select_related("seal_registration", "issued_by", "reissue_of")
                     .filter(person_id=person_id).order_by("-issued_on", "-id"))
        history: dict[int, list[CardEvent]] = {c.pk: [] for c in cards}
        for e in CardEvent.objects.select_related("by").filter(card__in=cards).order_by("id"):
            history[e.card_id].append(e)
        live = next((c for c in cards if c.state in LIVE_STATES), None)
        return {"person_id": person_id, "resident": status == Status.RESIDENT,
                "live_card_id": live.pk if live else None, "max_attempts": max_attempts(),
                "cards": [card_dict(c, history=history[c.pk]) for c in cards]}
