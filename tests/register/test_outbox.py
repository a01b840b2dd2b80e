import json

import pytest

from juki.audit import gate
from juki.audit.gate import Actor
from juki.accounts.permissions import Perm
from juki.core.errors import AccessDenied, DomainError, ErrorCode
from juki.audit.models import AccessLog
from juki.register.models import OutboxCursor, OutboxEvent
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
    linkage = Actor.system_actor("atena", terminal=terminal)  # the destination 「atena」, as its account acts
    page = outbox.outbox_read(actor=linkage, destination="atena")
    assert [e["change_id"] for e in page["events"]] == [first.change_id, second.change_id]
    outbox.outbox_ack(actor=linkage, destination="atena", position=page["events"][0]["position"])
    again = outbox.outbox_read(actor=linkage, destination="atena")
    assert [e["change_id"] for e in again["events"]] == [second.change_id]
    with pytest.raises(DomainError) as err:  # a cursor never goes back
        outbox.outbox_ack(actor=linkage, destination="atena", position=0)
    assert err.value.code == ErrorCode.INVALID_INPUT and "前には戻せません" in err.value.message
    # Each destination has its own cursor, read by its own account (here its system actor).
    other = outbox.outbox_read(actor=Actor.system_actor("jukinet"), destination="jukinet")
    assert len(other["events"]) == 2


def test_a_destination_reads_and_acknowledges_only_its_own_cursor(world, linkage_user, destination_account, terminal):
    move_in_family(world)
    # Another destination's actor, and a staff actor built other than by audit.requests.actor_of.
    for actor in (Actor.system_actor("atena", terminal=terminal), Actor.system_actor("tax"),
                  Actor(user=destination_account("tax"), terminal=terminal)):
        with pytest.raises(AccessDenied) as refused:
            outbox.outbox_read(actor=actor, destination="jukinet")
        assert refused.value.code == ErrorCode.PERMISSION_DENIED
        with pytest.raises(AccessDenied) as refused:
            outbox.outbox_ack(actor=actor, destination="jukinet", position=0)
        assert refused.value.code == ErrorCode.PERMISSION_DENIED
    log = AccessLog.objects.filter(function="outbox.read", criteria__consumer="jukinet")
    assert log.count() == 3 and {r.outcome for r in log} == {"permission_denied"}
    assert not OutboxCursor.objects.exists()
    assert len(outbox.outbox_read(actor=Actor.system_actor("jukinet"), destination="jukinet")["events"]) == 1


def test_an_unknown_destination_or_an_unapproved_stream_is_refused(world, linkage_user, terminal):
    from juki.protection import linkage

    with pytest.raises(DomainError) as unknown:
        outbox.outbox_read(actor=Actor.system_actor("atena", terminal=terminal), destination="new-system")
    assert unknown.value.code == ErrorCode.UNKNOWN_DESTINATION and unknown.value.field == "consumer"
    assert AccessLog.objects.filter(function="outbox.read").get().outcome == "unknown_destination"
    with pytest.raises(AccessDenied) as stream:  # コンビニ交付 reads the 抑止連携 only
        outbox.outbox_read(actor=Actor.system_actor("conveni"), destination="conveni")
    assert stream.value.code == ErrorCode.PERMISSION_DENIED
    with pytest.raises(AccessDenied) as stream:  # 中間サーバー reads the change outbox only
        linkage.restriction_events_read(actor=Actor.system_actor("intermediary"), destination="intermediary")
    assert stream.value.code == ErrorCode.PERMISSION_DENIED


def test_each_destination_receives_only_its_approved_items(world):
    move_in_family(world, members=[person_input(my_number=MY_NUMBER)])

    def delivered(code):
        (event,) = outbox.outbox_read(actor=Actor.system_actor(code), destination=code)["events"]
        return event, event["persons"][0], event["households"][0]

    everything, person, household = delivered("atena")  # 団体内統合宛名: every item
    assert set(everything) == {"position", "schema", "change_id", "operation", "processed_at", "event_date",
                               "notified_on", "late_notification", "cancels_change_id", "persons", "households"}
    assert {"atena_number", "my_number_changed", "resident_code_changed", "version_after"} <= set(person)
    assert set(household) == {"household_id", "number", "version", "head_absent"}

    event, person, household = delivered("tax")  # a 移転: the notice and the household, no identifiers' changes
    # The 履歴番号 after: the 庁内連携 reads that version's approved items (issue 16).
    assert set(person) == {"person_id", "atena_number", "reason", "reason_label", "reason_category", "event_date",
                           "version_after", "household_before", "household_after", "status_after"}
    assert set(household) == {"household_id", "number", "head_absent"} and "late_notification" not in event
    assert event["change_id"] == everything["change_id"] and person["reason"] == "domestic_move_in"

    event, person, household = delivered("intermediary")  # 中間サーバー: the household, not the 宛名番号
    assert "atena_number" not in person and person["my_number_changed"] is True
    assert set(household) == {"household_id", "number", "version", "head_absent"}

    event, person, household = delivered("jukinet")  # the CS: 本人確認情報's changes, no 世帯
    assert person["my_number_changed"] is True and "resident_code_changed" in person
    assert "household_after" not in person and set(household) == {"household_id"}


def test_only_linkage_systems_may_read_the_outbox(world):
    move_in_family(world)
    with pytest.raises(AccessDenied) as refused:
        outbox.outbox_read(actor=world, destination="jukinet")
    assert refused.value.code == ErrorCode.PERMISSION_DENIED
