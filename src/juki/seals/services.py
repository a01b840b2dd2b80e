"""印鑑登録 (seal registration) and the 印鑑登録証明書, after the 印鑑登録証明事務処理要領 as a city's
印鑑条例 applies it (北九州市印鑑条例 is typical).

Registration (`seal_register`): a resident aged 15 or over (on the day of the application), one
live registration per person, and not a seal another member of the household has registered or
applied for (the same stored 印影). How the applicant is confirmed decides when the seal is
registered:
- 顔写真付きの官公署発行書類 presented by 本人, one of `PHOTO_DOCUMENTS`: the same day;
- a 保証人 (a resident whose own seal is registered here, vouching with it): the same day;
- otherwise (本人 without such a document, or a 代理人 with a 委任状): a 照会書 (`seal_inquiry_letter`)
  is mailed to the registered address; the registration waits (照会中) until the 回答書 is brought back by the
  deadline (`seal_inquiry_answer`), `JUKI_SEAL_ANSWER_DAYS` days (30 by default). An inquiry
  past its deadline is ended (回答期限の経過) by `juki seals-sweep`, or when the person applies
  again.
The 印影 is checked and measured by `images.normalise`; the 刻印文字 the clerk reads off the seal
must represent the name (氏名・氏・名・旧氏・通称, or parts of them combined), and the clerk
confirms what a scan cannot show (material, frame, legibility: `seal_checked`).

End of a registration: 廃止 at the person's request (`seal_abolish`), 亡失 of the seal or of the
印鑑登録証 (`seal_report_lost`; the lost card is abolished with it, and the card app's 再交付 or
廃止 for 紛失 ends the registration the card served: `end_on_card_loss`), and 職権廃止
(`abolish_on_register_change`): the register calls it inside the very transaction that records a
死亡, 転出 (on the 転出届, even with a 転出予定日 ahead: the city's notice tells residents to get
certificates first), 職権消除 or any other removal, and a change of name after which the 刻印文字
no longer represents the name. A person's last event in the change decides: a 区間異動 (区間転出
then 区間転入) leaves a resident and the registration. So it cannot be forgotten; `seal_sweep` is
the safety net for registrations whose person left the register by any other path.

A 印鑑登録証明書 is 再交付 free of charge only in place of one voided on the day it was issued,
and once (`seal_certificate_reissue`); otherwise the card and the 交付申請書 are needed again.

Every function opens the gate (`seal.manage`, or `certificate.issue` for the certificate), and a
change is one transaction: the registration row, its `SealEvent` rows, the access-log row (and
the card's link, written by the cards app), or nothing.
"""
from __future__ import annotations

import base64
import datetime as dt
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from juki.accounts.permissions import Perm
from juki.audit import events, gate
from juki.audit.gate import Actor, UngatedAccess
from juki.audit.models import Category
from juki.cards.models import LIVE_STATES, Card, CardState
from juki.cards.numbers import normalize_number, number_valid
from juki.certificates import preview as certificate_preview
from juki.certificates import issuing
from juki.certificates import services as certificates
from juki.certificates.entitlement import Kind, Request
from juki.certificates.models import CertificateIssue, Channel
from juki.core.errors import AccessDenied, ConflictError, DomainError, ErrorCode, NotFoundError
from juki.core.wareki import to_wareki
from juki.protection import certificates as protection
from juki.protection import enforcement
from juki.register import selectors
from juki.register.models import Person, PersonVersion, ResidentKind, Status
from juki.register.reasons import Reason
from juki.register.services import numbers
from juki.core import clock

from . import images, render, signals
from .register_events import final_events, removed_by_death
from .models import (
    LIVE_SEAL_STATES,
    EndReason,
    RegistrationMethod,
    SealEvent,
    SealEventKind,
    SealRegistration,
    SealState,
)

__all__ = [
    "abolish_on_register_change",
    "end_on_card_loss",
    "seal_abolish",
    "seal_certificate_issue",
    "seal_certificate_preview",
    "seal_certificate_reissue",
    "seal_get",
    "seal_inquiry_answer",
    "seal_register",
    "seal_report_lost",
    "seal_status",
    "seal_sweep",
]

MIN_AGE = 15
# 官公署発行の顔写真付き書類: the only documents on which a seal is registered the same day. Any other
# (a health insurance card, a company ID, a document without a photo) means the inquiry.
PHOTO_DOCUMENTS = ("運転免許証", "マイナンバーカード", "旅券", "在留カード・特別永住者証明書", "住民基本台帳カード（写真付き）",
                   "身体障害者手帳（写真付き）")
SEAL_CERT = "seal_cert"
NUMBER_SEQUENCE = "seal_number"
CARD_DOCUMENT = "印鑑登録証（市民カード）"
STATEMENT_DOCUMENT = "交付申請書（登録者の生年月日を照合）"
# 亡失: what was lost.
LOST_WHAT = {"seal": "登録した印鑑", "card": "印鑑登録証（市民カード）"}


def answer_days() -> int:
    return settings.JUKI_SEAL_ANSWER_DAYS


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


def _check_applicant(person: dict, on: dt.date) -> None:
    if not _is_resident(person):
        raise DomainError(ErrorCode.NOT_RESIDENT, "住民登録のない方（消除・転出の届出済みの方）は、印鑑を登録できません。",
                          field="person_id")
    birth = dt.date.fromisoformat(person["birth_date"]["date"])
    if age_on(birth, on) < MIN_AGE:
        raise DomainError(ErrorCode.SEAL_STATE, "15歳未満の方は印鑑を登録できません。", field="person_id")


def _end(reg: SealRegistration, *, reason: str, kind: str, actor: Actor, on: dt.date, note: str = "",
         agent_name: str = "") -> None:
    reg.state = SealState.ABOLISHED
    reg.ended_on = on
    reg.end_reason = reason
    reg.ended_by = actor.user
    reg.end_agent_name = agent_name[:120]
    reg.save(update_fields=["state", "ended_on", "end_reason", "ended_by", "end_agent_name"])
    _event(reg, kind, actor, on, note)


def _expire_overdue(person_id: int, on: dt.date, actor: Actor) -> None:
    """An inquiry past its deadline ends before a new application (the sweep may not have run yet)."""
    for reg in SealRegistration.objects.select_for_update().filter(person_id=person_id, state=SealState.PENDING,
                                                                  answer_due__lt=on):
        _end(reg, reason=EndReason.INQUIRY_EXPIRED, kind=SealEventKind.INQUIRY_EXPIRED, actor=actor, on=on,
             note=f"回答期限 {to_wareki(reg.answer_due)}")


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


def seal_get(*, actor: Actor, person_id: int) -> dict:
    """The person's live registration (or None), every registration newest first, and whether a
    new registration may be taken today."""
    with gate.open(actor, function="seal.view", perm=Perm.SEAL_MANAGE, criteria={"person_id": person_id}) as session:
        session.record([person_id])
        person = _person(session, person_id)
        regs = list(SealRegistration.objects.select_related("registered_by", "ended_by")
                    .filter(person_id=person_id).order_by("-id"))
        rows = [registration_dict(r) for r in regs]
        live = next((r for r in rows if r["state"] in LIVE_SEAL_STATES), None)
        on = today()
        birth = dt.date.fromisoformat(person["birth_date"]["date"])
        overdue = bool(live and live["state"] == SealState.PENDING and live["answer_due"] < on.isoformat())
        return {"person_id": person_id, "person": person, "live": live, "registrations": rows,
                "card": _card_of(person_id, live["id"] if live else None),
                "age": age_on(birth, on), "resident": _is_resident(person), "inquiry_overdue": overdue,
                "may_register": (live is None or overdue) and _is_resident(person) and age_on(birth, on) >= MIN_AGE}


# --- registration ----------------------------------------------------------------------------------


def _guarantor(session, number: str, applicant_id: int) -> SealRegistration:
    """The guarantor's registration, read in the applicant's gate session: the guarantor is named in
    its log row and, like any person read, passes the 支援措置 check."""
    number = _fold(number)
    reg = SealRegistration.objects.filter(number=number).first() if number else None
    if reg is None or reg.state != SealState.REGISTERED:
        raise DomainError(ErrorCode.SEAL_STATE, "保証人の印鑑番号の登録が見つかりません（廃止・照会中を含む）。"
                          "保証人は、この市で印鑑を登録している方に限られます。", field="guarantor_number")
    session.record([reg.person_id])
    enforcement.guard_read(session, [reg.person_id])
    if reg.person_id == applicant_id:
        raise DomainError(ErrorCode.SEAL_STATE, "申請者ご本人は保証人になれません。", field="guarantor_number")
    if not Person.objects.filter(pk=reg.person_id, status=Status.RESIDENT).exists():
        raise DomainError(ErrorCode.SEAL_STATE, "保証人の方は住民登録が消除されています。保証人になれません。",
                          field="guarantor_number")
    return reg


def _check_not_in_household(session, person: dict, sha256: str) -> None:
    """印鑑条例: 同一世帯の他の者が既に登録している印鑑は登録できない. Compared by the stored 印影's
    SHA-256 (the same normalised scan), against the live registrations of the other members."""
    members = Person.objects.filter(household_id=person["household_id"], status=Status.RESIDENT).exclude(
        pk=person["person_id"]).values("id")
    other = (SealRegistration.objects.filter(person_id__in=members, state__in=LIVE_SEAL_STATES, image_sha256=sha256)
             .values_list("person_id", flat=True).first())
    if other is not None:
        session.record([other])
        raise DomainError(ErrorCode.SEAL_STATE, "同じ世帯の方がすでに登録している（または登録を申請している）印鑑は、"
                          "登録できません。別の印鑑で申請してください。", field="image")


def _check_application(method: str, documents: list[str], agent_name: str, power_of_attorney: bool,
                       guarantor_number: str, seal_text: str, seal_checked: bool) -> None:
    if method not in RegistrationMethod.values:
        raise DomainError(ErrorCode.INVALID_INPUT, "本人確認の方法を選んでください。", field="method")
    if agent_name and method != RegistrationMethod.INQUIRY:
        raise DomainError(ErrorCode.INVALID_INPUT, "代理人による申請は、照会書・回答書による確認でだけ受け付けます。",
                          field="method")
    if agent_name and not power_of_attorney:
        raise DomainError(ErrorCode.INVALID_INPUT, "代理人による申請には委任状（代理人選任届）が必要です。委任状を確認してください。",
                          field="power_of_attorney")
    if method == RegistrationMethod.IDENTITY_DOCUMENT and not documents:
        raise DomainError(ErrorCode.INVALID_INPUT, "確認した顔写真付きの本人確認書類を選んでください。", field="documents")
    if method == RegistrationMethod.IDENTITY_DOCUMENT and not set(documents) & set(PHOTO_DOCUMENTS):
        raise DomainError(ErrorCode.INVALID_INPUT, "その日に登録できるのは、官公署が発行した顔写真付きの本人確認書類（"
                          + "・".join(PHOTO_DOCUMENTS[:3]) + "など）を確認したときだけです。お持ちでないときは、"
                          "保証人による保証か、照会書・回答書による確認を選んでください。", field="documents")
    if method == RegistrationMethod.GUARANTOR and not guarantor_number.strip():
        raise DomainError(ErrorCode.INVALID_INPUT, "保証人の印鑑番号を入力してください。", field="guarantor_number")
    if not _fold(seal_text):
        raise DomainError(ErrorCode.INVALID_INPUT, "印影の文字（刻印文字）を入力してください。", field="seal_text")
    if len(_fold(seal_text)) > 20:
        raise DomainError(ErrorCode.INVALID_INPUT, "印影の文字は20文字以内で入力してください。", field="seal_text")
    if not seal_checked:
        raise DomainError(ErrorCode.INVALID_INPUT, "印鑑の材質（ゴム印でないこと）・外枠・文字を確認し、"
                          "「登録できる印鑑であることを確認した」にチェックしてください。", field="seal_checked")


def seal_register(*, actor: Actor, person_id: int, method: str, image: bytes, seal_text: str,
                  documents=(), agent_name: str = "", power_of_attorney: bool = False, guarantor_number: str = "",
                  seal_checked: bool = False) -> dict:
    """印鑑登録申請. Registered the same day (書類・保証人) or pending an inquiry (照会中)."""
    documents = _documents(documents)
    agent_name = (agent_name or "").strip()
    criteria = {"person_id": person_id, "method": method, "by_agent": bool(agent_name)}
    with gate.open(actor, function="seal.register", perm=Perm.SEAL_MANAGE, criteria=criteria,
                   category=Category.OPERATION) as session:
        session.record([person_id])
        _check_application(method, documents, agent_name, power_of_attorney, guarantor_number, seal_text, seal_checked)
        on = today()
        person = _person(session, person_id)
        _check_applicant(person, on)
        if not seal_text_fits(seal_text, person):
            raise DomainError(ErrorCode.INVALID_INPUT, "印影の文字が、住民票の氏名・氏・名・旧氏・通称（またはその一部の組合せ）"
                              "になっていません。この印鑑は登録できません。", field="seal_text")
        seal = images.normalise(image)
        immediate = method != RegistrationMethod.INQUIRY
        with transaction.atomic():
            guarantor = _guarantor(session, guarantor_number, person_id) if method == RegistrationMethod.GUARANTOR else None
            _expire_overdue(person_id, on, actor)
            if _live(person_id) is not None:
                raise DomainError(ErrorCode.SEAL_STATE, "この方はすでに印鑑を登録しています（または照会中です）。"
                                  "別の印鑑を登録するときは、先に今の登録を廃止してください。")
            _check_not_in_household(session, person, seal.sha256)
            reg = SealRegistration(
                number=numbers.allocate(NUMBER_SEQUENCE)[0], person_id=person_id,
                state=SealState.REGISTERED if immediate else SealState.PENDING, method=method,
                image=seal.png, image_sha256=seal.sha256, image_width_mm=seal.width_mm, image_height_mm=seal.height_mm,
                image_dpi=seal.dpi, seal_text=_fold(seal_text), applied_on=on, registered_on=on if immediate else None,
                inquiry_sent_on=None if immediate else on,
                answer_due=None if immediate else on + dt.timedelta(days=answer_days()),
                agent_name=agent_name[:120], registered_by=actor.user, terminal=actor.terminal,
                guarantor_person_id=guarantor.person_id if guarantor else None,
                guarantor_number=guarantor.number if guarantor else "")
            try:
                with transaction.atomic():
                    reg.save()
            except IntegrityError:  # another counter registered this person a moment ago
                raise ConflictError("この方の印鑑登録は、他の職員が先に受け付けました。画面を更新してください。") from None
            checked = _note("確認書類: " + "、".join(documents) if documents else "",
                            f"保証人 印鑑番号 {reg.guarantor_number}" if guarantor else "",
                            f"代理人 {agent_name}（委任状確認）" if agent_name else "",
                            "" if seal.dpi_from_file else f"解像度 {seal.dpi}dpi として計測")
            if immediate:
                _event(reg, SealEventKind.REGISTERED, actor, on, checked)
                signals.seal_registered.send(sender=SealRegistration, registration=reg)
            else:
                _event(reg, SealEventKind.APPLIED, actor, on, _note(checked, f"回答期限 {to_wareki(reg.answer_due)}"))
            session.criteria["registration_id"] = reg.id
            session.write_log()
        return registration_dict(reg)


def seal_inquiry_answer(*, actor: Actor, person_id: int, documents=(), answer_agent_name: str = "",
                        power_of_attorney: bool = False) -> dict:
    """回答書の持参: the pending registration becomes registered today, if within the deadline."""
    documents = _documents(documents)
    answer_agent_name = (answer_agent_name or "").strip()
    criteria = {"person_id": person_id, "by_agent": bool(answer_agent_name)}
    with gate.open(actor, function="seal.inquiry_answer", perm=Perm.SEAL_MANAGE, criteria=criteria,
                   category=Category.OPERATION) as session:
        session.record([person_id])
        if not documents:
            raise DomainError(ErrorCode.INVALID_INPUT, "回答書を持参した方の本人確認書類を選んでください。", field="documents")
        if answer_agent_name and not power_of_attorney:
            raise DomainError(ErrorCode.INVALID_INPUT, "代理人が回答書を持参したときは、回答書の委任欄（委任状）を確認してください。",
                              field="power_of_attorney")
        on = today()
        person = _person(session, person_id)
        if not _is_resident(person):
            raise DomainError(ErrorCode.NOT_RESIDENT, "住民登録のない方の印鑑は登録できません。", field="person_id")
        with transaction.atomic():
            reg = _live(person_id)
            if reg is None or reg.state != SealState.PENDING:
                raise DomainError(ErrorCode.SEAL_STATE, "この方には、回答を待っている印鑑登録の申請がありません。")
            if reg.answer_due < on:
                raise DomainError(ErrorCode.SEAL_STATE, f"回答期限（{to_wareki(reg.answer_due)}）を過ぎています。"
                                  "この回答書では登録できません。もう一度、登録の申請をしてください。")
            reg.state = SealState.REGISTERED
            reg.registered_on = on
            reg.answer_agent_name = answer_agent_name[:120]
            reg.save(update_fields=["state", "registered_on", "answer_agent_name"])
            _event(reg, SealEventKind.REGISTERED, actor, on,
                   _note("回答書を受理", "確認書類: " + "、".join(documents),
                         f"代理人 {answer_agent_name}（委任状確認）" if answer_agent_name else ""))
            signals.seal_registered.send(sender=SealRegistration, registration=reg)
            session.criteria["registration_id"] = reg.id
            session.write_log()
        return registration_dict(reg)


def seal_inquiry_letter(*, actor: Actor, person_id: int) -> bytes:
    """照会書 (with its 回答書) of a pending registration, to mail to the applicant's registered
    address: the PDF, logged as a print of the person's data."""
    with gate.open(actor, function="print.seal_inquiry", perm=Perm.SEAL_MANAGE, criteria={"person_id": person_id},
                   category=Category.PRINT) as session:
        session.record([person_id])
        person = _person(session, person_id)
        reg = SealRegistration.objects.filter(person_id=person_id, state=SealState.PENDING).first()
        if reg is None:
            raise DomainError(ErrorCode.SEAL_STATE, "この方には、照会中の印鑑登録の申請がありません。")
        if reg.answer_due < today():  # its 回答書 could no longer register anything
            raise DomainError(ErrorCode.SEAL_STATE, f"回答期限（{to_wareki(reg.answer_due)}）を過ぎているため、"
                              "照会書は印刷できません。もう一度、登録の申請をしてください。")
        _municipality, mayor_title = issuing.issuer(actor=session.actor)
        session.criteria["registration_id"] = reg.id
        return render.inquiry_letter(person=person, registration=reg, mayor_title=mayor_title, printed_on=today())


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


def _on_card_lost(sender, *, registration: SealRegistration, note: str, **_) -> bool:
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

_NAME_FIELDS = ("family_name", "given_name", "former_surname", "alias_name", "kanji_name", "family_name_kana",
                "given_name_kana")


def _version_person(v: PersonVersion) -> dict:
    """The name parts of a version, shaped like the selectors' person dict for `seal_text_fits`."""
    return {"name": {"family_name": v.family_name, "given_name": v.given_name, "former_surname": v.former_surname,
                     "family_name_kana": v.family_name_kana, "given_name_kana": v.given_name_kana},
            "foreign": {"alias_name": v.alias_name, "kanji_name": v.kanji_name}
            if v.resident_kind == ResidentKind.FOREIGN else None}


def abolish_on_register_change(*, actor: Actor, change_id: int, person_events: list[dict]) -> list[int]:
    """職権廃止, inside the register change's own gate and transaction (`register.services.writer`).

    ``person_events`` are the change's events (person_id, reason, status_after, version_before,
    version_after, event_date). Only a person whom the change leaves removed (their last event) or
    renamed is concerned. Returns the ids of the registrations ended.
    """
    finals = final_events(person_events)
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
            if before is None or after is None or all(getattr(before, f) == getattr(after, f) for f in _NAME_FIELDS):
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


def on_change_written(sender, *, session, change, person_events: list[dict], **kwargs) -> None:
    """Receiver of `register.services.writer.change_written` (connected in `SealsConfig.ready`)."""
    abolish_on_register_change(actor=session.actor, change_id=change.id, person_events=person_events)


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


# --- 印鑑登録証明書 ---------------------------------------------------------------------------------------

_PROTECTION_KIND = {Kind.SELF: protection.RequesterKind.SELF, Kind.AGENT: protection.RequesterKind.AGENT}


@dataclass(frozen=True)
class _Checked:
    card: Card
    registration: SealRegistration
    person: dict
    request: Request  # as recorded: with what was checked
    warnings: tuple[str, ...]


def _refuse_card() -> DomainError:
    # One message for unknown, suspended and abolished cards: a number cannot be probed.
    return DomainError(ErrorCode.CARD_STATE, "この印鑑登録証（市民カード）では交付できません。カード番号とカードの状態を確認してください。",
                       field="card_number")


def _check_certificate(session, *, card_number: str, request: Request, channel: str, person_id: int | None,
                       stated_birth_date: dt.date | None, statement_required: bool) -> _Checked:
    """The card, the registration, the requester, 抑止・支援措置 and the register: refuses, or returns
    what the certificate prints (inside the caller's open gate)."""
    actor = session.actor
    issuing.require_channel(channel)
    if request.kind not in _PROTECTION_KIND:
        raise DomainError(ErrorCode.CERTIFICATE_NOT_ENTITLED, "印鑑登録証明書は、印鑑登録証を持参した本人または代理人の請求にだけ交付できます。",
                          field="kind")
    if request.kind == Kind.AGENT and not request.requester_name.strip():
        raise DomainError(ErrorCode.CERTIFICATE_REQUEST_INCOMPLETE, "代理人の氏名を入力してください。", field="requester_name")
    number = normalize_number(card_number)
    if not number:
        raise DomainError(ErrorCode.INVALID_INPUT, "印鑑登録証（市民カード）のカード番号を入力してください。", field="card_number")
    if not number_valid(number):  # the check digit: a mistyped number, before any lookup
        raise DomainError(ErrorCode.INVALID_INPUT, "カード番号に誤りがあります。カードの番号（10桁）をもう一度確認してください。",
                          field="card_number")
    if statement_required and stated_birth_date is None:
        raise DomainError(ErrorCode.CERTIFICATE_REQUEST_INCOMPLETE, "交付申請書に書かれた登録者の生年月日を入力してください。",
                          field="stated_birth_date")
    card = Card.objects.select_related("seal_registration").filter(number=number).first()
    # At the counter the card itself is shown: a PIN lock (a kiosk matter) does not stop it there.
    usable = (CardState.ACTIVE,) if channel == Channel.KIOSK else (CardState.ACTIVE, CardState.LOCKED)
    if card is None or card.state not in usable:
        raise _refuse_card()
    session.record([card.person_id])
    if person_id is not None and card.person_id != person_id:
        raise DomainError(ErrorCode.CARD_STATE, "このカードは、画面に表示している方の印鑑登録証ではありません。", field="card_number")
    reg = card.seal_registration
    if reg is None or reg.state != SealState.REGISTERED or reg.person_id != card.person_id:
        raise DomainError(ErrorCode.SEAL_STATE, "このカードで証明できる印鑑の登録がありません（未登録・照会中・廃止済み）。")
    if request.kind == Kind.SELF and request.requester_person_id not in (None, card.person_id):
        raise DomainError(ErrorCode.CERTIFICATE_NOT_ENTITLED, "本人からの請求は、印鑑を登録している方ご本人だけです。"
                          "ほかの方は代理人として受け付けてください。", field="kind")
    requester = protection.Requester(
        kind=_PROTECTION_KIND[request.kind], person_id=card.person_id if request.kind == Kind.SELF else request.requester_person_id,
        name=request.requester_name, kana=request.requester_kana, birth_date=request.requester_birth_date)
    check = protection.certificate_request_check(actor=actor, subject_person_ids=[card.person_id], requester=requester)
    person = _person(session, card.person_id)
    if not _is_resident(person):
        raise DomainError(ErrorCode.SEAL_STATE, "この方は住民登録が消除されている（または転出の届出がある）ため、"
                          "印鑑登録証明書は交付できません。")
    if stated_birth_date is not None and stated_birth_date.isoformat() != person["birth_date"]["date"]:
        raise DomainError(ErrorCode.CERTIFICATE_NOT_ENTITLED, "交付申請書の生年月日が、印鑑を登録している方の生年月日と一致しません。"
                          "交付できません。", field="stated_birth_date")
    checked = [CARD_DOCUMENT, *([STATEMENT_DOCUMENT] if stated_birth_date is not None else []), *_documents(request.documents)]
    recorded = Request(kind=request.kind, requester_person_id=card.person_id if request.kind == Kind.SELF else None,
                       requester_name="" if request.kind == Kind.SELF else request.requester_name.strip(),
                       requester_kana=request.requester_kana, requester_birth_date=request.requester_birth_date,
                       documents=tuple(dict.fromkeys(checked)), power_of_attorney=request.power_of_attorney,
                       purpose=request.purpose, legal_basis="")
    return _Checked(card=card, registration=reg, person=person, request=recorded,
                    warnings=tuple(check.get("warnings") or ()))


def _record(session, *, card_number: str, request: Request, channel: str, reissue_of: CertificateIssue | None,
            person_id: int | None, stated_birth_date: dt.date | None, statement_required: bool):
    """Check and record one certificate inside the caller's open gate session."""
    c = _check_certificate(session, card_number=card_number, request=request, channel=channel, person_id=person_id,
                           stated_birth_date=stated_birth_date, statement_required=statement_required)
    municipality, mayor_title = issuing.issuer(actor=session.actor)
    ids = {"registration_id": c.registration.id, "card_id": c.card.id}

    def make_pdf(number: str, issued_on: dt.date) -> tuple[bytes, list[int]]:
        content = render.content(person=c.person, registration=c.registration, issue_number=number,
                                 issued_on=issued_on, municipality=municipality, mayor_title=mayor_title)
        return render.render_pdf(content, verification_url=issuing.verification_url(number)), [c.card.person_id]

    issue, pdf = issuing.record_issue(session, form=SEAL_CERT, options={"form": SEAL_CERT, **ids},
                                           make_pdf=make_pdf, request=c.request, channel=channel,
                                           reissue_of=reissue_of, log_criteria=ids)
    return issuing.IssueResult(issue=issue, pdf=pdf, warnings=c.warnings)


def seal_status(*, actor: Actor, person_id: int) -> dict:
    """For the certificate screen: is a seal registered, and is a card its 印鑑登録証? (The issue
    itself checks the card presented; this only warns before the clerk takes the request.)"""
    with gate.open(actor, function="seal.status", perm=Perm.CERTIFICATE_ISSUE, criteria={"person_id": person_id}) as session:
        session.record([person_id])
        enforcement.guard_read(session, [person_id])
        reg = SealRegistration.objects.filter(person_id=person_id, state=SealState.REGISTERED).first()
        return {"registered": reg is not None, "card": _card_of(person_id, reg.id if reg else None)}


def seal_certificate_issue(*, actor: Actor, card_number: str, request: Request, channel: str = Channel.COUNTER,
                           person_id: int | None = None, stated_birth_date: dt.date | None = None) -> issuing.IssueResult:
    """印鑑登録証明書. The card (印鑑登録証) must be usable and the 印鑑登録証 of a registered seal;
    the requester is 本人 or a 代理人 holding the card (no 委任状: the card is the authority).

    At the counter (``channel`` 窓口) the clerk enters the registrant's birth date as written on the
    交付申請書 (``stated_birth_date``), which must match the register; a kiosk authenticates the card
    with its PIN instead. ``person_id``: the person on the clerk's screen, whose card it must be.
    """
    criteria = {"form": SEAL_CERT, "requester_kind": request.kind, "channel": channel, "person_id": person_id}
    with gate.open(actor, function="seal.certificate_issue", perm=Perm.CERTIFICATE_ISSUE, criteria=criteria) as session:
        return _record(session, card_number=card_number, request=request, channel=channel, reissue_of=None,
                       person_id=person_id, stated_birth_date=stated_birth_date,
                       statement_required=channel == Channel.COUNTER)


def _check_reissuable(original: CertificateIssue, on: dt.date) -> None:
    """A free 再交付 replaces a spoiled print while the card and the 交付申請書 are still at the
    counter: only an original voided (無効) on the day it was issued, and only once."""
    if not original.voided:
        raise DomainError(ErrorCode.CERTIFICATE_NOT_ENTITLED, "印鑑登録証明書の再交付は、書き損じ等で無効にした証明書に限ります。"
                          "先に交付記録の画面で、元の証明書を無効にしてください。", field="number")
    if timezone.localdate(original.issued_at) != on:
        raise DomainError(ErrorCode.CERTIFICATE_NOT_ENTITLED, "印鑑登録証明書の再交付は、交付した当日に限ります。"
                          "印鑑登録証（市民カード）と交付申請書で、改めて交付してください。", field="number")
    again = CertificateIssue.objects.filter(reissue_of=original).values_list("number", flat=True).first()
    if again is not None:
        raise DomainError(ErrorCode.CERTIFICATE_NOT_ENTITLED, f"この証明書は、すでに再交付しています（発行番号 {again}）。",
                          field="number")


def seal_certificate_reissue(*, actor: Actor, number: str) -> issuing.IssueResult:
    """再交付 of a spoiled 印鑑登録証明書 (`_check_reissuable`): the same card and request, as
    registered now, under a new number and free of charge. The card must still be usable."""
    with gate.open(actor, function="seal.certificate_reissue", perm=Perm.CERTIFICATE_ISSUE,
                   criteria={"number": number, "form": SEAL_CERT}) as session:
        # One transaction with the original locked: two clerks cannot both reissue it.
        with transaction.atomic():
            original = (CertificateIssue.objects.select_for_update(of=("self",)).select_related("void")
                        .filter(number=number, form=SEAL_CERT).first())
            if original is None:
                raise NotFoundError("この発行番号の印鑑登録証明書はありません。")
            session.record(original.person_ids)
            enforcement.guard_read(session, original.person_ids)
            _check_reissuable(original, today())
            card = Card.objects.filter(pk=original.options.get("card_id")).first()
            if card is None:
                raise _refuse_card()
            request = issuing.request_of(original)
            # A reissue is the counter's, even of a kiosk certificate (its 日計表 and channel rules).
            return _record(session, card_number=card.number, request=request, channel=Channel.COUNTER,
                           reissue_of=original, person_id=None, stated_birth_date=None, statement_required=False)


def seal_certificate_check(*, actor: Actor, card_number: str, request: Request, channel: str = Channel.COUNTER,
                           person_id: int | None = None, stated_birth_date: dt.date | None = None
                           ) -> certificates.IssueCheck:
    """What `seal_certificate_issue` would refuse, refused before the clerk confirms the fee:
    (the fee, the warnings). No number, nothing recorded but the gate's row."""
    criteria = {"form": SEAL_CERT, "requester_kind": request.kind, "channel": channel, "person_id": person_id}
    with gate.open(actor, function="seal.certificate_check", perm=Perm.CERTIFICATE_ISSUE, criteria=criteria) as session:
        c = _check_certificate(session, card_number=card_number, request=request, channel=channel, person_id=person_id,
                               stated_birth_date=stated_birth_date, statement_required=channel == Channel.COUNTER)
        return certificates.IssueCheck(fee=issuing.issue_fee(SEAL_CERT, official=False, request=request),
                                       warnings=tuple(c.warnings))


def seal_certificate_preview(*, actor: Actor, card_number: str, request: Request, channel: str = Channel.COUNTER,
                             person_id: int | None = None, stated_birth_date: dt.date | None = None
                             ) -> certificate_preview.PreviewResult:
    """印刷プレビュー: the same checks and sheet as the issue, marked 見本, with no number and no record."""
    criteria = {"form": SEAL_CERT, "requester_kind": request.kind, "channel": channel, "person_id": person_id}
    with gate.open(actor, function="seal.certificate_preview", perm=Perm.CERTIFICATE_ISSUE, criteria=criteria) as session:
        c = _check_certificate(session, card_number=card_number, request=request, channel=channel, person_id=person_id,
                               stated_birth_date=stated_birth_date, statement_required=channel == Channel.COUNTER)
        municipality, mayor_title = issuing.issuer(actor=session.actor)
        content = render.content(person=c.person, registration=c.registration,
                                 issue_number=certificate_preview.PLACEHOLDER_NUMBER, issued_on=today(),
                                 municipality=municipality, mayor_title=mayor_title)
        return certificate_preview.PreviewResult(pdf=certificate_preview.sample_pdf(content, render.render_pdf),
                                                 person_ids=(c.card.person_id,), warnings=c.warnings)
