"""Issuing certificates: who may get what, the issue record, voiding, reissue, inquiry, verification.

`certificate_issue` runs in this order, inside the gate (`certificate.issue`):
1. the options and the entitlement (`entitlement.check`, 住基法12条〜12条の3), 個人番号 right;
2. the reads, through the register's selectors (each writes its own access-log row, which stays
   even when the issue fails later: the data was read);
3. that the requester is 本人 / of the same household, then 抑止・支援措置
   (`protection.certificates.certificate_request_check`, its own log row);
4. the next number, committed on its own (`numbering`, ADR 0021); then the content, the PDF,
   its hash and signature with no lock held; then one transaction: the record and the
   `print.certificate` log row. A failure leaves no record and its number as 欠番, with the reason
   (`certificate_numbers` lists them).
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import replace
from typing import NamedTuple

from django.db import IntegrityError, transaction
from django.utils import timezone

from juki.accounts.permissions import Perm
from juki.audit import gate
from juki.audit.gate import Actor
from juki.audit.models import Category
from juki.core.errors import ConflictError, DomainError, ErrorCode, NotFoundError
from juki.core.wareki import to_wareki
from juki.protection import certificates as protection
from juki.protection import enforcement
from juki.register import selectors
from juki.register.models import Person

from . import entitlement, numbering, registry, render, signing, snapshot
from .content import FORMS, LAYOUTS, Options, build
from .entitlement import Kind, Request
from .issuing import IssueResult, issue_fee, issuer, record_issue, request_of, require_channel, verification_url
from .models import (
    FORM_LABELS,
    CertificateIssue,
    CertificateRequest,
    CertificateVoid,
    Channel,
)

__all__ = [
    "IssueResult",
    "Request",
    "certificate_issue",
    "certificate_list",
    "certificate_numbers",
    "certificate_reissue",
    "certificate_verify",
    "certificate_void",
]

_PROTECTION_KIND = {
    Kind.SELF: protection.RequesterKind.SELF,
    Kind.HOUSEHOLD: protection.RequesterKind.HOUSEHOLD,
    Kind.AGENT: protection.RequesterKind.AGENT,
    Kind.GOVERNMENT: protection.RequesterKind.GOVERNMENT,
    Kind.THIRD_PARTY: protection.RequesterKind.THIRD_PARTY,
}


# --- issue -----------------------------------------------------------------------------------------


def _read(actor: Actor, options: Options, household_id: int | None, person_ids: list[int]):
    """(household dict or None, the subject ids in print order [1010]). Reads through the selectors."""
    household = None
    if options.layout == "household":
        if household_id is None:
            raise DomainError(ErrorCode.INVALID_INPUT, "世帯連記式の証明書は世帯を指定してください。", field="household_id")
        household = selectors.household_get(actor=actor, household_id=household_id)
        members = [m["person_id"] for m in household["members"]]
        if set(person_ids) - set(members):
            raise DomainError(ErrorCode.HOUSEHOLD_MISMATCH, "指定された方に、この世帯の世帯員でない方が含まれています。",
                              field="person_ids")
        subjects = [pid for pid in members if not person_ids or pid in person_ids]  # [1010] order
    else:
        if not person_ids:
            raise DomainError(ErrorCode.INVALID_INPUT, "証明書に記載する方を選んでください。", field="person_ids")
        subjects = list(dict.fromkeys(person_ids))
        if options.head_and_relationship:
            household = _household_of(actor, subjects)
    if not subjects:
        raise DomainError(ErrorCode.INVALID_INPUT, "この世帯には証明書に記載できる方がいません。", field="household_id")
    return household, subjects


def _household_of(actor: Actor, subjects: list[int]) -> dict:
    """A 個人票 with 世帯主・続柄 names the 世帯主, which only the household read knows: the
    subjects' household (as it was the day before a removal, for a 除票)."""
    people = [selectors.person_get(actor=actor, person_id=pid) for pid in subjects]
    if len({p["household_id"] for p in people}) > 1:
        raise DomainError(ErrorCode.HOUSEHOLD_MISMATCH,
                          "世帯主・続柄を記載する個人票は、同じ世帯の方についてだけ交付できます。", field="person_ids")
    removed = (people[0].get("removed_on") or {}).get("date")
    as_of = dt.date.fromisoformat(removed) - dt.timedelta(days=1) if removed else None
    return selectors.household_get(actor=actor, household_id=people[0]["household_id"], as_of=as_of)


def _check_requester(request: Request, subjects: list[int]) -> None:
    """本人 must be among the subjects; 同一世帯 only for members of the requester's household."""
    if request.kind not in (Kind.SELF, Kind.HOUSEHOLD):
        return
    rid = request.requester_person_id
    homes = dict(Person.objects.filter(pk__in=[*subjects, rid]).values_list("id", "household_id"))
    if rid not in homes:
        raise NotFoundError("請求者として指定された住民が見つかりません。")
    if request.kind == Kind.SELF and rid not in subjects:
        raise DomainError(ErrorCode.CERTIFICATE_NOT_ENTITLED, "本人からの請求では、請求者本人を証明書の対象に含めてください。"
                          "他の方の分は「同一世帯」または「代理人」として受け付けてください。", field="kind")
    if any(homes.get(pid) != homes[rid] for pid in subjects if pid != rid):
        raise DomainError(ErrorCode.CERTIFICATE_NOT_ENTITLED, "請求者と同じ世帯の方のほかは、本人・同一世帯としての請求はできません。",
                          field="kind")


def _protection_check(actor: Actor, request: Request, subjects: list[int]) -> dict:
    requester = protection.Requester(kind=_PROTECTION_KIND[request.kind], person_id=request.requester_person_id,
                                     name=request.requester_name, kana=request.requester_kana,
                                     birth_date=request.requester_birth_date)
    return protection.certificate_request_check(actor=actor, subject_person_ids=subjects, requester=requester)


def options_json(options: Options) -> dict:
    return {"form": options.form, "layout": options.layout, "person_ids": list(options.person_ids),
            "history": options.history, "head_and_relationship": options.head_and_relationship,
            "domicile": options.domicile, "resident_code": options.resident_code, "my_number": options.my_number,
            "foreign_items": sorted(options.foreign_items), "official": options.official}


def gather(session, *, options: Options, household_id: int | None, person_ids: list[int], request: Request,
           channel: str):
    """Everything an issue (or its preview) checks and reads, inside the caller's open gate:
    (household, subjects in print order, person dicts, histories or None, the protection check).
    The reads print the address (`document_reads`): nothing read here leaves unless the protection
    check, which decides whether this requester may have it, has passed (ADR 0013)."""
    with enforcement.document_reads():
        return _gather(session, options=options, household_id=household_id, person_ids=person_ids, request=request,
                       channel=channel)


def _gather(session, *, options: Options, household_id: int | None, person_ids: list[int], request: Request,
            channel: str):
    actor = session.actor
    options.validate()
    entitlement.check(options, request, channel=channel)
    if options.my_number:
        session.reveal_my_number()  # refuses without mynumber.view or the second factor
    household, subjects = _read(actor, options, household_id, person_ids)
    session.record(subjects)
    if request.requester_person_id:
        session.record([request.requester_person_id])  # _check_requester reads the requester's household
    _check_requester(request, subjects)
    if enforcement.protected_ids(subjects):
        session.flag(enforcement.FLAG)  # the issue (and print) rows are flagged for review too
    check = _protection_check(actor, request, subjects)
    persons = [selectors.person_get(actor=actor, person_id=pid, reveal_my_number=options.my_number) for pid in subjects]
    histories = ({pid: selectors.person_history(actor=actor, person_id=pid) for pid in subjects}
                 if options.history else None)
    return household, subjects, persons, histories, check


def options_from_json(data: dict) -> Options:
    data = dict(data)
    data["person_ids"] = tuple(data.get("person_ids") or ())
    data["foreign_items"] = frozenset(data.get("foreign_items") or ())
    return Options(**data)


class IssueCheck(NamedTuple):
    """What the counter shows before the fee is confirmed (交付の確認)."""

    fee: int
    warnings: tuple[str, ...] = ()
    official: bool = False  # 公用 [1060]: why the fee is 0


def prepare(options: Options, household_id: int | None, person_ids: list[int], request: Request,
            channel: str) -> tuple[list[int], Options, dict]:
    """What an issue, its preview and its check start from: the persons, the options (公用 for every
    request of a 国・地方公共団体 [1060]) and the log row's criteria."""
    person_ids = [int(p) for p in person_ids or options.person_ids]
    options = replace(options, person_ids=tuple(person_ids), official=options.official or request.kind == Kind.GOVERNMENT)
    criteria = {"form": options.form, "layout": options.layout, "household_id": household_id, "person_ids": person_ids,
                "requester_kind": request.kind, "with_my_number": options.my_number, "channel": channel}
    return person_ids, options, criteria


def certificate_issue(*, actor: Actor, options: Options, household_id: int | None, person_ids: list[int],
                      request: Request, channel: str = Channel.COUNTER,
                      reissue_of: CertificateIssue | None = None) -> IssueResult:
    person_ids, options, criteria = prepare(options, household_id, person_ids, request, channel)
    criteria["reissue_of"] = reissue_of.number if reissue_of else None
    with gate.open(actor, function="certificate.issue", perm=Perm.CERTIFICATE_ISSUE, criteria=criteria) as session:
        session.record(person_ids)
        require_channel(channel)
        household, subjects, persons, histories, check = gather(session, options=options, household_id=household_id,
                                                                person_ids=person_ids, request=request, channel=channel)
        protection.require_alert_acknowledged(session, subjects, request.acknowledge_alert)  # [410] before, not after
        municipality, mayor_title = issuer(actor=session.actor)

        def make_pdf(number: str, issued_on: dt.date) -> tuple[bytes, list[int]]:
            content = build(household=household, persons=persons, histories=histories, options=options,
                            issue_number=number, issued_on=issued_on, municipality=municipality, mayor_title=mayor_title)
            return render.render_pdf(content, verification_url=verification_url(number)), content["person_ids"]

        issue, pdf = record_issue(session, form=options.form, options=options_json(options), make_pdf=make_pdf,
                                  household_id=household_id if options.layout == "household" else None,
                                  request=request, channel=channel, reissue_of=reissue_of, official=options.official,
                                  log_criteria={"with_my_number": options.my_number})
        return IssueResult(issue=issue, pdf=pdf, warnings=tuple(check.get("warnings") or ()))


def certificate_check(*, actor: Actor, options: Options, household_id: int | None, person_ids: list[int],
                      request: Request, channel: str = Channel.COUNTER) -> IssueCheck:
    """What `certificate_issue` would refuse, refused before the clerk confirms the fee at the
    counter: the same steps (entitlement, 個人番号 right, 抑止・支援措置, the alert's acknowledgement),
    no number, no PDF, nothing recorded but the gate's row (`certificate.issue_check`: the register was
    read). Returns the fee and the warnings to show with the confirmation."""
    person_ids, options, criteria = prepare(options, household_id, person_ids, request, channel)
    with gate.open(actor, function="certificate.issue_check", perm=Perm.CERTIFICATE_ISSUE, criteria=criteria) as session:
        session.record(person_ids)
        require_channel(channel)
        _household, subjects, _persons, _histories, check = gather(
            session, options=options, household_id=household_id, person_ids=person_ids, request=request,
            channel=channel)
        protection.require_alert_acknowledged(session, subjects, request.acknowledge_alert)
        return IssueCheck(fee=issue_fee(options.form, official=options.official, request=request),
                          warnings=tuple(check.get("warnings") or ()), official=options.official)


# --- void, reissue, inquiry ------------------------------------------------------------------------


def _load(number: str) -> CertificateIssue:
    issue = (CertificateIssue.objects.select_related("operator", "terminal", "reissue_of", "void", "void__voided_by")
             .filter(number=_normalize_number(number)).first())
    if issue is None:
        raise NotFoundError("この発行番号の証明書はありません。")
    return issue


def certificate_void(*, actor: Actor, number: str, reason: str) -> dict:
    """無効: a certificate spoiled or taken back. The record stays; the voiding is a row of its own."""
    reason = (reason or "").strip()
    with gate.open(actor, function="certificate.void", perm=Perm.CERTIFICATE_ISSUE, criteria={"number": number},
                   category=Category.OPERATION) as session:
        if not reason:
            raise DomainError(ErrorCode.INVALID_INPUT, "無効にする理由を入力してください。", field="reason")
        with transaction.atomic():
            issue = _load(number)
            session.record(issue.person_ids)
            enforcement.guard_read(session, issue.person_ids)  # as the counter's list refuses them [440][410]
            if issue.voided:
                raise DomainError(ErrorCode.CERTIFICATE_VOIDED, "この証明書はすでに無効にされています。")
            try:
                with transaction.atomic():
                    issue.void = CertificateVoid.objects.create(issue=issue, reason=reason[:200], voided_by=actor.user,
                                                                voided_at=timezone.now())
            except IntegrityError:  # voided by someone else a moment ago
                raise ConflictError("この証明書は、他の職員が先に無効にしました。") from None
            session.write_log()
        return issue_dict(issue)


def certificate_reissue(*, actor: Actor, number: str, acknowledge_alert: bool = False) -> IssueResult:
    """再交付 under a new number. A 住民票の写し等: the same options for the same request, as the
    register reads now. A form kept as first printed (転出証明書 [660], 住民票コード通知票): that
    first state again, marked 再交付 (`snapshot.reissue`). A form in `registry.REISSUERS`: its own service.
    Staff reissue at the counter (or through its API), so the reissue is channel 窓口 whatever
    channel the original came through: a kiosk does not reissue."""
    form = CertificateIssue.objects.filter(number=_normalize_number(number)).values_list("form", flat=True).first()
    if form in registry.REISSUERS:
        return registry.REISSUERS[form](actor=actor, number=_normalize_number(number))
    with gate.open(actor, function="certificate.reissue", perm=Perm.CERTIFICATE_ISSUE,
                   criteria={"number": number}) as session:
        original = _load(number)
        session.record(original.person_ids)
        if original.form not in FORMS:
            return snapshot.reissue(session, original, channel=Channel.COUNTER)
        request = replace(request_of(original), acknowledge_alert=acknowledge_alert)
        options = options_from_json(original.options)
        return certificate_issue(actor=actor, options=options, household_id=original.household_id,
                                 person_ids=list(options.person_ids),
                                 request=request, channel=Channel.COUNTER, reissue_of=original)


def certificate_list(*, actor: Actor, date_from: dt.date | None = None, date_to: dt.date | None = None,
                     operator: str = "", person_id: int | None = None, number: str = "", limit: int = 200) -> list[dict]:
    """交付記録の照会 [300][360]: newest first, by date range, operator, person or number."""
    criteria = {"date_from": date_from.isoformat() if date_from else None,
                "date_to": date_to.isoformat() if date_to else None, "operator": operator or None,
                "person_id": person_id, "number": number or None}
    with gate.open(actor, function="certificate.list", perm=Perm.CERTIFICATE_ISSUE, criteria=criteria) as session:
        if date_from and date_to and date_from > date_to:
            raise DomainError(ErrorCode.INVALID_PERIOD, "期間の開始日は終了日以前にしてください。", field="date_from")
        rows = CertificateIssue.objects.select_related("operator", "terminal", "reissue_of", "void", "void__voided_by",
                                                       "request")
        if date_from:
            rows = rows.filter(issued_at__date__gte=date_from)
        if date_to:
            rows = rows.filter(issued_at__date__lte=date_to)
        if operator:
            rows = rows.filter(operator__username=operator)
        if person_id is not None:
            session.record([person_id])
            enforcement.guard_read(session, [person_id])  # a protected person's list: refused, as a read is
            rows = rows.filter(subjects__person_id=person_id)
        if number:
            rows = rows.filter(number=_normalize_number(number))
        found = list(rows.order_by("-issued_at", "-id")[:max(1, min(int(limit), 1000))])
        session.record(pid for issue in found for pid in issue.person_ids)
        # Certificates of persons this user may not see are left out of a list by date or number.
        hidden = enforcement.hidden_persons(session, {pid for issue in found for pid in issue.person_ids})
        found = [issue for issue in found if not hidden.keys() & set(issue.person_ids)]
        return [issue_dict(issue, with_request=True) for issue in found]


def certificate_numbers(*, actor: Actor, year: int) -> dict:
    """発行番号の払出し状況 for a year [1040][300]: the last number taken, how many are issued, and
    every 欠番 with its reason (a failed or interrupted issue), for the auditor who checks that each
    number is accounted for. Numbers, times and staff only: no personal data, but logged as a use
    of the issue records. The counter (certificate.issue) or the auditor (accesslog.view) may read it."""
    perm = Perm.ACCESS_LOG_VIEW if actor.can(Perm.ACCESS_LOG_VIEW) else Perm.CERTIFICATE_ISSUE
    with gate.open(actor, function="certificate.numbers", perm=perm, criteria={"year": year}):
        if not 1900 <= int(year) <= 9999:
            raise DomainError(ErrorCode.INVALID_INPUT, "年は西暦4桁で指定してください。", field="year")
        return numbering.ledger(int(year))


def operator_label(issue: CertificateIssue) -> str:
    """交付者 as the 交付履歴 names it: the member of staff, or the 自動交付機 that issued it
    unattended (a kiosk issue has no operator; its terminal is the device)."""
    if issue.operator is not None:
        return issue.operator.display_name
    if issue.channel == Channel.KIOSK:
        return f"自動交付機（{issue.terminal.name}）" if issue.terminal else "自動交付機"
    return "—"


def issue_dict(issue: CertificateIssue, *, with_request: bool = False) -> dict:
    void = getattr(issue, "void", None) if issue.voided else None
    out = {
        "number": issue.number,
        "form": issue.form,
        "form_label": FORM_LABELS.get(issue.form, issue.form),
        "layout": issue.options.get("layout"),
        "layout_label": LAYOUTS.get(issue.options.get("layout"), ""),
        "options": issue.options,
        "person_ids": issue.person_ids,
        "household_id": issue.household_id,
        "requester_kind": issue.requester_kind,
        "requester_kind_label": Kind(issue.requester_kind).label,
        "fee": issue.fee,
        "operator": issue.operator.username if issue.operator else "",
        "operator_label": operator_label(issue),
        "terminal": issue.terminal.code if issue.terminal else "",
        "channel": issue.channel,
        "issued_at": issue.issued_at.isoformat(),
        "sha256": issue.sha256,
        "state": "voided" if void else "issued",
        "state_label": "無効" if void else "交付済み",
        "void": {"reason": void.reason, "by": void.voided_by.username if void.voided_by else "",
                 "at": void.voided_at.isoformat()} if void else None,
        "reissue_of": issue.reissue_of.number if issue.reissue_of else None,
    }
    if with_request:
        r: CertificateRequest = issue.request
        out["request"] = {"requester_person_id": r.requester_person_id, "requester_name": r.requester_name,
                          "documents": r.documents, "power_of_attorney": r.power_of_attorney,
                          "purpose": r.purpose, "legal_basis": r.legal_basis}
    return out


# --- verification (public, no personal data) ---------------------------------------------------------

GENUINE, ALTERED, VOIDED, UNKNOWN = "genuine", "altered", "voided", "unknown"
_MESSAGES = {
    GENUINE: "この証明書は市が交付したもので、交付後に変更されていません。",
    ALTERED: "この証明書は、市が交付したものと内容が一致しません。改ざんされているおそれがあります。",
    VOIDED: "この証明書は市が交付したものですが、交付後に無効とされています。",
    UNKNOWN: "この発行番号の証明書は交付されていません。番号を確認してください。",
}
MAX_PDF_BYTES = 10 * 1024 * 1024


def _refuse_if_too_big(size: int) -> None:
    if size > MAX_PDF_BYTES:
        raise DomainError(ErrorCode.INVALID_INPUT, "PDFが大きすぎます（10MBまで）。", field="pdf")


def read_pdf(upload) -> bytes:
    """An uploaded PDF's bytes for `certificate_verify`, refused by size before it is read."""
    _refuse_if_too_big(upload.size)
    return upload.read()
_NUMBER = re.compile(r"^\d{4}-\d{6}$")
_HEX = re.compile(r"^[0-9a-f]{64}$")


def _normalize_number(number: str) -> str:
    return unicodedata.normalize("NFKC", number or "").strip().replace("ー", "-").replace("−", "-")


def certificate_verify(*, number: str, pdf: bytes | None = None, sha256: str | None = None) -> dict:
    """Is this PDF (or this hash) the certificate issued under this number, and is it still valid?

    Answers genuine / altered / voided / unknown with the form's name and the issue date — nothing
    about whom it concerns. Not logged: it reads no personal data and needs no login.
    """
    number = _normalize_number(number)
    if not _NUMBER.match(number):
        raise DomainError(ErrorCode.INVALID_INPUT, "発行番号は「2026-000123」の形で入力してください。", field="number")
    if pdf is not None:
        _refuse_if_too_big(len(pdf))
        digest = signing.sha256_of(pdf)
    else:
        digest = (sha256 or "").strip().lower()
        if not _HEX.match(digest):
            raise DomainError(ErrorCode.INVALID_INPUT, "証明書のPDFを選ぶか、SHA-256（16進数64桁）を入力してください。",
                              field="pdf")
    issue = CertificateIssue.objects.select_related("void").filter(number=number).first()
    if issue is None:
        return {"result": UNKNOWN, "number": number, "message": _MESSAGES[UNKNOWN]}
    signed = signing.signature_valid(number=issue.number, sha256=issue.sha256, issued_at=issue.issued_at,
                                     key_id=issue.key_id, signature=issue.signature)
    if not signed or digest != issue.sha256:
        result = ALTERED  # a record rewritten in the database fails the signature the same way
    elif issue.voided:
        result = VOIDED
    else:
        result = GENUINE
    issued_on = timezone.localdate(issue.issued_at)
    return {"result": result, "number": issue.number, "form": issue.form, "form_label": FORM_LABELS.get(issue.form, issue.form),
            "issued_on": issued_on.isoformat(), "issued_on_display": to_wareki(issued_on),
            "state": "voided" if issue.voided else "issued", "message": _MESSAGES[result]}


def certificate_status(*, number: str) -> dict | None:
    """For a paper copy, whose QR code leads here without a PDF: was a certificate issued under this
    number, which form, on which day, and is it still valid? Nothing about whom it concerns; the
    content itself can only be compared with the PDF or at the counter."""
    number = _normalize_number(number)
    if not _NUMBER.match(number):
        return None
    issue = CertificateIssue.objects.select_related("void").filter(number=number).first()
    if issue is None:
        return {"number": number, "known": False}
    return {"number": issue.number, "known": True, "form_label": FORM_LABELS.get(issue.form, issue.form),
            "issued_on_display": to_wareki(timezone.localdate(issue.issued_at)), "voided": issue.voided}


# --- 広域交付住民票 (住基法第12条の4) --------------------------------------------------------------------


def wide_area_issue(*, actor: Actor, answer: dict, address_city: str, requester_name: str) -> IssueResult:
    """A 住民票の写し of a resident of another city, from what their 住所地 answered (`answer`: its
    persons with exactly the items allowed, `selectors.wide_area_records`), issued by this city: this
    city's number, 認証者 and seal, and the 住所地 named in the 認証文. The persons are not of this
    register: the issue names none of its persons, and its log row names the 住所地 and the items."""
    items = set(answer.get("items") or [])
    household = answer.get("household")
    persons = answer["persons"]
    options = Options(form="copy", layout="household" if household else "individual",
                      head_and_relationship="head_and_relationship" in items, resident_code="resident_code" in items,
                      my_number="my_number" in items,
                      foreign_items=frozenset({"nationality"}) if any(p.get("foreign") for p in persons) else frozenset())
    # The 請求者 showed their 個人番号カード (checked with its PIN by the card management system).
    request = Request(kind=Kind.SELF, requester_name=requester_name, documents=("個人番号カード",), purpose="広域交付")
    criteria = {"form": "copy", "wide_area_from": address_city, "items": sorted(items), "household": bool(household),
                "channel": Channel.COUNTER, "with_my_number": options.my_number}
    with gate.open(actor, function="certificate.wide_area", perm=Perm.CERTIFICATE_ISSUE, criteria=criteria) as session:
        if options.my_number:
            session.reveal_my_number()  # printing it needs the 個人番号 right (and its second factor), as at home
        municipality, mayor_title = issuer(actor=session.actor)
        group = {"members": [{"person_id": p["person_id"]} for p in persons],
                 "head": {"name": answer.get("head_name", "")}, "address": persons[0].get("address")} if household else None

        def make_pdf(number: str, issued_on: dt.date) -> tuple[bytes, list[int]]:
            content = build(household=group, persons=persons, histories=None, options=options, issue_number=number,
                            issued_on=issued_on, municipality=municipality, mayor_title=mayor_title)
            whole = "世帯全員の" if content["title"].endswith("（世帯全員）") else ""
            content["certification"] = (f"この写しは、住民基本台帳法第12条の4の規定により、住所地の市町村長（{address_city}長）"
                                        f"から通知された事項に基づいて作成したものであり、{whole}住民票の原本と相違ないことを証明する。")
            return render.render_pdf(content, verification_url=verification_url(number)), []

        issue, pdf = record_issue(session, form="copy", options=options_json(options), make_pdf=make_pdf,
                                  request=request, channel=Channel.COUNTER,
                                  log_criteria={"wide_area_from": address_city, "with_my_number": options.my_number})
        return IssueResult(issue=issue, pdf=pdf, warnings=())
