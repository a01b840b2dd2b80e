"""The register's side of C16: `selectors.linkage_records` (the versions a delivery names) and
`extract.linkage_full` (a destination's full file) read only for the destination's own system actor,
only the items of its list, never a 支援措置 person (returned as withheld), the 個人番号 only for the
団体内統合宛名 — and record every person delivered as a subject of one provision row."""
from __future__ import annotations

import datetime as dt

import pytest

from juki.accounts import destinations
from juki.accounts.permissions import Perm
from juki.audit.gate import Actor
from juki.audit.models import AccessLog, AccessLogSubject
from juki.core import clock
from juki.core.errors import ErrorCode
from juki.protection import services as protection
from juki.protection.enforcement import FLAG, RESTRICTION_FLAG
from juki.register import selectors
from juki.register.services import changes, extract
from juki.register.services.people import Address
from juki.rights.models import Grant

from ..conftest import KOKURA_JOUNAI, TODAY, days_ago, move_in_family, person_input
from ..helpers import TEST_ACTOR, last_log, refused
from ..protection.helpers import move_in_victim, protect
from ..register.helpers import ids, ref
from ..register.test_moves import UOMACHI

TAX = Actor.system_actor("tax")
ATENA = Actor.system_actor("atena")
MY_NUMBER = "123456789018"
ITEMS = {"name", "address", "birth_date"}


def _versions(*pids: int) -> list[tuple[int, int]]:
    return [(pid, ref(pid).version) for pid in pids]


def _read(actor=TAX, destination="tax", versions=(), items=ITEMS):
    return selectors.linkage_records(actor=actor, destination=destination, versions=list(versions), items=items)


@pytest.fixture
def family(world):
    """青木 (with a 個人番号), 花子 and 一郎."""
    return ids(move_in_family(world, members=[
        person_input(my_number=MY_NUMBER),
        person_input(given_name="花子", given_name_kana="ハナコ", sex=2, relationship="妻", birth_date=dt.date(1987, 6, 2)),
        person_input(given_name="一郎", given_name_kana="イチロウ", relationship="子", birth_date=dt.date(2015, 8, 3))]))


# --- linkage_records: who, what ---------------------------------------------------------------------------


def test_the_items_of_exactly_the_versions_asked(world, family):
    head, wife, child = family
    before = _versions(head)[0]
    changes.move_within_city(actor=world, event_date=days_ago(1), notified_on=days_ago(1),
                             persons=[ref(head), ref(wife), ref(child)], address=Address(UOMACHI, "8番"))
    after = _versions(head)[0]
    read = _read(versions=[before, after, *_versions(wife)])
    assert set(read.records) == {before, after, *_versions(wife)} and read.withheld == {}
    assert all(set(items) == ITEMS for items in read.records.values())
    assert "城内" in read.records[before]["address"] and "魚町" in read.records[after]["address"]
    assert read.records[before]["name"] == "青木　太郎" and read.records[before]["birth_date"] == "1985-04-01"
    row = last_log("linkage.deliver")
    assert (row.system, row.user_id, row.outcome) == ("tax", None, AccessLog.OK)
    assert row.criteria["consumer"] == "tax" and row.criteria["items"] == sorted(ITEMS)
    assert sorted(AccessLogSubject.objects.filter(log=row).values_list("person_id", flat=True)) == sorted({head, wife})
    assert not row.my_number_accessed


def test_another_destination_s_actor_is_refused(family):
    for actor in (TAX, TEST_ACTOR):  # tax reading for the 団体内統合宛名; the tests' actor holding every right
        refused(ErrorCode.PERMISSION_DENIED, _read, actor=actor, destination="atena", versions=_versions(*family))
        row = last_log("linkage.deliver")
        assert (row.system, row.outcome, row.person_count) == (actor.system, ErrorCode.PERMISSION_DENIED, 0)


def test_a_staff_actor_is_refused_even_holding_the_right(family, clerk, supervisor, terminal):
    refused(ErrorCode.PERMISSION_DENIED, _read, actor=Actor(user=clerk, terminal=terminal), versions=_versions(*family))
    assert (last_log("linkage.deliver").user_id, last_log("linkage.deliver").outcome) == (clerk.id, AccessLog.DENIED)
    today = clock.today()
    Grant.objects.create(user=supervisor, perm=Perm.LINKAGE_READ, valid_from=today, valid_until=today,
                         source=Grant.Source.INITIAL)
    boss = Actor(user=supervisor, terminal=terminal, second_factor=True)
    assert boss.can(Perm.LINKAGE_READ)
    refused(ErrorCode.PERMISSION_DENIED, _read, actor=boss, versions=_versions(*family))
    row = last_log("linkage.deliver")
    assert (row.user_id, row.outcome) == (supervisor.id, ErrorCode.PERMISSION_DENIED)  # the destination's rule


def test_an_item_outside_the_destination_s_list_is_refused_with_the_items(family):
    err = refused(ErrorCode.ITEM_NOT_PERMITTED, _read, versions=_versions(*family),
                  items={"name", "my_number", "domicile"})  # tax: neither 個人番号 nor 本籍
    assert err.details == {"items": ["domicile", "my_number"]} and err.field == "items"
    assert last_log("linkage.deliver").outcome == ErrorCode.ITEM_NOT_PERMITTED
    # infant-checkup's list is narrower still: no 異動事由.
    refused(ErrorCode.ITEM_NOT_PERMITTED, _read, actor=Actor.system_actor("infant-checkup"),
            destination="infant-checkup", versions=_versions(*family), items={"name", "reason"})


def test_an_unknown_destination_is_refused(family):
    err = refused(ErrorCode.UNKNOWN_DESTINATION, _read, destination="nosuch", versions=_versions(*family))
    assert err.status == 400
    assert last_log("linkage.deliver").outcome == ErrorCode.UNKNOWN_DESTINATION


def test_a_protected_person_is_not_read_and_returned_as_withheld(world, family, support, sup_actor):
    victim = move_in_victim(world)
    protect(support, victim)
    head = family[0]
    read = _read(versions=_versions(head, victim["mother"], victim["child"]))
    assert read.withheld == {victim["mother"]: FLAG, victim["child"]: FLAG}
    assert [pid for pid, _ in read.records] == [head]
    row = last_log("linkage.deliver")
    assert row.criteria["withheld"] == 2
    assert list(AccessLogSubject.objects.filter(log=row).values_list("person_id", flat=True)) == [head]
    # An 抑止(他システム連携) at the error level withholds too, with its own reason.
    protection.restriction_set(actor=sup_actor, person_id=family[1], processes=["linkage"], reason="連携抑止")
    assert _read(versions=_versions(family[1])).withheld == {family[1]: RESTRICTION_FLAG}


def test_the_my_number_is_read_only_for_the_atena_and_marks_the_row(family):
    head, wife, _ = family
    read = _read(actor=ATENA, destination="atena", versions=_versions(head, wife), items={"name", "my_number"})
    by_person = {pid: items for (pid, _), items in read.records.items()}
    assert by_person[head] == {"name": "青木　太郎", "my_number": MY_NUMBER}
    assert by_person[wife]["my_number"] is None
    assert last_log("linkage.deliver", system="atena").my_number_accessed
    # Without it asked, no mark; and tax may not ask at all.
    _read(actor=ATENA, destination="atena", versions=_versions(head), items={"name"})
    assert not last_log("linkage.deliver", system="atena").my_number_accessed
    refused(ErrorCode.ITEM_NOT_PERMITTED, _read, versions=_versions(head), items={"my_number"})
    assert "my_number" in destinations.REGISTER_ITEMS_OF["atena"]
    assert all("my_number" not in items for code, items in destinations.REGISTER_ITEMS_OF.items() if code != "atena")


# --- linkage_full ----------------------------------------------------------------------------------------


@pytest.fixture
def city(world, family):
    """The family (住民), and three households that left: 5 and 400 days ago, and one leaving in 10 days."""
    def one(name: str, moved_in: dt.date, banchi: str) -> int:
        return ids(move_in_family(world, event_date=moved_in, address=Address(KOKURA_JOUNAI, banchi), members=[
            person_input(family_name=name, family_name_kana="テスト", given_name="一", given_name_kana="ハジメ")]))[0]

    recent, old, leaving = one("近藤", days_ago(30), "2番"), one("遠藤", days_ago(500), "3番"), one("予定", days_ago(30), "4番")
    for pid, day in ((recent, days_ago(5)), (old, days_ago(400)), (leaving, TODAY + dt.timedelta(days=10))):
        changes.move_out(actor=world, event_date=day, notified_on=min(day, TODAY), persons=[ref(pid)],
                         destination_address="東京都千代田区丸の内一丁目9番")
    return {"residents": set(family) | {leaving}, "recent": recent, "old": old}


def _full(actor=TAX, destination="tax", items=ITEMS, **kw):
    rows: list = []
    summary = extract.linkage_full(actor=actor, destination=destination, items=items, sink=rows.extend, **kw)
    return summary, rows


@pytest.mark.parametrize("removed_since,extra", [(None, ()), (days_ago(10), ("recent",)),
                                                 (days_ago(5), ("recent",)), (days_ago(4), ()),
                                                 (days_ago(500), ("recent", "old"))])
def test_the_full_file_has_the_residents_and_those_removed_since_the_day(city, removed_since, extra):
    items = {"name", "status", "removed_on"}
    logs = AccessLog.objects.filter(function="linkage.deliver").count()
    summary, rows = _full(items=items, removed_since=removed_since, keyed=True, chunk=2)  # chunks: one row still
    expected = city["residents"] | {city[k] for k in extra}
    assert {pid for pid, _ in rows} == expected and len(rows) == len(expected) == summary.delivered
    assert all(set(r) == items for _, r in rows)  # exactly the keys asked, for every row
    by_person = dict(rows)
    for key in extra:
        assert by_person[city[key]]["removed_on"] is not None
    assert AccessLog.objects.filter(function="linkage.deliver").count() == logs + 1
    row = last_log("linkage.deliver")
    assert row.criteria["full"] is True and row.criteria["consumer"] == "tax" and row.person_count == len(expected)
    assert set(AccessLogSubject.objects.filter(log=row).values_list("person_id", flat=True)) == expected
    assert row.criteria["removed_since"] == (removed_since.isoformat() if removed_since else None)


def test_the_full_file_unkeyed_gives_the_items_only(city):
    summary, rows = _full(items={"name", "address"})
    assert len(rows) == summary.delivered == len(city["residents"])
    assert all(set(r) == {"name", "address"} for r in rows)


def test_the_full_file_withholds_protected_persons_and_names_them(world, city, support):
    victim = move_in_victim(world)
    protect(support, victim)
    summary, rows = _full(keyed=True)
    assert summary.withheld == {victim["mother"]: FLAG, victim["child"]: FLAG}
    assert {pid for pid, _ in rows} == city["residents"]
    row = last_log("linkage.deliver")
    assert victim["mother"] not in set(AccessLogSubject.objects.filter(log=row).values_list("person_id", flat=True))


def test_the_full_file_carries_the_my_number_only_for_the_atena(city):
    summary, rows = _full(actor=ATENA, destination="atena", items={"name", "my_number"}, keyed=True)
    assert dict(rows)[sorted(city["residents"])[0]]["my_number"] == MY_NUMBER
    assert last_log("linkage.deliver", system="atena").my_number_accessed
    refused(ErrorCode.ITEM_NOT_PERMITTED, _full, items={"name", "my_number"})


def test_the_full_file_refuses_whom_the_records_refuse(city, clerk, terminal):
    refused(ErrorCode.PERMISSION_DENIED, _full, actor=TAX, destination="atena")
    refused(ErrorCode.PERMISSION_DENIED, _full, actor=Actor(user=clerk, terminal=terminal))
    refused(ErrorCode.UNKNOWN_DESTINATION, _full, destination="nosuch")
    err = refused(ErrorCode.ITEM_NOT_PERMITTED, _full, items={"name", "domicile"})
    assert err.details == {"items": ["domicile"]}
    assert not AccessLogSubject.objects.filter(log__function="linkage.deliver").exists()
