"""The certificate API (staff, token) and the public verification (API and page)."""
from __future__ import annotations

import hashlib

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from juki.audit.models import AccessLog
from juki.certificates.models import CertificateIssue

from ..conftest import TODAY, api_for, move_in_family


def _family(world) -> dict:
    result = move_in_family(world)
    return {"household": result.households[0]["id"], "head": result.persons[0]["id"]}


def _body(fam, **over) -> dict:
    body = {"form": "copy", "layout": "household", "household_id": fam["household"],
            "request": {"kind": "self", "requester_person_id": fam["head"], "documents": ["運転免許証"]}}
    body.update(over)
    return body


def _issue(api, fam, **over):
    return api.post("/api/v1/certificates", _body(fam, **over), format="json")


def test_issue_returns_the_pdf_with_its_number(world, api):
    fam = _family(world)
    r = _issue(api, fam, head_and_relationship=True)
    assert r.status_code == 201, r.content[:300]
    assert r["Content-Type"] == "application/pdf" and r.content.startswith(b"%PDF")
    assert "no-store" in r["Cache-Control"]
    number = r["X-Certificate-Number"]
    rec = CertificateIssue.objects.get(number=number)
    assert rec.sha256 == hashlib.sha256(r.content).hexdigest() and rec.options["head_and_relationship"] is True


def test_issue_refusals_are_problems_with_codes(world, api):
    fam = _family(world)
    third = {"kind": "third_party", "requester_name": "株式会社　北九ファイナンス", "documents": ["社員証"],
             "purpose": "債権回収"}
    r = _issue(api, fam, layout="individual", household_id=None, person_ids=[fam["head"]], my_number=True,
               request=third)
    assert r.status_code == 400 and r.json()["code"] == "certificate_not_entitled" and r.json()["field"] == "my_number"
    r = _issue(api, fam, request={"kind": "agent", "requester_name": "代理　人", "documents": ["運転免許証"]})
    assert r.status_code == 400 and r.json()["code"] == "certificate_request_incomplete"
    r = _issue(api, fam, colour="red")
    assert r.status_code == 400 and r.json()["code"] == "unknown_field"
    assert CertificateIssue.objects.count() == 0


def test_denied_calls_get_403_and_a_log_row(world, viewer, terminal, api):
    fam = _family(world)
    number = _issue(api, fam)["X-Certificate-Number"]
    outsider = api_for(viewer, terminal)
    calls = [("post", "/api/v1/certificates", _body(fam), "certificate.issue"),
             ("get", "/api/v1/certificates", None, "certificate.list"),
             ("post", f"/api/v1/certificates/{number}/void", {"reason": "x"}, "certificate.void"),
             ("post", f"/api/v1/certificates/{number}/reissue", {}, "certificate.reissue")]
    for method, url, body, function in calls:
        last = AccessLog.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        r = getattr(outsider, method)(url, body, format="json") if body is not None else outsider.get(url)
        assert r.status_code == 403, url
        row = AccessLog.objects.filter(pk__gt=last).get()
        assert (row.user, row.function, row.outcome) == (viewer, function, AccessLog.DENIED)
    assert CertificateIssue.objects.count() == 1


def test_inquiry_void_and_reissue(world, api, clerk):
    fam = _family(world)
    number = _issue(api, fam)["X-Certificate-Number"]
    r = api.get(f"/api/v1/certificates?person={fam['head']}&date_from={TODAY.isoformat()}")
    assert r.status_code == 200 and [i["number"] for i in r.json()["issues"]] == [number]
    assert r.json()["issues"][0]["operator"] == clerk.username
    assert api.get("/api/v1/certificates?date_from=yesterday").json()["code"] == "invalid_date"

    r = api.post(f"/api/v1/certificates/{number}/void", {"reason": "印刷不良"}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "voided"
    assert api.post(f"/api/v1/certificates/{number}/void", {"reason": "印刷不良"}, format="json").json()["code"] == \
        "certificate_voided"
    r = api.post(f"/api/v1/certificates/{number}/reissue", format="json")
    assert r.status_code == 201 and r["X-Certificate-Number"] != number
    assert CertificateIssue.objects.get(number=r["X-Certificate-Number"]).reissue_of.number == number
    assert api.post("/api/v1/certificates/2000-000001/reissue", format="json").status_code == 404


def test_verify_api_needs_no_login(world, api):
    fam = _family(world)
    r = _issue(api, fam)
    number, pdf = r["X-Certificate-Number"], r.content
    public = APIClient()
    ok = public.post("/api/v1/certificates/verify", {"number": number, "pdf": SimpleUploadedFile("c.pdf", pdf)},
                     format="multipart")
    assert ok.status_code == 200 and ok.json()["result"] == "genuine"
    assert "青木" not in ok.content.decode()
    by_hash = public.post("/api/v1/certificates/verify", {"number": number, "sha256": hashlib.sha256(pdf).hexdigest()},
                          format="json")
    assert by_hash.json()["result"] == "genuine"
    tampered = pdf[:-10] + bytes([pdf[-10] ^ 1]) + pdf[-9:]
    bad = public.post("/api/v1/certificates/verify", {"number": number, "pdf": SimpleUploadedFile("c.pdf", tampered)},
                      format="multipart")
    assert bad.json()["result"] == "altered"
    unknown = public.post("/api/v1/certificates/verify", {"number": f"{TODAY.year}-999999", "sha256": "0" * 64},
                          format="json")
    assert unknown.json()["result"] == "unknown"
    assert public.post("/api/v1/certificates/verify", {}, format="json").status_code == 400


def test_verify_page(world, api):
    fam = _family(world)
    r = _issue(api, fam)
    number, pdf = r["X-Certificate-Number"], r.content
    page = Client()
    form = page.get(f"/verify/{number}")
    paper = form.content.decode()
    assert form.status_code == 200 and f'value="{number}"' in paper
    # A paper copy's QR code: what was issued under the number, in 和暦, and whether it still holds.
    from juki.core.wareki import to_wareki

    assert f"発行番号 {number} は、{to_wareki(TODAY)}に交付した住民票の写しです。無効にはされていません。" in paper
    assert "青木" not in paper and "城内" not in paper
    assert "交付されていません" in page.get(f"/verify/{TODAY.year}-999999").content.decode()
    shown = page.post("/verify/", {"number": number, "pdf": SimpleUploadedFile("c.pdf", pdf, "application/pdf")})
    text = shown.content.decode()
    assert shown.status_code == 200 and "交付後に変更されていません" in text and "住民票の写し" in text
    assert f"交付日 {to_wareki(TODAY)}" in text and TODAY.isoformat() not in text
    assert "青木" not in text and "城内" not in text
    api.post(f"/api/v1/certificates/{number}/void", {"reason": "誤交付"}, format="json")
    voided = page.post("/verify/", {"number": number, "pdf": SimpleUploadedFile("c.pdf", pdf, "application/pdf")})
    assert "無効とされています" in voided.content.decode()
    missing = page.post("/verify/", {"number": number})
    assert missing.status_code == 400 and "PDFを選んでください" in missing.content.decode()
