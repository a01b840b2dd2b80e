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
