"""The 副本 kept from the register (S1-11, P1): the full load, then every change through the outbox under
the destination `intermediary` — a household's members follow their 世帯主 — exactly once; 支援措置
persons flagged 自動応答不可; and the reconciliation (C28) that finds a planted difference."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from juki.atena import services as atena
from juki.atena.models import AtenaPerson
from juki.intermediary_link import feed
from juki.protection import services as protection_services
from juki.register.services import changes
from juki.register.services.people import Address

from ..conftest import days_ago, move_in_family
from ..helpers import last_log
from ..protection.helpers import OFFENDER, move_in_victim, protect
from ..register.helpers import href, ids, ref
from ..register.test_moves import UOMACHI

pytestmark = pytest.mark.usefixtures("applications")


def _replica(admin) -> dict[str, tuple]:
    rows = admin.execute("SELECT unified_number, status, is_head, head_name, relationship, no_auto FROM replica "
                         "WHERE tenant = '401005'").fetchall()
    return {r[0]: r[1:] for r in rows}


def _number(pid: int) -> str:
    return AtenaPerson.objects.get(person_id=pid).number


@pytest.fixture
def im(network):
    """The city's connector to the platform."""
    return network.client("im-401005")


def _loaded(im, **persons) -> SimpleNamespace:
    """Every person numbered by the 宛名 and the 副本 loaded in full."""
    atena.load()
    return SimpleNamespace(load=feed.load(im), **persons)


@pytest.fixture
def family(world, im, admin):
    """A family of three (世帯主, 妻, 子) in the 副本."""
    result = move_in_family(world)
    head, wife, child = ids(result)
    return _loaded(im, result=result, head=head, wife=wife, child=child)


@pytest.fixture
def victim(world, support, im, admin):
    """A mother and her child under a 支援措置, in the 副本."""
    persons = move_in_victim(world)
    protect(support, persons)
    return _loaded(im, **persons)


def test_the_full_load_then_each_change_of_a_day_keeps_the_replica_equal_to_the_register(world, family, im, admin):
    head, wife, child = family.head, family.wife, family.child
    assert family.load["sent"] == 3 and family.load["removed"] == 0
    assert _replica(admin) == {
        _number(head): ("resident", True, "", "", False),
        _number(wife): ("resident", False, "青木　太郎", "妻", False),
        _number(child): ("resident", False, "青木　太郎", "子", False)}
    row = last_log("linkage.deliver", system="intermediary")
    assert row.criteria["full"] and row.criteria["items"] == ["head_name", "relationship", "status"]
    assert feed.run_once(im).events == 0  # the load's position: nothing to send again

    # A day: a birth, a move, the head's death (the wife becomes 世帯主), a correction of a child's name.
    baby = ids(changes.birth(actor=world, event_date=days_ago(3), notified_on=days_ago(2),
                             child={"family_name": "青木", "given_name": "二郎", "sex": 1, "relationship": "子"},
                             destination=href(family.result.households[0]["id"])))[0]
    changes.move_within_city(actor=world, event_date=days_ago(2), notified_on=days_ago(1),
                             persons=[ref(head), ref(wife), ref(child), ref(baby)], address=Address(UOMACHI, "8番"))
    changes.death(actor=world, event_date=days_ago(1), notified_on=days_ago(1), persons=[ref(head)], new_head=wife)
    atena.sync()
    batch = feed.run_once(im)
    assert batch.events == 3 and batch.waiting == 0
    assert _replica(admin) == {
        _number(head): ("removed", True, "", "", False),
        _number(wife): ("resident", True, "", "", False),
        _number(child): ("resident", False, "青木　花子", "子", False),
        _number(baby): ("resident", False, "青木　花子", "子", False)}
    assert feed.run_once(im).events == 0
    found = feed.reconcile(im)
    assert (found.checked, found.differences) == (4, 0)

    # Sent again (a consumer killed after the platform stored a batch, before its commit): nothing changes;
    # an older batch arriving late does not overwrite a newer row.
    stale = {"unified_number": _number(child), "status": "resident", "is_head": False, "head_name": "青木　太郎",
             "relationship": "子"}
    before = _replica(admin)
    assert im.call("POST", "/replica/changes", {"position": 1, "records": [stale]}) == (200, {"changed": 0})
    assert _replica(admin) == before and before[_number(child)][2] == "青木　花子"


def test_a_person_not_yet_numbered_by_the_atena_waits_and_nothing_is_acknowledged(world, family, im, admin):
    changes.birth(actor=world, event_date=days_ago(1), notified_on=days_ago(1),
                  child={"family_name": "青木", "given_name": "二郎", "sex": 1, "relationship": "子"},
                  destination=href(family.result.households[0]["id"]))
    assert feed.run_once(im).waiting == 1 and len(_replica(admin)) == 3
    atena.sync()
    assert feed.run_once(im).events == 1 and len(_replica(admin)) == 4


def test_a_support_measure_person_and_the_members_of_a_protected_head_are_flagged_no_auto(world, support, im, admin):
    persons = move_in_victim(world)
    # The mother alone is protected: her child is flagged as the member whose answer would name her.
    protection_services.support_register(actor=support, person_id=persons["mother"], kind="dv",
                                         applied_on=days_ago(3), offender=OFFENDER, members=[])
    family = move_in_family(world)
    _loaded(im)
    replica = _replica(admin)
    assert replica[_number(persons["mother"])][-1] is True and replica[_number(persons["child"])][-1] is True
    assert [r[-1] for n, r in replica.items() if n in {_number(p) for p in ids(family)}] == [False, False, False]


def test_reconciliation_finds_a_planted_difference_a_missing_row_and_an_extra_one(family, im, admin):
    child, wife = family.child, family.wife
    admin.execute("UPDATE replica SET relationship = '孫' WHERE unified_number = %s", (_number(child),))
    admin.execute("DELETE FROM replica WHERE unified_number = %s", (_number(wife),))
    admin.execute("INSERT INTO replica (tenant, unified_number, status, is_head, position) "
                  "VALUES ('401005', '999999999999', 'resident', true, 1)")
    found = feed.reconcile(im)
    assert found.differing == {_number(child): ["relationship"]}
    assert found.missing == [_number(wife)] and found.extra == ["999999999999"]
    assert found.differences == 3
    batch = admin.execute("SELECT kind, count FROM feed_batch WHERE tenant = '401005' ORDER BY id DESC LIMIT 1").fetchone()
    assert batch == ("reconcile", 3)


def test_the_full_loads_rows_carry_the_snapshots_position_so_an_older_change_cannot_overwrite_them(world, im, admin):
    head, wife, child = ids(move_in_family(world))
    changes.move_within_city(actor=world, event_date=days_ago(1), notified_on=days_ago(1),
                             persons=[ref(head), ref(wife), ref(child)], address=Address(UOMACHI, "8番"))
    loaded = _loaded(im).load
    assert loaded["position"] > 0
    positions = {r[0] for r in admin.execute("SELECT position FROM replica WHERE tenant = '401005'")}
    assert positions == {loaded["position"]}
    late = {"unified_number": _number(child), "status": "resident", "is_head": False, "head_name": "誰か",
            "relationship": "孫"}
    assert im.call("POST", "/replica/changes", {"position": loaded["position"] - 1, "records": [late]})[1] == {"changed": 0}
    assert _replica(admin)[_number(child)][3:5] == ("子", False)


def test_the_sweep_flags_a_support_measure_begun_without_a_change_and_clears_one_that_ended(world, support, im, admin):
    victim = move_in_victim(world)
    head = ids(move_in_family(world))[0]
    _loaded(im)
    assert not any(r[-1] for r in _replica(admin).values())
    protect(support, victim)  # no 異動: no outbox event
    assert feed.run_once(im).events == 0
    assert feed.sweep(im) == {"flagged": 2, "cleared": 0}
    replica = _replica(admin)
    assert replica[_number(victim["mother"])][-1] and replica[_number(victim["child"])][-1]
    assert not replica[_number(head)][-1]
    assert last_log("intermediary.protect").system == "intermediary"
    assert feed.sweep(im) == {"flagged": 0, "cleared": 0}  # nothing more to do
    # A flag the register no longer asks for (a 支援措置 ended) is cleared.
    admin.execute("UPDATE replica SET no_auto = true WHERE unified_number = %s", (_number(head),))
    assert feed.sweep(im) == {"flagged": 0, "cleared": 1}
    assert not _replica(admin)[_number(head)][-1]



def test_a_second_full_load_and_a_load_after_changes_keep_every_row(world, family, im, admin):
    head, wife = family.head, family.wife
    assert family.load["sent"] == 3
    again = feed.load(im)
    assert (again["sent"], again["removed"]) == (3, 0)
    assert len(_replica(admin)) == 3
    changes.ex_officio_correction(actor=world, event_date=days_ago(0), person=ref(head), changes={"given_name": "太一"})
    atena.sync()
    assert feed.run_once(im).events == 1
    loaded = feed.load(im)
    assert loaded["removed"] == 0 and loaded["position"] > 0
    assert _replica(admin)[_number(wife)][2] == "青木　太一"
    assert feed.reconcile(im).differences == 0


def test_a_household_without_a_head_goes_flagged_and_never_stops_the_feed(world, family, im, admin):
    head, wife, child = family.head, family.wife, family.child
    # The head dies and no one is named 世帯主 (世帯主不在): the members have no head to name.
    changes.death(actor=world, event_date=days_ago(1), notified_on=days_ago(1), persons=[ref(head)])
    atena.sync()
    assert feed.run_once(im).events == 1
    replica = _replica(admin)
    assert replica[_number(wife)] == ("resident", False, "", "妻", True)
    assert replica[_number(child)][-1] is True
    reloaded = feed.load(im)  # the full load takes them too; the dead head, no longer a resident, goes
    assert (reloaded["sent"], reloaded["removed"]) == (2, 1) and _replica(admin)[_number(wife)][-1] is True
    assert feed.sweep(im) == {"flagged": 0, "cleared": 0}  # and the sweep leaves them as they are


def test_a_protected_heads_change_reaches_the_members_rows(support, victim, im, admin):
    changes.ex_officio_correction(actor=support, event_date=days_ago(0), person=ref(victim.mother),
                                  changes={"given_name": "花江"})
    atena.sync()
    assert feed.run_once(im).events == 1  # the event's person is a block marker, without households
    assert _replica(admin)[_number(victim.child)][2] == "山田　花江"


def test_a_removed_protected_person_stays_flagged_and_the_sweep_does_not_churn(victim, im, admin):
    admin.execute("UPDATE replica SET status = 'removed' WHERE unified_number = %s", (_number(victim.mother),))
    assert feed.sweep(im) == {"flagged": 0, "cleared": 0}
    assert feed.sweep(im) == {"flagged": 0, "cleared": 0}
    assert _replica(admin)[_number(victim.mother)][-1] is True


def test_the_loop_sweeps_on_its_own_clock_under_steady_traffic(monkeypatch):
    from juki.intermediary_link import runner

    calls = {"batch": 0, "sweep": 0}

    def busy(client):
        calls["batch"] += 1
        return feed.Batch(events=5)

    monkeypatch.setattr(feed, "run_once", busy)
    monkeypatch.setattr(feed, "sweep", lambda client: calls.__setitem__("sweep", calls["sweep"] + 1))
    monkeypatch.setattr(runner.time, "monotonic", lambda: calls["batch"] * 10)  # each turn 10 s later
    turns = iter(range(6))
    runner.run_until(lambda: object(), stop=lambda wait=0.0: next(turns, None) is None, sweep_seconds=30.0)
    # Every batch busy; the sweep still came on its own clock, every 30 s of the 60 s.
    assert calls["batch"] == 6 and calls["sweep"] == 2
