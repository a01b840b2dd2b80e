"""Issue 11: the paths around a protected person, as a 相手方 would try them (ADR 0013).

Each test is a defect reproduced before the fix: a co-resident's certificate and record giving the
victim's address away, 照会抑止 bypassed through the household, certificates of a protected person
listed and voided over the API.
"""
import pytest

from juki.audit.models import AccessLog
from juki.certificates.models import CertificateIssue
from juki.protection import certificates as protection_certificates
from juki.protection import enforcement, services
from juki.register import selectors

from ..conftest import api_for, counter_client, days_ago
from .helpers import OFFENDER_BIRTH, last_log

ADDRESS = "3番3号"  # the victim's household in 小倉北区城内 (helpers.move_in_victim)


@pytest.fixture
def child_only(victim, support):
    """Only the child さくら is protected; her mother 花子 lives with her and is in no measure."""
    services.support_register(actor=support, person_id=victim["child"], kind="child_abuse", applied_on=days_ago(1),
                              offender=services.Offender(name="山田　次郎", birth_date=OFFENDER_BIRTH), provisional=True)
    return victim


def _third_party_offender(mother: int) -> dict:
    return {"form": "copy", "layout": "individual", "person_ids": [mother],
            "request": {"kind": "third_party", "requester_name": "山田　次郎", "requester_kana": "ヤマダ　ジロウ",
                        "requester_birth_date": OFFENDER_BIRTH.isoformat(), "documents": ["運転免許証"],
                        "purpose": "家族の手続きのため"}}


# --- a co-resident of a protected person -------------------------------------------------------------------


def test_the_offenders_certificate_request_for_a_co_resident_is_refused_and_flagged(child_only, api, clerk):
    r = api.post("/api/v1/certificates", _third_party_offender(child_only["mother"]), format="json")
    assert r.status_code == 403 and r.json()["code"] == "support_measure_block"
    assert "支援措置の対象者が住んでいます" in r.json()["detail"] and ADDRESS not in r.content.decode()
    assert not CertificateIssue.objects.exists()
    check = last_log(user=clerk, function="certificate.check")
    assert check.outcome == "support_measure_block"
    assert set(check.flags) == {enforcement.FLAG, protection_certificates.OFFENDER_REQUEST_FLAG}


def test_the_entitlement_check_says_why_for_a_co_resident(child_only, api):
    body = {"subject_person_ids": [child_only["mother"]],
            "requester": {"kind": "third_party", "name": "山田次郎", "birth_date": OFFENDER_BIRTH.isoformat()}}
    refused = api.post("/api/v1/certificate-requests/check", body, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "support_measure_block"
    assert "支援措置の対象者が住んでいます" in refused.json()["detail"]
    other = api.post("/api/v1/certificate-requests/check", {
        "subject_person_ids": [child_only["mother"]],
        "requester": {"kind": "third_party", "name": "北九　太郎", "birth_date": "1970-01-01"}}, format="json")
    assert other.status_code == 200 and other.json()["allowed"] is True
    assert any("同じ住所・世帯" in w for w in other.json()["warnings"])


def test_the_co_residents_own_certificate_still_prints_her_address(child_only, api):
    r = api.post("/api/v1/certificates", {
        "form": "copy", "layout": "individual", "person_ids": [child_only["mother"]],
        "request": {"kind": "self", "requester_person_id": child_only["mother"], "documents": ["運転免許証"]}},
        format="json")
    assert r.status_code == 201, r.content


def test_a_co_residents_record_does_not_show_where_the_protected_person_lives(child_only, api, support_user, terminal):
    mother = child_only["mother"]
    for path in (f"/api/v1/persons/{mother}", f"/api/v1/persons/{mother}/history",
                 f"/api/v1/persons/{mother}?as_of={days_ago(0).isoformat()}"):
        r = api.get(path)
        assert r.status_code == 200, path
        body = r.content.decode()
        assert ADDRESS not in body, path
    person = api.get(f"/api/v1/persons/{mother}").json()
    assert person["address"] is None and person["household_number"] is None and person["place_hidden"] is True
    assert last_log(function="person.view").flags == [enforcement.FLAG]
    # The 支援措置担当 sees it.
    full = api_for(support_user, terminal).get(f"/api/v1/persons/{mother}").json()
    assert ADDRESS in full["address"]["display"] and full["household_number"]


def test_the_counters_person_page_of_a_co_resident_hides_the_place(child_only, clerk, terminal):
    c = counter_client(clerk, terminal)
    body = c.get(f"/counter/persons/{child_only['mother']}/").content.decode()
    assert "花子" in body and ADDRESS not in body and 'id="place-hidden"' in body


# --- 照会抑止 through the household ---------------------------------------------------------------------


@pytest.fixture
def inquiry_blocked(victim, support):
    """An error-level 抑止(照会) on the child only (no 支援措置)."""
    services.restriction_set(actor=support, person_id=victim["child"], processes=["inquiry"], reason="照会の抑止（テスト）")
    return victim


def test_an_inquiry_block_hides_the_person_from_the_household_view(inquiry_blocked, api, clerk):
    child = inquiry_blocked["child"]
    assert api.get(f"/api/v1/persons/{child}").json()["code"] == "restricted"
    r = api.get(f"/api/v1/households/{inquiry_blocked['household']}")
    assert r.status_code == 200
    body = r.content.decode()
    assert "さくら" not in body and "サクラ" not in body
    members = {m["person_id"]: m for m in r.json()["members"]}
    assert members[child]["masked"] and members[child]["marker"] == enforcement.INQUIRY_MARKER
    assert members[child]["birth_date"] is None and "resident_code" not in members[child]
    assert members[inquiry_blocked["mother"]]["name"]["given_name"] == "花子"
    assert enforcement.RESTRICTION_FLAG in last_log(user=clerk, function="household.view").flags


def test_an_inquiry_block_hides_the_person_from_the_counters_household_and_co_resident_pages(
        inquiry_blocked, clerk, terminal):
    c = counter_client(clerk, terminal)
    for path in (f"/counter/households/{inquiry_blocked['household']}/",
                 f"/counter/persons/{inquiry_blocked['mother']}/"):
        r = c.get(path)
        body = r.content.decode()
        assert r.status_code == 200 and "花子" in body, path
        assert "さくら" not in body and "照会抑止の対象者" in body, path


def test_the_restriction_manager_still_sees_the_household(inquiry_blocked, support):
    h = selectors.household_get(actor=support, household_id=inquiry_blocked["household"])
    assert {m["name"]["given_name"] for m in h["members"]} == {"花子", "さくら"}


# --- certificates of a protected person over the API ------------------------------------------------------


@pytest.fixture
def issued_then_protected(victim, api, support):
    """A certificate of the household, issued before the 支援措置 was registered."""
    r = api.post("/api/v1/certificates", {
        "form": "copy", "layout": "household", "household_id": victim["household"],
        "request": {"kind": "self", "requester_person_id": victim["mother"], "documents": ["運転免許証"]}},
        format="json")
    assert r.status_code == 201, r.content
    number = CertificateIssue.objects.get().number
    from .helpers import protect

    protect(support, victim)
    return victim, number


def test_a_protected_persons_certificates_cannot_be_listed_or_voided_over_the_api(issued_then_protected, api, clerk):
    victim, number = issued_then_protected
    listed = api.get(f"/api/v1/certificates?person={victim['mother']}")
    assert listed.status_code == 403 and listed.json()["code"] == "support_measure_protected"
    by_number = api.get(f"/api/v1/certificates?number={number}")
    assert by_number.status_code == 200 and by_number.json()["issues"] == []  # left out of a list by number
    voided = api.post(f"/api/v1/certificates/{number}/void", {"reason": "印刷不良"}, format="json")
    assert voided.status_code == 403 and voided.json()["code"] == "support_measure_protected"
    assert not CertificateIssue.objects.get(number=number).voided
    assert last_log(user=clerk, function="certificate.void").outcome == "support_measure_protected"
    assert AccessLog.objects.filter(user=clerk, function="certificate.list", outcome="support_measure_protected").exists()
