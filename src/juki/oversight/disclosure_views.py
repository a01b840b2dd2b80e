"""開示請求の回答作成: start page (宛名番号), the resident-facing summary, and the PDF.

The auditor who answers disclosure requests has `disclosure.prepare` but not `person.search` /
`person.view`, so the way in is the 宛名番号 written on the request, entered on the start page
(POST, never in the URL). Staff who can also open the person page get a link there.
"""
from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from juki.accounts.permissions import Perm
from juki.core.wareki import parse_input
from juki.ui.access import counter_view

from . import disclosure


def _since(request):
    raw = (request.POST.get("since") or request.GET.get("since") or "").strip()
    if not raw:
        return None, ""
    return parse_input(raw, field="since", label="対象期間の開始日"), raw


@counter_view(Perm.DISCLOSURE_PREPARE)
def start(request):
    if request.method == "POST":
        person_id = disclosure.person_by_atena(request.actor, request.POST.get("atena_number", ""))
        return redirect("disclosure:person", person_id=person_id)
    return render(request, "oversight/disclosure_start.html", {"title": "開示請求の回答作成", "help": "disclosure"})


@counter_view(Perm.DISCLOSURE_PREPARE)
def person(request, person_id: int):
    since, raw = _since(request)
    data = disclosure.disclosure_summary(request.actor, person_id, since)
    return render(request, "oversight/disclosure_person.html", {
        "title": "開示請求の回答作成", "help": "disclosure", "data": data, "since": since, "since_raw": raw})


@require_POST
@counter_view(Perm.DISCLOSURE_PREPARE)
def report(request, person_id: int):
    since, _ = _since(request)
    pdf = disclosure.disclosure_report(request.actor, person_id, since=since)
    return pdf_response(pdf)


def pdf_response(pdf: bytes) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    # The file name carries no personal data: only when it was made.
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="disclosure-{stamp}.pdf"'
    response["Cache-Control"] = "no-store"
    return response
