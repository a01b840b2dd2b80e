"""The network's message exchange (juki.network.mail), the 戸籍附票システム and the 法務省 peer, and the card
management system's PIN check (issue 15), each served in this process on loopback with mutual TLS."""
from __future__ import annotations

import threading
import time

import pytest

from juki.core.checkdigits import mod11_check_digit
from juki.network import agencies, cards, mail, wire

from .inthread import serving

A, B = "401005", "401307"


@pytest.fixture
def exchange(tmp_path):
    app = wire.App("national")
    mail.install(app, tmp_path)
    with serving(app, tmp_path, "national") as client:
        yield client


def post(client, to=B, kind="move_in_notice", message_id="m-1", body=None):
    return client.call("POST", "/mail", {"to": to, "kind": kind, "message_id": message_id,
                                         "body": body if body is not None else {"resident_code": "x"}})


def test_a_message_goes_to_its_city_only_once_and_in_order(exchange):
    a, b = exchange(f"cs-{A}"), exchange(f"cs-{B}")
    status, first = post(a)
    assert status == 200 and "repeated" not in first
    assert post(a) == (200, {"id": first["id"], "repeated": True})  # a retry: the first answer
    assert post(a, message_id="m-2", body={"n": 2})[0] == 200
    status, got = b.call("GET", "/mail?after=0")
    assert [(m["sender"], m["kind"], m["message_id"]) for m in got["messages"]] == [
        (A, "move_in_notice", "m-1"), (A, "move_in_notice", "m-2")]
    assert b.call("GET", f"/mail?after={got['messages'][0]['id']}")[1]["messages"][0]["body"] == {"n": 2}
    assert a.call("GET", "/mail?after=0")[1]["messages"] == []  # nobody reads another city's mail
    assert b.call("GET", "/mail/status")[1]["mail"] == [{"direction": "in", "kind": "move_in_notice", "count": 2}]


@pytest.mark.parametrize("who,to,kind,message_id,expected", [
    ("cs-401005", B, "move_in_notice", "m-1", (409, "message_id_conflict")),  # the same id, another content
    ("cs-401005", B, "immigration_notice", "x", (403, "kind_not_allowed")),  # only the 法務省 sends these
    ("cs-401005", "moj", "move_in_notice", "x", (403, "kind_not_allowed")),
    ("cs-401005", A, "move_in_notice", "x", (422, "invalid_recipient")),  # to itself
    ("cs-401005", "401006", "move_in_notice", "x", (422, "invalid_recipient")),  # a wrong check digit
    ("cs-401005", B, "gossip", "x", (422, "unknown_kind")),
    ("cs-401005", B, "move_in_notice", "", (422, "invalid_message_id")),
    ("s2-401005", B, "move_in_notice", "x", (403, "not_a_sender")),  # a register, not its CS
    ("cs-401005", B, "move_in_notice", "y", (422, "invalid_body")),  # a body that is not an object
])
def test_what_the_exchange_refuses(exchange, who, to, kind, message_id, expected):
    assert post(exchange("cs-401005"))[0] == 200
    body = ["not", "an", "object"] if expected[1] == "invalid_body" else {"other": True}
    status, answer = post(exchange(who), to=to, kind=kind, message_id=message_id, body=body)
    assert (status, answer["code"]) == expected


def test_the_moj_sends_notices_and_takes_the_cities_notices(exchange):
    moj, a = exchange("moj"), exchange(f"cs-{A}")
    assert post(moj, to=A, kind="immigration_notice", message_id="n-1")[0] == 200
    assert post(a, to="moj", kind="municipal_notice", message_id="c-1")[0] == 200
    assert a.call("GET", "/mail?after=0")[1]["messages"][0]["kind"] == "immigration_notice"
    assert moj.call("GET", "/mail?after=0")[1]["messages"][0]["sender"] == A


def test_a_long_poll_answers_as_soon_as_a_message_comes(exchange):
    a, b = exchange(f"cs-{A}"), exchange(f"cs-{B}")
    threading.Timer(0.3, lambda: post(a)).start()
    started = time.monotonic()
    status, got = b.call("GET", "/mail?after=0&wait=10")
    assert status == 200 and len(got["messages"]) == 1
    assert 0.2 < time.monotonic() - started < 5
    assert b.call("GET", "/mail?after=0&wait=x")[1]["code"] == "invalid_query"


def code(body: str = "1234567890") -> str:
    return body + str(mod11_check_digit(body))


def test_a_card_answers_its_holder_on_the_right_pin_and_locks_after_three_wrong(tmp_path):
    with serving(cards.cards(tmp_path), tmp_path, "cards") as client:
        a, b = client(f"cs-{A}"), client(f"cs-{B}")
        assert a.call("POST", f"/cards/{code()}/issue", {"pin": "12"})[1]["code"] == "invalid_pin"
        number = a.call("POST", f"/cards/{code()}/issue", {"pin": "1234"})[1]["card_number"]
        assert b.call("POST", "/cards/verify", {"card_number": number, "pin": "1234"}) == (200, {
            "card_number": number, "resident_code": code(), "municipality": A, "state": "active"})
        for left in (2, 1, 0):
            status, answer = b.call("POST", "/cards/verify", {"card_number": number, "pin": "9999"})
            assert (status, answer["code"], answer["remaining"]) == (401, "pin_wrong", left)
        assert b.call("POST", "/cards/verify", {"card_number": number, "pin": "1234"})[1]["code"] == "pin_locked"
        assert b.call("POST", "/cards/verify", {"card_number": "0" * 12, "pin": "1234"})[1]["code"] == "card_not_found"
        assert b.call("POST", "/cards/verify", {"card_number": "12", "pin": "1234"})[1]["code"] == "invalid_card_number"
        # Another city may not suspend or revoke it; the city the holder moved to keeps it (継続利用), and
        # a card not in use cannot be continued.
        assert b.call("POST", f"/cards/{code()}/revoke")[1]["code"] == "not_card_city"
        assert b.call("POST", f"/cards/{code()}/transfer")[1]["municipality"] == B
        assert a.call("POST", f"/cards/{code()}/suspend")[1]["code"] == "not_card_city"
        assert b.call("POST", f"/cards/{code('1111111111')}/transfer")[1]["code"] == "invalid_transition"


def test_the_koseki_system_takes_an_entry_once_from_its_own_city(tmp_path):
    with serving(agencies.koseki(tmp_path), tmp_path, "koseki") as client:
        s2 = client(f"s2-{A}")
        entry = {"message_id": "f-1", "source": B, "items": {"resident_code": code(), "name": "青木　太郎",
                                                              "address": "福岡県福岡市東区箱崎一丁目1番", "domicile": "福岡県北九州市"}}
        first = s2.call("POST", "/fuhyo", entry)[1]
        assert s2.call("POST", "/fuhyo", entry)[1] == {"id": first["id"], "repeated": True}
        assert [e["source"] for e in s2.call("GET", f"/fuhyo?resident_code={code()}")[1]["entries"]] == [B]
        assert client(f"s2-{B}").call("GET", f"/fuhyo?resident_code={code()}")[1]["entries"] == []
        assert s2.call("POST", "/fuhyo", {**entry, "message_id": "f-2", "items": {"name": "x"}})[1]["code"] == "item_required"
        assert client(f"cs-{A}").call("GET", "/fuhyo")[1]["code"] == "not_a_register"


def test_the_moj_system_queues_a_notice_for_the_operator_only(tmp_path):
    with serving(agencies.moj(tmp_path, links=False), tmp_path, "moj") as client:
        notice = {"to": A, "message_id": "n-1", "items": {"kind": "change", "residence_card_number": "AB12345678CD"}}
        assert client("operator").call("POST", "/notices", notice) == (200, {"message_id": "n-1", "queued": True})
        assert client(f"cs-{A}").call("POST", "/notices", notice)[1]["code"] == "not_operator"
        assert client("operator").call("POST", "/notices", {**notice, "to": "401006"})[1]["code"] == "invalid_recipient"
        assert client("operator").call("POST", "/notices", {**notice, "items": {"kind": "?"}})[1]["code"] == "invalid_notice"
        assert client("operator").call("GET", "/status")[1]["outgoing"] == {"pending": 1}


def test_the_koseki_system_takes_a_batch_whole_or_not_at_all(tmp_path):
    with serving(agencies.koseki(tmp_path), tmp_path, "koseki") as client:
        s2 = client(f"s2-{A}")
        good = {"message_id": "f-1", "items": {"resident_code": code(), "name": "青木　太郎", "address": "x", "domicile": "y"}}
        bad = {"message_id": "f-2", "items": {"name": "x"}}
        assert s2.call("POST", "/fuhyo/batch", {"entries": [good, bad]})[1]["code"] == "item_required"
        assert s2.call("GET", f"/fuhyo?resident_code={code()}")[1]["entries"] == []
        answers = s2.call("POST", "/fuhyo/batch", {"entries": [good, {**good, "message_id": "f-3"}, good]})[1]["answers"]
        assert [a.get("repeated", False) for a in answers] == [False, False, True]


def test_a_batch_is_answered_message_by_message(exchange):
    a = exchange(f"cs-{A}")
    good = {"to": B, "kind": "move_in_notice", "message_id": "m-1", "body": {"n": 1}}
    status, answer = a.call("POST", "/mail/batch", {"messages": [
        good, {**good, "message_id": "m-2", "to": A}, good, {**good, "message_id": "m-3", "body": {"n": 3}}]})
    first, refused, repeated, third = answer["answers"]
    assert status == 200 and "id" in first and refused == {"status": 422, "code": "invalid_recipient"}
    assert repeated == {"id": first["id"], "repeated": True} and third["id"] > first["id"]
    assert [m["message_id"] for m in exchange(f"cs-{B}").call("GET", "/mail?after=0")[1]["messages"]] == ["m-1", "m-3"]
