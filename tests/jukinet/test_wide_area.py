"""広域交付 at the 住所地 (selectors.wide_area_records, issue 15): exactly the items the law allows, and the
refusals with their codes, each logged as a provision; and the 交付地's guards."""
import datetime as dt

import pytest

from juki.audit.gate import Actor
from juki.audit.models import AccessLog
from juki.core.errors import DomainError, ErrorCode
from juki.jukinet import operations
from juki.jukinet.models import WideAreaRequest
from juki.protection import services as protection_services
from juki.register import selectors
from juki.register.services.seed import my_number_for

from ..conftest import move_in_family, person_input
from ..protection.helpers import move_in_victim, protect
from ..register.helpers import ids, person

S2 = Actor.system_actor("jukinet")


def code_of(person_id: int) -> str:
    return person(person_id)["resident_code"]


def test_only_the_items_asked_and_allowed_never_the_domicile(world):
    head, wife, child = ids(move_in_family(world, members=[
        person_input(my_number=my_number_for(3, 9)),
        person_input(given_name="花子", given_name_kana="ハナコ", sex=2, relationship="妻", birth_date=dt.date(1987, 6, 2)),
        person_input(given_name="一郎", given_name_kana="イチロウ", relationship="子", birth_date=dt.date(2015, 8, 3))]))
    plain = selectors.wide_area_records(actor=S2, resident_code=code_of(head), household=False, items=[])
    (me,) = plain["persons"]
    assert me["name"]["given_name"] == "太郎" and me["address"]["display"].startswith("北九州市小倉北区城内")
    for hidden in ("domicile", "domicile_head", "resident_code", "relationship", "my_number"):
        assert hidden not in me, hidden
    asked = selectors.wide_area_records(actor=S2, resident_code=code_of(head), household=True,
                                        items=["head_and_relationship", "resident_code", "my_number"])
    assert [p["relationship"] for p in asked["persons"]] == ["世帯主", "妻", "子"] and asked["head_name"] == "青木　太郎"
    assert asked["persons"][0]["my_number"] == my_number_for(3, 9) and asked["persons"][0]["resident_code"]
    assert all("domicile" not in p for p in asked["persons"])
    log = AccessLog.objects.filter(function="jukinet.send.wide_area").order_by("-id").first()
    assert log.my_number_accessed and log.criteria["items"] == ["head_and_relationship", "my_number", "resident_code"]
    assert sorted(log.subjects.values_list("person_id", flat=True)) == sorted([head, wife, child])


def test_what_the_residence_refuses(world, support, terminal, support_user):
    (head,) = ids(move_in_family(world, members=[person_input()]))
    with pytest.raises(DomainError) as err:
        selectors.wide_area_records(actor=S2, resident_code=code_of(head), household=False, items=["domicile"])
    assert err.value.code == ErrorCode.ITEM_NOT_PERMITTED and err.value.details == {"items": ["domicile"]}
    with pytest.raises(DomainError) as err:
        selectors.wide_area_records(actor=S2, resident_code="51234567890", household=False, items=[])
    assert err.value.code == ErrorCode.NOT_FOUND
    protection_services.restriction_set(actor=support, person_id=head, processes=["certificate"], reason="裁判所の命令")
    with pytest.raises(DomainError) as err:
        selectors.wide_area_records(actor=S2, resident_code=code_of(head), household=False, items=[])
    assert err.value.code == ErrorCode.RESTRICTED
    victim = move_in_victim(world)
    protect(support, victim)
    # The child's own request, the household asked: a protected member refuses it all.
    with pytest.raises(DomainError) as err:
        selectors.wide_area_records(actor=S2, resident_code=code_of(victim["child"]), household=True, items=[])
    assert err.value.code == ErrorCode.SUPPORT_MEASURE_BLOCK
    assert AccessLog.objects.filter(function="jukinet.send.wide_area", outcome="support_measure_block").exists()


def test_one_answer_is_one_copy(world, sup_actor):
    from juki.jukinet.models import Received

    received = Received.objects.create(cs_id=1, kind="wide_area_answer", sender="401307", message_id="m",
                                       key_id="x", cipher=b"x", state=Received.State.APPLIED)
    WideAreaRequest.objects.create(group="g", resident_code="51234567890", to_municipality="401307",
                                   state=WideAreaRequest.State.ANSWERED, received=received, issue_number="2026-000001")
    with pytest.raises(DomainError) as again:
        operations.wide_area_print(actor=sup_actor, group="g", requester_name="本人")
    assert again.value.code == ErrorCode.ALREADY_PROCESSED


def test_a_clerk_without_the_number_right_may_not_ask_for_it(world):
    from juki.jukinet import messages

    with pytest.raises(DomainError) as denied:
        messages.request_wide_area(None, actor=world, card_number="123456789012", pin="1234", household=False,
                                   items=["my_number"])
    assert (denied.value.code, denied.value.field) == (ErrorCode.PERMISSION_DENIED, "items")
