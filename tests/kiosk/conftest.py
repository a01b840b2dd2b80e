"""Fixtures of the kiosk tests: a registered kiosk, an enrolled browser, a family with a city card."""
from __future__ import annotations

import pytest
from django.test import Client

from juki.cards.services import card_issue
from juki.kiosk import devices

from ..conftest import move_in_family
from tests.helpers import TEST_ACTOR

PIN = "2580"


@pytest.fixture
def kiosk(db):
    """KIOSK-01, registered by the CLI's batch actor: (device, secret)."""
    made = devices.device_add(actor=TEST_ACTOR, code="KIOSK-01", name="自動交付機1号機",
                              location="小倉北区役所 1階ロビー")
    return made


@pytest.fixture
def kiosk_actor(kiosk):
    return devices.device_actor(kiosk.device)


def enrolled_client(made) -> Client:
    client = Client()
    r = client.post("/kiosk/setup/", {"code": made.device.code, "secret": made.secret})
    assert r.status_code == 302 and r["Location"] == "/kiosk/", r.content.decode()[:300]
    return client


@pytest.fixture
def kc(kiosk) -> Client:
    """A browser enrolled as KIOSK-01."""
    return enrolled_client(kiosk)


@pytest.fixture
def household(world):
    """青木 太郎 (世帯主), 花子 (妻), 一郎 (子): {"ids": [...], "household_id": …}."""
    result = move_in_family(world)
    return {"ids": [p["id"] for p in result.persons], "household_id": result.households[0]["id"]}


@pytest.fixture
def card(world, household):
    """太郎's city card with PIN 2580: the card dict of `card_issue`."""
    return card_issue(actor=world, person_id=household["ids"][0], pin=PIN)


@pytest.fixture
def sealed_card(world, household, card):
    """太郎's card, now also the 印鑑登録証 of his registered seal (the card dict, refreshed)."""
    from juki.seals.models import RegistrationMethod
    from juki.seals.services import seal_register

    from ..seals.helpers import seal_png

    seal_register(actor=world, person_id=household["ids"][0], method=RegistrationMethod.IDENTITY_DOCUMENT,
                  image=seal_png(15), seal_text="青木", documents=["運転免許証"], seal_checked=True)
    return card
