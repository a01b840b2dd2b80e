"""The end of a registration: 廃止 and 亡失 at the person's request, 亡失 of the city card that is
the 印鑑登録証 (the card app's signal), 職権廃止 in the register's change, and the daily sweep."""
from __future__ import annotations

import datetime as dt

from django.db import transaction

from juki.accounts.permissions import Perm
from juki.audit import events, gate
from juki.audit.gate import Actor, UngatedAccess
from juki.audit.models import Category
from juki.core.errors import AccessDenied, DomainError, ErrorCode
from juki.core.wareki import to_wareki
from juki.register.models import NAME_FIELDS, Person, PersonVersion, ResidentKind, Status
from juki.register.reasons import Reason

from .. import signals
from ..register_events import final_events, removed_by_death
from ..models import (
    LIVE_SEAL_STATES,
    EndReason,
    SealEventKind,
    SealRegistration,
    SealState,
)
from .common import (
    _documents,
    _end,
    _event,
    _live,
    _note,
    _person,
    registration_dict,
    seal_text_fits,
    today,
)

# 亡失: what was lost.
LOST_WHAT = {"seal": "登録した印鑑", "card": "印鑑登録証（市民カード）"}


# --- ending a registration -------------------------------------------------------------------------


def _end_on_request(actor: Actor, person_id: int, *, function: str, reason: str, kind: str, documents, agent_name: str,
                    power_of_attorney: bool, note: str = "", card_lost: bool = False) -> dict:
    documents = _documents(documents)
    agent_name = (agent_name or "").strip()
    with gate.open(actor, function=function, perm=Perm.SEAL_MANAGE,
                   criteria={"person_id": person_id, "by_agent": bool(agent_name)}, category=Category.OPERATION) as session:
        session.record([person_id])
        if not documents:
            raise DomainError(ErrorCode.INVALID_INPUT, "届け出た方の本人確認書類を選んでください。", field="documents")
        if agent_name and not power_of_attorney:
            raise DomainError(ErrorCode.INVALID_INPUT, "代理人による届出には委任状が必要です。委任状を確認してください。",
                              field="power_of_attorney")
        _person(session, person_id)
        on = today()
        with transaction.atomic():
            reg = _live(person_id)
            if reg is None:
                raise DomainError(ErrorCode.SEAL_STATE, "この方には、廃止できる印鑑登録がありません（未登録または廃止済み）。")
            _end(reg, reason=reason, kind=kind, actor=actor, on=on, agent_name=agent_name,
                 note=_note(note, "確認書類: " + "、".join(documents),
                            f"代理人 {agent_name}（委任状確認）" if agent_name else ""))
            # The lost 印鑑登録証 is the city card: it ends with the registration, so that whoever
            # finds it can neither use it nor see it become the card of a later registration.
            cards = ([cid for _receiver, ids in signals.seal_card_lost.send(sender=SealRegistration, registration=reg)
                      for cid in ids] if card_lost else [])
            session.criteria.update(registration_id=reg.id, cards_abolished=len(cards))
            session.write_log()
        return {**registration_dict(reg), "cards_abolished": cards}


def seal_abolish(*, actor: Actor, person_id: int, documents=(), agent_name: str = "",
                 power_of_attorney: bool = False) -> dict:
    """印鑑登録廃止申請 (also withdraws an application still 照会中)."""
    return _end_on_request(actor, person_id, function="seal.abolish", reason=EndReason.REQUEST,
                           kind=SealEventKind.ABOLISHED, documents=documents, agent_name=agent_name,
                           power_of_attorney=power_of_attorney)


def seal_report_lost(*, actor: Actor, person_id: int, what: str, documents=(), agent_name: str = "",
                     power_of_attorney: bool = False) -> dict:
    """亡失届: the registered seal or the 印鑑登録証 is lost; the registration ends at once, and with
    the 印鑑登録証 (``what="card"``) every live city card that served it is abolished (紛失)."""
    if what not in LOST_WHAT:
        raise DomainError(ErrorCode.INVALID_INPUT, "亡失したもの（印鑑または印鑑登録証）を選んでください。", field="what")
    return _end_on_request(actor, person_id, function="seal.lost", reason=EndReason.LOST, kind=SealEventKind.LOST,
                           documents=documents, agent_name=agent_name, power_of_attorney=power_of_attorney,
                           note=f"亡失: {LOST_WHAT[what]}", card_lost=what == "card")


def on_card_lost(sender, *, registration: SealRegistration, note: str, **_) -> bool:
    return end_on_card_loss(registration=registration, note=note)


def end_on_card_loss(*, registration: SealRegistration, note: str) -> bool:
    """The city card that is the 印鑑登録証 of ``registration`` is lost (the card app's 再交付 or 廃止
    for 紛失): the registration ends as 亡失 (印鑑登録証明事務処理要領: 登録証の亡失 → 印鑑登録の廃止).

    Call inside the caller's open gate and transaction; the actor must also hold `seal.manage`.
    Writes the registration's history row and a `seal.lost` log row. Returns False when the
    registration is not 登録 (ended already, or 照会中: the card of a pending application
    certifies nothing, and the 回答書 links the person's new card).
    """
    session = gate.current()
    if session is None:
        raise UngatedAccess("SealRegistration")
    if not session.actor.can(Perm.SEAL_MANAGE):
        raise AccessDenied("このカードは印鑑登録証です。紛失による再交付・廃止には、印鑑登録の権限が必要です。")
    reg = SealRegistration.objects.select_for_update().filter(pk=registration.pk, state=SealState.REGISTERED).first()
    if reg is None:
        return False
    actor = session.actor
    _end(reg, reason=EndReason.LOST, kind=SealEventKind.LOST, actor=actor, on=today(),
         note=_note(f"亡失: {LOST_WHAT['card']}", note))
    events.record(actor, function="seal.lost", person_ids=[reg.person_id],
                  criteria={"registration_id": reg.id, "by": session.function}, category=Category.OPERATION)
    return True


# --- 職権廃止 --------------------------------------------------------------------------------------------


def _version_person(v: PersonVersion) -> dict:
    """The name parts of a version, shaped like the selectors' person dict for `seal_text_fits`."""
    return {"name": {"family_name": v.family_name, "given_name": v.given_name, "former_surname": v.former_surname,
                     "family_name_kana": v.family_name_kana, "given_name_kana": v.given_name_kana},
            "foreign": {"alias_name": v.alias_name, "kanji_name": v.kanji_name}
            if v.resident_kind == ResidentKind.FOREIGN else None}


def abolish_on_register_change(*, actor: Actor, change_id: int, person_events: list[dict],
                               renamed: frozenset[int] | None = None) -> list[int]:
    """職権廃止, inside the register change's own gate and transaction (`register.services.writer`).

    ``person_events`` are the change's events (person_id, reason, status_after, version_before,
    version_after, event_date). Only a person whom the change leaves removed (their last event) or
    renamed is concerned. Returns the ids of the registrations ended.
    """
    finals = final_events(person_events)
    if renamed is not None:  # the writer says whose name changed: a 転居 concerns no registration, no query
        finals = {pid: fl for pid, fl in finals.items() if fl[1]["status_after"] == Status.REMOVED or pid in renamed}
        if not finals:
            return []
    live = {r.person_id: r for r in SealRegistration.objects.select_for_update().filter(person_id__in=list(finals),
                                                                                       state__in=LIVE_SEAL_STATES)}
    ended = []
    on_today = today()
    for person_id, reg in live.items():
        first, last = finals[person_id]
        if last["status_after"] == Status.REMOVED:
            reason = EndReason.DEATH if last["reason"] == Reason.DEATH else EndReason.REMOVAL
            on = min(dt.date.fromisoformat(last["event_date"]), on_today)
            note = f"{last.get('reason_label') or ''}（異動日 {to_wareki(dt.date.fromisoformat(last['event_date']))}）"
        elif first["version_before"] is not None:
            versions = {v.seq: v for v in PersonVersion.objects.filter(
                person_id=person_id, seq__in=[first["version_before"], last["version_after"]])}
            before, after = versions.get(first["version_before"]), versions.get(last["version_after"])
            if before is None or after is None or all(getattr(before, f) == getattr(after, f) for f in NAME_FIELDS):
                continue
            if seal_text_fits(reg.seal_text, _version_person(after)):
                _event(reg, SealEventKind.NAME_CHANGED, actor, on_today, "刻印文字は変更後の氏名等を表しているため、登録を継続")
                continue
            reason, on, note = EndReason.NAME_CHANGE, on_today, "刻印文字が変更後の氏名等を表さなくなったため"
        else:
            continue
        _end(reg, reason=reason, kind=SealEventKind.EX_OFFICIO, actor=actor, on=on, note=note)
        events.record(actor, function="seal.ex_officio_abolish", person_ids=[reg.person_id],
                      criteria={"registration_id": reg.id, "reason": str(reason), "change_id": change_id},
                      category=Category.OPERATION)
        ended.append(reg.id)
    return ended


def on_change_written(sender, *, session, change, person_events: list[dict], renamed=None, **kwargs) -> None:
    """Receiver of `register.services.writer.change_written` (connected in `SealsConfig.ready`)."""
    abolish_on_register_change(actor=session.actor, change_id=change.id, person_events=person_events, renamed=renamed)


def seal_sweep(*, actor: Actor, on: dt.date | None = None) -> dict:
    """The daily batch: inquiries past their deadline end (回答期限の経過), and any live registration
    of a person no longer a resident ends ex officio (a safety net: the register's hook does it
    in the change itself)."""
    on = on or today()
    with gate.open(actor, function="seal.sweep", perm=Perm.SEAL_MANAGE, criteria={"on": on.isoformat()},
                   category=Category.BATCH) as session:
        with transaction.atomic():
            expired, removed, touched = [], [], []
            for reg in SealRegistration.objects.select_for_update().filter(state=SealState.PENDING, answer_due__lt=on):
                _end(reg, reason=EndReason.INQUIRY_EXPIRED, kind=SealEventKind.INQUIRY_EXPIRED, actor=actor, on=on,
                     note=f"回答期限 {to_wareki(reg.answer_due)}")
                expired.append(reg.id)
                touched.append(reg.person_id)
            # One query for the persons concerned (a subquery of the live registrations), not every registration.
            gone = {p.pk: p for p in Person.objects.exclude(status=Status.RESIDENT).filter(
                pk__in=SealRegistration.objects.filter(state__in=LIVE_SEAL_STATES).values("person_id")
            ).select_related("current")}
            for reg in SealRegistration.objects.select_for_update().filter(state__in=LIVE_SEAL_STATES,
                                                                           person_id__in=list(gone)):
                person = gone[reg.person_id]
                reason = EndReason.DEATH if removed_by_death(person.current.removal_reason) else EndReason.REMOVAL
                _end(reg, reason=reason, kind=SealEventKind.EX_OFFICIO, actor=actor, on=min(person.removed_on or on, on),
                     note="一括処理（住民登録の消除）")
                removed.append(reg.id)
                touched.append(reg.person_id)
            session.record(touched)
            session.criteria.update({"expired": len(expired), "ex_officio": len(removed)})
            session.write_log()
        return {"on": on.isoformat(), "expired": expired, "ex_officio": removed}
