"""Two clerks change the same household: exactly one wins, the other gets a conflict (409)."""
import threading

import pytest
from django.db import connection

from juki.audit.gate import Actor
from juki.core.errors import ConflictError
from juki.register.services import changes
from juki.register.services.people import Address

from ..conftest import days_ago, move_in_family
from .helpers import count_versions, household, href, ids, person, ref

UOMACHI = "40106002000"


def test_stale_household_version_is_a_conflict(world, family):
    head, wife, child = ids(family)
    hid = family.households[0]["id"]
    seen_by_b = href(hid)  # clerk B opens the household
    changes.move_within_city(actor=world, event_date=days_ago(1), notified_on=None,  # clerk A commits first
                             persons=[ref(head), ref(wife), ref(child)], address=Address(UOMACHI, "1番"))
    before = count_versions()
    with pytest.raises(ConflictError) as err:
        changes.birth(actor=world, event_date=days_ago(0), notified_on=None,
                      child={"family_name": "青木", "given_name": "三郎", "sex": 1, "relationship": "子"},
                      destination=seen_by_b)
    assert err.value.status == 409
    assert count_versions() == before


def test_stale_person_version_is_a_conflict(world, family):
    head = ids(family)[0]
    stale = ref(head)
    changes.minor_correction(actor=world, event_date=days_ago(0), person=ref(head), changes={"given_name": "太朗"})
    with pytest.raises(ConflictError):
        changes.minor_correction(actor=world, event_date=days_ago(0), person=stale, changes={"given_name": "多郎"})
    assert person(head)["name"]["given_name"] == "太朗"


@pytest.mark.django_db(transaction=True)
def test_two_clerks_at_the_same_moment(towns, terminal, stock, clerk, clerk2):
    a, b = Actor(user=clerk, terminal=terminal), Actor(user=clerk2, terminal=terminal)
    family = move_in_family(a)
    refs = [ref(i) for i in ids(family)]
    hid = family.households[0]["id"]
    start = threading.Barrier(2)
    outcomes = []

    def run(actor, banchi):
        try:
            start.wait(timeout=10)
            changes.move_within_city(actor=actor, event_date=days_ago(0), notified_on=None, persons=refs,
                                     address=Address(UOMACHI, banchi))
            outcomes.append("ok")
        except ConflictError:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(a, "1番")), threading.Thread(target=run, args=(b, "2番"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["conflict", "ok"]
    members = household(hid)["members"]
    assert len({m["address"]["banchi"] for m in members}) == 1  # never half of one and half of the other
    assert {m["version"] for m in members} == {2}


@pytest.mark.django_db(transaction=True)
def test_same_my_number_for_two_persons_at_the_same_moment(towns, terminal, stock, clerk, clerk2, monkeypatch):
    """The check-then-write of a 個人番号 is serialised: only one of two racing clerks gets it in."""
    import time

    from juki.core.errors import DomainError, ErrorCode
    from juki.register.services.writer import ChangeWriter

    original_write = ChangeWriter.write

    def slow_write(self, *args, **kwargs):  # widen the window between the check and the write
        time.sleep(0.3)
        return original_write(self, *args, **kwargs)

    a, b = Actor(user=clerk, terminal=terminal), Actor(user=clerk2, terminal=terminal)
    family = move_in_family(a)
    head, wife, _ = ids(family)
    monkeypatch.setattr(ChangeWriter, "write", slow_write)
    start = threading.Barrier(2)
    outcomes = []

    def run(actor, pid):
        try:
            start.wait(timeout=10)
            changes.my_number_record(actor=actor, event_date=days_ago(0), person=ref(pid), my_number="123456789018",
                                     kind="entry")
            outcomes.append("ok")
        except DomainError as exc:
            outcomes.append(str(exc.code))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(a, head)), threading.Thread(target=run, args=(b, wife))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == sorted(["ok", ErrorCode.DUPLICATE_MY_NUMBER])
    assert [person(head)["has_my_number"], person(wife)["has_my_number"]].count(True) == 1
