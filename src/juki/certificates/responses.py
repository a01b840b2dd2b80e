"""The issued PDF as an HTTP response, shared by the counter and the kiosk screens.

Every copy handed out, shown on screen or downloaded, is on the record as
`print.certificate_download` (the issue itself logged `print.certificate`)."""
from __future__ import annotations

from django.http import HttpResponse

from juki.audit import events
from juki.audit.gate import Actor


def issued_pdf(actor: Actor, *, number: str, pdf: bytes, person_ids: list[int], inline: bool,
               channel: str) -> HttpResponse:
    events.record(actor, function="print.certificate_download", person_ids=person_ids,
                  criteria={"number": number, "inline": inline, "channel": channel})
    response = HttpResponse(pdf, content_type="application/pdf")
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="certificate-{number}.pdf"'
    response["Cache-Control"] = "no-store"
    return response
