"""The card as 印鑑登録証: linked to a seal registered (the seals' `seal_registered`), abolished
when the seals record it lost (`seal_card_lost`), and, when the card is lost at the counter, the
registration it serves ended through `cards.signals.card_lost`. Seals and cards never call each
other's services: the receivers here are connected in `CardsConfig.ready`."""
from __future__ import annotations

from django.db import transaction

from juki.audit import events, gate
from juki.audit.gate import UngatedAccess
from juki.audit.models import Category
from juki.core import clock
from juki.seals.models import SealRegistration, SealState

from .. import signals
from ..models import LIVE_STATES, Card, CardEndReason, CardEventKind, CardState
from .common import _event, _set_state


def link_live_card_to_seal(*, person_id: int, registration: SealRegistration) -> None:
    """The person's card in hand (利用中 or 暗証番号ロック) becomes the 印鑑登録証 of `registration`.

    Call inside the caller's open gate (the seal registration's); writes the card's history row and
    a `card.seal_link` log row in the caller's transaction. No card (or a suspended one): nothing.
    """
    session = gate.current()
    if session is None:
        raise UngatedAccess("Card")
    with transaction.atomic():
        card = (Card.objects.select_for_update(of=("self",))
                .filter(person_id=person_id, state__in=[CardState.ACTIVE, CardState.LOCKED]).first())
        if card is None or card.seal_registration_id == registration.pk:
            return
        card.seal_registration = registration
        card.save(update_fields=["seal_registration"])
        _event(card, session.actor, CardEventKind.SEAL_LINKED, note=f"印鑑番号 {registration.number}")
        events.record(session.actor, function="card.seal_link", person_ids=[person_id],
                      criteria={"card_id": card.pk, "seal_registration_id": registration.pk},
                      category=Category.OPERATION)


def on_seal_registered(sender, *, registration: SealRegistration, **_) -> None:
    link_live_card_to_seal(person_id=registration.person_id, registration=registration)


def _link_registered_seal(card: Card) -> None:
    """A card that becomes usable again (解除・ロック解除) becomes the 印鑑登録証 of its holder's
    registered seal, if it is not yet: a seal registered while the card was suspended found no card
    to link then."""
    registration = SealRegistration.objects.filter(person_id=card.person_id, state=SealState.REGISTERED).first()
    if registration is not None and card.seal_registration_id != registration.pk:
        link_live_card_to_seal(person_id=card.person_id, registration=registration)
        card.refresh_from_db(fields=["seal_registration"])


def abolish_lost_seal_cards(*, registration: SealRegistration) -> list[int]:
    """亡失届 of the 印鑑登録証: every live card serving ``registration`` is abolished (紛失), so
    that the lost card is never used again nor linked to a later registration.

    Call inside the caller's open gate and transaction (the seal's `seal.lost`); writes each card's
    history row and a `card.lost_abolish` log row. Returns the ids of the cards abolished.
    """
    session = gate.current()
    if session is None:
        raise UngatedAccess("Card")
    today = clock.today()
    abolished = []
    with transaction.atomic():
        for card in Card.objects.select_for_update().filter(seal_registration=registration, state__in=LIVE_STATES):
            _set_state(card, CardState.ABOLISHED, ended_on=today, end_reason=CardEndReason.LOST)
            _event(card, session.actor, CardEventKind.ABOLISHED, note=f"印鑑登録証の亡失届（印鑑番号 {registration.number}）")
            events.record(session.actor, function="card.lost_abolish", person_ids=[card.person_id],
                          criteria={"card_id": card.pk, "seal_registration_id": registration.pk},
                          category=Category.OPERATION)
            abolished.append(card.pk)
    return abolished


def on_seal_card_lost(sender, *, registration: SealRegistration, **_) -> list[int]:
    return abolish_lost_seal_cards(registration=registration)


def _end_seal_of_lost_card(card: Card, note: str) -> int | None:
    """A card lost (再交付・廃止 for 紛失) that is the 印鑑登録証 of a registered seal: the registration
    ends as 亡失, in the caller's transaction. Returns the registration's id when it ended."""
    registration = card.seal_registration
    if registration is None or registration.state != SealState.REGISTERED:
        return None
    if not any(ended for _receiver, ended in signals.card_lost.send(sender=Card, card=card, registration=registration,
                                                                    note=note)):
        return None
    return registration.pk
