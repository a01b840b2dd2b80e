"""The kiosk's check of a card and its PIN (`card_authenticate`), and the counted PIN check with
its lock that the holder's 暗証番号の変更 at the counter shares."""
from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from juki.accounts.permissions import Perm
from juki.audit import events, gate
from juki.audit.gate import Actor
from juki.audit.models import Category
from juki.core.errors import DomainError, ErrorCode
from juki.register.models import Status
from juki.seals.models import SealState

from ..models import Card, CardEventKind, CardState
from ..numbers import normalize_number, number_valid
from .common import _event, _person, max_attempts
from .pins import _four_digits, _spend_like_a_check, pin_matches

# One message for an unknown, suspended or abolished card (or a removed holder's): the kiosk must
# not tell a stranger which numbers exist.
NOT_USABLE = "このカードはご利用いただけません。お手数ですが、窓口へお越しください。"
LOCKED_MESSAGE = "暗証番号を続けて誤ったため、このカードはロックされています。本人確認書類をお持ちのうえ、窓口で暗証番号を再設定してください。"


@dataclass(frozen=True)
class CardHolder:
    """What the kiosk learns from a card and its PIN."""

    card_id: int
    number: str
    person_id: int
    # The registered seal whose 印鑑登録証 this card is; None when it serves no registered seal.
    seal_registration_id: int | None


def _refusal(card: Card) -> DomainError:
    """Why a card cannot be used now, read again from the database (it may have changed meanwhile)."""
    card.refresh_from_db(fields=["state", "failed_pins"])
    # Every attempt taken by requests still checking theirs counts as a lock already.
    if card.state == CardState.LOCKED or (card.state == CardState.ACTIVE and card.failed_pins >= max_attempts()):
        return DomainError(ErrorCode.CARD_LOCKED, LOCKED_MESSAGE)
    return DomainError(ErrorCode.CARD_STATE, NOT_USABLE)


def _reserve_attempt(card: Card) -> None:
    """Count the attempt before the (slow) check, committed at once: parallel guesses each take one
    of the allowed attempts, and a card locked or stopped meanwhile takes none. Refuses when no
    attempt is left or the card is no longer 利用中."""
    with transaction.atomic():
        reserved = (Card.objects.filter(pk=card.pk, state=CardState.ACTIVE, failed_pins__lt=max_attempts())
                    .update(failed_pins=F("failed_pins") + 1))
    if not reserved:
        raise _refusal(card)


def _count_failure(actor: Actor, card: Card) -> int:
    """A wrong PIN, already counted by `_reserve_attempt`: its log row, and the lock when the count
    reached the limit, committed before the refusal. Returns how many tries remain (0: locked)."""
    with transaction.atomic():
        card.refresh_from_db(fields=["failed_pins", "state"])
        remaining = max(0, max_attempts() - card.failed_pins)
        criteria = {"card_id": card.pk, "failed_pins": card.failed_pins}
        events.record(actor, function="card.pin_failed", outcome=str(ErrorCode.CARD_PIN_WRONG), criteria=criteria,
                      person_ids=[card.person_id], category=Category.AUTH)
        if remaining == 0 and Card.objects.filter(pk=card.pk, state=CardState.ACTIVE).update(
                state=CardState.LOCKED, state_changed_at=timezone.now()):
            _event(card, actor, CardEventKind.LOCKED, note=f"暗証番号を{card.failed_pins}回続けて誤ったため")
            events.record(actor, function="card.locked", outcome=str(ErrorCode.CARD_LOCKED), criteria=criteria,
                          person_ids=[card.person_id], category=Category.AUTH)
    return remaining


def _check_pin(actor: Actor, card: Card, pin: str, field: str = "pin") -> None:
    """The PIN of a card, counted before it is checked. On success the attempt stays counted: the
    caller resets the count in its own write, refusing if the card stopped being 利用中 meanwhile."""
    if card.state == CardState.LOCKED:
        raise DomainError(ErrorCode.CARD_LOCKED, LOCKED_MESSAGE)
    _reserve_attempt(card)
    if not pin_matches(card.pin_hash, pin):
        remaining = _count_failure(actor, card)
        if remaining == 0:
            raise DomainError(ErrorCode.CARD_LOCKED, LOCKED_MESSAGE)
        raise DomainError(ErrorCode.CARD_PIN_WRONG, f"暗証番号が違います。あと{remaining}回誤ると、このカードはロックされます。",
                          field=field, details={"remaining": remaining})


def card_authenticate(*, actor: Actor, number: str, pin: str) -> CardHolder:
    """The kiosk's check of a card and its PIN (right: certificate.issue, which the kiosk holds).

    A PIN that is not 4 digits: INVALID_INPUT before the number is looked at, whatever the number
    (so a malformed PIN tells nothing about which numbers exist), and not counted. Wrong PIN:
    CARD_PIN_WRONG with details {"remaining": n}; the last allowed wrong PIN locks the card:
    CARD_LOCKED, as is any PIN on a locked card. Unknown, suspended or abolished cards, and the
    card of a person no longer resident: CARD_STATE, one message for all. The attempt is counted
    before the check, and the count, the lock and their log rows (`card.pin_failed`,
    `card.locked`) are committed before the error is raised, so call this outside any
    `transaction.atomic()` of your own.
    """
    number = normalize_number(number)
    with gate.open(actor, function="card.authenticate", perm=Perm.CERTIFICATE_ISSUE, category=Category.AUTH) as session:
        pin = _four_digits(pin, "pin")  # before the number is looked up
        card = (Card.objects.select_related("seal_registration").filter(number=number).first()
                if number_valid(number) else None)
        if card is not None:
            session.record([card.person_id])
            session.criteria["card_id"] = card.pk
        if card is None or card.state in (CardState.SUSPENDED, CardState.ABOLISHED) \
                or _person(card.person_id)[0] != Status.RESIDENT:
            _spend_like_a_check(pin)
            raise DomainError(ErrorCode.CARD_STATE, NOT_USABLE)
        _check_pin(actor, card, pin)
        with transaction.atomic():
            # A right PIN resets the count, unless the card was locked or stopped during the check.
            if not Card.objects.filter(pk=card.pk, state=CardState.ACTIVE).update(failed_pins=0):
                raise _refusal(card)
            session.write_log()
        seal = card.seal_registration
        return CardHolder(card_id=card.pk, number=card.number, person_id=card.person_id,
                          seal_registration_id=seal.pk if seal and seal.state == SealState.REGISTERED else None)
