"""Random sequences of changes keep the register's invariants (hypothesis)."""
import datetime as dt

from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from juki.accounts.permissions import Perm
from juki.audit import gate
from juki.core.errors import DomainError
from juki.register.models import Change, Household, OutboxEvent, Person, PersonVersion
from juki.register.services import changes
from juki.register.services.people import Address

from ..conftest import move_in_family
from .helpers import TEST, household, href, person, ref

TOWNS = ["40106001000", "40106002000", "40109001000", "40101001000"]
step = st.tuples(st.sampled_from(["move", "birth", "death", "split", "head", "cancel"]), st.integers(0, 50),
                 st.integers(0, 3))


class _Rollback(Exception):
    pass


def _residents(hid):
    return [m["person_id"] for m in household(hid)["members"]]


def _apply(world, op, pick, town, hids):
    today = dt.date.today()
    hid = hids[pick % len(hids)]
    members = _residents(hid)
    if not members:
        return
    one = members[pick % len(members)]
    if op == "move":
        changes.move_within_city(actor=world, event_date=today, notified_on=today, persons=[ref(m) for m in members],
                                 address=Address(TOWNS[town], f"{pick}番"))
    elif op == "birth":
        changes.birth(actor=world, event_date=today, notified_on=today, destination=href(hid),
                      child={"family_name": "青木", "given_name": f"子{pick}", "sex": 1 + pick % 2, "relationship": "子"})
    elif op == "death":
        changes.death(actor=world, event_date=today, notified_on=today, persons=[ref(one)])
    elif op == "split" and len(members) > 1:
        result = changes.household_split(actor=world, event_date=today, notified_on=today, persons=[ref(one)],
                                         relationships_in_new={one: "世帯主"})
        hids.extend(h["id"] for h in result.households if h["id"] not in hids)
    elif op == "head":
        changes.head_change(actor=world, event_date=today, notified_on=today, household=href(hid), new_head=one,
                            relationships_after={m: "同居人" for m in members if m != one})
    elif op == "cancel":
        with gate.open(TEST, function="test.read", perm=Perm.PERSON_VIEW):
            last = Change.objects.order_by("-id").first()
            refs = [ref(pid) for pid in PersonVersion.objects.filter(change=last).values_list("person_id", flat=True).distinct()]
        changes.cancel(actor=world, event_date=today, change_id=last.id, persons=refs)


def _snapshot():
    with gate.open(TEST, function="test.snapshot", perm=Perm.PERSON_VIEW):
        return (
            list(Person.objects.order_by("id").values_list("id", "latest_seq", "status", "household_id")),
            list(Household.objects.order_by("id").values_list("id", "lock_version", "head_absent_since")),
            PersonVersion.objects.count(), OutboxEvent.objects.count(),
        )


def _check_invariants():
    today = dt.date.today()
    with gate.open(TEST, function="test.invariants", perm=Perm.PERSON_VIEW):
        for h in Household.objects.all():
            rels = list(Person.objects.filter(household=h, status="resident").values_list("current__relationship", flat=True))
            assert rels.count("世帯主") <= 1
            places = set(Person.objects.filter(household=h, status="resident").values_list(
                "current__town_id", "current__banchi", "current__katagaki"))
            assert len(places) <= 1  # one household, one address
            assert (h.head_absent_since is not None) == (bool(rels) and "世帯主" not in rels)
        for p in Person.objects.all():
            seqs = list(PersonVersion.objects.filter(person=p).order_by("seq").values_list("seq", flat=True))
            assert seqs == list(range(1, p.latest_seq + 1))
            assert p.current.seq == p.latest_seq and p.current.status == p.status
        changes_made = Change.objects.filter(versions__isnull=False).distinct().count()
        assert OutboxEvent.objects.count() == changes_made
    with gate.open(TEST, function="test.invariants", perm=Perm.PERSON_VIEW):
        ids = list(Person.objects.values_list("id", flat=True))
    for pid in ids:
        now, as_of = person(pid), person(pid, as_of=today)
        assert {k: v for k, v in now.items() if k not in ("latest_version", "household_version")} == \
               {k: v for k, v in as_of.items() if k not in ("latest_version", "household_version")}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(step, min_size=1, max_size=8))
def test_random_change_sequences_keep_invariants(world, steps):
    try:
        with transaction.atomic():
            family = move_in_family(world)
            hids = [family.households[0]["id"]]
            for op, pick, town in steps:
                before = _snapshot()
                try:
                    _apply(world, op, pick, town, hids)
                    event(f"{op}: done")
                except DomainError as exc:
                    event(f"{op}: refused ({exc.code})")
                    assert _snapshot() == before  # a refusal leaves everything as it was
                _check_invariants()
            raise _Rollback
    except _Rollback:
        pass
