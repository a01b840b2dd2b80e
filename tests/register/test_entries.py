import datetime as dt

import pytest

from juki.core.errors import DomainError, ErrorCode
from juki.register.services import changes
from juki.register.services.people import Address

from ..conftest import KOKURA_JOUNAI, days_ago, move_in_family, person_input
from .helpers import count_versions, history, household, ids, person, ref

MY_NUMBER = "123456789018"
RESIDENT_CODE = "24727059608"


def test_domestic_move_in_of_a_new_household(world):
    result = move_in_family(world)
    head_id, wife_id, child_id = ids(result)
    head = person(head_id)
    assert head["reason"] == "domestic_move_in" and head["reason_label"] == "国内転入"
    assert head["status"] == "resident" and head["version"] == 1
    assert head["became_resident_on"]["date"] == days_ago(30).isoformat()
    assert head["address_set_on"] == head["became_resident_on"]  # [590]
    assert head["previous_address"].startswith("福岡県福岡市")
    assert head["birth_date"]["display"] == "昭和60年4月1日"  # 和暦 [90]
    assert len(head["atena_number"]) == 10
    assert head["resident_code"]  # drawn from the stock [870]
    assert household(result.households[0]["id"])["head"]["person_id"] == head_id


def test_abroad_move_in_needs_no_previous_address_certificate(world):
    result = changes.move_in(
        actor=world, event_date=days_ago(3), notified_on=days_ago(1), origin="abroad",
        persons=[person_input()], destination=changes.NEW, address=Address(KOKURA_JOUNAI, "2番"),
        previous_address="アメリカ合衆国",
    )
    assert person(ids(result)[0])["reason"] == "abroad_move_in"


def test_domestic_move_in_requires_the_previous_address(world):
    with pytest.raises(DomainError) as err:
        changes.move_in(actor=world, event_date=days_ago(3), notified_on=None, origin="domestic",
                        persons=[person_input()], destination=changes.NEW, address=Address(KOKURA_JOUNAI, "2番"),
                        previous_address="")
    assert err.value.field == "previous_address"
    assert err.value.code == ErrorCode.INVALID_INPUT


def test_move_in_of_a_current_resident_is_refused_c13(world):
    move_in_family(world, members=[person_input(my_number=MY_NUMBER)])
    before = count_versions()
    with pytest.raises(DomainError) as err:
        move_in_family(world, members=[person_input(given_name="別人", my_number=MY_NUMBER)])
    assert err.value.code == ErrorCode.ALREADY_RESIDENT
    assert count_versions() == before  # nothing half-written


def test_move_in_by_resident_code_of_current_resident_is_refused(world):
    move_in_family(world, members=[person_input(resident_code=RESIDENT_CODE)])
    with pytest.raises(DomainError) as err:
        move_in_family(world, members=[person_input(given_name="次郎", resident_code=RESIDENT_CODE)])
    assert err.value.code == ErrorCode.ALREADY_RESIDENT


def test_returning_resident_must_be_processed_as_re_entry_and_keeps_atena_number(world):
    first = move_in_family(world, members=[person_input(my_number=MY_NUMBER)])
    pid = ids(first)[0]
    changes.move_out(actor=world, event_date=days_ago(10), notified_on=days_ago(10), persons=[ref(pid)],
                     destination_address="東京都千代田区丸の内一丁目9番")
    with pytest.raises(DomainError) as err:
        move_in_family(world, members=[person_input(my_number=MY_NUMBER)], event_date=days_ago(2))
    assert err.value.code == ErrorCode.RETURNING_RESIDENT_FOUND
    back = move_in_family(world, members=[person_input(my_number=MY_NUMBER, returning_person=ref(pid))],
                          event_date=days_ago(2))
    assert ids(back) == [pid]
    again = person(pid)
    assert again["status"] == "resident" and again["version"] == 3
    assert again["atena_number"] == person(pid, as_of=days_ago(20))["atena_number"]


def test_three_information_match_asks_for_confirmation(world):
    move_in_family(world, members=[person_input()])
    with pytest.raises(DomainError) as err:
        move_in_family(world, members=[person_input()])
    assert err.value.code == ErrorCode.POSSIBLE_RETURNING_RESIDENT
    result = move_in_family(world, members=[person_input()], confirmed_new_person=True)
    assert len(result.persons) == 1


def test_invalid_my_number_refused_and_nothing_written(world):
    before = count_versions()
    with pytest.raises(DomainError) as err:
        move_in_family(world, members=[person_input(my_number="123456789012")])
    assert err.value.code == ErrorCode.INVALID_MY_NUMBER
    assert count_versions() == before


def test_invalid_resident_code_refused(world):
    with pytest.raises(DomainError) as err:
        move_in_family(world, members=[person_input(resident_code="24727059607")])
    assert err.value.code == ErrorCode.INVALID_RESIDENT_CODE


def test_event_date_in_the_future_is_refused(world):
    with pytest.raises(DomainError) as err:
        move_in_family(world, event_date=dt.date.today() + dt.timedelta(days=1), notified_on=None)
    assert err.value.code == ErrorCode.EVENT_DATE_IN_FUTURE


def test_notified_date_in_the_future_is_refused(world):
    with pytest.raises(DomainError) as err:
        move_in_family(world, notified_on=dt.date.today() + dt.timedelta(days=1))
    assert err.value.code == ErrorCode.NOTIFIED_DATE_IN_FUTURE


def test_processed_at_is_now_and_cannot_be_set(world):
    with pytest.raises(TypeError):
        move_in_family(world, processed_at=dt.datetime(2020, 1, 1))
    result = move_in_family(world)
    processed = history(ids(result)[0])[0]["change"]["processed_at"]
    assert processed.startswith(dt.datetime.now(dt.timezone.utc).date().isoformat()[:7])


def test_late_notification_is_accepted_and_listed(world):
    from juki.register import selectors

    from .helpers import TEST

    result = move_in_family(world, event_date=days_ago(40), notified_on=days_ago(5))
    assert any(w["code"] == "late_notification" for w in result.warnings)
    listed = selectors.late_notifications(actor=TEST)
    assert [c["change_id"] for c in listed] == [result.change_id]
    on_time = move_in_family(world, event_date=days_ago(20), notified_on=days_ago(6), confirmed_new_person=True)
    assert "late_notification" not in [w["code"] for w in on_time.warnings]


def test_relationship_outside_vocabulary_refused(world):
    with pytest.raises(DomainError) as err:
        move_in_family(world, members=[person_input(), person_input(given_name="爺", relationship="祖父")])
    assert err.value.code == ErrorCode.INVALID_RELATIONSHIP


def test_two_heads_refused(world):
    with pytest.raises(DomainError) as err:
        move_in_family(world, members=[person_input(), person_input(given_name="二郎")])
    assert err.value.code == ErrorCode.INVALID_RELATIONSHIP


def test_unknown_town_refused(world):
    with pytest.raises(DomainError) as err:
        move_in_family(world, address=Address("40106999000", "1番"))
    assert err.value.code == ErrorCode.UNKNOWN_TOWN


def test_japanese_resident_needs_domicile(world):
    with pytest.raises(DomainError) as err:
        move_in_family(world, members=[person_input(domicile="")])
    assert err.value.field == "domicile"
    assert err.value.code == ErrorCode.INVALID_INPUT
    ok = move_in_family(world, members=[person_input(domicile="不明", domicile_head="")])  # [120]
    assert person(ids(ok)[0])["domicile"] == "不明"


def test_birth_into_household_quotes_domicile_and_takes_household_address(world, family):
    hid = family.households[0]["id"]
    result = changes.birth(actor=world, event_date=days_ago(3), notified_on=days_ago(1),
                           child={"family_name": "青木", "given_name": "みどり", "given_name_kana": "みどり",
                                  "family_name_kana": "あおき", "sex": 2, "relationship": "子"},
                           destination=household_ref(hid))
    child = person(ids(result)[0])
    assert child["reason"] == "birth"
    assert child["birth_date"]["date"] == days_ago(3).isoformat()
    assert child["domicile"] == "福岡県北九州市小倉北区城内1番"  # [770]
    assert child["name"]["given_name_kana"] == "ミドリ"  # kana kept in katakana [180]
    assert child["address"]["display"] == "北九州市小倉北区城内1番1号"
    assert child["previous_address"] == ""
    members = household(hid)["members"]
    assert [m["name"]["given_name"] for m in members] == ["太郎", "花子", "一郎", "みどり"]  # [1010]: 子 by birth date


def household_ref(hid):
    from .helpers import href

    return href(hid)


def test_birth_date_must_equal_event_date(world, family):
    with pytest.raises(DomainError) as err:
        changes.birth(actor=world, event_date=days_ago(3), notified_on=None,
                      child={"family_name": "青木", "given_name": "二郎", "sex": 1, "relationship": "子",
                             "birth_date": days_ago(5)},
                      destination=household_ref(family.households[0]["id"]))
    assert err.value.code == ErrorCode.INVALID_DATE


def test_ex_officio_entry_with_unknown_previous_address(world):
    result = changes.ex_officio_entry(actor=world, event_date=days_ago(1), notified_on=None,
                                      persons=[person_input()], destination=changes.NEW,
                                      address=Address(KOKURA_JOUNAI, "3番"), previous_address="不明")
    p = person(ids(result)[0])
    assert p["reason_label"] == "職権記載" and p["previous_address"] == "不明"


FOREIGN = {
    "family_name": "NGUYEN", "given_name": "VAN AN", "family_name_kana": "グエン", "given_name_kana": "ヴァン アン",
    "birth_date": dt.date(1995, 3, 3), "sex": 1, "relationship": "世帯主", "resident_kind": "F",
    "nationality": "ベトナム", "article_30_45_category": "中長期在留者", "residence_status": "技術・人文知識・国際業務",
    "period_of_stay": "5年", "stay_expires_on": dt.date(2030, 3, 31), "residence_card_number": "AB12345678CD",
}


def test_article_30_46_move_in_of_a_foreign_resident(world):
    result = changes.foreign_move_in(actor=world, event_date=days_ago(2), notified_on=days_ago(1),
                                     persons=[FOREIGN], destination=changes.NEW,
                                     address=Address(KOKURA_JOUNAI, "5番"), previous_address="")
    p = person(ids(result)[0])
    assert p["resident_kind"] == "F"
    assert p["foreign"]["stay_expires_on"]["display"] == "2030年3月31日"  # 西暦 [90]
    assert p["birth_date"]["display"] == "1995年3月3日"
    assert p["foreign"]["became_foreign_resident_on"]["date"] == days_ago(2).isoformat()


def test_foreign_move_in_needs_residence_data(world):
    with pytest.raises(DomainError) as err:
        changes.foreign_move_in(actor=world, event_date=days_ago(2), notified_on=None,
                                persons=[{**FOREIGN, "residence_card_number": ""}], destination=changes.NEW,
                                address=Address(KOKURA_JOUNAI, "5番"), previous_address="")
    assert err.value.code == ErrorCode.FOREIGN_DATA_REQUIRED
    assert "residence_card_number" in err.value.details["fields"]


def test_article_30_47_registration(world):
    result = changes.foreign_registration(actor=world, event_date=days_ago(2), notified_on=days_ago(2),
                                          persons=[{**FOREIGN, "residence_card_number": "ZZ12345678ZZ"}],
                                          destination=changes.NEW, address=Address(KOKURA_JOUNAI, "6番"),
                                          previous_address="")
    assert history(ids(result)[0])[0]["change"]["operation_label"] == "法第30条の47届出"


def test_foreign_operation_refuses_japanese(world):
    with pytest.raises(DomainError) as err:
        changes.foreign_move_in(actor=world, event_date=days_ago(2), notified_on=None, persons=[person_input()],
                                destination=changes.NEW, address=Address(KOKURA_JOUNAI, "5番"), previous_address="")
    assert err.value.code == ErrorCode.NOT_FOREIGN_RESIDENT


def test_resident_code_stock_runs_out(world):
    from juki.register.models import ResidentCodeStock

    ResidentCodeStock.objects.update(used=True)
    with pytest.raises(DomainError) as err:
        move_in_family(world)
    assert err.value.code == ErrorCode.RESIDENT_CODE_STOCK_EMPTY


def test_permanent_resident_has_no_expiry_date(world):
    permanent = {**FOREIGN, "residence_status": "永住者", "period_of_stay": "無期限", "stay_expires_on": None,
                 "residence_card_number": "PR12345678AB"}
    result = changes.foreign_move_in(actor=world, event_date=days_ago(9), notified_on=days_ago(9), persons=[permanent],
                                     destination=changes.NEW, address=Address(KOKURA_JOUNAI, "5番"), previous_address="")
    pid = ids(result)[0]
    changes.move_within_city(actor=world, event_date=days_ago(1), notified_on=days_ago(1), persons=[ref(pid)],
                             address=Address(KOKURA_JOUNAI, "6番"))
    assert person(pid)["foreign"]["stay_expires_on"] is None
    with pytest.raises(DomainError) as err:  # a fixed period still needs its 満了日
        changes.foreign_move_in(actor=world, event_date=days_ago(9), notified_on=None,
                                persons=[{**FOREIGN, "stay_expires_on": None, "residence_card_number": "XX12345678XX"}],
                                destination=changes.NEW, address=Address(KOKURA_JOUNAI, "5番"), previous_address="",
                                confirmed_new_person=True)
    assert "stay_expires_on" in err.value.details["fields"]
    assert err.value.code == ErrorCode.FOREIGN_DATA_REQUIRED
