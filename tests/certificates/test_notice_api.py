"""The API for the 転出証明書 and the 住民票コード通知票: issue, reissue, refusals, denied calls."""
from __future__ import annotations

import hashlib

import pytest

from juki.audit.models import AccessLog
from juki.certificates import services
from juki.certificates.content import Options
from juki.certificates.models import CertificateIssue
from juki.core.errors import DomainError, ErrorCode
from tests.conftest import api_for
from tests.helpers import pdf_text

from .test_move_out import leave, with_my_number

MOVE_OUT = "/api/v1/certificates/move-out"
NOTICE = "/api/v1/certificates/resident-code-notice"


def test_move_out_certificate_and_its_reissue(world, fam, clerk, supervisor, terminal):
    with_my_number(world, fam["head"])
    change_id = leave(world, fam)
    api = api_for(supervisor, terminal)  # a 個人番号 is printed: a token issued after the second factor
    r = api.post(MOVE_OUT, {"change_id": change_id, "special": True, "documents": ["運転免許証"]}, format="json")
    assert r.status_code == 201, r.content[:300]
    assert r["Content-Type"] == "application/pdf" and "no-store" in r["Cache-Control"]
    number = r["X-Certificate-Number"]
    rec = CertificateIssue.objects.get(number=number)
    assert rec.sha256 == hashlib.sha256(r.content).hexdigest() and rec.form == "move_out_cert"
    assert rec.person_ids == [fam["head"], fam["wife"], fam["child"]] and rec.options["special"] is True
    text = pdf_text(r.content)
    assert "特例による転出処理済" in text and "個人番号123456789018" in text

    again = api.post(f"/api/v1/certificates/{number}/reissue", format="json")
    assert again.status_code == 201
    assert "転出証明書（再交付）" in pdf_text(again.content)
    assert CertificateIssue.objects.get(number=again["X-Certificate-Number"]).reissue_of == rec

    # Refusals, as problems with their codes; nothing recorded.
    duplicate = api.post(MOVE_OUT, {"change_id": change_id}, format="json")
    assert duplicate.status_code == 409 and duplicate.json()["code"] == "conflict"
    clerk_api = api_for(clerk, terminal)
    refused = clerk_api.post(MOVE_OUT, {"change_id": change_id, "person_ids": [fam["head"]]}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    not_out = clerk_api.post(MOVE_OUT, {"change_id": 987654}, format="json")
    assert not_out.status_code == 404
    unknown = clerk_api.post(MOVE_OUT, {"change_id": change_id, "colour": "red"}, format="json")
    assert unknown.status_code == 400 and unknown.json()["code"] == "unknown_field"
    assert CertificateIssue.objects.count() == 2


def test_code_notice_and_its_reissue(world, fam, api):
    r = api.post(NOTICE, {"person_id": fam["child"]}, format="json")
    assert r.status_code == 201, r.content[:300]
    rec = CertificateIssue.objects.get(number=r["X-Certificate-Number"])
    assert (rec.form, rec.requester_kind, rec.fee) == ("resident_code_notice", "ex_officio", 0)
    assert "住民票コード通知票" in pdf_text(r.content)
    listed = api.get(f"/api/v1/certificates?person={fam['child']}").json()["issues"][0]
    assert listed["requester_kind_label"] == "職権" and listed["form_label"] == "住民票コード通知票"

    again = api.post(f"/api/v1/certificates/{rec.number}/reissue", format="json")
    assert again.status_code == 201 and "住民票コード通知票（再交付）" in pdf_text(again.content)

    wrong = api.post(NOTICE, {"person_id": fam["child"], "change_id": 987654}, format="json")
    assert wrong.status_code == 400 and wrong.json()["code"] == "invalid_input" and wrong.json()["field"] == "change_id"
    assert CertificateIssue.objects.count() == 2


def test_the_request_kinds_of_these_forms_are_not_for_copies(world, fam, api):
    body = {"form": "copy", "layout": "household", "household_id": fam["household"],
            "request": {"kind": "ex_officio"}}
    r = api.post("/api/v1/certificates", body, format="json")
    assert r.status_code == 400
    assert r.json()["code"] == "invalid_input"
    assert r.json()["errors"] == {"request": {"kind": ['"ex_officio"は有効な選択肢ではありません。']}}  # only the kind
    assert CertificateIssue.objects.count() == 0
    # …and the service refuses them too, whatever the caller.
    with pytest.raises(DomainError) as err:
        services.certificate_issue(actor=world, options=Options(), household_id=fam["household"], person_ids=[],
                                   request=services.Request(kind="notifier", requester_name="x"))
    assert err.value.field == "kind"
    assert err.value.code == ErrorCode.INVALID_INPUT
    assert CertificateIssue.objects.count() == 0


def test_denied_calls_get_403_and_a_log_row(world, fam, viewer, terminal):
    change_id = leave(world, fam)
    outsider = api_for(viewer, terminal)
    for url, body in ((MOVE_OUT, {"change_id": change_id}), (NOTICE, {"person_id": fam["head"]})):
        last = AccessLog.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        r = outsider.post(url, body, format="json")
        assert r.status_code == 403, url
        row = AccessLog.objects.filter(pk__gt=last).get()
        assert (row.user, row.function, row.outcome) == (viewer, "certificate.issue", AccessLog.DENIED)
    assert CertificateIssue.objects.count() == 0
