"""Reading state in tests goes through the gate too (as a batch actor), like any other code."""
import datetime as dt

from juki.audit import gate
from juki.accounts.permissions import Perm
from juki.register import selectors
from juki.register.models import Person, PersonVersion
from juki.register.services.writer import HouseholdRef, PersonRef
from tests.helpers import TEST_ACTOR

TEST = TEST_ACTOR


def ref(person_id: int) -> PersonRef:
    with gate.open(TEST, function="test.read", perm=Perm.PERSON_VIEW):
        return PersonRef(person_id, Person.objects.get(pk=person_id).latest_seq)


def href(household_id: int) -> HouseholdRef:
    view = household(household_id)
    return HouseholdRef(household_id, view["version"])


def person(person_id: int, **kw) -> dict:
    return selectors.person_get(actor=TEST, person_id=person_id, **kw)


def household(household_id: int, as_of: dt.date | None = None) -> dict:
    return selectors.household_get(actor=TEST, household_id=household_id, as_of=as_of)


def history(person_id: int) -> list[dict]:
    return selectors.person_history(actor=TEST, person_id=person_id)


def count_versions() -> int:
    with gate.open(TEST, function="test.read", perm=Perm.PERSON_VIEW):
        return PersonVersion.objects.count()


def ids(result) -> list[int]:
    return [p["id"] for p in result.persons]
