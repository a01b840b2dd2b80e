"""The seal API: thin callers, problem+json refusals, and denied calls logged."""
from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from juki.audit.models import AccessLog
from juki.cards import services as cards
from juki.certificates.models import CertificateIssue
from tests.conftest import api_for

from .helpers import seal_png


def upload(mm=15):
    return SimpleUploadedFile("seal.png", seal_png(mm), content_type="image/png")


def register(api, person_id, **over):
    body = {"method": "document", "image": upload(), "seal_text": "青木", "documents": ["運転免許証"], "seal_checked": True}
    body.update(over)
    return api.post(f"/api/v1/seals/persons/{person_id}/register", body, format="multipart")


def test_register_read_and_abolish(api, fam):
    r = register(api, fam["head"])
    assert r.status_code == 201, r.content
    assert r.json()["state"] == "registered" and r.json()["image_width_mm"] == "15.0"
    got = api.get(f"/api/v1/seals/persons/{fam['head']}").json()
    assert got["live"]["number"] == r.json()["number"] and "person" not in got
    assert got["live"]["image_data_uri"].startswith("data:image/png;base64,")
    r = api.post(f"/api/v1/seals/persons/{fam['head']}/abolish", {"documents": ["運転免許証"]}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "abolished" and r.json()["end_reason"] == "request"
    r = api.post(f"/api/v1/seals/persons/{fam['head']}/abolish", {"documents": ["運転免許証"]}, format="json")
    assert r.status_code == 400 and r.json()["code"] == "seal_state"


def test_inquiry_then_answer_then_lost(api, fam):
    r = register(api, fam["head"], method="inquiry", documents=[])
    assert r.status_code == 201 and r.json()["state"] == "pending"
    r = api.post(f"/api/v1/seals/persons/{fam['head']}/answer", {"documents": ["旅券"]}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "registered"
    r = api.post(f"/api/v1/seals/persons/{fam['head']}/lost", {"documents": ["旅券"], "what": "seal"}, format="json")
    assert r.status_code == 200 and r.json()["end_reason"] == "lost"


def test_refusals_are_problems_with_a_code_and_a_field(api, fam):
    r = register(api, fam["head"], image=upload(30))
    assert r.status_code == 400 and r.json()["code"] == "seal_image_invalid" and r.json()["field"] == "image"
    assert "大きすぎます" in r.json()["detail"]
    r = register(api, fam["child"])
    assert r.status_code == 400 and r.json()["code"] == "seal_state"
    r = api.post(f"/api/v1/seals/persons/{fam['head']}/register", {"method": "document", "seal_text": "青木"},
                 format="multipart")
    assert r.status_code == 400 and r.json()["code"] == "invalid_input" and "image" in r.json()["errors"]
    r = register(api, fam["head"], pin="1234")
    assert r.status_code == 400 and r.json()["code"] == "unknown_field"
    r = api.post(f"/api/v1/seals/persons/{fam['head']}/lost", {"documents": ["旅券"]}, format="json")
    assert r.status_code == 400 and "what" in r.json()["errors"]


def test_certificate_as_pdf(api, actor, fam):
    card = cards.card_issue(actor=actor, person_id=fam["head"], pin="2580")
    register(api, fam["head"])
    body = {"card_number": card["number"], "stated_birth_date": "1985-04-01", "person_id": fam["head"],
            "request": {"kind": "self", "requester_person_id": fam["head"]}}
    r = api.post("/api/v1/seals/certificates", body, format="json")
    assert r.status_code == 201 and r["Content-Type"] == "application/pdf" and "no-store" in r["Cache-Control"]
    assert CertificateIssue.objects.get(number=r["X-Certificate-Number"]).form == "seal_cert"
    assert r.content.startswith(b"%PDF")
    r = api.post("/api/v1/seals/certificates", {**body, "stated_birth_date": "1985-04-02"}, format="json")
    assert r.status_code == 400 and r.json()["code"] == "certificate_not_entitled" and r.json()["field"] == "stated_birth_date"
    r = api.post("/api/v1/seals/certificates", {**body, "person_id": fam["wife"]}, format="json")
    assert r.status_code == 400 and r.json()["code"] == "card_state"


def test_denied_calls_are_403_and_logged(viewer, auditor, terminal, fam):
    for user, method, url, body in (
        (viewer, "get", f"/api/v1/seals/persons/{fam['head']}", None),
        (viewer, "post", f"/api/v1/seals/persons/{fam['head']}/abolish", {"documents": ["旅券"]}),
        (auditor, "post", "/api/v1/seals/certificates", {"card_number": "1"}),
    ):
        client = api_for(user, terminal)
        before = AccessLog.objects.order_by("-id").values_list("id", flat=True).first() or 0
        r = getattr(client, method)(url, body, format="json") if body else client.get(url)
        assert r.status_code == 403 and r.json()["code"] == "permission_denied"
        rows = AccessLog.objects.filter(id__gt=before, user=user)
        assert [row.outcome for row in rows] == [AccessLog.DENIED]
    viewer_client = api_for(viewer, terminal)
    r = viewer_client.post(f"/api/v1/seals/persons/{fam['head']}/register", {"method": "document", "image": upload(),
                                                                           "seal_text": "青木"}, format="multipart")
    assert r.status_code == 403
    assert AccessLog.objects.filter(function="seal.register", outcome=AccessLog.DENIED).exists()
