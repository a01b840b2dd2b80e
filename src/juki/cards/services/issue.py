"""交付: a new card, numbered and with the resident's PIN, the 印鑑登録証 of their live seal
registration if any (`_create` serves the 再交付 too)."""
from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from juki.accounts.permissions import Perm
from juki.audit import gate
from juki.audit.gate import Actor
from juki.audit.models import Category
from juki.core import clock
from juki.core.errors import ConflictError, DomainError, ErrorCode
from juki.protection import enforcement
from juki.seals.models import LIVE_SEAL_STATES, SealRegistration

from ..models import LIVE_STATES, Card, CardEventKind, CardState
from ..numbers import new_number
from .common import _event, _resident, card_dict
from .pins import _hash, validate_pin


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
