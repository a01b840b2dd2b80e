"""The 庁内連携's delivery rules: an approval that ended stops everything and records the refusal; a
destination that is down gets everything in order when it returns; the media output (C09); what the
開示請求 report says of it (C07)."""
from __future__ import annotations

import datetime as dt

from django.utils import timezone

from juki.accounts.permissions import Perm
from juki.audit.gate import Actor
from juki.audit.models import AccessLog, AccessLogSubject
from juki.core.errors import ErrorCode
from juki.linkage import approvals, engine, media
from juki.linkage.models import Approval, Delivery
from juki.oversight import disclosure
from juki.register.services import changes
from juki.register.services.people import Address

from ..conftest import _staff, days_ago, move_in_family
from ..helpers import TEST_ACTOR, refused
from ..protection.helpers import move_in_victim, protect
from ..register.helpers import ids, ref
from ..register.test_moves import UOMACHI


def _move(world, persons, banchi: str):
    return changes.move_within_city(actor=world, event_date=days_ago(0), notified_on=days_ago(0),
                                    persons=[ref(p) for p in persons], address=Address(UOMACHI, banchi))


def test_a_destination_whose_approval_ended_receives_nothing_more_and_the_refusal_is_recorded(linkage, world):
    head, wife, child = ids(move_in_family(world))
    engine.run_once("tax")  # the start: the initial full
    before = len(linkage.received("tax"))
    approval = approvals.active("tax")
    approvals.end(TEST_ACTOR, approval.id, note="事務の廃止")
    _move(world, [head, wife, child], "2番")
    outcome = engine.run_once("tax")
    assert outcome.collected == [] and outcome.refused == 3
    assert len(linkage.received("tax")) == before  # nothing more
    row = AccessLog.objects.filter(function="linkage.refuse", system="tax").latest("id")
    assert row.outcome == ErrorCode.APPROVAL_ENDED and row.category == "provision"
    assert set(AccessLogSubject.objects.filter(log=row).values_list("person_id", flat=True)) == {head, wife, child}
    assert "address" in row.criteria["items"]  # the items it would have sent, named
    # The next change is refused too, and no read of the register items happened for it.
    reads = AccessLog.objects.filter(function="linkage.deliver", system="tax").count()
    _move(world, [head, wife, child], "3番")
    assert engine.run_once("tax").refused == 3
    assert AccessLog.objects.filter(function="linkage.deliver", system="tax").count() == reads
    # An approval whose period is over counts as ended, whatever its state says.
    Approval.objects.filter(id=approval.id).update(state=Approval.State.ACTIVE, ends_on=days_ago(1))
    assert approvals.active("tax") is None
    # The 開示請求 report lists the refusal for the person, with the items and why.
    report = disclosure.disclosure_data(TEST_ACTOR, head)
    refusals = [p for p in report["provisions"] if "提供せず" in p["content"]]
    assert refusals and refusals[0]["destination"] == "税制課（地方税）"
    assert "住所" in refusals[0]["content"] and "承認がない" in refusals[0]["outcome"]


def test_a_delivery_lists_its_items_per_person_in_the_disclosure_report(linkage, world):
    head, wife, child = ids(move_in_family(world))
    engine.run_once("tax")
    _move(world, [head, wife, child], "5番")
    engine.run_once("tax")
    report = disclosure.disclosure_data(TEST_ACTOR, wife)
    sent = [p for p in report["provisions"] if p["destination"] == "税制課（地方税）" and "移転" in p["content"]]
    assert len(sent) == 2  # the initial full and the 転居
    assert "氏名" in sent[-1]["content"] and "住所" in sent[-1]["content"] and "本籍" not in sent[-1]["content"]


def test_a_destination_down_for_a_while_receives_everything_in_order_when_it_returns(linkage, world):
    head, wife, child = ids(move_in_family(world))
    engine.run_once("national-pension")
    linkage.stop("national-pension")
    for n in range(1, 4):
        _move(world, [head, wife, child], f"{n}0番")
        outcome = engine.run_once("national-pension")
        assert outcome.collected and not outcome.sent and outcome.error  # kept, not lost
    pending = Delivery.objects.filter(destination="national-pension", state=Delivery.State.PENDING)
    head_of_line = pending.order_by("sequence").first()
    assert pending.count() == 3 and head_of_line.attempts == 3 and "接続できません" in head_of_line.last_error
    linkage.start("national-pension", port=0)  # back, on a new port (its port file says where)
    assert engine.run_once("national-pension").sent == [2, 3, 4]
    got = linkage.received("national-pension")
    assert [d["sequence"] for d in got] == [1, 2, 3, 4]
    addresses = [r["items"]["address"] for d in got[1:] for r in d["payload"]["records"] if r["items"]["name"] == "青木　花子"]
    assert [a[-3:] for a in addresses] == ["10番", "20番", "30番"]  # in the order they happened


def test_a_delivery_sent_twice_is_taken_once(linkage, world):
    """A crash between the destination's 200 and the mark: the same delivery goes again and is a duplicate."""
    head, wife, child = ids(move_in_family(world))
    engine.run_once("tax")
    _move(world, [head, wife, child], "7番")
    engine.collect_changes("tax")
    delivery = Delivery.objects.get(destination="tax", state=Delivery.State.PENDING)
    engine._post(delivery, engine.config.signing_key())  # sent, then "crashed" before the mark
    assert engine.send_pending("tax").sent == [delivery.sequence]  # sent again: a duplicate, marked now
    assert [d["sequence"] for d in linkage.received("tax")] == [1, 2]


def test_a_protected_person_is_withheld_and_the_refusal_recorded(linkage, world, support):
    victim = move_in_victim(world)
    family = ids(move_in_family(world))
    protect(support, victim)
    engine.run_once("tax")
    names = {r["items"]["name"] for r in linkage.records("tax")}
    assert "青木　太郎" in names and not any(n.startswith("山田") for n in names)
    _move(support, [victim["mother"], victim["child"]], "9番")
    _move(world, family, "9番")
    engine.run_once("tax")
    assert not any(r["items"]["name"].startswith("山田") for r in linkage.records("tax"))
    row = AccessLog.objects.filter(function="linkage.refuse", system="tax", outcome="withheld").latest("id")
    assert victim["mother"] in set(AccessLogSubject.objects.filter(log=row).values_list("person_id", flat=True))
    assert Delivery.objects.filter(destination="tax").latest("sequence").withheld == 2


def test_a_resend_from_a_position_sends_the_events_again_with_new_sequences(linkage, world):
    head, wife, child = ids(move_in_family(world))
    engine.run_once("tax")
    start = engine.outbox.outbox_cursor("tax")
    _move(world, [head, wife, child], "1番")
    _move(world, [head, wife, child], "2番")
    engine.run_once("tax")
    cursor = engine.outbox.outbox_cursor("tax")
    result = engine.resend("tax", after=start)
    assert result.collected and engine.outbox.outbox_cursor("tax") == cursor  # the cursor does not move
    engine.send_pending("tax")
    got = linkage.received("tax")
    assert [d["payload"]["kind"] for d in got][-len(result.collected):] == ["resend"] * len(result.collected)
    again = [r for d in got if d["payload"]["kind"] == "resend" for r in d["payload"]["records"]]
    assert {r["items"]["address"][-2:] for r in again} == {"1番", "2番"}


def test_media_output_needs_an_approved_request_by_another_person(linkage, world, manager, terminal):
    ids(move_in_family(world))
    today = timezone.localdate()
    engine.run_once("public-housing", now=timezone.make_aware(dt.datetime.combine(
        (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1), dt.time(3, 30))))
    delivery = Delivery.objects.get(destination="public-housing")
    assert delivery.state == Delivery.State.DELIVERED and delivery.file_name.endswith(".dat")
    operator = Actor(user=_staff("linkage_operator", "ope9"), terminal=terminal)
    boss = Actor(user=manager, terminal=terminal, second_factor=True)
    req = media.request(operator, code="public-housing", purpose="システム更改の移行データ", medium="暗号化USBメモリ")
    refused(ErrorCode.MEDIA_REQUEST_REQUIRED, media.output, operator, request_id=req.id, delivery_id=delivery.id)
    refused(ErrorCode.PERMISSION_DENIED, media.approve, operator, req.id)
    media.approve(boss, req.id)
    name, data = media.output(operator, request_id=req.id, delivery_id=delivery.id)
    assert name == delivery.file_name and len(data) == delivery.file_bytes
    out = delivery.media_outputs.get()
    assert out.request_id == req.id and out.by == operator.user and out.file_sha256 == delivery.file_sha256
    row = AccessLog.objects.filter(function="linkage.media.output").latest("id")
    assert row.category == "export" and row.criteria["request"] == req.id
    assert operator.can(Perm.MEDIA_EXPORT)
