"""The counter's 印鑑登録 screens: the person's registration (登録・回答書・廃止・亡失) and the
印鑑登録証明書 (card number, requester, 印刷プレビュー, 交付). Thin callers of `services`.

The PDFs between requests live in the session as the certificate screens keep theirs: the
latest preview in a slot of its own, the issued PDF in the certificate screens' slot, so that
their download (`certificate_counter:issue_pdf`) hands it out and logs it.
"""
from __future__ import annotations

import datetime as dt

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from juki.accounts.permissions import Perm
from juki.certificates import issuing
from juki.certificates import services as certificates
from juki.core.errors import NotFoundError
from juki.core.wareki import to_wareki
from juki.ui import documents
from juki.ui.access import counter_view, go
from juki.register import selectors

from . import images, services
from .forms import AnswerForm, CertificateForm, EndForm, ImageCheckForm, RegisterForm

NS = "seal_counter"
_DONE = {"registered": "印鑑を登録しました。",
         "applied": "登録申請を受け付けました。「照会書・回答書を印刷」で照会書を印刷し、住所へ郵送してください。",
         "answered": "回答書を受け付け、印鑑を登録しました。", "abolished": "印鑑登録を廃止しました。",
         "withdrawn": "印鑑登録の申請を取り下げました。", "lost": "亡失の届出を受け付け、印鑑登録を廃止しました。",
         "lost_card": "亡失の届出を受け付け、印鑑登録と、印鑑登録証だった市民カードを廃止しました。"
                      "新しい市民カードは、市民カードの画面で交付してください。"}


def _back(request, person_id: int, done: str):
    return go(request, reverse(f"{NS}:person", args=[person_id]) + f"?done={done}")


def _wareki(iso: str | None) -> str:
    return to_wareki(dt.date.fromisoformat(iso)) if iso else ""


def _shown(reg: dict | None) -> dict | None:
    """Dates in 和暦 for the screen."""
    if reg is None:
        return None
    for key in ("applied_on", "registered_on", "inquiry_sent_on", "answer_due", "ended_on"):
        reg[f"{key}_display"] = _wareki(reg[key])
    for e in reg["events"]:
        e["on_display"] = _wareki(e["on"])
    return reg


@require_GET
@counter_view(Perm.SEAL_MANAGE)
def person(request, person_id: int):
    state = services.seal_get(actor=request.actor, person_id=person_id)
    for reg in state["registrations"]:
        _shown(reg)
    return render(request, "seals/person.html", {
        "s": state, "p": state["person"], "live": state["live"], "register_form": RegisterForm(),
        "answer_form": AnswerForm(), "abolish_form": EndForm(prefix="abolish"), "lost_form": EndForm(prefix="lost"),
        "done": _DONE.get(request.GET.get("done", "")), "min_age": services.MIN_AGE,
        "title": "印鑑登録", "help": "seal"})


@require_POST
@counter_view(Perm.SEAL_MANAGE)
def register(request, person_id: int):
    form = RegisterForm(request.POST, request.FILES)
    reg = services.seal_register(actor=request.actor, person_id=person_id, **form.call())
    return _back(request, person_id, "registered" if reg["state"] == "registered" else "applied")


@require_POST
@counter_view(Perm.SEAL_MANAGE)
def image_check(request):
    """The 印影 as it would be registered (measured, normalised), before the application is sent.
    Nothing is stored: the upload is checked and shown back."""
    seal = images.normalise(ImageCheckForm(request.POST, request.FILES).image_bytes())
    return render(request, "seals/_image_check.html", {
        "uri": services.data_uri(seal.png), "seal": seal,
        "shown_mm": [round(v, 1) for v in seal.png_size_mm]})


@require_GET
@counter_view(Perm.SEAL_MANAGE)
def inquiry_letter(request, person_id: int):
    pdf = services.seal_inquiry_letter(actor=request.actor, person_id=person_id)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="seal-inquiry.pdf"'
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@counter_view(Perm.SEAL_MANAGE)
def answer(request, person_id: int):
    services.seal_inquiry_answer(actor=request.actor, person_id=person_id, **AnswerForm(request.POST).call())
    return _back(request, person_id, "answered")


@require_POST
@counter_view(Perm.SEAL_MANAGE)
def abolish(request, person_id: int):
    reg = services.seal_abolish(actor=request.actor, person_id=person_id,
                                **EndForm(request.POST, prefix="abolish").call(lost=False))
    return _back(request, person_id, "abolished" if reg["registered_on"] else "withdrawn")


@require_POST
@counter_view(Perm.SEAL_MANAGE)
def lost(request, person_id: int):
    reg = services.seal_report_lost(actor=request.actor, person_id=person_id,
                                    **EndForm(request.POST, prefix="lost").call(lost=True))
    return _back(request, person_id, "lost_card" if reg["cards_abolished"] else "lost")


# --- 印鑑登録証明書 -------------------------------------------------------------------------------------


@require_GET
@counter_view(Perm.CERTIFICATE_ISSUE)
def certificate(request, person_id: int):
    p = selectors.person_get(actor=request.actor, person_id=person_id)
    return render(request, "seals/certificate.html", {
        "p": p, "form": CertificateForm(), "status": services.seal_status(actor=request.actor, person_id=person_id), "fee": issuing.fee_for(services.SEAL_CERT, official=False, reissue=False),
        "can_manage": request.actor.can(Perm.SEAL_MANAGE), "title": "印鑑登録証明書の交付", "help": "seal"})


@require_POST
@counter_view(Perm.CERTIFICATE_ISSUE)
def certificate_preview(request, person_id: int):
    result = services.seal_certificate_preview(actor=request.actor, **CertificateForm(request.POST).call(person_id))
    token = documents.keep_preview(request, result.pdf)
    return render(request, "seals/_preview.html", {"token": token, "warnings": result.warnings, "person_id": person_id})


@require_POST
@counter_view(Perm.CERTIFICATE_ISSUE)
def certificate_issue(request, person_id: int):
    """交付する: every check first, then the fee to confirm (as the 住民票の写し's screen), then the issue."""
    values = CertificateForm(request.POST).call(person_id)
    if getattr(request, "htmx", False) and request.POST.get("confirmed") != "1":
        check = services.seal_certificate_check(actor=request.actor, **values)
        return render(request, "certificates/_issue_confirm.html", {
            "check": check, "form_label": "印鑑登録証明書", "form_selector": "#certificate-form",
            "issue_url": reverse(f"{NS}:certificate_issue", args=[person_id])})
    result = services.seal_certificate_issue(actor=request.actor, **values)
    documents.keep_issued(request, result)  # their download hands the PDF out (each download logged)
    return go(request, reverse(f"{NS}:issued", args=[result.number]))


@require_POST
@counter_view(Perm.CERTIFICATE_ISSUE)
def reissue(request, number: str):
    result = services.seal_certificate_reissue(actor=request.actor, number=number)
    documents.keep_issued(request, result)
    return go(request, reverse(f"{NS}:issued", args=[result.number]) + "?done=reissued")


@require_GET
@counter_view(Perm.CERTIFICATE_ISSUE)
def issued(request, number: str):
    rows = certificates.certificate_list(actor=request.actor, number=number, limit=1)
    if not rows or rows[0]["form"] != services.SEAL_CERT:
        raise NotFoundError("この発行番号の印鑑登録証明書はありません。")
    item = rows[0]
    at = timezone.localtime(dt.datetime.fromisoformat(item["issued_at"]))
    slot = documents.issued_slot(request, item["number"])
    mine = bool(slot)
    return render(request, "seals/issued.html", {
        "item": item, "done": "再交付しました。" if request.GET.get("done") == "reissued" else "交付しました。", "issued_display": f"{to_wareki(at.date())} {at:%H:%M}",
        "pdf_ready": mine and item["state"] == "issued", "warnings": slot.get("warnings") if mine else [],
        "person_id": item["person_ids"][0], "title": f"印鑑登録証明書 発行番号 {item['number']}", "help": "seal"})
