"""Registration: the application (書類・保証人 the same day, or 照会書 and 回答書), its checks, and
the person's registrations as the counter reads them."""
from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import IntegrityError, transaction

from juki.accounts.permissions import Perm
from juki.audit import gate
from juki.audit.gate import Actor
from juki.audit.models import Category
from juki.certificates import issuing
from juki.core.errors import ConflictError, DomainError, ErrorCode
from juki.core.wareki import to_wareki
from juki.protection import enforcement
from juki.register.models import Person, Status
from juki.register.services import numbers

from .. import images, render, signals
from ..models import (
    LIVE_SEAL_STATES,
    EndReason,
    RegistrationMethod,
    SealEventKind,
    SealRegistration,
    SealState,
)
from .common import (
    _card_of,
    _documents,
    _end,
    _event,
    _fold,
    _is_resident,
    _live,
    _note,
    _person,
    age_on,
    registration_dict,
    seal_text_fits,
    today,
)

MIN_AGE = 15
# 官公署発行の顔写真付き書類: the only documents on which a seal is registered the same day. Any other
# (a health insurance card, a company ID, a document without a photo) means the inquiry.
PHOTO_DOCUMENTS = ("運転免許証", "マイナンバーカード", "旅券", "在留カード・特別永住者証明書", "住民基本台帳カード（写真付き）",
                   "身体障害者手帳（写真付き）")
NUMBER_SEQUENCE = "seal_number"


def answer_days() -> int:
    return settings.JUKI_SEAL_ANSWER_DAYS


def _check_applicant(person: dict, on: dt.date) -> None:
    if not _is_resident(person):
        raise DomainError(ErrorCode.NOT_RESIDENT, "住民登録のない方（消除・転出の届出済みの方）は、印鑑を登録できません。",
                          field="person_id")
    birth = dt.date.fromisoformat(person["birth_date"]["date"])
    if age_on(birth, on) < MIN_AGE:
        raise DomainError(ErrorCode.SEAL_STATE, "15歳未満の方は印鑑を登録できません。", field="person_id")


def _expire_overdue(person_id: int, on: dt.date, actor: Actor) -> None:
    """An inquiry past its deadline ends before a new application (the sweep may not have run yet)."""
    for reg in SealRegistration.objects.select_for_update().filter(person_id=person_id, state=SealState.PENDING,
                                                                  answer_due__lt=on):
        _end(reg, reason=EndReason.INQUIRY_EXPIRED, kind=SealEventKind.INQUIRY_EXPIRED, actor=actor, on=on,
             note=f"回答期限 {to_wareki(reg.answer_due)}")


# --- reading ---------------------------------------------------------------------------------------


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
