"""Issuing one certificate, whatever its form: the number (taken on its own, `numbering`), then
the PDF, its hash and signature, the records and the log rows in one transaction (`record_issue`),
and what every form prints or charges the same way (the 認証者 `issuer`, `fee_for`,
`verification_url`).

Every form builds on this module — the 住民票の写し等 (`services`), the 転出証明書 (`move_out`), the
住民票コード通知票 (`code_notice`), the reissue of a kept form (`snapshot`) and the 印鑑登録証明書
(`juki.seals`) — and it imports none of them.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone

from juki.audit import events
from juki.audit.gate import Actor
from juki.core import clock
from juki.core.errors import DomainError, ErrorCode
from juki.core.wareki import to_wareki
from juki.register.models import Municipality

from . import numbering, signing
from .entitlement import Request
from .models import (
    CertificateIssue,
    CertificateRequest,
    CertificateSnapshot,
    CertificateSubject,
    Certifier,
    Channel,
    RequesterKind,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class IssueResult:
    issue: CertificateIssue
    pdf: bytes
    warnings: tuple[str, ...] = ()

    @property
    def number(self) -> str:
        return self.issue.number


def fee_for(form: str, *, official: bool, reissue: bool) -> int:
    """手数料: the fee table per form; 公用 and a reissue (a spoiled copy replaced) are free."""
    if official or reissue:
        return 0
    fees = getattr(settings, "JUKI_CERTIFICATE_FEES", {}) or {}
    return int(fees.get(form, getattr(settings, "JUKI_CERTIFICATE_FEE_DEFAULT", 300)))


def verification_url(number: str) -> str:
    return f"{settings.JUKI_PUBLIC_BASE_URL}/verify/{number}"


def city() -> Municipality:
    """The municipality that issues: the configured one (or the only one of the master)."""
    m = Municipality.objects.filter(code=settings.JUKI_MUNICIPALITY).first() or Municipality.objects.first()
    if m is None:
        raise DomainError(ErrorCode.INVALID_INPUT, "市区町村のマスタが登録されていません。システム担当へ連絡してください。")
    return m


def certifier_on(day: dt.date, *, ward=None) -> Certifier:
    """認証者 of the day [310]: a 職務代理者 in their period, else the 長 (a ward's own where the city
    has registered its 区長, else the city's). None registered for the day: refused, never blank."""
    valid = Certifier.objects.filter(Q(valid_until__isnull=True) | Q(valid_until__gte=day), valid_from__lte=day)
    for scope in ([{"ward": ward}] if ward is not None else []) + [{"ward__isnull": True}]:
        found = valid.filter(**scope).order_by("-valid_from", "-id")
        chosen = found.filter(kind=Certifier.Kind.DEPUTY).first() or found.filter(kind=Certifier.Kind.HEAD).first()
        if chosen is not None:
            return chosen
    raise DomainError(ErrorCode.CERTIFIER_MISSING,
                      f"{to_wareki(day)}の証明書の認証者（市長の職名・氏名）が登録されていません。"
                      "マスタ管理の「認証者」で登録してください。")


def issuer(on: dt.date | None = None, *, actor: Actor | None = None) -> tuple[str, str]:
    """(name, the 認証者 as printed: prefecture, 職名 and 氏名 [310][1050]); a ward office's
    terminal takes its 区長 where the city registered one (指定都市)."""
    m = city()
    ward = getattr(getattr(actor, "terminal", None), "ward", None)
    certifier = certifier_on(on or clock.today(), ward=ward)
    return m.name, f"{m.prefecture}{certifier.title}　{certifier.name}"


def issue_fee(form: str, *, official: bool, request: Request, reissue: bool = False) -> int:
    """The fee of one issue: the table's, free for 公用, a 職権 notice and a 再交付."""
    return fee_for(form, official=official or request.kind == RequesterKind.EX_OFFICIO, reissue=reissue)


def request_of(issue: CertificateIssue) -> Request:
    """The request an issue was made on (requester, documents, purpose …), to reissue it; inside the gate."""
    taken = CertificateRequest.objects.get(issue=issue)
    return Request(kind=issue.requester_kind, requester_person_id=taken.requester_person_id,
                   requester_name=taken.requester_name, documents=tuple(taken.documents),
                   power_of_attorney=taken.power_of_attorney, purpose=taken.purpose, legal_basis=taken.legal_basis)


def require_channel(channel: str) -> None:
    """窓口・自動交付機・…: the ways a certificate can be issued (every form, checked once more in record_issue)."""
    if channel not in Channel.values:
        raise DomainError(ErrorCode.INVALID_INPUT, "交付の方法が正しくありません。", field="channel")


def record_issue(session, *, form: str, options: dict, make_pdf, request: Request, channel: str,
                 household_id: int | None = None, reissue_of: CertificateIssue | None = None, official: bool = False,
                 log_criteria: dict | None = None, snapshot=None, under_lock=None) -> tuple[CertificateIssue, bytes]:
    """Number, render, hash, sign and record one certificate, inside the caller's open gate session.

    Shared by every form (住民票の写し等, 転出証明書, 住民票コード通知票, 印鑑登録証明書): the caller has
    checked the entitlement and read the data; ``make_pdf(number, issued_on)`` returns the PDF and the
    ids of the persons it prints. ``snapshot``, when given, is called after ``make_pdf`` and returns
    what `snapshot.keep` made of the content printed: it is stored with the issue, so that a reissue
    prints the first state. A 職権 issue (a notice nobody asked for) is free, like 公用.

    The number (ADR 0021) commits in a short transaction of its own, then the PDF renders with no
    lock held, then one transaction writes the records, the `print.certificate` row and the gate's
    own row. A failure after the number was taken records it as 欠番 (`numbering.void`), and the
    gate's row for the failure names it. Inside a caller's transaction (the kiosk's) the number is
    part of that transaction and stays locked until it commits, as before.

    ``under_lock``, when given, is called once the number is taken, before anything is rendered,
    and then the whole issue is one transaction as before ADR 0021: concurrent issues run it one
    after another (the counter row, or SQLite's write lock, is held until the commit), so a check
    there sees every issue committed before this one (one 転出証明書 per 転出届), and what it writes
    commits with the issue (a reissue voiding what it replaces). Raising refuses the issue and gives
    the number back. Those forms are few; their refusals take no number.
    """
    actor = session.actor
    require_channel(channel)
    serial = under_lock is not None
    with transaction.atomic() if serial else contextlib.nullcontext():
        # savepoint=False: the number's own transaction, or a part of the caller's (no savepoint to pay for)
        with transaction.atomic(savepoint=False):
            taken = numbering.reserve(at=timezone.now(), form=form, channel=channel, operator=actor.user,
                                      terminal=actor.terminal)
        if not serial:
            session.criteria["number"] = taken.number  # a failure's log row names the 欠番
        try:
            if under_lock is not None:
                under_lock()
            issue, pdf = _render_and_record(session, taken, form=form, options=options, make_pdf=make_pdf,
                                            request=request, channel=channel, household_id=household_id,
                                            reissue_of=reissue_of, official=official, log_criteria=log_criteria,
                                            snapshot=snapshot)
        except BaseException as exc:
            if not serial:  # (serially, the rollback gives the number back)
                _void(session, taken, exc)
            raise
    return issue, pdf


def _void(session, taken: numbering.Taken, exc: BaseException) -> None:
    session.criteria["number_void"] = True
    try:
        with transaction.atomic():
            numbering.void(taken, exc)
    except DatabaseError:  # the database is gone or the caller's transaction broken: the number
        # stays taken with neither record, and the 欠番一覧 lists it once the timeout has passed
        logger.exception("issue number %s could not be recorded as 欠番", taken.number)


def _render_and_record(session, taken: numbering.Taken, *, form, options, make_pdf, request, channel, household_id,
                       reissue_of, official, log_criteria, snapshot) -> tuple[CertificateIssue, bytes]:
    actor = session.actor
    number, issued_at = taken.number, taken.at
    pdf, printed = make_pdf(number, timezone.localdate(issued_at))
    digest = signing.sha256_of(pdf)
    key_id, signature = signing.sign(number=number, sha256=digest, issued_at=issued_at)
    with transaction.atomic():
        issue = CertificateIssue.objects.create(
            number=number, year=taken.year, serial=taken.serial, form=form, options=options,
            person_ids=list(printed), household_id=household_id, requester_kind=request.kind,
            fee=issue_fee(form, official=official, request=request, reissue=reissue_of is not None),
            operator=actor.user, terminal=actor.terminal, channel=channel, issued_at=issued_at, sha256=digest,
            key_id=key_id, signature=signature, reissue_of=reissue_of)
        CertificateSubject.objects.bulk_create(CertificateSubject(issue=issue, person_id=pid) for pid in issue.person_ids)
        if snapshot is not None:
            kept = snapshot()
            CertificateSnapshot.objects.create(issue=issue, content=kept["content"], sealed=kept["sealed"])
        CertificateRequest.objects.create(
            issue=issue, requester_person_id=request.requester_person_id, requester_name=request.requester_name.strip(),
            documents=[d.strip() for d in request.documents if d.strip()], power_of_attorney=request.power_of_attorney,
            purpose=request.purpose.strip(), legal_basis=request.legal_basis.strip())
        events.record(actor, function="print.certificate", person_ids=issue.person_ids,
                      criteria={"number": number, "form": form, "channel": channel, "requester_kind": request.kind,
                                **(log_criteria or {})},
                      flags=sorted(session.flags))
        session.criteria["number"] = number
        session.write_log()  # the gate's row commits with the record
    return issue, pdf
