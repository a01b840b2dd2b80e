"""What the seal services share: the clock and the age, the name a seal must represent, the
registration's rows (history, live registration, end) and the person and registration as read."""
from __future__ import annotations

import base64
import datetime as dt
import unicodedata

from django.db.models import F
from django.utils import timezone

from juki.audit.gate import Actor
from juki.cards.models import LIVE_STATES, Card, CardState
from juki.core.errors import NotFoundError
from juki.protection import enforcement
from juki.register import selectors
from juki.register.models import PersonVersion, Status
from juki.core import clock

from ..models import (
    LIVE_SEAL_STATES,
    EndReason,
    RegistrationMethod,
    SealEvent,
    SealEventKind,
    SealRegistration,
    SealState,
)


def today() -> dt.date:
    return clock.today()


def age_on(birth: dt.date, on: dt.date) -> int:
    """満年齢 on ``on`` (年齢計算ニ関スル法律: one is a year older from the birthday on)."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


# --- the name a seal must represent -----------------------------------------------------------------


def _fold(text: str) -> str:
    """For comparing a 刻印文字 with the name: NFKC, no spaces, Latin letters upper-case."""
    return "".join(unicodedata.normalize("NFKC", text or "").split()).upper()


def name_characters(person: dict) -> set[str]:
    """The characters a seal may show: 氏名・旧氏, and for a foreign resident 通称, the name in
    漢字 and the カタカナ reading of the name (氏名の片仮名表記)."""
    n = person["name"]
    parts = [n["family_name"], n["given_name"], n.get("former_surname") or ""]
    foreign = person.get("foreign")
    if foreign:
        parts += [foreign.get("alias_name") or "", foreign.get("kanji_name") or "",
                  n.get("family_name_kana") or "", n.get("given_name_kana") or ""]
    return set(_fold("".join(parts)))


def seal_text_fits(text: str, person: dict) -> bool:
    """The 刻印文字 is the name, part of it, or parts of it combined (印鑑条例: 氏名、氏、名、旧氏、
    通称又は氏名の一部を組み合わせたもの). Checked by character: the order and the choice of parts
    are the clerk's eye."""
    folded = _fold(text)
    return bool(folded) and set(folded) <= name_characters(person)


# --- small helpers ---------------------------------------------------------------------------------


def _documents(documents) -> list[str]:
    return [d.strip() for d in documents or () if d and d.strip()]


def _note(*parts: str) -> str:
    return "　".join(p for p in parts if p)[:200]


def _event(reg: SealRegistration, kind: str, actor: Actor, on: dt.date, note: str = "") -> SealEvent:
    return SealEvent.objects.create(registration=reg, kind=kind, on=on, at=timezone.now(), by=actor.user, note=note[:200])


def _live(person_id: int) -> SealRegistration | None:
    return (SealRegistration.objects.select_for_update().filter(person_id=person_id, state__in=LIVE_SEAL_STATES)
            .first())


def _person(session, person_id: int) -> dict:
    """The person as `selectors.person_get` shows them, read in the caller's gate session (so that
    one call writes one log row): refuses a protected person [440] as the register's reads do."""
    version = (PersonVersion.objects.select_related("person", "household", "town__ward__municipality")
               .filter(person_id=person_id, person__current_id=F("id")).first())
    if version is None:
        raise NotFoundError("指定された住民が見つかりません。")
    session.record([person_id])
    notice = enforcement.guard_read(session, [person_id])
    out = selectors.version_dict(version, session=session)
    out["protection"] = notice
    return out


def _is_resident(person: dict) -> bool:
    # A 転出届 with a 転出予定日 ahead already marks the person removed (status_label 転出予定).
    return person.get("status") == Status.RESIDENT


def _end(reg: SealRegistration, *, reason: str, kind: str, actor: Actor, on: dt.date, note: str = "",
         agent_name: str = "") -> None:
    reg.state = SealState.ABOLISHED
    reg.ended_on = on
    reg.end_reason = reason
    reg.ended_by = actor.user
    reg.end_agent_name = agent_name[:120]
    reg.save(update_fields=["state", "ended_on", "end_reason", "ended_by", "end_agent_name"])
    _event(reg, kind, actor, on, note)


# --- reading ---------------------------------------------------------------------------------------


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(bytes(png)).decode("ascii")


def registration_dict(reg: SealRegistration, *, with_image: bool = True) -> dict:
    out = {
        "id": reg.id,
        "number": reg.number,
        "person_id": reg.person_id,
        "state": reg.state,
        "state_label": SealState(reg.state).label,
        "method": reg.method,
        "method_label": RegistrationMethod(reg.method).label,
        "seal_text": reg.seal_text,
        "image_sha256": reg.image_sha256,
        "image_width_mm": str(reg.image_width_mm) if reg.image_width_mm is not None else None,
        "image_height_mm": str(reg.image_height_mm) if reg.image_height_mm is not None else None,
        "image_dpi": reg.image_dpi,
        "applied_on": reg.applied_on.isoformat(),
        "registered_on": reg.registered_on.isoformat() if reg.registered_on else None,
        "inquiry_sent_on": reg.inquiry_sent_on.isoformat() if reg.inquiry_sent_on else None,
        "answer_due": reg.answer_due.isoformat() if reg.answer_due else None,
        "agent_name": reg.agent_name,
        "answer_agent_name": reg.answer_agent_name,
        "guarantor_number": reg.guarantor_number,
        "ended_on": reg.ended_on.isoformat() if reg.ended_on else None,
        "end_reason": reg.end_reason,
        "end_reason_label": EndReason(reg.end_reason).label if reg.end_reason else "",
        "end_agent_name": reg.end_agent_name,
        "registered_by": reg.registered_by.username if reg.registered_by else "",
        "ended_by": reg.ended_by.username if reg.ended_by else "",
        "events": [{"seq": i, "kind": e.kind, "kind_label": SealEventKind(e.kind).label, "on": e.on.isoformat(),
                    "at": e.at.isoformat(), "by": e.by.username if e.by else "", "note": e.note}
                   for i, e in enumerate(reg.events.select_related("by").order_by("id"), start=1)],
    }
    if with_image:
        out["image_data_uri"] = data_uri(reg.image)
    return out


def _card_of(person_id: int, registration_id: int | None) -> dict | None:
    """The person's card (利用中・一時停止・ロック) and whether it is this registration's 印鑑登録証.
    No card number: the screens show the state, the card is in the resident's hand."""
    card = Card.objects.filter(person_id=person_id, state__in=LIVE_STATES).first()
    if card is None:
        return None
    return {"state": card.state, "state_label": CardState(card.state).label,
            "linked": registration_id is not None and card.seal_registration_id == registration_id}
