import json

import pytest

from juki.audit import gate
from juki.audit.gate import Actor
from juki.accounts.permissions import Perm
from juki.core.errors import AccessDenied, DomainError, ErrorCode
from juki.register.models import OutboxEvent
from juki.register.services import changes, outbox
from juki.register.services.people import Address

from ..conftest import days_ago, move_in_family, person_input
from .helpers import TEST, ids, ref

MY_NUMBER = "123456789018"


def events():
    with gate.open(TEST, function="test.read", perm=Perm.PERSON_VIEW):
        return [e.payload for e in OutboxEvent.objects.order_by("id")]


def test_every_change_appends_one_event_with_a_stable_shape(world):
    result = move_in_family(world, members=[person_input(my_number=MY_NUMBER)])
    (event,) = events()
    assert event["schema"] == "juki.change.v1"
    assert event["change_id"] == result.change_id and event["operation"] == "move_in"
    assert set(event) == {"schema", "change_id", "operation", "processed_at", "event_date", "notified_on",
                          "late_notification", "cancels_change_id", "persons", "households"}
    (p,) = event["persons"]
    assert p["person_id"] == ids(result)[0] and p["version_before"] is None and p["version_after"] == 1
    assert p["reason"] == "domestic_move_in" and p["reason_category"] == "記載"
    assert p["my_number_changed"] is True
    assert MY_NUMBER not in json.dumps(event)
    assert event["households"][0]["number"] == result.households[0]["number"]


def test_refused_change_writes_no_event(world):
    move_in_family(world)
    with pytest.raises(DomainError) as err:
        move_in_family(world, members=[person_input(relationship="祖父")])
    assert err.value.code == ErrorCode.INVALID_RELATIONSHIP
    assert len(events()) == 1


def test_consumer_reads_after_its_cursor_and_acknowledges(world, linkage_user, terminal):
    first = move_in_family(world)
    second = changes.move_within_city(actor=world, event_date=days_ago(1), notified_on=None,
                                      persons=[ref(i) for i in ids(first)], address=Address("40106002000", "1番"))
    linkage = Actor(user=linkage_user, terminal=terminal)
    page = outbox.outbox_read(actor=linkage, consumer="jukinet")
    assert [e["change_id"] for e in page["events"]] == [first.change_id, second.change_id]
    outbox.outbox_ack(actor=linkage, consumer="jukinet", position=page["events"][0]["position"])
    again = outbox.outbox_read(actor=linkage, consumer="jukinet")
    assert [e["change_id"] for e in again["events"]] == [second.change_id]
    with pytest.raises(DomainError) as err:  # a cursor never goes back
        outbox.outbox_ack(actor=linkage, consumer="jukinet", position=0)
    assert err.value.code == ErrorCode.INVALID_INPUT and "前には戻せません" in err.value.message
    other = outbox.outbox_read(actor=linkage, consumer="atena")  # each consumer has its own cursor
    assert len(other["events"]) == 2


def test_only_linkage_systems_may_read_the_outbox(world):
    move_in_family(world)
    with pytest.raises(AccessDenied):
        outbox.outbox_read(actor=world, consumer="jukinet")
