"""The CS's store and queue (in this process, its own database alias), sending to a real prefecture
server on loopback (mutual TLS)."""
import threading

import pytest

from juki.cs import services
from juki.cs.models import IdentityVersion, Inbound, Outbound
from juki.network import peers, pki, wire

from .test_file2 import code, items

pytestmark = pytest.mark.django_db(databases=["default", "cs"])


@pytest.fixture
def prefecture(tmp_path):
    pki.create(tmp_path)
    server = wire.Server(peers.prefecture(tmp_path), ("127.0.0.1", 0), pki.server_context(tmp_path, "prefecture"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    client = wire.Client(f"https://127.0.0.1:{server.server_address[1]}", directory=tmp_path, name="cs-401005")
    yield client
    server.shutdown()
    server.server_close()


def test_accepted_updates_get_consecutive_numbers_and_keep_history():
    first = services.receive({"message_id": "1-1-1", "kind": "entry", "items": items(my_number=None)})
    second = services.receive({"message_id": "2-1-2", "kind": "update",
                               "items": items(reason="move_within_city", address="小倉北区魚町一丁目8番")})
    assert (first["outcome"], second["outcome"]) == ("accepted", "accepted")
    assert second["seq"] == first["seq"] + 1
    versions = list(IdentityVersion.objects.filter(resident_code=code()).order_by("seq"))
    assert [v.superseded_at is None for v in versions] == [False, True]
    assert versions[-1].items["address"] == "小倉北区魚町一丁目8番" and versions[-1].items["seq"] == second["seq"]
    assert list(Outbound.objects.order_by("seq").values_list("seq", "state")) == [
        (first["seq"], "pending"), (second["seq"], "pending")]


def test_the_same_message_twice_changes_nothing():
    message = {"message_id": "1-1-1", "kind": "entry", "items": items()}
    first = services.receive(message)
    again = services.receive(message)
    assert again == {**first, "errors": [], "repeated": True}
    assert IdentityVersion.objects.count() == 1 and Outbound.objects.count() == 1 and Inbound.objects.count() == 1


def test_a_refused_update_is_answered_with_its_codes_and_stores_nothing():
    answer = services.receive({"message_id": "9-9-1", "kind": "update", "items": items()})
    assert answer["outcome"] == "rejected"
    assert [(e["code"], e["item"]) for e in answer["errors"]] == [("unknown_resident", "resident_code")]
    assert IdentityVersion.objects.count() == 0 and Outbound.objects.count() == 0


def test_my_number_is_sealed_in_the_store_and_sent_in_the_update(prefecture):
    from juki.core.checkdigits import mod11_check_digit

    number = "12345678901" + str(mod11_check_digit("12345678901"))
    services.receive({"message_id": "1-1-1", "kind": "entry", "items": items(my_number=number)})
    version = IdentityVersion.objects.get()
    assert number not in str(version.items) and version.my_number_digest and bytes(version.my_number_cipher)
    assert services.send_batch(prefecture) == {"sent": 1, "dead": 0, "waiting": 0}
    status, record = prefecture.call("GET", f"/records/{code()}")
    assert status == 200 and record["items"]["my_number"] == number and record["seq"] == version.seq


def test_sending_in_order_and_a_refused_record_becomes_a_dead_letter(prefecture):
    services.receive({"message_id": "1", "kind": "entry", "items": items()})
    other = code("2234567890")
    services.receive({"message_id": "2", "kind": "entry", "items": items(resident_code=other)})
    # The prefecture refuses a record without its 性別 by itself, whatever the CS let through.
    IdentityVersion.objects.filter(resident_code=other).update(items={**items(resident_code=other), "sex": ""})
    assert services.send_batch(prefecture) == {"sent": 1, "dead": 1, "waiting": 0}
    dead = Outbound.objects.get(state=Outbound.State.DEAD)
    assert dead.resident_code == other and dead.last_error == "invalid_record: sex"
    assert services.status()["dead_letters"][0]["seq"] == dead.seq
    assert services.send_batch(prefecture) == {"sent": 0, "dead": 0, "waiting": 0}  # sent once, not again


def test_an_absent_prefecture_backs_off_and_loses_nothing(tmp_path):
    pki.create(tmp_path)
    services.receive({"message_id": "1", "kind": "entry", "items": items()})
    gone = wire.Client("https://127.0.0.1:9", directory=tmp_path, name="cs-401005", timeout=1)
    result = services.send_batch(gone)
    assert result["error"] == "unreachable" and result["sent"] == 0
    head = Outbound.objects.get()
    assert head.state == "pending" and head.attempts == 1 and head.next_attempt_at > head.created_at
    assert services.send_batch(gone) == {"sent": 0, "dead": 0, "waiting": 1}  # waits out its back-off


def test_the_record_digest_is_keyed_so_it_does_not_give_the_sealed_number_away():
    from django.conf import settings

    from juki.core.checkdigits import mod11_check_digit
    from juki.network import consistency, merkle

    number = "12345678901" + str(mod11_check_digit("12345678901"))
    services.receive({"message_id": "1-1-1", "kind": "entry", "items": items(my_number=number)})
    version = IdentityVersion.objects.get()
    view = consistency.record_view({**version.items, "my_number": number}, version.kind)
    # Anyone holding the row could try every number against an unkeyed hash of its other items.
    assert version.digest != merkle.record_digest(view).hex()
    assert version.digest == merkle.record_digest(view, settings.JUKI_CONSISTENCY_KEY).hex()
