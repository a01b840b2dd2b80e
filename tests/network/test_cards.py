"""個人番号カード管理システム (juki.network.cards) in this process on loopback, mutual TLS: 送付先情報
files taken once, and the card's state machine (P10). No database."""
from __future__ import annotations

import re

import pytest

from juki.core.checkdigits import mod11_check_digit
from juki.network import cards

from .inthread import serving


def code(body: str = "1234567890") -> str:
    return body + str(mod11_check_digit(body))


AOKI = code()


@pytest.fixture
def server(tmp_path):
    with serving(cards.cards(tmp_path), tmp_path, "cards") as client:
        yield client


@pytest.fixture
def cs(server):
    return server("cs-401005")


def act(cs, action, resident_code=AOKI):
    return cs.call("POST", f"/cards/{resident_code}/{action}")


def test_issue_suspend_resume_revoke_and_issue_again(cs):
    assert cs.call("GET", f"/cards/{AOKI}") == (200, {
        "resident_code": AOKI, "state": "none", "card_number": None, "certificate_serial": None,
        "municipality": None, "issued_at": None, "updated_at": None, "history": []})
    status, first = act(cs, "issue")
    assert status == 200 and (first["previous_state"], first["state"]) == ("none", "active")
    assert re.fullmatch(r"[0-9]{12}", first["card_number"]) and re.fullmatch(r"[0-9A-F]{16}", first["certificate_serial"])
    assert act(cs, "suspend")[1]["state"] == "suspended"
    resumed = act(cs, "resume")[1]
    assert (resumed["state"], resumed["card_number"]) == ("active", first["card_number"])  # the same card
    assert act(cs, "revoke")[1]["state"] == "revoked"
    status, second = act(cs, "issue")
    assert second["state"] == "active" and second["previous_state"] == "revoked"
    assert second["card_number"] != first["card_number"]
    assert second["certificate_serial"] != first["certificate_serial"]  # a new 電子証明書 with each issue
    assert act(cs, "collect")[1]["state"] == "collected"
    assert act(cs, "issue")[1]["state"] == "active"
    status, card = cs.call("GET", f"/cards/{AOKI}")
    assert card["state"] == "active" and card["municipality"] == "401005"
    assert [(h["action"], h["from_state"], h["to_state"]) for h in card["history"]] == [
        ("issue", "none", "active"), ("suspend", "active", "suspended"), ("resume", "suspended", "active"),
        ("revoke", "active", "revoked"), ("issue", "revoked", "active"), ("collect", "active", "collected"),
        ("issue", "collected", "active")]
    status, state = cs.call("GET", "/status")
    assert state["cards"] == {"active": 1} and state["issued"] == 3


@pytest.mark.parametrize("before, action, state", [
    ([], "suspend", "none"),
    ([], "resume", "none"),
    ([], "revoke", "none"),
    ([], "collect", "none"),
    (["issue"], "issue", "active"),
    (["issue"], "resume", "active"),
    (["issue", "suspend"], "issue", "suspended"),
    (["issue", "suspend"], "suspend", "suspended"),
    (["issue", "revoke"], "suspend", "revoked"),
    (["issue", "revoke"], "resume", "revoked"),
    (["issue", "revoke"], "revoke", "revoked"),
    (["issue", "revoke"], "collect", "revoked"),
    (["issue", "collect"], "revoke", "collected"),
    (["issue", "collect"], "resume", "collected"),
])
def test_a_wrong_transition_is_refused_and_changes_nothing(cs, before, action, state):
    for step in before:
        assert act(cs, step)[0] == 200
    card_before = cs.call("GET", f"/cards/{AOKI}")[1]
    status, answer = act(cs, action)
    assert (status, answer["code"], answer["state"], answer["action"]) == (409, "invalid_transition", state, action)
    assert cs.call("GET", f"/cards/{AOKI}")[1] == card_before


def test_a_bad_resident_code_or_action_is_refused(cs):
    status, answer = act(cs, "issue", AOKI[:-1] + str((int(AOKI[-1]) + 1) % 10))
    assert (status, answer["code"]) == (422, "invalid_check_digit")
    status, answer = act(cs, "destroy")
    assert (status, answer["code"]) == (422, "unknown_action")


@pytest.mark.parametrize("caller", ["prefecture", "s2-401005"])
def test_only_a_citys_cs_may_call(server, caller):
    status, answer = act(server(caller), "issue")
    assert (status, answer["code"]) == (403, "not_a_cs")
    status, answer = server(caller).call("POST", "/recipients", {"file_id": "f1", "records": []})
    assert (status, answer["code"]) == (403, "not_a_cs")


def test_a_recipients_file_is_taken_once(cs):
    records = [{"resident_code": AOKI, "name": "青木　太郎", "address": "小倉北区城内1番1号"},
               {"resident_code": code("2234567890"), "name": "加藤　一郎"}]
    assert cs.call("POST", "/recipients", {"file_id": "401005-20261101-1", "records": records}) == (
        200, {"file_id": "401005-20261101-1", "received": 2})
    # The same file again (a retry after a lost answer): the first answer, nothing taken twice.
    assert cs.call("POST", "/recipients", {"file_id": "401005-20261101-1", "records": records}) == (
        200, {"file_id": "401005-20261101-1", "received": 2, "repeated": True})
    status, state = cs.call("GET", "/status")
    assert (state["recipient_files"], state["recipients"]) == (1, 2)
    # The same id with other content is a mistake, not a retry.
    status, answer = cs.call("POST", "/recipients", {"file_id": "401005-20261101-1", "records": records[:1]})
    assert (status, answer["code"]) == (409, "file_id_conflict")
    assert cs.call("GET", "/status")[1]["recipients"] == 2


@pytest.mark.parametrize("body, refusal", [
    ({"records": []}, "invalid_file_id"),
    ({"file_id": "f", "records": "x"}, "invalid_records"),
    ({"file_id": "f", "records": [{"resident_code": "12345678901"}]}, "invalid_check_digit"),
    ({"file_id": "f", "records": [{"resident_code": AOKI}, {"resident_code": AOKI}]}, "duplicate_resident_code"),
])
def test_a_malformed_recipients_file_is_refused(cs, body, refusal):
    status, answer = cs.call("POST", "/recipients", body)
    assert (status, answer["code"]) == (422, refusal)
    assert cs.call("GET", "/status")[1]["recipient_files"] == 0
