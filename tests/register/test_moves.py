import datetime as dt

import pytest

from juki.core.errors import DomainError, ErrorCode
from juki.register.services import changes
from juki.register.services.people import Address

from ..conftest import KOKURA_JOUNAI, days_ago
from .helpers import count_versions, history, household, ids, person, ref

UOMACHI = "40106002000"  # 小倉北区魚町一丁目
WAKAMATSU_HONMACHI = "40102001000"


def test_whole_household_move_keeps_household_number_and_changes_only_the_address(world, family):
    head, wife, child = ids(family)
    hid = family.households[0]["id"]
    before = person(head)
    result = changes.move_within_city(actor=world, event_date=days_ago(5), notified_on=days_ago(4),
                                      persons=[ref(head), ref(wife), ref(child)], address=Address(UOMACHI, "2番3号", "魚町ハイツ101"))
    after = person(head)
    assert after["reason_label"] == "転居" and after["version"] == 2
    assert after["address"]["display"] == "北九州市小倉北区魚町一丁目2番3号　魚町ハイツ101"
    assert after["address_set_on"]["date"] == days_ago(5).isoformat()
    assert after["became_resident_on"] == before["became_resident_on"]
    assert after["household_id"] == hid and after["name"] == before["name"]
    assert result.households == [{"id": hid, "number": household(hid)["number"], "version": 2}]


def test_move_to_same_banchi_other_building_is_a_move_630(world, family):
    head, wife, child = ids(family)
    changes.move_within_city(actor=world, event_date=days_ago(5), notified_on=None,
                             persons=[ref(head), ref(wife), ref(child)], address=Address(KOKURA_JOUNAI, "1番1号", "別棟"))
    assert person(head)["address"]["katagaki"] == "別棟"


def test_move_to_the_same_address_is_refused(world, family):
    with pytest.raises(DomainError) as err:
        changes.move_within_city(actor=world, event_date=days_ago(5), notified_on=None,
                                 persons=[ref(i) for i in ids(family)], address=Address(KOKURA_JOUNAI, "1番1号"))
    assert err.value.code == ErrorCode.ADDRESS_UNCHANGED


def test_part_of_household_moves_into_a_new_household(world, family):
    head, wife, child = ids(family)
    old_hid = family.households[0]["id"]
    changes.move_within_city(actor=world, event_date=days_ago(5), notified_on=None,
                                      persons=[ref(child)], address=Address(UOMACHI, "9番"), destination=changes.NEW,
                                      relationships_in_destination={child: "世帯主"})
    new = person(child)
    assert new["household_id"] != old_hid and new["relationship"] == "世帯主"
    assert len(household(old_hid)["members"]) == 2


def test_part_of_household_move_needs_a_destination(world, family):
    with pytest.raises(DomainError) as err:
        changes.move_within_city(actor=world, event_date=days_ago(5), notified_on=None,
                                 persons=[ref(ids(family)[2])], address=Address(UOMACHI, "9番"))
    assert err.value.code == ErrorCode.HOUSEHOLD_MISMATCH


def test_move_that_would_change_other_items_is_refused_c13(world, family):
    """The writer compares the new version with the old: a 転居 may change the address only."""
    from juki.register.reasons import Operation, Reason
    from juki.register.services.writer import change_scope, version_data

    head = ids(family)[0]
    before = count_versions()
    with pytest.raises(DomainError) as err:
        with change_scope(actor=world, operation=Operation.MOVE_WITHIN_CITY, event_date=days_ago(1)) as w:
            p, v = w.person(ref(head))
            w.write(p, version_data(v) | {"banchi": "5番", "family_name": "改名"}, Reason.MOVE_WITHIN_CITY,
                    allowed=changes.ADDRESS_FIELDS)
    assert err.value.code == ErrorCode.FIELD_NOT_CHANGEABLE
    assert err.value.details == {"fields": ["family_name"]}
    assert count_versions() == before


def test_move_out_planned_in_the_future_removes_on_that_date(world, family):
    head, wife, child = ids(family)
    planned = dt.date.today() + dt.timedelta(days=10)
    changes.move_out(actor=world, event_date=planned, notified_on=days_ago(0),
                     persons=[ref(head), ref(wife), ref(child)], destination_address="東京都千代田区丸の内一丁目9番")
    latest = person(head)
    assert latest["status"] == "removed" and latest["status_label"] == "転出予定"
    assert latest["move_out"]["planned_on"]["date"] == planned.isoformat()
    assert person(head, as_of=dt.date.today())["status"] == "resident"  # still a resident until then
    hid = family.households[0]["id"]
    assert len(household(hid)["members"]) == 3
    assert household(hid, as_of=planned)["members"] == []


def test_move_out_confirmed_keeps_planned_data_and_takes_the_earlier_date(world, family):
    head, wife, child = ids(family)
    changes.move_out(actor=world, event_date=days_ago(3), notified_on=days_ago(10),
                     persons=[ref(head), ref(wife), ref(child)], destination_address="東京都千代田区丸の内一丁目9番")
    changes.move_out_confirm(actor=world, person=ref(head), notice_on=days_ago(1), moved_on=days_ago(5),
                             confirmed_address="東京都千代田区丸の内一丁目9番1号")
    p = person(head)
    assert p["reason_label"] == "転出確定（転入通知受理）"
    assert p["move_out"]["planned_on"]["date"] == days_ago(3).isoformat()  # not overwritten [680]
    assert p["move_out"]["confirmed_on"]["date"] == days_ago(5).isoformat()
    assert p["removed_on"]["date"] == days_ago(5).isoformat()  # the earlier of the two [50]


def test_move_out_confirm_refuses_a_current_resident(world, family):
    with pytest.raises(DomainError) as err:
        changes.move_out_confirm(actor=world, person=ref(ids(family)[0]), notice_on=days_ago(1), moved_on=days_ago(2),
                                 confirmed_address="x")
    assert err.value.code == ErrorCode.NOT_REMOVED


def test_change_to_a_removed_person_is_refused(world, family):
    head, wife, child = ids(family)
    changes.death(actor=world, event_date=days_ago(2), notified_on=days_ago(1), persons=[ref(child)])
    with pytest.raises(DomainError) as err:
        changes.move_within_city(actor=world, event_date=days_ago(1), notified_on=None, persons=[ref(child)],
                                 address=Address(UOMACHI, "1番"), destination=changes.NEW,
                                 relationships_in_destination={child: "世帯主"})
    assert err.value.code == ErrorCode.NOT_RESIDENT


def test_movers_from_different_households_refused(world, family):
    from ..conftest import move_in_family, person_input

    other = move_in_family(world, members=[person_input(family_name="佐藤", given_name="一", birth_date=dt.date(1970, 1, 1))])
    with pytest.raises(DomainError) as err:
        changes.move_within_city(actor=world, event_date=days_ago(1), notified_on=None,
                                 persons=[ref(ids(family)[0]), ref(ids(other)[0])], address=Address(UOMACHI, "1番"))
    assert err.value.code == ErrorCode.HOUSEHOLD_MISMATCH


KUROSAKI = "40109001000"  # 八幡西区黒崎一丁目


def test_move_to_another_ward_is_a_ward_move_with_a_new_household_number(world, family):
    """指定都市の区間異動 [130][470]: 除票 in the old ward, entry in the new, same 宛名番号."""
    head, wife, child = ids(family)
    old_hid = family.households[0]["id"]
    before = person(head)
    result = changes.move_within_city(actor=world, event_date=days_ago(3), notified_on=days_ago(2),
                                      persons=[ref(head), ref(wife), ref(child)], address=Address(KUROSAKI, "3番4号"))
    after = person(head)
    assert after["household_id"] != old_hid and after["household_number"] != before["household_number"]
    assert after["atena_number"] == before["atena_number"]
    assert after["address"]["ward"] == "八幡西区" and after["status"] == "resident"
    assert after["previous_address"] == "福岡県北九州市小倉北区城内1番1号"
    assert after["became_resident_on"] == before["became_resident_on"]
    assert [v["reason_label"] for v in history(head)] == ["国内転入", "区間転出", "区間転入"]
    removed = history(head)[1]
    assert removed["status"] == "removed" and removed["household_id"] == old_hid
    assert removed["move_out"]["planned_address"] == "福岡県北九州市八幡西区黒崎一丁目3番4号"
    new_view = household(after["household_id"])
    assert [m["relationship"] for m in new_view["members"]] == ["世帯主", "妻", "子"]
    assert household(old_hid)["members"] == []
    assert len(household(old_hid, as_of=days_ago(4))["members"]) == 3
    assert {h["id"] for h in result.households} == {old_hid, after["household_id"]}
