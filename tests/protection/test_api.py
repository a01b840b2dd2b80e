"""The protection API (/api/v1/protection/…) and the certificate check, including refused calls."""
import pytest

from juki.audit.models import AccessLog
from juki.protection import enforcement

from ..conftest import api_for, days_ago
from .helpers import OFFENDER_BIRTH, VICTIM_BIRTH, last_log


@pytest.fixture
def support_api(support_user, terminal):
    return api_for(support_user, terminal)


def _register(client, victim, **over):
    body = {"person_id": victim["mother"], "kind": "dv", "applied_on": days_ago(2).isoformat(), "provisional": False,
            "offender": {"name": "山田　次郎", "kana": "ヤマダ　ジロウ", "birth_date": OFFENDER_BIRTH.isoformat()},
            "members": [{"person_id": victim["child"], "relationship": "子"}], **over}
    return client.post("/api/v1/protection/support-measures", body, format="json")


def test_support_measure_life_cycle(victim, support_api):
    created = _register(support_api, victim, provisional=True)
    assert created.status_code == 201 and created.json()["state"] == "provisional"
    mid = created.json()["id"]
    assert support_api.get(f"/api/v1/protection/support-measures/{mid}").json()["members"][0]["relationship"] == "子"
    confirmed = support_api.post(f"/api/v1/protection/support-measures/{mid}/confirm", {}, format="json")
    assert confirmed.status_code == 200 and confirmed.json()["state"] == "active"
    early = support_api.post(f"/api/v1/protection/support-measures/{mid}/extend", {}, format="json")
    assert early.status_code == 400 and early.json()["code"] == "protection_state"
    listed = support_api.get("/api/v1/protection/support-measures").json()["measures"]
    assert [m["id"] for m in listed] == [mid]
    ended = support_api.post(f"/api/v1/protection/support-measures/{mid}/end", {"reason": "申出により終了"}, format="json")
    assert ended.json()["state"] == "ended"
    assert support_api.get("/api/v1/protection/alerts").json()["notice_due"] == [mid]


def test_unknown_fields_are_refused(victim, support_api):
    response = _register(support_api, victim, offender={"name": "x", "address": "y"})
    assert response.status_code == 400 and response.json()["code"] == "unknown_field"


def test_a_clerk_is_refused_and_logged(victim, api, clerk):
    for call in (lambda: _register(api, victim), lambda: api.get("/api/v1/protection/support-measures"),
                 lambda: api.get("/api/v1/protection/alerts")):
        response = call()
        assert response.status_code == 403 and response.json()["code"] == "permission_denied"
        assert last_log(user=clerk).outcome == AccessLog.DENIED


def test_search_api_returns_the_masked_row_without_data(victim, support_api, api):
    _register(support_api, victim)
    rows = api.post("/api/v1/persons/search", {"name": "山田花子", "birth_date": VICTIM_BIRTH.isoformat()},
                    format="json").json()["rows"]
    assert rows == [{"masked": True, "reason": "support_measure", "marker": enforcement.SUPPORT_MARKER}]
    refused = api.get(f"/api/v1/persons/{victim['mother']}")
    assert refused.status_code == 403 and refused.json()["code"] == "support_measure_protected"
    seen = support_api.get(f"/api/v1/persons/{victim['mother']}")
    assert seen.status_code == 200 and seen.json()["protection"]["support_measures"][0]["state"] == "active"


def test_restrictions_api(victim, support_api, supervisor, terminal, api, clerk):
    sup = api_for(supervisor, terminal)
    made = sup.post("/api/v1/protection/restrictions", {"person_id": victim["mother"], "processes": ["change", "inquiry"],
                                                        "reason": "調査中"}, format="json")
    assert made.status_code == 201 and made.json()["in_force"]
    rid = made.json()["id"]
    listed = sup.get(f"/api/v1/protection/restrictions?person={victim['mother']}").json()
    assert [r["id"] for r in listed["restrictions"]] == [rid]
    released = sup.post(f"/api/v1/protection/restrictions/{rid}/temporary-release", {"minutes": 15}, format="json")
    assert released.status_code == 200 and released.json()["temporarily_released_until"]
    assert sup.post(f"/api/v1/protection/restrictions/{rid}/release").json()["ended_at"]
    denied = api.post("/api/v1/protection/restrictions", {"person_id": victim["mother"], "processes": ["change"],
                                                          "reason": "x"}, format="json")
    assert denied.status_code == 403 and last_log(user=clerk).outcome == AccessLog.DENIED


def test_certificate_check_endpoint(victim, support_api, api, clerk, auditor, terminal):
    _register(support_api, victim)
    body = {"subject_person_ids": [victim["mother"]],
            "requester": {"kind": "third_party", "name": "山田次郎", "birth_date": OFFENDER_BIRTH.isoformat()}}
    refused = api.post("/api/v1/certificate-requests/check", body, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "support_measure_block"
    log = last_log(user=clerk, function="certificate.check")
    assert log.outcome == "support_measure_block" and log.flags == ["support_measure"]
    own = api.post("/api/v1/certificate-requests/check", {"subject_person_ids": [victim["mother"]],
                                                          "requester": {"kind": "self", "person_id": victim["mother"]}},
                   format="json")
    assert own.status_code == 200 and own.json()["allowed"] is True
    no_right = api_for(auditor, terminal).post("/api/v1/certificate-requests/check", body, format="json")
    assert no_right.status_code == 403 and last_log(user=auditor).outcome == AccessLog.DENIED


def _routes(victim):
    person = {"person_id": victim["mother"], "applied_on": days_ago(1).isoformat()}
    return [
        ("get", "/api/v1/protection/support-measures", None),
        ("post", "/api/v1/protection/support-measures",
         {**person, "kind": "dv", "offender": {"name": "山田　次郎"}}),
        ("get", "/api/v1/protection/support-measures/1", None),
        ("post", "/api/v1/protection/support-measures/1/confirm", {}),
        ("post", "/api/v1/protection/support-measures/1/extend", None),
        ("post", "/api/v1/protection/support-measures/1/end", {"reason": "終了"}),
        ("get", "/api/v1/protection/alerts", None),
        ("get", f"/api/v1/protection/restrictions?person={victim['mother']}", None),
        ("post", "/api/v1/protection/restrictions", {"person_id": victim["mother"], "processes": ["change"], "reason": "x"}),
        ("post", "/api/v1/protection/restrictions/1/release", None),
        ("post", "/api/v1/protection/restrictions/1/temporary-release", {}),
        ("post", "/api/v1/certificate-requests/check",
         {"subject_person_ids": [victim["mother"]], "requester": {"kind": "self"}}),
    ]


def test_every_protection_route_refuses_and_logs_a_user_without_the_right(victim, auditor, terminal):
    client = api_for(auditor, terminal)
    for method, path, body in _routes(victim):
        before = AccessLog.objects.filter(user=auditor, outcome=AccessLog.DENIED).count()
        response = getattr(client, method)(path, body, format="json") if body is not None else getattr(client, method)(path)
        assert response.status_code == 403, path
        assert AccessLog.objects.filter(user=auditor, outcome=AccessLog.DENIED).count() == before + 1, path
