"""The card API: issue, the cards of a person, the counter's steps; refusals as problems; denied calls."""
import pytest

from juki.audit.models import AccessLog
from juki.cards.models import CardState
from tests.conftest import api_for

from .conftest import PIN, PIN2, card_row


@pytest.fixture
def issued(api, fam):
    r = api.post("/api/v1/cards", {"person_id": fam["head"], "pin": PIN, "document": "運転免許証"}, format="json")
    assert r.status_code == 201, r.content[:300]
    return r.json()


def test_issue_and_get(api, fam, issued):
    assert issued["state"] == "active" and issued["person_id"] == fam["head"] and len(issued["number"]) == 10
    assert "pin" not in issued and "pin_hash" not in issued
    r = api.get(f"/api/v1/cards/persons/{fam['head']}")
    assert r.status_code == 200 and "no-store" in r["Cache-Control"]
    body = r.json()
    assert body["live_card_id"] == issued["card_id"] and body["cards"][0]["history"][0]["kind"] == "issued"
    assert card_row(issued["card_id"]).pin_hash not in r.content.decode()


def test_refusals_are_problems_without_the_pin(api, fam, issued):
    r = api.post("/api/v1/cards", {"person_id": fam["head"], "pin": PIN2}, format="json")
    assert r.status_code == 400 and r.json()["code"] == "card_state"
    r = api.post("/api/v1/cards", {"person_id": fam["wife"], "pin": "9999"}, format="json")
    assert r.status_code == 400 and r.json()["code"] == "invalid_input" and r.json()["field"] == "pin"
    assert "9999" not in r.content.decode()
    r = api.post("/api/v1/cards", {"person_id": fam["wife"], "pin": PIN, "colour": "red"}, format="json")
    assert r.status_code == 400 and r.json()["code"] == "unknown_field"
    assert api.get("/api/v1/cards/persons/987654").status_code == 404
    assert api.post("/api/v1/cards/987654/suspend", {"reason": "紛失"}, format="json").status_code == 404


def test_steps(api, fam, issued):
    cid = issued["card_id"]
    r = api.post(f"/api/v1/cards/{cid}/suspend", {"reason": "紛失の届出"}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "suspended"
    r = api.post(f"/api/v1/cards/{cid}/suspend", {"reason": "紛失の届出"}, format="json")
    assert r.status_code == 400 and r.json()["code"] == "card_state"
    r = api.post(f"/api/v1/cards/{cid}/resume", {"document": "旅券"}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "active"
    r = api.post(f"/api/v1/cards/{cid}/pin", {"old_pin": PIN2, "new_pin": "3791"}, format="json")
    assert r.status_code == 400 and r.json()["code"] == "card_pin_wrong" and r.json()["details"] == {"remaining": 2}
    r = api.post(f"/api/v1/cards/{cid}/pin", {"old_pin": PIN, "new_pin": "3791"}, format="json")
    assert r.status_code == 200 and r.json()["failed_pins"] == 0
    r = api.post(f"/api/v1/cards/{cid}/unlock", {"pin": "4682"}, format="json")
    assert r.status_code == 400 and r.json()["code"] == "invalid_input"
    r = api.post(f"/api/v1/cards/{cid}/unlock", {"pin": "4682", "document": "旅券"}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "active"
    r = api.post(f"/api/v1/cards/{cid}/reissue", {"reason": "damaged", "pin": PIN2, "document": "旅券",
                                                  "collected_on": "2000-01-01"}, format="json")
    assert r.status_code == 400 and r.json()["code"] == "invalid_date"
    r = api.post(f"/api/v1/cards/{cid}/reissue", {"reason": "damaged", "pin": PIN2, "document": "旅券"}, format="json")
    assert r.status_code == 200 and r.json()["reissue_of"] == issued["number"]
    assert card_row(cid).state == CardState.ABOLISHED
    new = r.json()["card_id"]
    r = api.post(f"/api/v1/cards/{new}/abolish", {"reason": "reissue"}, format="json")
    assert r.status_code == 400  # 再交付 is not a reason one abolishes with
    r = api.post(f"/api/v1/cards/{new}/abolish", {"reason": "returned"}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "abolished"
    logs = str(list(AccessLog.objects.values_list("criteria", flat=True)))
    assert all(p not in logs for p in ("3791", "4682")) and "'old_pin'" not in logs


def test_denied_calls_get_403_and_a_log_row(viewer, terminal, fam, issued):
    outsider = api_for(viewer, terminal)
    cid = issued["card_id"]
    calls = [("post", "/api/v1/cards", {"person_id": fam["head"], "pin": PIN}, "card.issue"),
             ("get", f"/api/v1/cards/persons/{fam['head']}", None, "card.list"),
             ("post", f"/api/v1/cards/{cid}/suspend", {"reason": "x"}, "card.suspend"),
             ("post", f"/api/v1/cards/{cid}/resume", {}, "card.resume"),
             ("post", f"/api/v1/cards/{cid}/unlock", {"pin": PIN2, "document": "x"}, "card.unlock"),
             ("post", f"/api/v1/cards/{cid}/pin", {"old_pin": PIN, "new_pin": PIN2}, "card.pin_change"),
             ("post", f"/api/v1/cards/{cid}/reissue", {"reason": "lost", "pin": PIN2, "document": "x"}, "card.reissue"),
             ("post", f"/api/v1/cards/{cid}/abolish", {"reason": "returned"}, "card.abolish")]
    for method, path, body, function in calls:
        r = getattr(outsider, method)(path, body, format="json") if body is not None else outsider.get(path)
        assert r.status_code == 403, path
        assert AccessLog.objects.filter(function=function, outcome="denied", user=viewer).exists(), function
    assert card_row(cid).state == CardState.ACTIVE
