"""カード回収年月日 is for a card handed in: a lost card cannot have one, on abolition or on reissue."""
from juki.cards import services
from juki.core.errors import ErrorCode
from tests.helpers import refused

from .conftest import PIN2, card_row, days


def test_a_lost_card_has_no_collection_date(actor, card):
    for call, kw in ((services.card_abolish, {"reason": "lost"}),
                     (services.card_reissue, {"reason": "lost", "pin": PIN2, "document": "旅券"})):
        error = refused(ErrorCode.INVALID_INPUT, call, actor=actor, card_id=card["card_id"], collected_on=days(0), **kw)
        assert (error.field, error.message) == ("collected_on", "紛失したカードには回収年月日を入力できません。")
    assert card_row(card["card_id"]).state == "active"  # nothing written
    # A card handed in keeps its date.
    done = services.card_abolish(actor=actor, card_id=card["card_id"], reason="returned", collected_on=days(0))
    assert done["collected_on"] == days(0).isoformat()
