"""The 印鑑登録証明書: the card, the registration and the requester checked, then the issue, the
free 再交付 of a spoiled print, the fee check and the 印刷プレビュー."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from juki.accounts.permissions import Perm
from juki.audit import gate
from juki.audit.gate import Actor
from juki.cards.models import Card, CardState
from juki.cards.numbers import normalize_number, number_valid
from juki.certificates import preview as certificate_preview
from juki.certificates import issuing
from juki.certificates import services as certificates
from juki.certificates.entitlement import Kind, Request
from juki.certificates.models import CertificateIssue, Channel
from juki.core.errors import DomainError, ErrorCode, NotFoundError
from juki.protection import certificates as protection
from juki.protection import enforcement

from .. import render
from ..models import SealRegistration, SealState
from .common import _card_of, _documents, _is_resident, _person, today

SEAL_CERT = "seal_cert"
CARD_DOCUMENT = "印鑑登録証（市民カード）"
STATEMENT_DOCUMENT = "交付申請書（登録者の生年月日を照合）"


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
