"""The 庁内連携's safeguards found in review: a protected 世帯主 is not named beside a member's address;
files owner-only; one consumer per destination; a business system's account reads no outbox; the
envelope follows the application; the server must be the destination's own; a delivery that waited is
checked again; one media output per request form; the 抑止対象者一覧 hides 支援措置 persons."""
from __future__ import annotations

import datetime as dt
import os
import stat

from django.utils import timezone

from juki.audit.gate import Actor
from juki.audit.models import AccessLog, AccessLogSubject
from juki.core.errors import ErrorCode
from juki.linkage import approvals, config, engine, media
from juki.linkage.models import Delivery
from juki.protection import services as protection_services
from juki.register.services import changes
from juki.register.services.people import Address

from ..conftest import _staff, api_for, days_ago, move_in_family, person_input
from ..helpers import TEST_ACTOR, refused
from ..protection.helpers import OFFENDER, move_in_victim, protect
from ..register.helpers import ids, ref
from ..register.test_moves import UOMACHI


def test_a_protected_head_is_not_named_beside_a_members_address(linkage, world, support):
    victim = move_in_victim(world)  # the mother is the 世帯主, the child her member
    # Only the mother protected: the child's items go, her name must not go beside the child's address.
    protection_services.support_register(actor=support, person_id=victim["mother"], kind="dv", applied_on=days_ago(3),
                                         offender=OFFENDER, provisional=False, start=None, members=[])
    engine.run_once("tax")
    child = [r["items"] for r in linkage.records("tax") if r["items"]["name"] == "山田　さくら"]
    assert child and child[0]["address"].endswith("城内3番3号") and child[0]["head_name"] == ""
    assert not any(r["items"]["name"] == "山田　花子" for r in linkage.records("tax"))


def test_files_and_folders_holding_residents_data_are_owner_only(linkage, world):
    ids(move_in_family(world))
    today = timezone.localdate()
    engine.run_once("public-housing", now=timezone.make_aware(dt.datetime.combine(
        (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1), dt.time(3, 30))))
    delivery = Delivery.objects.get(destination="public-housing")
    path = config.outbound("public-housing") / delivery.file_name
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    for folder in (path.parent, path.parent.parent, config.spool("public-housing")):
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700, folder


def test_one_consumer_per_destination_at_a_time(linkage, world):
    """Another consumer (its own thread and database session, as another process would be) holds tax."""
    import threading

    from django.db import connection

    ids(move_in_family(world))
    holding, release = threading.Event(), threading.Event()

    def other_consumer():
        try:
            with engine.exclusive("tax", wait=False) as held:
                assert held
                holding.set()
                release.wait(30)
        finally:
            connection.close()

    thread = threading.Thread(target=other_consumer)
    thread.start()
    assert holding.wait(30)
    try:
        assert engine.run_once("tax").collected == []  # another holds it: this turn does nothing
        assert not Delivery.objects.filter(destination="tax").exists()
    finally:
        release.set()
        thread.join(30)
    assert engine.run_once("tax").collected == [1]


def test_a_business_systems_account_reads_no_outbox_over_the_api(world, destination_account, terminal):
    client = api_for(destination_account("tax"), terminal)
    response = client.get("/api/v1/outbox", {"consumer": "tax"})
    assert response.status_code == 403 and response.json()["code"] == ErrorCode.PERMISSION_DENIED
    ack = client.post("/api/v1/outbox/ack", {"consumer": "tax", "position": 1}, format="json")
    assert ack.status_code == 403


def test_the_envelope_follows_the_application(linkage, world):
    head, wife, child = ids(move_in_family(world))
    engine.run_once("tax")
    approvals.end(TEST_ACTOR, approvals.active("tax").id)
    narrow = approvals.apply(TEST_ACTOR, code="tax", items=["name", "address"], purpose="課税", legal_basis="地方税法",
                             starts_on=days_ago(0), ends_on=days_ago(-30))
    approvals.decide(Actor(system="approver", rights=TEST_ACTOR.rights), narrow.id, approve=True)
    approvals.activate(TEST_ACTOR, narrow.id)
    changes.move_within_city(actor=world, event_date=days_ago(0), notified_on=days_ago(0),
                             persons=[ref(head), ref(wife), ref(child)], address=Address(UOMACHI, "1番"))
    engine.run_once("tax")
    last = linkage.received("tax")[-1]["payload"]["records"]
    assert last and all(set(r) == {"position", "change_id", "items"} and set(r["items"]) == {"name", "address"}
                        for r in last)  # no 異動事由 or 異動日 without the application's reason / event_date


def test_the_server_must_be_the_destinations_own(linkage, world):
    ids(move_in_family(world))
    # tax's port file points at the 国保's service: its certificate is not tax's.
    config.port_file("tax").write_text(config.port_file("national-health-insurance").read_text())
    outcome = engine.run_once("tax")
    assert outcome.collected == [1] and outcome.sent == []
    dead = Delivery.objects.get(destination="tax", sequence=1)
    assert dead.state == Delivery.State.DEAD and "wrong_server:national-health-insurance" in dead.last_error
    assert linkage.received("national-health-insurance") == []


def test_a_delivery_that_waited_is_checked_again_before_it_goes(linkage, world, support):
    victim = move_in_victim(world)
    engine.run_once("tax")
    linkage.stop("tax")
    changes.move_within_city(actor=world, event_date=days_ago(0), notified_on=days_ago(0),
                             persons=[ref(victim["mother"]), ref(victim["child"])], address=Address(UOMACHI, "5番"))
    assert engine.run_once("tax").sent == []  # waiting: tax is down
    protect(support, victim)  # protected while the delivery waits
    Delivery.objects.filter(destination="tax", sequence=2).update(created_at=timezone.now() - dt.timedelta(minutes=5))
    linkage.start("tax")
    assert engine.run_once("tax").sent == [2]
    got = linkage.received("tax")[-1]["payload"]
    assert got["sequence"] == 2 and got["records"] == []  # it went, empty: no gap in the sequence
    row = AccessLog.objects.filter(function="linkage.refuse", outcome="withheld").latest("id")
    assert victim["mother"] in set(AccessLogSubject.objects.filter(log=row).values_list("person_id", flat=True))
    assert "support_measure" in row.flags


def test_one_media_output_per_request_form(linkage, world, manager, terminal):
    ids(move_in_family(world))
    today = timezone.localdate()
    engine.run_once("public-housing", now=timezone.make_aware(dt.datetime.combine(
        (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1), dt.time(3, 30))))
    delivery = Delivery.objects.get(destination="public-housing")
    operator = Actor(user=_staff("linkage_operator", "ope-media"), terminal=terminal)
    request = media.request(operator, code="public-housing", purpose="移行", medium="暗号化USBメモリ")
    media.approve(Actor(user=manager, terminal=terminal, second_factor=True), request.id)
    media.output(operator, request_id=request.id, delivery_id=delivery.id)
    refused(ErrorCode.MEDIA_REQUEST_REQUIRED, media.output, operator, request_id=request.id, delivery_id=delivery.id)
    admin = Actor(user=_staff("admin", "admin-media"), terminal=terminal, second_factor=True)
    refused(ErrorCode.PERMISSION_DENIED, media.output, admin, request_id=request.id, delivery_id=delivery.id)


def test_the_roster_leaves_support_measure_persons_to_their_staff(world, support, terminal):
    from juki.protection.models import Process

    victim = move_in_victim(world)
    protect(support, victim)
    head = ids(move_in_family(world, members=[person_input(family_name="井上", family_name_kana="イノウエ")]))[0]
    sup = Actor(user=_staff("supervisor", "sup-roster3"), terminal=terminal, second_factor=True)
    protection_services.restriction_set(actor=support, person_id=victim["mother"], processes=[Process.LINKAGE],
                                        reason="申出")
    protection_services.restriction_set(actor=sup, person_id=head, processes=[Process.LINKAGE], reason="申出")
    seen = protection_services.restriction_roster(actor=sup)
    assert [r["person_id"] for r in seen["rows"]] == [head] and seen["hidden"] == 1
    assert {r["person_id"] for r in protection_services.restriction_roster(actor=support)["rows"]} == {
        head, victim["mother"]}
