"""Rules found missing in review: each test fails if its rule is removed."""
import datetime as dt

import pytest

from juki.audit.gate import UngatedAccess
from juki.audit.models import AccessLog
from juki.core.errors import DomainError, ErrorCode, NotFoundError
from juki.register.models import Change
from juki.register.services import changes
from juki.register.services.people import Address

from ..conftest import days_ago, move_in_family, person_input
from .helpers import household, ids, person, ref

UOMACHI = "40106002000"


@pytest.mark.parametrize(
    "bad, code",
    [
        ({"sex": 9}, ErrorCode.INVALID_INPUT),
        ({"domicile": ""}, ErrorCode.INVALID_INPUT),
        ({"birth_date": dt.date.today() + dt.timedelta(days=30)}, ErrorCode.INVALID_DATE),
        ({"relationship": "祖父"}, ErrorCode.INVALID_RELATIONSHIP),
    ],
)
def test_corrections_are_checked_like_entries(world, family, bad, code):
    with pytest.raises(DomainError) as err:
        changes.ex_officio_correction(actor=world, event_date=days_ago(0), person=ref(ids(family)[0]), changes=bad)
    assert err.value.code == code


def test_correction_cannot_bypass_the_dictionary_with_a_raw_town_id(world, family):
    with pytest.raises(DomainError) as err:
        changes.ex_officio_correction(actor=world, event_date=days_ago(0), person=ref(ids(family)[0]),
                                      changes={"town_id": 999999})
    assert err.value.code == ErrorCode.FIELD_NOT_CHANGEABLE


def test_partial_cancel_cannot_leave_two_heads(world, family):
    head, wife, child = ids(family)
    out = changes.move_out(actor=world, event_date=days_ago(2), notified_on=days_ago(2), persons=[ref(head)],
                           destination_address="東京都千代田区丸の内一丁目9番", new_head=wife)
    with pytest.raises(DomainError) as err:  # restoring only the head would give the household two 世帯主
        changes.cancel(actor=world, event_date=days_ago(0), change_id=out.change_id, persons=[ref(head)])
    assert err.value.code == ErrorCode.INVALID_RELATIONSHIP
    changes.cancel(actor=world, event_date=days_ago(0), change_id=out.change_id, persons=[ref(head), ref(wife)])
    rels = {m["person_id"]: m["relationship"] for m in household(family.households[0]["id"])["members"]}
    assert rels == {head: "世帯主", wife: "妻", child: "子"}


def test_back_dated_change_is_refused(world, family):
    head, wife, child = ids(family)
    changes.move_within_city(actor=world, event_date=days_ago(5), notified_on=None,
                             persons=[ref(head), ref(wife), ref(child)], address=Address(UOMACHI, "8番"))
    with pytest.raises(DomainError) as err:
        changes.ex_officio_correction(actor=world, event_date=days_ago(10), person=ref(head), changes={"given_name": "太朗"})
    assert err.value.code == ErrorCode.EVENT_DATE_BEFORE_LATEST
    assert person(head, as_of=days_ago(7))["address"]["town"] == "城内"


def test_late_flag_only_for_resident_notifications(world, family):
    head, wife, child = ids(family)
    changes.move_out(actor=world, event_date=days_ago(25), notified_on=days_ago(25),
                     persons=[ref(head), ref(wife), ref(child)], destination_address="東京都千代田区丸の内一丁目9番")
    notice = changes.move_out_confirm(actor=world, person=ref(head), notice_on=days_ago(1), moved_on=days_ago(25),
                                      confirmed_address="東京都千代田区丸の内一丁目9番1号")
    assert notice.warnings == []  # a 転入通知 between municipalities has no 14-day rule
    late = move_in_family(world, event_date=days_ago(30), notified_on=days_ago(1), confirmed_new_person=True)
    assert "late_notification" in [w["code"] for w in late.warnings]


def test_my_number_match_does_not_reveal_whose_it_is(world):
    move_in_family(world, members=[person_input(my_number="123456789018")])
    with pytest.raises(DomainError) as err:
        move_in_family(world, members=[person_input(given_name="別人", my_number="123456789018")])
    assert err.value.code == ErrorCode.ALREADY_RESIDENT and err.value.details == {}
    refused = AccessLog.objects.filter(function="change.move_in", outcome="already_resident").get()
    assert refused.my_number_accessed


def test_my_number_cannot_be_typed_at_birth_c12(world, family):
    from .helpers import href

    with pytest.raises(DomainError) as err:
        changes.birth(actor=world, event_date=days_ago(1), notified_on=None,
                      child={"family_name": "青木", "given_name": "三郎", "sex": 1, "relationship": "子",
                             "my_number": "123456789018"},
                      destination=href(family.households[0]["id"]))
    assert err.value.code == ErrorCode.MY_NUMBER_AT_BIRTH


def test_joins_from_changes_are_guarded(world, family):
    with pytest.raises(UngatedAccess):
        list(Change.objects.values("versions__family_name"))


def test_cancel_of_an_unknown_change_is_logged(world):
    with pytest.raises(NotFoundError):
        changes.cancel(actor=world, event_date=days_ago(0), change_id=987654, persons=[])
    assert AccessLog.objects.filter(function="change.cancel_lookup", outcome="not_found").count() == 1


def test_parent_who_is_koseki_head_comes_first_1010(world):
    members = [
        person_input(),
        person_input(given_name="梅", sex=2, relationship="母", birth_date=dt.date(1948, 1, 1), domicile_head="青木　松男"),
        person_input(given_name="松男", relationship="父", birth_date=dt.date(1949, 1, 1), domicile_head="青木　松男"),
    ]
    result = move_in_family(world, members=members)
    order = [m["name"]["given_name"] for m in household(result.households[0]["id"])["members"]]
    assert order == ["太郎", "松男", "梅"]  # 筆頭者 first among 父母, though younger


def test_access_log_rows_cannot_be_updated(world, family):
    from django.db import DatabaseError, connection, transaction

    with pytest.raises(DatabaseError):
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("UPDATE audit_accesslog SET outcome = 'ok'")


# --- second review -------------------------------------------------------------------------------


def test_cancel_cannot_restore_into_a_household_that_moved_since(world, family):
    head, wife, child = ids(family)
    out = changes.move_out(actor=world, event_date=days_ago(10), notified_on=days_ago(10), persons=[ref(child)],
                           destination_address="東京都千代田区丸の内一丁目9番")
    changes.move_within_city(actor=world, event_date=days_ago(5), notified_on=None, persons=[ref(head), ref(wife)],
                             address=Address(UOMACHI, "8番"))
    with pytest.raises(DomainError) as err:
        changes.cancel(actor=world, event_date=days_ago(0), change_id=out.change_id, persons=[ref(child)])
    assert err.value.code == ErrorCode.CANNOT_CANCEL
    assert person(child)["status"] == "removed"


def test_cancel_of_a_partial_move_cannot_split_the_address(world, family):
    head, wife, child = ids(family)
    moved = changes.move_within_city(actor=world, event_date=days_ago(5), notified_on=None,
                                     persons=[ref(head), ref(wife), ref(child)], address=Address(UOMACHI, "8番"))
    with pytest.raises(DomainError) as err:
        changes.cancel(actor=world, event_date=days_ago(0), change_id=moved.change_id, persons=[ref(child)])
    assert err.value.code == ErrorCode.CANNOT_CANCEL


def test_cancel_of_a_move_out_confirmation_restores_every_date(world, family):
    head, wife, child = ids(family)
    changes.move_out(actor=world, event_date=days_ago(3), notified_on=days_ago(12),
                     persons=[ref(head), ref(wife), ref(child)], destination_address="東京都千代田区丸の内一丁目9番")
    confirm = changes.move_out_confirm(actor=world, person=ref(head), notice_on=days_ago(1), moved_on=days_ago(8),
                                       confirmed_address="東京都千代田区丸の内一丁目9番1号")
    assert person(head, as_of=days_ago(5))["status"] == "removed"
    changes.cancel(actor=world, event_date=days_ago(0), change_id=confirm.change_id, persons=[ref(head)])
    assert person(head, as_of=days_ago(5))["status"] == "resident"  # back to 転出 on the planned date
    assert person(head, as_of=days_ago(3))["status"] == "removed"
    assert person(head)["move_out"]["confirmed_on"] is None


def test_the_dead_cannot_re_enter(world, family):
    head, wife, child = ids(family)
    changes.death(actor=world, event_date=days_ago(2), notified_on=days_ago(1), persons=[ref(child)])
    with pytest.raises(DomainError) as err:
        move_in_family(world, members=[person_input(given_name="一郎", relationship="世帯主", returning_person=ref(child))],
                       event_date=days_ago(1))
    assert err.value.code == ErrorCode.NOT_REMOVED


def test_joining_an_existing_household_takes_its_address(world, family):
    from .helpers import href

    head, wife, child = ids(family)
    sato = move_in_family(world, members=[person_input(family_name="佐藤", given_name="次郎", birth_date=dt.date(1960, 2, 2))],
                          address=Address(UOMACHI, "8番", "ハイツ101"))
    changes.move_within_city(actor=world, event_date=days_ago(1), notified_on=None, persons=[ref(child)],
                             address=Address(UOMACHI, "8番", "別棟"), destination=href(sato.households[0]["id"]),
                             relationships_in_destination={child: "同居人"})
    assert person(child)["address"]["katagaki"] == "ハイツ101"  # one household, one address
    with pytest.raises(DomainError) as err:
        changes.move_within_city(actor=world, event_date=days_ago(0), notified_on=None, persons=[ref(wife)],
                                 address=Address(UOMACHI, "9番"), destination=href(family.households[0]["id"]),
                                 relationships_in_destination={wife: "妻"})
    assert err.value.code == ErrorCode.HOUSEHOLD_MISMATCH


def test_address_correction_moves_the_whole_household(world, family):
    head, wife, child = ids(family)
    changes.minor_correction(actor=world, event_date=days_ago(0), person=ref(head), changes={"banchi": "1番2号"})
    members = household(family.households[0]["id"])["members"]
    assert {m["address"]["banchi"] for m in members} == {"1番2号"}
    assert {m["reason_label"] for m in members} == {"軽微な修正"}
