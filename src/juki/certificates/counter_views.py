"""The counter's certificate screens (総合証明): 交付申請 from the person screen, 印刷プレビュー,
交付, and the 交付履歴 with 無効 and 再交付; the 転出証明書 and the 住民票コード通知票 as tabs of the
same screen and from the change-done screen. Thin callers of `services`, `preview`, `move_out`
and `code_notice`.

The PDFs kept between requests (the preview, the last few issued) are `ui.documents`'.
"""
from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlencode

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from juki.accounts.permissions import Perm
from juki.core.errors import DomainError, ErrorCode, NotFoundError
from juki.core.wareki import to_wareki
from juki.ui import documents
from juki.ui.access import counter_view, go
from juki.protection.certificates import certificate_alert_check
from juki.protection.enforcement import CERTIFICATE_ALERT
from juki.register import selectors
from juki.core import clock

from . import cash, code_notice, issuing, move_out, responses, services
from .cash_forms import CashForm
from .forms import ALERT_ACKNOWLEDGEMENT, IssueForm, ListForm, MoveOutForm, VoidForm
from .models import Channel
from .preview import certificate_preview

NS = "certificate_counter"


def _subject(request, person_id: int):
    """(person, household or None, the members offered, the requesters offered).

    A removed person (除票): only themselves on the certificate, but the household they were in
    may ask for it as 同一世帯 (a parent for a deceased child), so its members are requesters."""
    person = selectors.person_get(actor=request.actor, person_id=person_id)
    household = selectors.household_get(actor=request.actor, household_id=person["household_id"])
    if person.get("status") == "removed":
        others = [m for m in household["members"] if m["person_id"] != person["person_id"] and not m.get("masked")]
        return person, None, [person], [person, *others]
    return person, household, household["members"], household["members"]


def _form(request, person_id: int, data=None):
    person, household, members, requesters = _subject(request, person_id)
    form = IssueForm(data, person=person, members=members, requesters=requesters,
                     can_my_number=request.user.has_juki_perm(Perm.MY_NUMBER_VIEW))
    return person, household, form


def _call(request, person_id: int):
    _person, household, form = _form(request, person_id, request.POST)
    if not form.is_valid():
        raise DomainError(ErrorCode.INVALID_INPUT, form.error_message())
    return form.call(household["household_id"] if household else None)


@require_GET
@counter_view(Perm.CERTIFICATE_ISSUE)
def issue_form(request, person_id: int):
    person, household, form = _form(request, person_id)
    return render(request, "certificates/issue_form.html", {
        "form": form, "p": person, "household": household, "title": "証明書の交付（住民票の写し等）",
        "help": "certificate"})


_CONFIRM_FEE = "この内容で証明書を交付します。よろしいですか。（手数料が発生します）"
_CONFIRM_FREE = "この内容で交付します。よろしいですか。"


def _show_preview(request, result, *, issue_url: str, confirm: str = _CONFIRM_FEE):
    """Keep the sample PDF in the preview slot and show it with its 交付 button."""
    token = documents.keep_preview(request, result.pdf)
    return render(request, "certificates/_preview.html", {"token": token, "warnings": result.warnings,
                                                          "issue_url": issue_url, "confirm": confirm})


@require_POST
@counter_view(Perm.CERTIFICATE_ISSUE)
def preview(request, person_id: int):
    options, household_id, person_ids, req = _call(request, person_id)
    result = certificate_preview(actor=request.actor, options=options, household_id=household_id,
                                 person_ids=person_ids, request=req)
    return _show_preview(request, result, issue_url=reverse(f"{NS}:issue", args=[person_id]))


@xframe_options_sameorigin  # shown in the issue screen's own <iframe>
@require_GET
@counter_view(Perm.CERTIFICATE_ISSUE)
def preview_pdf(request, token: str):
    pdf = documents.preview_pdf(request, token)
    if pdf is None:
        raise NotFoundError("このプレビューは表示できません。もう一度「印刷プレビュー」を押してください。")
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = 'inline; filename="preview.pdf"'
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@counter_view(Perm.CERTIFICATE_ISSUE)
def issue(request, person_id: int):
    """交付する: on the screen (htmx) first every check of the issue, then the fee to confirm
    (`_issue_confirm.html`, whose button posts `confirmed=1`); only then the issue."""
    options, household_id, person_ids, req = _call(request, person_id)
    if getattr(request, "htmx", False) and request.POST.get("confirmed") != "1":
        check = services.certificate_check(actor=request.actor, options=options, household_id=household_id,
                                           person_ids=person_ids, request=req)
        return render(request, "certificates/_issue_confirm.html", {
            "check": check, "form_label": services.FORM_LABELS.get(options.form, options.form),
            "issue_url": reverse(f"{NS}:issue", args=[person_id])})
    result = services.certificate_issue(actor=request.actor, options=options, household_id=household_id,
                                        person_ids=person_ids, request=req)
    documents.keep_issued(request, result)
    return go(request, reverse(f"{NS}:issue_detail", args=[result.number]) + "?done=issued")


def _issued(request, result: issuing.IssueResult):
    """After a 転出証明書 or a notice: the record, with the PDF open on it to print at once."""
    documents.keep_issued(request, result)
    return go(request, reverse(f"{NS}:issue_detail", args=[result.number]) + "?done=issued&open=1")


# --- 転出証明書 [660][670] ---------------------------------------------------------------------------


def _move_out_form(request, person_id: int, data=None):
    person = selectors.person_get(actor=request.actor, person_id=person_id)
    found = move_out.move_out_of(actor=request.actor, person_id=person_id)  # refuses a person without a 転出
    return person, found, MoveOutForm(data, movers=found["movers"])


def _move_out_call(request, person_id: int) -> tuple[int, dict]:
    _person, found, form = _move_out_form(request, person_id, request.POST)
    if not form.is_valid():
        raise DomainError(ErrorCode.INVALID_INPUT, form.error_message())
    return found["change_id"], form.call()


@require_GET
@counter_view(Perm.CERTIFICATE_ISSUE)
def move_out_form(request, person_id: int):
    person, found, form = _move_out_form(request, person_id)
    needs_right = any(m["has_my_number"] for m in found["movers"]) and not request.actor.can(Perm.MY_NUMBER_VIEW)
    return render(request, "certificates/move_out_form.html", {
        "p": person, "found": found, "form": form, "needs_right": needs_right,
        "fee": issuing.fee_for(move_out.FORM, official=False, reissue=False),
        "title": "証明書の交付（転出証明書）", "help": "certificate"})


@require_POST
@counter_view(Perm.CERTIFICATE_ISSUE)
def move_out_preview(request, person_id: int):
    change_id, values = _move_out_call(request, person_id)
    result = move_out.move_out_certificate_preview(actor=request.actor, change_id=change_id,
                                                   person_ids=values["person_ids"], special=values["special"])
    free = not issuing.fee_for(move_out.FORM, official=False, reissue=False)  # free unless the fee table says otherwise
    return _show_preview(request, result, issue_url=reverse(f"{NS}:move_out_issue", args=[person_id]),
                         confirm=_CONFIRM_FREE if free else _CONFIRM_FEE)


@require_POST
@counter_view(Perm.CERTIFICATE_ISSUE)
def move_out_issue(request, person_id: int):
    change_id, values = _move_out_call(request, person_id)
    return _issued(request, move_out.move_out_certificate_issue(actor=request.actor, change_id=change_id, **values))


@require_POST
@counter_view(Perm.CERTIFICATE_ISSUE)
def move_out_after_change(request, change_id: int):
    """From the 転出's change-done screen [660]: everyone the 転出届 moved, in one click."""
    return _issued(request, move_out.move_out_certificate_issue(actor=request.actor, change_id=change_id))


# --- 住民票コード通知票 [890] --------------------------------------------------------------------------


@require_GET
@counter_view(Perm.CERTIFICATE_ISSUE)
def code_notice_form(request, person_id: int):
    person = selectors.person_get(actor=request.actor, person_id=person_id)
    status = code_notice.resident_code_notice_status(actor=request.actor, person_id=person_id)
    return render(request, "certificates/code_notice_form.html", {
        "p": person, "status": status,
        "title": "証明書の交付（住民票コード通知票）", "help": "certificate"})


@require_POST
@counter_view(Perm.CERTIFICATE_ISSUE)
def code_notice_preview(request, person_id: int):
    result = code_notice.resident_code_notice_preview(actor=request.actor, person_id=person_id)
    return _show_preview(request, result, issue_url=reverse(f"{NS}:code_notice_issue", args=[person_id]),
                         confirm="住民票コード通知票を出力します。よろしいですか。")


@require_POST
@counter_view(Perm.CERTIFICATE_ISSUE)
def code_notice_issue(request, person_id: int):
    """出力 in the flow (the change-done screen posts its change id) or 再出力 from the tab (none)."""
    raw = request.POST.get("change_id") or ""
    if raw and not raw.isdigit():
        raise DomainError(ErrorCode.INVALID_INPUT, "異動の指定が正しくありません。", field="change_id")
    result = code_notice.resident_code_notice_issue(actor=request.actor, person_id=person_id,
                                                    change_id=int(raw) if raw else None)
    return _issued(request, result)


def _shown(row: dict) -> dict:
    """The issue time as the counter reads it: local, 和暦."""
    at = timezone.localtime(dt.datetime.fromisoformat(row["issued_at"]))
    row["issued_display"] = f"{to_wareki(at.date())} {at:%H:%M}"
    return row


def _one(request, number: str) -> dict:
    rows = services.certificate_list(actor=request.actor, number=number, limit=1)
    if not rows:
        raise NotFoundError("この発行番号の証明書はありません。")
    return _shown(rows[0])


_DONE = {"issued": "交付しました。", "reissued": "再交付しました。", "voided": "無効にしました。"}


@require_GET
@counter_view(Perm.CERTIFICATE_ISSUE)
def issue_detail(request, number: str):
    item = _one(request, number)
    slot = documents.issued_slot(request, item["number"])
    mine = bool(slot)
    pdf_ready = mine and item["state"] == "issued"
    # The 再交付 button issues again: an アラート must be acknowledged first, as on the issue form [410].
    alert = (item["form"] != "seal_cert" and bool(item["person_ids"])
             and certificate_alert_check(actor=request.actor, person_ids=item["person_ids"]))
    warnings = slot.get("warnings") if mine else []
    # Issued after the clerk acknowledged the alert: say so, not 「…確認してから交付してください」 again.
    acknowledged = CERTIFICATE_ALERT in warnings and request.GET.get("done") in ("issued", "reissued")
    warnings = [w for w in warnings if w != CERTIFICATE_ALERT]
    return render(request, "certificates/issue_detail.html", {
        "item": item, "pdf_ready": pdf_ready, "show_pdf": pdf_ready and request.GET.get("open") == "1",
        "alert": alert, "acknowledged": acknowledged, "acknowledgement": ALERT_ACKNOWLEDGEMENT,
        "warnings": warnings, "kept_for": documents.KEPT_FOR,
        "done": _DONE.get(request.GET.get("done", "")), "void_form": VoidForm(),
        "title": f"発行番号 {item['number']}", "help": "certificate"})


@xframe_options_sameorigin  # ?inline=1: shown on the issue screen itself, ready to print
@require_GET
@counter_view(Perm.CERTIFICATE_ISSUE)
def issue_pdf(request, number: str):
    """The issued PDF, for saving and printing: only in the session that issued it, while kept."""
    slot = documents.issued_slot(request, number)
    pdf = documents.issued_pdf(request, number) if slot else None
    if pdf is None:
        raise NotFoundError(f"この証明書のPDFは、交付した職員のログイン中、{documents.KEPT_FOR}に限り取り出せます。"
                            "もう一度必要なときは、交付履歴から無効にして再交付してください。")
    return responses.issued_pdf(request.actor, number=number, pdf=pdf,
                                person_ids=slot.get("person_ids") or [], inline=request.GET.get("inline") == "1",
                                channel=Channel.COUNTER)


@require_GET
@counter_view(Perm.CERTIFICATE_ISSUE)
def issue_list(request):
    query = {k: v for k, v in request.GET.items() if k != "person"}
    today = clock.today()
    form = ListForm(query or None, initial={"date_from": to_wareki(today), "date_to": to_wareki(today)})
    person_id = request.GET.get("person") or ""
    rows, subject = [], None
    if person_id and not person_id.isdigit():
        raise DomainError(ErrorCode.INVALID_INPUT, "住民の指定が正しくありません。", field="person")
    if form.is_bound and not form.is_valid():
        raise DomainError(ErrorCode.INVALID_DATE, _form_error(form))
    data = form.cleaned_data if form.is_bound else {}
    date_from, date_to = data.get("date_from"), data.get("date_to")
    if not (person_id or data.get("number") or date_from or date_to):
        date_from = date_to = today  # the day's issues by default
    if person_id:
        subject = selectors.person_get(actor=request.actor, person_id=int(person_id))
    rows = services.certificate_list(actor=request.actor, date_from=date_from, date_to=date_to,
                                     person_id=int(person_id) if person_id else None, number=data.get("number") or "")
    return render(request, "certificates/issue_list.html", {
        "form": form, "rows": [_shown(r) for r in rows], "subject": subject, "person_id": person_id, "date_from": date_from,
        "date_to": date_to, "title": "証明書の交付履歴", "help": "certificate"})


def _form_error(form) -> str:
    return " ".join(f"{form.fields[k].label}: {e}" if k in form.fields else e
                    for k, errors in form.errors.items() for e in errors)


@require_POST
@counter_view(Perm.CERTIFICATE_ISSUE)
def issue_void(request, number: str):
    # The reason's rules (required, length) are the service's.
    services.certificate_void(actor=request.actor, number=number, reason=request.POST.get("reason", ""))
    documents.forget_issued(request, number)  # a voided certificate is not handed out again
    return go(request, reverse(f"{NS}:issue_detail", args=[number]) + "?done=voided")


@require_POST
@counter_view(Perm.CERTIFICATE_ISSUE)
def issue_reissue(request, number: str):
    result = services.certificate_reissue(actor=request.actor, number=number,
                                          acknowledge_alert=request.POST.get("acknowledge_alert") == "on")
    documents.keep_issued(request, result)
    return go(request, reverse(f"{NS}:issue_detail", args=[result.number]) + "?done=reissued")


# --- fees and cash [1420]: 手数料一覧, 領収書, 日計表 (the rules are `cash`'s and `issuing.fee_for`'s) ---


def _download(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@counter_view(Perm.CERTIFICATE_ISSUE)
def fee_table(request):
    return render(request, "certificates/fee_table.html", {
        "rows": cash.fee_table(), "rules": cash.FEE_RULES, "title": "手数料一覧", "help": "certificate"})


@require_http_methods(["GET", "POST"])
@counter_view(Perm.CERTIFICATE_ISSUE)
def issue_receipt(request, number: str):
    """The receipt PDF; the 宛名 comes in a POST body, never in the URL (it may name a person)."""
    pdf = cash.certificate_receipt(request.actor, number, addressee=request.POST.get("addressee", ""))
    return _download(pdf, "application/pdf", f"receipt-{number}.pdf")


def _cash_query(request):
    """(form, day, terminal code or None): today at this counter's terminal unless chosen."""
    bound = bool(request.GET)
    form = CashForm(request.GET if bound else None,
                    initial={"day": to_wareki(clock.today()), "terminal": request.terminal.code})
    if bound and not form.is_valid():
        raise DomainError(ErrorCode.INVALID_DATE, _form_error(form))
    data = form.cleaned_data if bound else {}
    day = data.get("day") or clock.today()
    code = data.get("terminal", "") if bound else request.terminal.code
    return form, day, code or None


@require_GET
@counter_view(Perm.CERTIFICATE_ISSUE)
def cash_summary(request):
    form, day, code = _cash_query(request)
    summary = cash.cash_summary(request.actor, day, code)
    query = urlencode({"day": day.isoformat(), "terminal": code or ""})
    return render(request, "certificates/cash_summary.html", {
        "form": form, "s": summary, "query": query, "title": "日計表（証明書の手数料）", "help": "certificate"})


def _safe_name(code: str | None) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", code) if code else "all"  # a terminal code in a header


@require_GET
@counter_view(Perm.CERTIFICATE_ISSUE)
def cash_summary_csv(request):
    _form, day, code = _cash_query(request)
    summary = cash.cash_summary(request.actor, day, code, output="csv")
    return _download(cash.cash_summary_csv(summary), "text/csv; charset=utf-8",
                     f"cash-{day:%Y%m%d}-{_safe_name(code)}.csv")


@require_GET
@counter_view(Perm.CERTIFICATE_ISSUE)
def cash_summary_pdf(request):
    _form, day, code = _cash_query(request)
    summary = cash.cash_summary(request.actor, day, code, output="pdf")
    return _download(cash.cash_summary_pdf(summary), "application/pdf", f"cash-{day:%Y%m%d}-{_safe_name(code)}.pdf")
