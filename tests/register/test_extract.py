"""Bulk reads through the gate (ADR 0020): a statistics run and a destination's snapshot hand-over."""
import threading
import time

import pytest
from django.db import connection

from juki.accounts.permissions import Perm
from juki.audit import chain, gate
from juki.audit.gate import Actor
from juki.audit.models import AccessLog, AccessLogSubject
from juki.core.errors import DomainError, ErrorCode
from juki.register.models import OutboxCursor, OutboxEvent, Person, Ward
from juki.register.read_models import PersonRecord
from juki.register.services import changes, outbox
from juki.register.services.extract import Criteria, snapshot_hand_over, statistics_read
from juki.register.services.people import Address

from ..conftest import days_ago, move_in_family, person_input
from ..protection.helpers import move_in_victim, protect
from .helpers import TEST, ids, ref

UOMACHI = "40106002000"
STATISTICS = Actor.system_actor("statistics")


def _collect(call, **kw):
    chunks: list[list] = []
    summary = call(sink=chunks.append, **kw)
    return summary, [x for c in chunks for x in c], chunks


def _subjects(log: AccessLog) -> set[int]:
    return set(AccessLogSubject.objects.filter(log=log).values_list("person_id", flat=True))


def _move(actor, person_ids, banchi, *, on=None):
    return changes.move_within_city(actor=actor, event_date=on or days_ago(1), notified_on=None,
                                    persons=[ref(i) for i in person_ids], address=Address(UOMACHI, banchi))


# --- statistics ------------------------------------------------------------------------------------


def test_a_statistics_run_writes_one_row_with_its_criteria_purpose_and_count_and_no_subjects(world):
    families = [move_in_family(world, confirmed_new_person=True) for _ in range(3)]
    before = AccessLog.objects.count()
    summary, records, chunks = _collect(statistics_read, actor=STATISTICS, purpose="年齢別人口の集計", chunk=4)
    assert summary.count == summary.delivered == 9 and summary.withheld == 0
    assert [len(c) for c in chunks] == [4, 4, 1]  # in chunks by person id, never all at once
    assert all(isinstance(r, PersonRecord) for r in records)
    assert [r.person_id for r in records] == sorted(i for f in families for i in ids(f))
    assert AccessLog.objects.count() == before + 1  # one row for the whole run
    log = AccessLog.objects.order_by("-id").first()
    assert (log.function, log.category, log.outcome, log.person_count) == ("batch.statistics", "batch", "ok", 9)
    assert log.criteria["purpose"] == "年齢別人口の集計" and log.criteria["delivered"] == 9
    assert _subjects(log) == set()  # internal use: C07 asks for no per-person proof
    assert chain.verify().ok  # a counted row without subjects is linked like any other


def test_a_statistics_run_reads_as_of_a_date_and_by_criteria(world, family):
    head, wife, child = ids(family)
    _move(world, [head, wife, child], "2番", on=days_ago(1))
    _, now, _ = _collect(statistics_read, actor=STATISTICS, purpose="集計")
    _, then, _ = _collect(statistics_read, actor=STATISTICS, purpose="集計", criteria=Criteria(as_of=days_ago(5)))
    assert {r.version for r in now} == {2} and {r.address.banchi for r in now} == {"2番"}
    assert {r.version for r in then} == {1} and {r.address.banchi for r in then} == {"1番1号"}
    with gate.open(TEST, function="test.read", perm=Perm.PERSON_VIEW):
        ward = Ward.objects.get(name="小倉北区").code
        other = Ward.objects.exclude(code=ward).values_list("code", flat=True).first()
    assert len(_collect(statistics_read, actor=STATISTICS, purpose="区別", criteria=Criteria(ward=ward))[1]) == 3
    assert _collect(statistics_read, actor=STATISTICS, purpose="区別", criteria=Criteria(ward=other))[1] == []
    assert _collect(statistics_read, actor=STATISTICS, purpose="除票", criteria=Criteria(status="removed"))[1] == []


def test_a_statistics_run_counts_residents_as_the_register_does(world, family):
    """A 転出 dated ahead leaves the person a 住民 (転出予定) until that day; one dated in the past
    makes a 除票. Both the current and the as-of reads say so."""
    head, wife, child = ids(family)
    other = ids(move_in_family(world, members=[person_input(family_name="門司", family_name_kana="モジ")],
                               address=Address("40106002000", "7番7号")))
    changes.move_out(actor=world, event_date=days_ago(-10), notified_on=days_ago(0), persons=[ref(p) for p in other],
                     destination_address="東京都千代田区丸の内一丁目9番")
    gone = ids(move_in_family(world, members=[person_input(family_name="若松", family_name_kana="ワカマツ")],
                              address=Address("40106002000", "8番8号"), event_date=days_ago(20)))
    changes.move_out(actor=world, event_date=days_ago(2), notified_on=days_ago(2), persons=[ref(p) for p in gone],
                     destination_address="東京都千代田区丸の内一丁目9番")
    for criteria in (Criteria(status="resident"), Criteria(status="resident", as_of=days_ago(0))):
        residents = {r.person_id for r in _collect(statistics_read, actor=STATISTICS, purpose="集計", criteria=criteria)[1]}
        assert residents == {head, wife, child, *other}, criteria
    for criteria in (Criteria(status="removed"), Criteria(status="removed", as_of=days_ago(0))):
        removed = {r.person_id for r in _collect(statistics_read, actor=STATISTICS, purpose="除票", criteria=criteria)[1]}
        assert removed == set(gone), criteria
    with pytest.raises(DomainError) as e:
        statistics_read(actor=STATISTICS, purpose="集計", sink=list, criteria=Criteria(status="gone"))
    assert e.value.code == ErrorCode.INVALID_INPUT


def test_a_statistics_run_withholds_protected_persons_counted(world, family, support):
    victim = move_in_victim(world)
    protect(support, victim)
    summary, records, _ = _collect(statistics_read, actor=STATISTICS, purpose="集計")
    assert {r.person_id for r in records} == set(ids(family))
    assert (summary.count, summary.delivered, summary.withheld) == (5, 3, 2)
    log = AccessLog.objects.filter(function="batch.statistics").get()
    assert "support_measure" in log.flags and log.criteria["withheld"] == 2


def test_a_statistics_run_without_the_right_is_refused_and_logged(world, family):
    connector = Actor.system_actor("tax")  # outbox.consume only
    with pytest.raises(DomainError) as e:
        statistics_read(actor=connector, purpose="集計", sink=list)
    assert e.value.code == ErrorCode.PERMISSION_DENIED
    log = AccessLog.objects.filter(function="batch.statistics").get()
    assert log.outcome == AccessLog.DENIED and log.system == "tax"


def test_a_statistics_run_is_the_statistics_jobs_alone(world, family, terminal):
    """ADR 0020: a bulk read logs one row with a count and no subjects, so only the listed job may run
    it; another job holding `batch.run` and a staff user holding it are refused, and the refusal logged."""
    from tests.conftest import _staff

    admin = _staff("admin", "admin-stats")
    assert admin.has_juki_perm(Perm.BATCH_RUN)
    for actor, who in ((Actor.system_actor("seed"), {"system": "seed"}),
                       (Actor(user=admin, terminal=terminal, second_factor=True), {"user": admin})):
        sunk = []
        with pytest.raises(DomainError) as e:
            statistics_read(actor=actor, purpose="集計", sink=sunk.append)
        assert e.value.code == ErrorCode.PERMISSION_DENIED and sunk == []
        assert AccessLog.objects.filter(function="batch.statistics", **who).get().outcome == "permission_denied"


@pytest.mark.django_db(transaction=True)
def test_a_statistics_run_outside_a_transaction_reads_in_its_own_view(towns, terminal, stock, clerk):
    """Not wrapped in the test's transaction: the run opens its own (REPEATABLE READ, READ ONLY on
    PostgreSQL) and writes its row after it."""
    family = move_in_family(Actor(user=clerk, terminal=terminal))
    summary, records, _ = _collect(statistics_read, actor=STATISTICS, purpose="集計")
    assert summary.count == 3 and [r.person_id for r in records] == ids(family)
    log = AccessLog.objects.filter(function="batch.statistics").get()
    assert (log.outcome, log.person_count) == ("ok", 3) and _subjects(log) == set()


# --- the snapshot hand-over ----------------------------------------------------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's isolation levels")
def test_a_hand_over_inside_a_read_committed_transaction_is_refused(world, family):
    """Inside a READ COMMITTED transaction its position would not be tied to what it reads."""
    with pytest.raises(RuntimeError, match="takes its own transaction"):
        snapshot_hand_over(actor=Actor.system_actor("atena"), destination="atena", sink=list)
    assert AccessLog.objects.filter(function="outbox.snapshot").get().outcome == "error"
    assert not OutboxCursor.objects.filter(consumer="atena").exists()


@pytest.mark.django_db(transaction=True)
def test_a_new_destination_loads_the_snapshot_then_follows_the_outbox(towns, terminal, stock, clerk, linkage_user):
    world = Actor(user=clerk, terminal=terminal)
    first, second = move_in_family(world), move_in_family(world, confirmed_new_person=True)
    _move(world, ids(first), "2番")
    everyone = set(ids(first) + ids(second))
    summary, entries, chunks = _collect(snapshot_hand_over, actor=Actor.system_actor("atena"), destination="atena", chunk=4)
    with gate.open(TEST, function="test.read", perm=Perm.PERSON_VIEW):
        last = OutboxEvent.objects.order_by("-id").first().id
        latest = dict(Person.objects.values_list("id", "latest_seq"))
    assert summary.position == last and summary.count == summary.delivered == 6
    assert [len(c) for c in chunks] == [4, 2]
    assert {e["person_id"]: e["version_after"] for e in entries} == latest
    assert OutboxCursor.objects.get(consumer="atena").position == last
    log = AccessLog.objects.filter(function="outbox.snapshot").get()
    assert (log.category, log.person_count, log.system) == ("provision", 6, "atena")
    assert log.criteria["position"] == last and log.criteria["purpose"]
    assert _subjects(log) == everyone  # a provision: provable per person (C07)
    assert chain.verify().ok
    # Then the outbox, from exactly after the snapshot.
    later = _move(world, ids(second), "3番")
    page = outbox.outbox_read(actor=Actor.system_actor("atena", terminal=terminal), destination="atena")
    assert [e["change_id"] for e in page["events"]] == [later.change_id]


@pytest.mark.django_db(transaction=True)
def test_a_snapshot_carries_only_the_destinations_items_and_blocks_protected_persons(towns, terminal, stock, clerk,
                                                                                  support_user):
    world = Actor(user=clerk, terminal=terminal)
    family = move_in_family(world)
    victim = move_in_victim(world)
    protect(Actor(user=support_user, terminal=terminal), victim)
    summary, entries, _ = _collect(snapshot_hand_over, actor=Actor.system_actor("jukinet"), destination="jukinet")
    by_id = {e["person_id"]: e for e in entries}
    assert by_id[victim["mother"]] == {"person_id": victim["mother"], "blocked": "support_measure"}
    assert by_id[victim["child"]] == {"person_id": victim["child"], "blocked": "support_measure"}
    assert set(by_id[ids(family)[0]]) == {"person_id", "atena_number", "reason", "reason_label", "reason_category",
                                          "event_date", "version_after", "status_after"}  # the CS: no 世帯
    assert (summary.count, summary.delivered, summary.withheld) == (5, 3, 2)
    log = AccessLog.objects.filter(function="outbox.snapshot").get()
    assert "support_measure" in log.flags and log.criteria["withheld"] == 2
    _, intermediary, _ = _collect(snapshot_hand_over, actor=Actor.system_actor("intermediary"), destination="intermediary")
    assert "atena_number" not in {k for e in intermediary for k in e}  # the 中間サーバー: no 宛名番号


def test_a_snapshot_for_another_or_an_unknown_destination_is_refused(world, family):
    with pytest.raises(DomainError) as e:
        snapshot_hand_over(actor=Actor.system_actor("tax"), destination="atena", sink=list)
    assert e.value.code == ErrorCode.PERMISSION_DENIED
    with pytest.raises(DomainError) as e:
        snapshot_hand_over(actor=Actor.system_actor("tax"), destination="nowhere", sink=list)
    assert e.value.code == ErrorCode.UNKNOWN_DESTINATION
    with pytest.raises(DomainError) as e:  # コンビニ交付 reads the 抑止連携 only
        snapshot_hand_over(actor=Actor.system_actor("conveni"), destination="conveni", sink=list)
    assert e.value.code == ErrorCode.PERMISSION_DENIED
    assert [r.outcome for r in AccessLog.objects.filter(function="outbox.snapshot").order_by("id")] == [
        ErrorCode.PERMISSION_DENIED, ErrorCode.UNKNOWN_DESTINATION, ErrorCode.PERMISSION_DENIED]
    assert not OutboxCursor.objects.filter(consumer__in=["atena", "conveni"]).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers (PostgreSQL)")
@pytest.mark.django_db(transaction=True)
def test_snapshot_and_outbox_with_changes_arriving_during_the_snapshot(towns, terminal, stock, clerk, clerk2,
                                                                      linkage_user):
    """Clerks keep moving households while the snapshot is read, slowly, chunk by chunk. A consumer
    that applies the snapshot and then every outbox event after its cursor ends with exactly the
    register's state: every event continues from the version it holds (nothing missed, nothing
    applied twice) and each change arrives once.

    PostgreSQL only: on SQLite the hand-over's transaction (BEGIN IMMEDIATE) holds the database's
    write lock, so no change can commit while the snapshot is read and there is no race to test."""
    clerks = [Actor(user=clerk, terminal=terminal), Actor(user=clerk2, terminal=terminal)]
    families = [ids(move_in_family(clerks[0], confirmed_new_person=True)) for _ in range(8)]
    stop = threading.Event()
    done: list[int] = []
    errors: list[BaseException] = []

    def clerk_work(actor, mine):
        try:
            n = 0
            while not stop.is_set():
                for members in mine:
                    done.append(_move(actor, members, f"{n % 9 + 1}番", on=days_ago(0)).change_id)
                    n += 1
        except BaseException as exc:  # noqa: BLE001 — reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    consumer: dict[int, int] = {}
    seen: list[int] = []  # changes committed so far, at each chunk the snapshot hands out

    def slow_sink(entries):
        seen.append(len(done))
        for e in entries:
            assert e["person_id"] not in consumer  # each person once in the snapshot
            consumer[e["person_id"]] = e["version_after"]
        time.sleep(0.3)  # changes commit between the chunks

    threads = [threading.Thread(target=clerk_work, args=(a, families[i::2])) for i, a in enumerate(clerks)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while len(done) < 4 and not errors and time.monotonic() < deadline:  # the clerks are at work
        time.sleep(0.05)
    try:
        summary = snapshot_hand_over(actor=Actor.system_actor("atena"), destination="atena", sink=slow_sink, chunk=3)
        time.sleep(0.5)
    finally:  # a failed snapshot must not leave the clerks working for ever
        stop.set()
        for t in threads:
            t.join(timeout=60)
    assert not errors, errors
    assert seen[-1] > seen[0]  # changes did commit while the snapshot was being read
    linkage = Actor.system_actor("atena", terminal=terminal)
    applied: list[int] = []
    while page := outbox.outbox_read(actor=linkage, destination="atena", limit=50)["events"]:
        for event in page:
            assert event["position"] > summary.position
            applied.append(event["change_id"])
            for p in event["persons"]:
                assert consumer[p["person_id"]] == p["version_before"], "an event missed or applied twice"
                consumer[p["person_id"]] = p["version_after"]
        outbox.outbox_ack(actor=linkage, destination="atena", position=page[-1]["position"])
    assert len(applied) == len(set(applied))  # each change once
    with gate.open(TEST, function="test.read", perm=Perm.PERSON_VIEW):
        assert consumer == dict(Person.objects.values_list("id", "latest_seq"))
        before = set(OutboxEvent.objects.filter(id__lte=summary.position).values_list("change_id", flat=True))
    assert set(applied) == set(done) - before and not before & set(applied)
