"""Demo cards with known PINs, for `./scripts/demo` and the kiosk's demo (never in production data).

`demo_cards(n)` picks the first `n` adult residents by id who are not under a 支援措置 or a
certificate 抑止 (the kiosk would refuse them), gives each a card with a PIN from a fixed list
(chosen by the person's id, skipping one their birth date rules out), and returns (card number, PIN, person id).
Run again, it returns the same cards: a card whose PIN is still the demo PIN is reused, and a
person whose card has another PIN (changed in the demo) is passed over.
"""
from __future__ import annotations

import datetime as dt

from django.conf import settings

from juki.accounts.permissions import Perm
from juki.audit import gate
from juki.audit.gate import Actor
from juki.core.errors import DomainError, ErrorCode
from juki.core.wareki import years_before
from juki.protection import enforcement
from juki.protection.models import Process
from juki.register.models import Person, Status
from juki.core import clock

from . import services
from .models import LIVE_STATES, Card, CardState

DEMO_PINS = ("2580", "1357", "4826", "7913", "3690", "5147")
ACTOR = Actor.system_actor("demo_cards")


def _pin_for(person_id: int, birth_date: dt.date) -> str:
    """The same PIN for the same person on every run."""
    for k in range(len(DEMO_PINS)):
        pin = DEMO_PINS[(person_id + k) % len(DEMO_PINS)]
        try:
            return services.validate_pin(pin, birth_date=birth_date)
        except DomainError:
            continue
    raise AssertionError("the demo PINs cannot all be ruled out by one birth date")


def demo_cards(n: int = 3) -> list[tuple[str, str, int]]:
    if not settings.JUKI_DEMO_TOOLS:
        raise DomainError(ErrorCode.INVALID_INPUT, "デモ用のカードは、デモ環境でだけ作成できます。")
    adult = years_before(clock.today(), 20)
    out: list[tuple[str, str, int]] = []
    with gate.open(ACTOR, function="batch.demo_cards", perm=Perm.BATCH_RUN) as session:
        blocked = enforcement.everyone_protected()
        candidates = (Person.objects.filter(status=Status.RESIDENT, current__birth_date__lte=adult)
                      .order_by("id").values_list("id", "current__birth_date"))
        picked: list[tuple[int, str, Card | None]] = []
        for person_id, birth_date in candidates.iterator():
            if len(picked) == n:
                break
            session.record([person_id])  # its birth date was read
            if person_id in blocked or enforcement.restrictions_for([person_id], Process.CERTIFICATE):
                continue
            pin = _pin_for(person_id, birth_date)
            card = Card.objects.filter(person_id=person_id, state__in=LIVE_STATES).first()
            if card is not None and (card.state != CardState.ACTIVE or not services.pin_matches(card.pin_hash, pin)):
                continue
            picked.append((person_id, pin, card))
    for person_id, pin, card in picked:
        if card is None:
            card_number = services.card_issue(actor=ACTOR, person_id=person_id, pin=pin, document="デモ")["number"]
        else:
            card_number = card.number
        out.append((card_number, pin, person_id))
    return out
