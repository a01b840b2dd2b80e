"""The counter's steps on a card: 一時停止 and its 解除, ロック解除・暗証番号の再設定, 暗証番号の変更,
廃止 and 再交付."""
from __future__ import annotations

import datetime as dt

from django.db import transaction

from juki.accounts.permissions import Perm
from juki.audit import gate
from juki.audit.gate import Actor
from juki.audit.models import Category
from juki.core import clock
from juki.core.errors import ConflictError, DomainError, ErrorCode

from ..models import LIVE_STATES, Card, CardEndReason, CardEventKind, CardState
from .authentication import _check_pin
from .common import _card, _event, _require, _required_text, _resident, _set_state, card_dict
from .issue import _create, _live_seal
from .pins import _four_digits, _hash, validate_pin
from .seal_link import _end_seal_of_lost_card, _link_registered_seal

# Ways a card is abolished at the counter; 再交付 is `card_reissue`'s own reason.
COUNTER_END_REASONS = [c for c in CardEndReason if c != CardEndReason.REISSUE]


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
