"""The public verification page: a holder of a certificate (a bank, a landlord, the resident)
types the issue number and picks the PDF; the page says whether it is genuine. No login, and
nothing about whom the certificate concerns is shown."""
from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from juki.core.errors import DomainError, ErrorCode

from juki.register.models import Municipality

from . import issuing, services


@require_http_methods(["GET", "POST"])
def verify(request, number: str = ""):
    context = {"number": number, "result": None, "error": "",
               # The QR code of a paper copy: what was issued under the number, without its content.
               "status": services.certificate_status(number=number) if number and request.method == "GET" else None,
               "city": issuing.city().name if Municipality.objects.exists() else ""}
    if request.method == "POST":
        context["number"] = number = request.POST.get("number", "").strip()
        upload = request.FILES.get("pdf")
        try:
            if upload is None:
                raise DomainError(ErrorCode.INVALID_INPUT, "確認する証明書のPDFを選んでください。", field="pdf")
            context["result"] = services.certificate_verify(number=number, pdf=services.read_pdf(upload))
        except DomainError as exc:
            context["error"] = exc.message
    response = render(request, "certificates/verify.html", context, status=400 if context["error"] else 200)
    response["Cache-Control"] = "no-store"
    return response
