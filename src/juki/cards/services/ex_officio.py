"""職権廃止: a removed holder's cards are abolished, in the removing change itself
(`on_change_written`) and by the daily sweep behind it (`card_sweep_removed`)."""
from __future__ import annotations

import datetime as dt

from django.db import transaction

from juki.accounts.permissions import Perm
from juki.audit import events, gate
from juki.audit.gate import Actor, GateSession
from juki.audit.models import Category
from juki.core import clock
from juki.register import reasons
from juki.register.models import Person, Status
from juki.seals.register_events import final_events, removed_by_death

from ..models import LIVE_STATES, Card, CardEndReason, CardEventKind, CardState
from .common import _event, _set_state


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
