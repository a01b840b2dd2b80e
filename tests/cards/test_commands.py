"""`juki cards-sweep` and the demo cards."""
import pytest
from django.core.management import call_command
from django.test import override_settings

from juki.cards import services
from juki.cards.demo import DEMO_PINS, demo_cards
from juki.core.errors import DomainError, ErrorCode
from juki.register.services import changes
from tests.conftest import days_ago
from tests.register.helpers import ref

from .conftest import card_row
from tests.helpers import TEST_ACTOR


def test_cards_sweep_command(capsys, world, actor, fam, card):
    from juki.cards.services import on_change_written
    from juki.register.services.writer import change_written

    change_written.disconnect(dispatch_uid="cards.ex_officio")  # a removal the in-transaction hook missed
    try:
        changes.death(actor=world, event_date=days_ago(0), notified_on=days_ago(0), persons=[ref(fam["head"])])
    finally:
        change_written.connect(on_change_written, dispatch_uid="cards.ex_officio")
    call_command("cards_sweep")
    assert capsys.readouterr().out.strip() == f"職権で廃止した市民カード 1件: {card['card_id']}"
    assert card_row(card["card_id"]).end_reason == "death"
    call_command("cards_sweep")
    assert capsys.readouterr().out.strip() == "職権で廃止した市民カード 0件"


def test_demo_cards_only_in_the_demo(fam):
    with pytest.raises(DomainError) as err:
        demo_cards(2)
    assert err.value.code == ErrorCode.INVALID_INPUT and "デモ環境でだけ" in err.value.message


@override_settings(JUKI_DEMO_TOOLS=True)
def test_demo_cards_give_adults_a_card_with_a_known_pin(actor, fam):
    from juki.audit.gate import Actor
    from juki.audit.models import AccessLog

    kiosk = Actor.device("kiosk:TEST", frozenset({"certificate.issue"}))
    cards = demo_cards(3)
    assert [pid for _n, _p, pid in cards] == [fam["head"], fam["wife"]]  # the child (born 2015) is not an adult
    # The birth dates read to make the PINs are a read of those persons: the log row names them.
    read = AccessLog.objects.filter(function="batch.demo_cards").latest("id")
    assert sorted(s.person_id for s in read.subjects.all()) == sorted([fam["head"], fam["wife"]])
    for number, pin, person_id in cards:
        assert services.card_authenticate(actor=kiosk, number=number, pin=pin).person_id == person_id
    assert demo_cards(3) == cards  # again: the same cards
    # A person whose PIN was changed in the demo is passed over, not reset.
    services.card_change_pin(actor=actor, card_id=card_row_id(cards[0][0]), old_pin=cards[0][1], new_pin="9517")
    assert [pid for _n, _p, pid in demo_cards(3)] == [fam["wife"]]


@override_settings(JUKI_DEMO_TOOLS=True)
def test_demo_cards_command(capsys, fam):
    call_command("demo_cards", "--count", "1")
    out = capsys.readouterr().out
    (line,) = [x.split() for x in out.splitlines()[1:]]
    assert "デモ用の市民カード" in out and line[1:] == [DEMO_PINS[fam["head"] % len(DEMO_PINS)], str(fam["head"])]


def card_row_id(number: str) -> int:
    from juki.audit import gate
    from juki.audit.gate import Actor
    from juki.cards.models import Card

    with gate.open(TEST_ACTOR, function="test.card", perm="card.manage"):
        return Card.objects.get(number=number).pk
