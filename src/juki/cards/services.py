"""北九州市民カード: issue, use at the kiosk, and the counter's steps (カード管理情報 of 別添2).

Rules:
- One live card (利用中・一時停止・暗証番号ロック) per person; a new card for a person who has one
  is a 再交付, which abolishes the old card in the same transaction. The new card is the 印鑑登録証
  of the person's live seal registration, except after a loss: a card lost (再交付・廃止 for 紛失, or
  the seals' 亡失届) that served a registered seal ends that registration (印鑑登録証の亡失), and a
  card abolished as lost is never linked again. A card usable again (解除・ロック解除) becomes the
  印鑑登録証 of the holder's registered seal if it is not yet.
- The card number is 10 digits: 9 random digits (the first not 0, numbers cannot be guessed from
  the sequence) and a Damm check digit, which catches every single mistyped digit and every swap
  of two neighbouring digits.
- The 暗証番号 is 4 digits, set by the resident, stored only as an argon2 hash. Refused: all one
  digit (1111), a straight run (1234, 9876) and the holder's birth year or birthday (1985, 0401).
- `JUKI_CARD_PIN_ATTEMPTS` (3) consecutive wrong PINs lock the card (at the kiosk or when changing
  the PIN); a right PIN resets the count, and so does 一時停止の解除; a locked card stays locked
  whatever PIN is typed until the counter sets a new PIN after checking identity (`card_unlock`).
  Each attempt is counted before the PIN is checked, so parallel guesses share the allowed
  attempts and a card locked or stopped during a check is refused. The count, the lock and
  their log rows are committed before the refusal is raised.
- A person under a 支援措置 (or an 照会抑止) is refused to whoever the register refuses them to.
- A card is usable only while its holder is a resident: `card_authenticate` refuses the card of a
  removed person (死亡・転出 …) at once, and `card_sweep_removed` (`juki cards-sweep`, daily) abolishes
  those cards ex officio so that the records say so too.
- Every step is logged through the gate (`card.*`); no PIN ever reaches a log row, an error or a
  return value.
"""
from __future__ import annotations

import datetime as dt
import re
import secrets
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from juki.accounts.permissions import Perm
from juki.audit import events, gate
from juki.audit.gate import Actor, GateSession, UngatedAccess
from juki.audit.models import Category
from juki.core.errors import ConflictError, DomainError, ErrorCode, NotFoundError
from juki.protection import enforcement
from juki.register import reasons
from juki.register.models import Person, Status
from juki.seals.models import LIVE_SEAL_STATES, SealRegistration, SealState
from juki.seals.register_events import final_events, removed_by_death
from juki.core import clock

from . import signals
from .models import LIVE_STATES, Card, CardEndReason, CardEvent, CardEventKind, CardState
from .numbers import new_number, normalize_number, number_valid

__all__ = [
    "CardHolder",
    "abolish_lost_seal_cards",
    "card_abolish",
    "card_authenticate",
    "card_change_pin",
    "card_issue",
    "card_reissue",
    "card_resume",
    "card_suspend",
    "card_sweep_removed",
    "card_unlock",
    "cards_for_person",
    "link_live_card_to_seal",
    "validate_pin",
]

# One message for an unknown, suspended or abolished card (or a removed holder's): the kiosk must
# not tell a stranger which numbers exist.
NOT_USABLE = "このカードはご利用いただけません。お手数ですが、窓口へお越しください。"
LOCKED_MESSAGE = "暗証番号を続けて誤ったため、このカードはロックされています。本人確認書類をお持ちのうえ、窓口で暗証番号を再設定してください。"
PIN_FORMAT = "暗証番号は数字4桁で入力してください。"
PIN_TRIVIAL = "同じ数字の繰り返しや連続した数字（1111、1234など）は、暗証番号に使えません。別の数字を選んでください。"
PIN_BIRTH = "生年月日から推測できる数字（生まれた年、誕生日の月日）は、暗証番号に使えません。別の数字を選んでください。"

# Ways a card is abolished at the counter; 再交付 is `card_reissue`'s own reason.
COUNTER_END_REASONS = [c for c in CardEndReason if c != CardEndReason.REISSUE]


@dataclass(frozen=True)
class CardHolder:
    """What the kiosk learns from a card and its PIN."""

    card_id: int
    number: str
    person_id: int
    # The registered seal whose 印鑑登録証 this card is; None when it serves no registered seal.
    seal_registration_id: int | None


def max_attempts() -> int:
    return settings.JUKI_CARD_PIN_ATTEMPTS


# --- number and PIN --------------------------------------------------------------------------------

def _straight(pin: str) -> bool:
    steps = {int(b) - int(a) for a, b in zip(pin, pin[1:])}
    return steps in ({0}, {1}, {-1})


def _four_digits(pin: str, field: str) -> str:
    pin = unicodedata.normalize("NFKC", pin or "")  # full-width digits typed with the IME on
    if not re.fullmatch(r"[0-9]{4}", pin):
        raise DomainError(ErrorCode.INVALID_INPUT, PIN_FORMAT, field=field)
    return pin


def validate_pin(pin: str, *, birth_date: dt.date | None = None, field: str = "pin") -> str:
    """A new PIN as stored (ASCII digits) or DomainError(INVALID_INPUT, field=…). Never echoes it."""
    pin = _four_digits(pin, field)
    if _straight(pin):
        raise DomainError(ErrorCode.INVALID_INPUT, PIN_TRIVIAL, field=field)
    if birth_date is not None and pin in (f"{birth_date.year:04d}", f"{birth_date:%m%d}"):
        raise DomainError(ErrorCode.INVALID_INPUT, PIN_BIRTH, field=field)
    return pin


_hasher = PasswordHasher()


def _hash(pin: str) -> str:
    return _hasher.hash(pin)


def pin_matches(pin_hash: str, pin: str) -> bool:
    try:
        return _hasher.verify(pin_hash, unicodedata.normalize("NFKC", pin or ""))
    except (VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_hex(8))


def _spend_like_a_check(pin: str) -> None:
    """Unknown and unusable cards take as long to refuse as a wrong PIN (no timing oracle)."""
    pin_matches(_dummy_hash(), pin)


# --- reading ---------------------------------------------------------------------------------------


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


# --- issue and the seal link -----------------------------------------------------------------------


def _live_seal(person_id: int) -> SealRegistration | None:
    return SealRegistration.objects.filter(person_id=person_id, state__in=LIVE_SEAL_STATES).first()


def _create(actor: Actor, *, person_id: int, pin: str, seal: SealRegistration | None, reissue_of: Card | None) -> Card:
    today = clock.today()
    for _ in range(20):
        number = new_number()
        if not Card.objects.filter(number=number).exists():
            break
    else:  # practically unreachable: 9 × 10^8 numbers
        raise ConflictError("カード番号を採番できませんでした。もう一度操作してください。")
    try:
        with transaction.atomic():
            return Card.objects.create(number=number, person_id=person_id, seal_registration=seal, pin_hash=_hash(pin),
                                       state=CardState.ACTIVE, issued_on=today, issued_by=actor.user,
                                       state_changed_at=timezone.now(), reissue_of=reissue_of)
    except IntegrityError:  # another counter issued this person a card a moment ago
        raise ConflictError("この方の市民カードは、他の職員が先に交付しました。画面を更新して確認してください。") from None


def card_issue(*, actor: Actor, person_id: int, pin: str, document: str = "") -> dict:
    """交付: a new card with the PIN the resident chose, linked to their live seal registration if any."""
    with gate.open(actor, function="card.issue", perm=Perm.CARD_MANAGE, criteria={"person_id": person_id},
                   category=Category.OPERATION) as session:
        session.record([person_id])
        enforcement.guard_read(session, [person_id])
        birth_date = _resident(person_id)
        pin = validate_pin(pin, birth_date=birth_date)
        with transaction.atomic():
            if Card.objects.filter(person_id=person_id, state__in=LIVE_STATES).exists():
                raise DomainError(ErrorCode.CARD_STATE, "この方には、すでに有効な市民カード（一時停止中・ロック中を含む）があります。"
                                  "紛失や破損の場合は、再交付の手続きをしてください。")
            card = _create(actor, person_id=person_id, pin=pin, seal=_live_seal(person_id), reissue_of=None)
            _event(card, actor, CardEventKind.ISSUED, document=document)
            session.criteria.update(card_id=card.pk, seal_linked=card.seal_registration_id is not None)
            session.write_log()
        return card_dict(card)


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


def _on_seal_registered(sender, *, registration: SealRegistration, **_) -> None:
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


def _on_seal_card_lost(sender, *, registration: SealRegistration, **_) -> list[int]:
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


# --- the kiosk -------------------------------------------------------------------------------------


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


# --- the counter -----------------------------------------------------------------------------------


def _counter_step(actor: Actor, function: str, card_id: int, person_id: int | None, criteria: dict | None = None):
    scope = {"person_id": person_id} if person_id is not None else {}
    return gate.open(actor, function=function, perm=Perm.CARD_MANAGE,
                     criteria={"card_id": card_id, **scope, **(criteria or {})}, category=Category.OPERATION)


def card_suspend(*, actor: Actor, card_id: int, person_id: int | None = None, reason: str) -> dict:
    """一時停止 (e.g. reported lost): the card cannot be used until `card_resume`."""
    with _counter_step(actor, "card.suspend", card_id, person_id) as session:
        reason = _required_text(reason, "reason", "一時停止の理由を入力してください。")
        with transaction.atomic():
            card = _card(session, card_id)
            _require(card, CardState.ACTIVE, message="利用中のカードだけを一時停止できます。")
            _set_state(card, CardState.SUSPENDED)
            _event(card, actor, CardEventKind.SUSPENDED, note=reason)
            session.write_log()
        return card_dict(card)


def card_resume(*, actor: Actor, card_id: int, person_id: int | None = None, document: str = "",
                note: str = "") -> dict:
    """一時停止の解除 (the card was found and brought in by its holder): usable again with a fresh
    count of wrong PINs, and the 印鑑登録証 of the holder's registered seal."""
    with _counter_step(actor, "card.resume", card_id, person_id) as session:
        with transaction.atomic():
            card = _card(session, card_id)
            _require(card, CardState.SUSPENDED, message="一時停止中のカードではありません。")
            _resident(card.person_id)
            _set_state(card, CardState.ACTIVE, failed_pins=0)
            _event(card, actor, CardEventKind.RESUMED, document=document, note=note)
            _link_registered_seal(card)
            session.write_log()
        return card_dict(card)


def card_unlock(*, actor: Actor, card_id: int, person_id: int | None = None, pin: str, document: str) -> dict:
    """ロック解除・暗証番号の再設定: a new PIN after the clerk checked identity (the document is kept)."""
    with _counter_step(actor, "card.unlock", card_id, person_id) as session:
        document = _required_text(document, "document", "確認した本人確認書類を入力してください。")
        with transaction.atomic():
            card = _card(session, card_id)
            _require(card, CardState.LOCKED, CardState.ACTIVE,
                     message="暗証番号を再設定できるのは、利用中またはロック中のカードです。")
            pin = validate_pin(pin, birth_date=_resident(card.person_id))
            kind = CardEventKind.UNLOCKED if card.state == CardState.LOCKED else CardEventKind.PIN_RESET
            session.criteria["was_locked"] = card.state == CardState.LOCKED
            _set_state(card, CardState.ACTIVE, pin_hash=_hash(pin), failed_pins=0)
            _event(card, actor, kind, document=document)
            _link_registered_seal(card)
            session.write_log()
        return card_dict(card)


def card_change_pin(*, actor: Actor, card_id: int, person_id: int | None = None, old_pin: str, new_pin: str) -> dict:
    """暗証番号の変更 by the holder, who types the current PIN: a wrong one counts towards the lock."""
    with _counter_step(actor, "card.pin_change", card_id, person_id) as session:
        card = _card(session, card_id, lock=False)
        _require(card, CardState.ACTIVE, CardState.LOCKED, message="利用中のカードだけ暗証番号を変更できます。")
        new_pin = validate_pin(new_pin, birth_date=_resident(card.person_id), field="new_pin")
        old_pin = _four_digits(old_pin, "old_pin")
        # Compared as typed, before the check: once the old PIN is verified they are the same
        # thing, and a refusal after the check would leave the attempt counted.
        if new_pin == old_pin:
            raise DomainError(ErrorCode.INVALID_INPUT, "新しい暗証番号が現在の暗証番号と同じです。別の数字を選んでください。",
                              field="new_pin")
        _check_pin(actor, card, old_pin, field="old_pin")
        with transaction.atomic():
            updated = Card.objects.filter(pk=card.pk, state=CardState.ACTIVE).update(pin_hash=_hash(new_pin),
                                                                                     failed_pins=0)
            if not updated:
                raise ConflictError("このカードの状態が変わりました。画面を更新して確認してください。")
            _event(card, actor, CardEventKind.PIN_CHANGED)
            session.write_log()
        card.refresh_from_db()
        return card_dict(card)


def _date_in_range(value: dt.date | None, card: Card, field: str, *, lost: bool = False) -> dt.date | None:
    """カード回収年月日: only for a card handed in (a lost one was never collected), not in the future,
    not before the card was issued."""
    if value is None:
        return None
    if lost:
        raise DomainError(ErrorCode.INVALID_INPUT, "紛失したカードには回収年月日を入力できません。", field=field)
    if value > clock.today():
        raise DomainError(ErrorCode.INVALID_DATE, "回収年月日に未来の日付は入力できません。", field=field)
    if value < card.issued_on:
        raise DomainError(ErrorCode.INVALID_DATE, "回収年月日はカードの交付日以降の日付にしてください。", field=field)
    return value


def card_abolish(*, actor: Actor, card_id: int, person_id: int | None = None, reason: str,
                 collected_on: dt.date | None = None, note: str = "") -> dict:
    """廃止 (返納・紛失・職権 …); `collected_on` is the カード回収年月日 when the card was handed in."""
    with _counter_step(actor, "card.abolish", card_id, person_id, {"reason": reason}) as session:
        if reason not in COUNTER_END_REASONS:
            raise DomainError(ErrorCode.INVALID_INPUT, "廃止の理由を選んでください。", field="reason")
        with transaction.atomic():
            card = _card(session, card_id)
            _require(card, *LIVE_STATES, message="このカードはすでに廃止されています。")
            collected_on = _date_in_range(collected_on, card, "collected_on", lost=reason == CardEndReason.LOST)
            _set_state(card, CardState.ABOLISHED, ended_on=clock.today(), end_reason=reason,
                       collected_on=collected_on)
            _event(card, actor, CardEventKind.ABOLISHED, note=" ".join(filter(None, [CardEndReason(reason).label,
                                                                                     note.strip()])))
            seal_ended = _end_seal_of_lost_card(card, "市民カードの紛失による廃止") if reason == CardEndReason.LOST else None
            session.criteria["seal_ended"] = seal_ended is not None
            session.write_log()
        return {**card_dict(card), "seal_ended_id": seal_ended}


REISSUE_REASONS = {"lost": "紛失", "damaged": "破損・汚損", "other": "その他"}


def card_reissue(*, actor: Actor, card_id: int, person_id: int | None = None, pin: str, document: str, reason: str,
                 collected_on: dt.date | None = None) -> dict:
    """再交付: a new number and PIN; the old card is abolished in the same transaction.

    The new card is the 印鑑登録証 of the holder's live seal registration, with one exception: a
    card lost (``reason="lost"``) that was the 印鑑登録証 of a registered seal ends that registration
    as 亡失 (`seals.services.end_on_card_loss`), and the new card serves none; the resident
    registers the seal again. ``seal_ended_id`` in the result names the registration so ended.
    """
    with _counter_step(actor, "card.reissue", card_id, person_id, {"reason": reason}) as session:
        if reason not in REISSUE_REASONS:
            raise DomainError(ErrorCode.INVALID_INPUT, "再交付の理由を選んでください。", field="reason")
        document = _required_text(document, "document", "確認した本人確認書類を入力してください。")
        with transaction.atomic():
            old = _card(session, card_id)
            _require(old, *LIVE_STATES, message="廃止されたカードは再交付できません。新しく交付してください。")
            pin = validate_pin(pin, birth_date=_resident(old.person_id))
            collected_on = _date_in_range(collected_on, old, "collected_on", lost=reason == "lost")
            _set_state(old, CardState.ABOLISHED, ended_on=clock.today(), end_reason=CardEndReason.REISSUE,
                       collected_on=collected_on)
            _event(old, actor, CardEventKind.ABOLISHED, note=f"再交付（{REISSUE_REASONS[reason]}）")
            seal_ended = _end_seal_of_lost_card(old, "市民カードの紛失による再交付") if reason == "lost" else None
            card = _create(actor, person_id=old.person_id, pin=pin, seal=_live_seal(old.person_id), reissue_of=old)
            _event(card, actor, CardEventKind.REISSUED, document=document, note=f"{REISSUE_REASONS[reason]}による再交付")
            session.criteria.update(new_card_id=card.pk, seal_linked=card.seal_registration_id is not None,
                                    seal_ended=seal_ended is not None)
            session.write_log()
        return {**card_dict(card), "seal_ended_id": seal_ended}


# --- ex officio ------------------------------------------------------------------------------------


def on_change_written(sender, *, session: GateSession, change, person_events: list[dict], **kwargs) -> None:
    """職権廃止 in the register change's own gate and transaction (`register.services.writer.change_written`,
    connected in `CardsConfig.ready`): a card whose holder the change leaves removed (死亡・転出・職権消除 …)
    is abolished in the same commit. Only a person's last event counts: a 区間異動 (区間転出 then
    区間転入 in one change) leaves a resident. A change that removes nobody costs no query."""
    removed = {pid: last for pid, (_first, last) in final_events(person_events).items()
               if last["status_after"] == Status.REMOVED}
    if not removed:
        return
    today = clock.today()
    for card in Card.objects.select_for_update().filter(person_id__in=removed, state__in=LIVE_STATES):
        e = removed[card.person_id]
        reason = CardEndReason.DEATH if e["reason"] == reasons.Reason.DEATH else CardEndReason.REMOVAL
        on = min(dt.date.fromisoformat(e["event_date"]), today)
        _set_state(card, CardState.ABOLISHED, ended_on=max(on, card.issued_on), end_reason=reason)
        _event(card, session.actor, CardEventKind.ABOLISHED, on=today, note=CardEndReason(reason).label)
        events.record(session.actor, function="card.ex_officio_abolish", person_ids=[card.person_id],
                      criteria={"card_id": card.pk, "reason": str(reason), "change_id": change.id},
                      category=Category.OPERATION)


def card_sweep_removed(*, actor: Actor) -> dict:
    """職権廃止: abolish every live card whose holder's record is removed (死亡・転出・職権消除 …).

    A safety net (`juki cards-sweep`, daily) behind `on_change_written`, which abolishes the cards in
    the removing change itself; `card_authenticate` refuses a removed holder's card in any case.
    One transaction and one log row (`card.sweep`) naming every person whose card was abolished.
    """
    with gate.open(actor, function="card.sweep", perm=Perm.CARD_MANAGE, category=Category.BATCH) as session:
        today = clock.today()
        with transaction.atomic():
            cards = list(Card.objects.select_for_update().filter(state__in=LIVE_STATES)
                         .filter(person_id__in=Person.objects.filter(status=Status.REMOVED).values("id")))
            removals = {pid: (why, on) for pid, why, on in Person.objects.filter(pk__in=[c.person_id for c in cards])
                        .values_list("id", "current__removal_reason", "removed_on")}
            for card in cards:
                why, removed_on = removals[card.person_id]
                reason = CardEndReason.DEATH if removed_by_death(why) else CardEndReason.REMOVAL
                on = min(removed_on or today, today)  # 廃止年月日: the removal, not a 転出予定日 to come
                _set_state(card, CardState.ABOLISHED, ended_on=max(on, card.issued_on), end_reason=reason)
                _event(card, actor, CardEventKind.ABOLISHED, on=today, note=CardEndReason(reason).label)
            session.record(c.person_id for c in cards)
            session.criteria["abolished"] = len(cards)
            session.write_log()
        return {"abolished": len(cards), "card_ids": [c.pk for c in cards]}
