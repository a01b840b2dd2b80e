"""An アラート-level 抑止 on 証明書交付 [410]: shown on the record and the form before any issue, and
the issue goes ahead only once the clerk has acknowledged it; the acknowledgement is logged."""
from __future__ import annotations

import shutil

import pytest
from django.urls import reverse

from juki.audit.gate import Actor
from juki.audit.models import AccessLog
from juki.certificates import services
from juki.certificates.content import Options
from juki.certificates.entitlement import Request
from juki.certificates.models import CertificateIssue
from juki.core.errors import DomainError, ErrorCode
from juki.protection import services as protection_services
from juki.protection.certificates import ALERT_ACKNOWLEDGED_FLAG
from juki.protection.enforcement import CERTIFICATE_ALERT
from tests.conftest import api_for, counter_client

from .test_counter_screens import form_data

pytestmark = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")

NS = "certificate_counter"
REFUSAL = "アラートの内容を確認しました"


@pytest.fixture
def alerted(fam, support):
    """The head's certificates are under an alert-level 抑止: issue only after checking."""
    protection_services.restriction_set(actor=support, person_id=fam["head"], processes=["certificate"],
                                        reason="不正請求の疑いがあるため、請求者を確認すること", level="alert")
    return fam


@pytest.fixture
def client(world, clerk, terminal):
    return counter_client(clerk, terminal)


def last_issue_row() -> AccessLog:
    return AccessLog.objects.filter(function="certificate.issue").latest("id")


def test_the_person_screen_and_the_form_show_the_alert_before_issuing(client, alerted):
    person = client.get(reverse("counter:person", args=[alerted["head"]])).content.decode()
    assert CERTIFICATE_ALERT in person
    page = client.get(reverse(f"{NS}:issue_form", args=[alerted["head"]])).content.decode()
    assert CERTIFICATE_ALERT in page
    assert 'name="acknowledge_alert"' in page and REFUSAL in page
    assert CertificateIssue.objects.count() == 0


def test_a_person_without_an_alert_shows_none_and_needs_no_acknowledgement(client, fam):
    page = client.get(reverse(f"{NS}:issue_form", args=[fam["head"]])).content.decode()
    assert CERTIFICATE_ALERT not in page and 'name="acknowledge_alert"' not in page
    r = client.post(reverse(f"{NS}:issue", args=[fam["head"]]), form_data(fam, confirmed="1"), HTTP_HX_REQUEST="true")
    assert r.status_code == 204 and CertificateIssue.objects.count() == 1
    assert ALERT_ACKNOWLEDGED_FLAG not in last_issue_row().flags


def test_issue_without_acknowledgement_is_refused_and_nothing_is_issued(client, alerted):
    # 交付する: refused before the fee is confirmed (the check), and again if the confirmation is forced.
    for confirmed, function in (("", "certificate.issue_check"), ("1", "certificate.issue")):
        r = client.post(reverse(f"{NS}:issue", args=[alerted["head"]]), form_data(alerted, confirmed=confirmed or None),
                        HTTP_HX_REQUEST="true", HTTP_X_JUKI_ERROR_TARGET="#cert-messages")
        assert r["HX-Retarget"] == "#cert-messages" and "HX-Redirect" not in r  # the message, not the issued screen
        body = r.content.decode()
        assert "交付しました" not in body and "交付の確認" not in body and REFUSAL in body
        assert CertificateIssue.objects.count() == 0
        row = AccessLog.objects.filter(function=function).latest("id")
        assert row.outcome == ErrorCode.RESTRICTION_ALERT_UNACKNOWLEDGED == "restriction_alert_unacknowledged"
        assert "restriction" in row.flags


def test_acknowledged_issue_goes_ahead_and_the_log_records_it(client, alerted):
    r = client.post(reverse(f"{NS}:issue", args=[alerted["head"]]),
                    form_data(alerted, acknowledge_alert="on", confirmed="1"), HTTP_HX_REQUEST="true")
    assert r.status_code == 204, r.content.decode()[:300]
    assert CertificateIssue.objects.count() == 1
    row = last_issue_row()
    assert row.outcome == AccessLog.OK and ALERT_ACKNOWLEDGED_FLAG in row.flags
    assert row.criteria["alert_acknowledged"] is True
    printed = AccessLog.objects.filter(function="print.certificate").latest("id")
    assert ALERT_ACKNOWLEDGED_FLAG in printed.flags
    # The issued screen says it was acknowledged, not 「…確認してから交付してください」 after the fact.
    done = client.get(r["HX-Redirect"]).content.decode()
    assert "交付しました。" in done and "確認のうえ交付しました" in done
    assert CERTIFICATE_ALERT not in done


def test_the_preview_shows_the_alert_without_asking_for_it(client, alerted):
    r = client.post(reverse(f"{NS}:preview", args=[alerted["head"]]), form_data(alerted), HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and "証明書交付のアラート" in r.content.decode()
    assert CertificateIssue.objects.count() == 0


def test_a_household_alert_covers_every_member(fam, support, world):
    protection_services.restriction_set(actor=support, household_id=fam["household"], processes=["certificate"],
                                        reason="確認のため", level="alert")
    request = Request(kind="self", requester_person_id=fam["wife"], documents=("運転免許証",))
    options = Options(form="copy", layout="individual", person_ids=(fam["wife"],))
    with pytest.raises(DomainError) as refused:
        services.certificate_issue(actor=world, options=options, household_id=None, person_ids=[fam["wife"]],
                                   request=request)
    assert refused.value.code == ErrorCode.RESTRICTION_ALERT_UNACKNOWLEDGED
    from dataclasses import replace

    result = services.certificate_issue(actor=world, options=options, household_id=None, person_ids=[fam["wife"]],
                                        request=replace(request, acknowledge_alert=True))
    assert result.number and ALERT_ACKNOWLEDGED_FLAG in last_issue_row().flags


def test_the_api_refuses_without_acknowledge_alert_and_issues_with_it(alerted, clerk, terminal):
    api = api_for(clerk, terminal)
    body = {"form": "copy", "layout": "household", "household_id": alerted["household"],
            "request": {"kind": "self", "requester_person_id": alerted["head"], "documents": ["運転免許証"]}}
    r = api.post("/api/v1/certificates", body, format="json")
    assert r.status_code == 400 and r.json()["code"] == "restriction_alert_unacknowledged"
    assert CertificateIssue.objects.count() == 0
    body["request"]["acknowledge_alert"] = True
    r = api.post("/api/v1/certificates", body, format="json")
    assert r.status_code == 201, r.content[:300]
    assert ALERT_ACKNOWLEDGED_FLAG in last_issue_row().flags


def test_a_reissue_under_an_alert_needs_the_acknowledgement_too(fam, support, world):
    number = services.certificate_issue(
        actor=world, options=Options(form="copy", layout="household"), household_id=fam["household"], person_ids=[],
        request=Request(kind="self", requester_person_id=fam["head"], documents=("運転免許証",))).number
    protection_services.restriction_set(actor=support, person_id=fam["head"], processes=["certificate"],
                                        reason="確認のため", level="alert")
    with pytest.raises(DomainError) as refused:
        services.certificate_reissue(actor=world, number=number)
    assert refused.value.code == ErrorCode.RESTRICTION_ALERT_UNACKNOWLEDGED
    again = services.certificate_reissue(actor=world, number=number, acknowledge_alert=True)
    assert again.issue.reissue_of.number == number and ALERT_ACKNOWLEDGED_FLAG in last_issue_row().flags


def test_a_reissue_from_the_counter_offers_the_acknowledgement(client, fam, support, world):
    number = services.certificate_issue(
        actor=world, options=Options(form="copy", layout="household"), household_id=fam["household"], person_ids=[],
        request=Request(kind="self", requester_person_id=fam["head"], documents=("運転免許証",))).number
    protection_services.restriction_set(actor=support, person_id=fam["head"], processes=["certificate"],
                                        reason="確認のため", level="alert")
    page = client.get(reverse(f"{NS}:issue_detail", args=[number])).content.decode()
    assert 'id="certificate-alert"' in page and 'name="acknowledge_alert"' in page
    r = client.post(reverse(f"{NS}:issue_reissue", args=[number]), HTTP_HX_REQUEST="true")
    assert "HX-Redirect" not in r and REFUSAL in r.content.decode()
    assert CertificateIssue.objects.count() == 1
    r = client.post(reverse(f"{NS}:issue_reissue", args=[number]), {"acknowledge_alert": "on"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 204 and CertificateIssue.objects.count() == 2
