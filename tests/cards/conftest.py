"""Fixtures for the city card tests: a family moved in through the register, a seal registration."""
import datetime as dt

import pytest
from django.utils import timezone

from juki.accounts.permissions import Perm
from juki.audit import gate
from juki.audit.gate import Actor
from juki.cards import services
from juki.seals.models import RegistrationMethod, SealRegistration, SealState
from tests.conftest import move_in_family
from tests.helpers import TEST_ACTOR

# A PIN none of the fixture persons' birth dates rules out, and a second one.
PIN = "2580"
PIN2 = "4713"


@pytest.fixture
def fam(world):
    result = move_in_family(world)
    head, wife, child = (p["id"] for p in result.persons)
    return {"household": result.households[0]["id"], "head": head, "wife": wife, "child": child}


@pytest.fixture
def kiosk():
    """The kiosk's actor: a device holding only what it needs to authenticate and issue."""
    return Actor.device("kiosk:TEST-01", frozenset({Perm.PERSON_VIEW, Perm.CERTIFICATE_ISSUE}))


@pytest.fixture
def card(actor, fam):
    return services.card_issue(actor=actor, person_id=fam["head"], pin=PIN, document="運転免許証")


def register_seal(person_id: int, *, state: str = SealState.REGISTERED, number: str = "S0000001") -> SealRegistration:
    """A seal registration written directly (the seals app's own tests cover its services)."""
    with gate.open(TEST_ACTOR, function="test.seal", perm=Perm.SEAL_MANAGE):
        return SealRegistration.objects.create(
            number=number, person_id=person_id, state=state, method=RegistrationMethod.IDENTITY_DOCUMENT,
            image=b"png", image_sha256="0" * 64, applied_on=timezone.localdate(),
            registered_on=timezone.localdate() if state == SealState.REGISTERED else None)


def card_row(card_id: int):
    from juki.cards.models import Card

    with gate.open(TEST_ACTOR, function="test.card", perm=Perm.CARD_MANAGE):
        return Card.objects.get(pk=card_id)


def days(n: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=n)
