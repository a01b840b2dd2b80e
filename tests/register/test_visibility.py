"""Item-level visibility ([1390]): a role may see the address but not 本籍, 住民票コード or 在留資格."""
from juki.audit.gate import Actor
from juki.register import selectors

from ..conftest import api_for
from .helpers import ids


def test_a_viewer_sees_the_address_but_not_the_domicile_or_the_resident_code(family, viewer, clerk, terminal):
    pid = ids(family)[0]
    seen = selectors.person_get(actor=Actor(user=viewer, terminal=terminal), person_id=pid)
    assert seen["address"]["display"] and seen["name"]["family_name"] == "青木"
    assert seen["domicile"] is None and seen["domicile_head"] is None and seen["resident_code"] is None
    assert seen["hidden_items"] == ["本籍・筆頭者", "住民票コード"]
    full = selectors.person_get(actor=Actor(user=clerk, terminal=terminal), person_id=pid)
    assert full["domicile"] == "福岡県北九州市小倉北区城内1番" and full["resident_code"]
    assert full["hidden_items"] == []


def test_the_same_items_are_hidden_in_history_and_household_reads(family, viewer, terminal):
    actor = Actor(user=viewer, terminal=terminal)
    pid = ids(family)[0]
    assert all(v["domicile"] is None and v["resident_code"] is None for v in selectors.person_history(actor=actor, person_id=pid))
    members = selectors.household_get(actor=actor, household_id=family.households[0]["id"])["members"]
    assert members and all(m["domicile"] is None for m in members)


def test_foreign_resident_items_are_hidden_without_the_right(world, viewer, terminal):
    from juki.register.services import changes
    from juki.register.services.people import Address

    from ..conftest import KOKURA_JOUNAI, days_ago
    from .test_entries import FOREIGN

    result = changes.foreign_move_in(actor=world, event_date=days_ago(2), notified_on=days_ago(1), persons=[FOREIGN],
                                     destination=changes.NEW, address=Address(KOKURA_JOUNAI, "5番"), previous_address="")
    seen = selectors.person_get(actor=Actor(user=viewer, terminal=terminal), person_id=ids(result)[0])
    assert seen["foreign"]["nationality"] == "ベトナム"
    assert seen["foreign"]["residence_status"] is None and seen["foreign"]["residence_card_number"] is None
    assert "在留資格等" in seen["hidden_items"]


def test_the_api_hides_the_same_items(family, viewer, terminal):
    pid = ids(family)[0]
    body = api_for(viewer, terminal).get(f"/api/v1/persons/{pid}").json()
    assert body["address"]["display"] and body["domicile"] is None and body["resident_code"] is None
    assert "福岡県北九州市小倉北区城内1番" not in str(body)


def test_a_viewer_cannot_search_by_a_number_it_may_not_see(family, viewer, clerk, terminal):
    import pytest

    from juki.audit.models import AccessLog
    from juki.core.errors import AccessDenied
    from juki.register.services.search import Criteria, person_search

    code = selectors.person_get(actor=Actor(user=clerk, terminal=terminal), person_id=ids(family)[0])["resident_code"]
    with pytest.raises(AccessDenied):
        person_search(actor=Actor(user=viewer, terminal=terminal), criteria=Criteria(resident_code=code))
    assert AccessLog.objects.filter(user=viewer, function="person.search", outcome="permission_denied").count() == 1
    found = person_search(actor=Actor(user=clerk, terminal=terminal), criteria=Criteria(resident_code=code))
    assert [r["person_id"] for r in found.rows] == [ids(family)[0]]
