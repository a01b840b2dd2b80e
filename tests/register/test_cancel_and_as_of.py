import datetime as dt

import pytest

from juki.core.errors import DomainError, ErrorCode, NotFoundError
from juki.register.services import changes
from juki.register.services.people import Address

from ..conftest import days_ago, move_in_family, person_input
from .helpers import history, household, href, ids, person, ref

UOMACHI = "40106002000"


def test_household_as_of_any_date_after_three_changes(world):
    """転入 (day -100) → 出生 (day -60) → 転居 (day -30) → 死亡 of the 世帯主 with 世帯主変更 (day -10)."""
    result = move_in_family(world, event_date=days_ago(100))
    head, wife, child = ids(result)
    hid = result.households[0]["id"]
    born = changes.birth(actor=world, event_date=days_ago(60), notified_on=days_ago(58),
                         child={"family_name": "青木", "given_name": "二郎", "sex": 1, "relationship": "子"},
                         destination=href(hid))
    baby = ids(born)[0]
    changes.move_within_city(actor=world, event_date=days_ago(30), notified_on=days_ago(29),
                             persons=[ref(head), ref(wife), ref(child), ref(baby)], address=Address(UOMACHI, "8番"))
    changes.death(actor=world, event_date=days_ago(10), notified_on=days_ago(9), persons=[ref(head)], new_head=wife)

    def snapshot(day):
        view = household(hid, as_of=days_ago(day))
        return [(m["name"]["given_name"], m["relationship"], m["address"]["town"]) for m in view["members"]]

    with pytest.raises(NotFoundError) as before:  # before the household existed: not found, as a person read
        snapshot(101)
    assert before.value.code == ErrorCode.NOT_FOUND and before.value.status == 404
    assert snapshot(100) == [("太郎", "世帯主", "城内"), ("花子", "妻", "城内"), ("一郎", "子", "城内")]
    assert snapshot(60) == [("太郎", "世帯主", "城内"), ("花子", "妻", "城内"), ("一郎", "子", "城内"), ("二郎", "子", "城内")]
    assert snapshot(30) == [("太郎", "世帯主", "魚町一丁目"), ("花子", "妻", "魚町一丁目"), ("一郎", "子", "魚町一丁目"),
                            ("二郎", "子", "魚町一丁目")]
    assert snapshot(10) == [("花子", "世帯主", "魚町一丁目"), ("一郎", "子", "魚町一丁目"), ("二郎", "子", "魚町一丁目")]
    assert snapshot(0) == snapshot(10)
    assert person(head, as_of=days_ago(50))["address"]["town"] == "城内"
    assert person(head, as_of=days_ago(20))["address"]["town"] == "魚町一丁目"


def test_cancel_of_a_move_restores_the_prior_state_as_a_new_version(world, family):
    head, wife, child = ids(family)
    moved = changes.move_within_city(actor=world, event_date=days_ago(5), notified_on=None,
                                     persons=[ref(head), ref(wife), ref(child)], address=Address(UOMACHI, "8番"))
    changes.cancel(actor=world, event_date=days_ago(0), change_id=moved.change_id,
                   persons=[ref(head), ref(wife), ref(child)], note="転居先の誤り")
    versions = history(head)
    assert [v["reason_label"] for v in versions] == ["国内転入", "転居", "異動の取消し（修正）"]
    assert versions[-1]["address"] == versions[0]["address"]  # restored
    assert versions[-1]["change"]["cancels_change_id"] == moved.change_id
    assert person(head, as_of=days_ago(3))["address"]["town"] == "城内"  # as if it never happened


def test_cancel_of_a_death_brings_the_person_back(world, family):
    head, wife, child = ids(family)
    died = changes.death(actor=world, event_date=days_ago(2), notified_on=days_ago(1), persons=[ref(child)])
    changes.cancel(actor=world, event_date=days_ago(0), change_id=died.change_id, persons=[ref(child)])
    p = person(child)
    assert p["status"] == "resident" and p["reason_label"] == "異動の取消し（増）"
    assert len(household(family.households[0]["id"])["members"]) == 3


def test_cancel_of_a_move_in_removes_the_record_without_deleting_it(world, family):
    head = ids(family)[0]
    changes.cancel(actor=world, event_date=days_ago(0), change_id=family.change_id, persons=[ref(i) for i in ids(family)])
    p = person(head)
    assert p["status"] == "removed" and p["reason_label"] == "異動の取消し（減）"
    assert len(history(head)) == 2
    assert household(family.households[0]["id"])["members"] == []


def test_cannot_cancel_when_a_later_change_exists(world, family):
    head, wife, child = ids(family)
    changes.move_within_city(actor=world, event_date=days_ago(5), notified_on=None,
                             persons=[ref(head), ref(wife), ref(child)], address=Address(UOMACHI, "8番"))
    with pytest.raises(DomainError) as err:
        changes.cancel(actor=world, event_date=days_ago(0), change_id=family.change_id, persons=[ref(head)])
    assert err.value.code == ErrorCode.CANNOT_CANCEL


def test_cancel_of_a_person_not_in_the_change(world, family):
    other = move_in_family(world, members=[person_input(family_name="佐藤", birth_date=dt.date(1950, 1, 1))])
    with pytest.raises(DomainError) as err:
        changes.cancel(actor=world, event_date=days_ago(0), change_id=family.change_id, persons=[ref(ids(other)[0])])
    assert err.value.code == ErrorCode.CANNOT_CANCEL


def test_history_rows_cannot_be_updated_by_the_database(world, family):
    from django.db import DatabaseError, connection, transaction

    with pytest.raises(DatabaseError):
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("UPDATE register_personversion SET family_name = 'X'")
    with pytest.raises(DatabaseError):
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("UPDATE register_change SET note = 'X'")
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError):
            with transaction.atomic(), connection.cursor() as cur:
                cur.execute("DELETE FROM register_personversion")
