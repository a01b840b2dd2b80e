"""The CS's messages with other cities (juki.cs.mail, issue 15), in this process with its own database
alias, against a real exchange served on loopback (mutual TLS)."""
import pytest

from juki.cs import mail
from juki.cs.models import Mail, TransferHold
from juki.network import mail as exchange_app
from juki.network import wire

from ..network.inthread import serving
from .test_file2 import code

pytestmark = pytest.mark.django_db(databases=["default", "cs"])
A, B, C = "401005", "401307", "402036"  # 北九州市 (this CS), 福岡市, 久留米市


@pytest.fixture
def exchange(tmp_path):
    app = wire.App("national")
    exchange_app.install(app, tmp_path)
    with serving(app, tmp_path, "national") as client:
        yield client


def certificate(resident_code: str, **over) -> dict:
    return {"resident_code": resident_code, "name": "青木　太郎", "my_number": "123456789018", **over}


def test_queued_messages_are_taken_once_and_sent_in_order(exchange):
    answers = mail.queue([{"message_id": "n-1", "to": B, "kind": "move_in_notice", "body": {"a": 1}},
                          {"message_id": "n-1", "to": B, "kind": "move_in_notice", "body": {"a": 1}},
                          {"message_id": "n-2", "to": B, "kind": "immigration_notice", "body": {}},
                          {"message_id": "n-3", "to": B, "kind": "family_register_notice", "body": {"b": 2}}])
    assert [a["outcome"] for a in answers] == ["queued", "repeated", "rejected", "queued"]
    assert answers[2]["code"] == "invalid_message"  # the 法務省's kind: not the register's to send
    assert mail.send_pending(exchange(f"cs-{A}")) == {"sent": 2, "waiting": 0, "refused": 0}
    got = exchange(f"cs-{B}").call("GET", "/mail?after=0")[1]["messages"]
    assert [(m["message_id"], m["body"]) for m in got] == [("n-1", {"a": 1}), ("n-3", {"b": 2})]
    # Sealed at rest: the stored bytes are not the body.
    assert b'"a"' not in bytes(Mail.objects.get(message_id="n-1").cipher)


def test_a_refused_message_is_kept_visible_and_the_queue_goes_on(exchange):
    mail.queue([{"message_id": "x", "to": A, "kind": "move_in_notice", "body": {}},  # to itself: refused
                {"message_id": "y", "to": B, "kind": "move_in_notice", "body": {}}])
    assert mail.send_pending(exchange(f"cs-{A}"))["sent"] == 1
    refused = Mail.objects.get(message_id="x")
    assert refused.state == Mail.State.REFUSED and "invalid_recipient" in refused.last_error


def test_an_unreachable_exchange_backs_the_head_off(tmp_path):
    mail.queue([{"message_id": "y", "to": B, "kind": "move_in_notice", "body": {}}])
    with serving(wire.App("national"), tmp_path, "national"):
        pass  # a port nobody serves any more
    client = wire.Client("https://127.0.0.1:9", directory=tmp_path, name=f"cs-{A}", timeout=1)
    assert mail.send_pending(client)["error"] == "unreachable"
    head = Mail.objects.get(message_id="y")
    assert (head.state, head.attempts) == (Mail.State.PENDING, 1) and head.next_attempt_at is not None


def test_the_cs_answers_a_transfer_request_itself_and_to_one_city_only(exchange):
    head, wife = code("1234567890"), code("1234567891")
    assert mail.hold_transfers({"message_id": "t", "group": f"{A}-7", "certificates": [
        certificate(head), certificate(wife, name="青木　花子")]}) == {"outcome": "accepted", "held": 2}
    assert mail.hold_transfers({"message_id": "t", "group": f"{A}-7", "certificates": [certificate(head)]})["held"] == 0
    b, c, a = exchange(f"cs-{B}"), exchange(f"cs-{C}"), exchange(f"cs-{A}")
    for sender, request_id in ((b, "r-b"), (c, "r-c")):
        sender.call("POST", "/mail", {"to": A, "kind": "transfer_certificate_request", "message_id": request_id,
                                      "body": {"request_id": request_id, "resident_code": wife}})
    assert mail.receive(a, wait=0) == 2
    assert mail.inbox(0) == []  # the requests are the CS's own business, not the register's
    mail.send_pending(a)
    to_b = b.call("GET", "/mail?after=0")[1]["messages"][0]["body"]
    assert to_b["found"] and [x["resident_code"] for x in to_b["certificates"]] == [head, wife]
    assert to_b["certificates"][0]["my_number"] == "123456789018"
    to_c = c.call("GET", "/mail?after=0")[1]["messages"][0]["body"]
    assert to_c == {"request_id": "r-c", "found": False, "reason": "answered_elsewhere"}
    assert set(TransferHold.objects.values_list("answered_to", flat=True)) == {B}
    # Read again from the start (a cursor lost with a crash): nothing is taken twice.
    from juki.cs.models import Counter

    Counter.objects.filter(name="mail_cursor").update(value=0)
    assert mail.receive(a, wait=0) == 0 and Mail.objects.filter(direction=Mail.Direction.IN).count() == 2


def test_the_register_reads_its_messages_after_its_cursor(exchange):
    exchange(f"cs-{B}").call("POST", "/mail", {"to": A, "kind": "move_in_notice", "message_id": "m",
                                               "body": {"resident_code": code()}})
    assert mail.receive(exchange(f"cs-{A}"), wait=0) == 1
    inbox = mail.inbox(0)
    assert [(m["sender"], m["kind"], m["body"]) for m in inbox] == [(B, "move_in_notice", {"resident_code": code()})]
    assert mail.inbox(inbox[0]["id"]) == []


def test_an_operator_resends_a_refused_message(exchange):
    mail.queue([{"message_id": "x", "to": A, "kind": "move_in_notice", "body": {}}])  # to itself: refused
    mail.send_pending(exchange(f"cs-{A}"))
    (refused,) = mail.status()["refused"]
    assert (refused["kind"], refused["peer"]) == ("move_in_notice", A) and "invalid_recipient" in refused["error"]
    assert mail.resend(refused["id"]) and Mail.objects.get(pk=refused["id"]).state == Mail.State.PENDING
    assert not mail.resend(10**9)


def test_a_paper_request_needs_the_birth_date_and_a_card_a_special_move_out(exchange):
    import datetime as dt

    from django.utils import timezone

    head, other = code("1234567890"), code("1234567891")
    mail.hold_transfers({"message_id": "t1", "group": f"{A}-1", "certificates": [
        certificate(head, birth_date="1985-04-01", special=False)]})
    mail.hold_transfers({"message_id": "t2", "group": f"{A}-2", "certificates": [
        certificate(other, birth_date="1990-01-01", special=False)]})
    b, a = exchange(f"cs-{B}"), exchange(f"cs-{A}")
    asks = [("paper-right", head, {"birth_date": "1985-04-01"}), ("paper-wrong", other, {"birth_date": "1990-01-02"}),
            ("card-ordinary", other, {})]
    for request_id, resident_code, extra in asks:
        b.call("POST", "/mail", {"to": A, "kind": "transfer_certificate_request", "message_id": request_id,
                                 "body": {"request_id": request_id, "resident_code": resident_code, **extra}})
    mail.receive(a, wait=0)
    mail.send_pending(a)
    answers = {m["body"]["request_id"]: m["body"] for m in b.call("GET", "/mail?after=0")[1]["messages"]}
    assert answers["paper-right"]["found"] and answers["paper-right"]["certificates"][0]["resident_code"] == head
    assert answers["paper-wrong"] == {"request_id": "paper-wrong", "found": False}  # another person's paper
    assert answers["card-ordinary"] == {"request_id": "card-ordinary", "found": False}  # not a 特例転出
    # Guessing the 生年月日: after three wrong ones, not even the right one opens it.
    for n, birth in enumerate(["1990-01-03", "1990-01-04", "1990-01-01"]):
        b.call("POST", "/mail", {"to": A, "kind": "transfer_certificate_request", "message_id": f"guess-{n}",
                                 "body": {"request_id": f"guess-{n}", "resident_code": other, "birth_date": birth}})
    mail.receive(a, wait=0)
    mail.send_pending(a)
    late = [m["body"] for m in b.call("GET", "/mail?after=0")[1]["messages"] if m["body"]["request_id"] == "guess-2"]
    assert late == [{"request_id": "guess-2", "found": False}]
    assert TransferHold.objects.get(resident_code=other).wrong_birth_dates == 3
    # Held 90 days, then erased by the daily purge.
    assert mail.purge_transfers(now=timezone.now() + dt.timedelta(days=89)) == 0
    assert mail.purge_transfers(now=timezone.now() + dt.timedelta(days=91)) == 2
    assert TransferHold.objects.count() == 0
