import datetime as dt

import pytest

from juki.core.errors import AccessDenied, DomainError, ErrorCode
from juki.register.services import changes

from ..conftest import days_ago
from .helpers import count_versions, history, ids, person, ref

MY_NUMBER = "123456789018"
OTHER_NUMBER = "234567890121"


def test_minor_correction_of_a_name_character(world, family):
    head = ids(family)[0]
    changes.minor_correction(actor=world, event_date=days_ago(0), person=ref(head), changes={"family_name": "靑木"})
    p = person(head)
    assert p["name"]["family_name"] == "靑木" and p["reason_label"] == "軽微な修正"


def test_minor_correction_refuses_other_items(world, family):
    with pytest.raises(DomainError) as err:
        changes.minor_correction(actor=world, event_date=days_ago(0), person=ref(ids(family)[0]),
                                 changes={"birth_date": dt.date(1985, 4, 2)})
    assert err.value.code == ErrorCode.MINOR_CORRECTION_FIELDS


def test_erratum_correction_keeps_the_wrong_version_in_history_860(world, family):
    head = ids(family)[0]
    changes.erratum_correction(actor=world, event_date=days_ago(0), person=ref(head),
                               changes={"birth_date": dt.date(1985, 4, 2)}, note="生年月日の誤記")
    versions = history(head)
    assert [v["birth_date"]["date"] for v in versions] == ["1985-04-01", "1985-04-02"]
    assert versions[-1]["reason_label"] == "誤記修正"


def test_ex_officio_correction_cannot_touch_identifiers(world, family):
    with pytest.raises(DomainError) as err:
        changes.ex_officio_correction(actor=world, event_date=days_ago(0), person=ref(ids(family)[0]),
                                      changes={"resident_code": "24727059608"})
    assert err.value.code == ErrorCode.FIELD_NOT_CHANGEABLE


def test_correction_with_nothing_changed_is_refused(world, family):
    with pytest.raises(DomainError) as err:
        changes.ex_officio_correction(actor=world, event_date=days_ago(0), person=ref(ids(family)[0]),
                                      changes={"given_name": "太郎"})
    assert err.value.code == ErrorCode.NOTHING_CHANGED


def test_correction_of_address_via_town_code(world, family):
    head = ids(family)[0]
    changes.ex_officio_correction(actor=world, event_date=days_ago(0), person=ref(head), changes={"banchi": "1番2号"})
    assert person(head)["address"]["banchi"] == "1番2号"


def test_resident_code_change_request_draws_a_new_code(world, family, supervisor, terminal):
    from juki.audit.gate import Actor

    head = ids(family)[0]
    old = person(head)["resident_code"]
    with pytest.raises(AccessDenied):  # a clerk lacks the 住民票コード付番 right [1380]
        changes.resident_code_assign(actor=world, event_date=days_ago(0), person=ref(head), change_request=True)
    sup = Actor(user=supervisor, terminal=terminal)
    changes.resident_code_assign(actor=sup, event_date=days_ago(0), person=ref(head), change_request=True)
    new = person(head)
    assert new["resident_code"] != old and new["reason_label"] == "住民票コードの変更請求"
    with pytest.raises(DomainError) as err:  # already has one: 付番 is for those without
        changes.resident_code_assign(actor=sup, event_date=days_ago(0), person=ref(head))
    assert err.value.code == ErrorCode.INVALID_INPUT and "すでに住民票コード" in err.value.message


def test_my_number_entry_change_and_refusals(world, family):
    head, wife, child = ids(family)
    changes.my_number_record(actor=world, event_date=days_ago(0), person=ref(head), my_number=MY_NUMBER, kind="entry")
    assert person(head)["has_my_number"] and person(head)["reason_label"] == "個人番号の職権記載"
    with pytest.raises(DomainError) as err:
        changes.my_number_record(actor=world, event_date=days_ago(0), person=ref(wife), my_number=MY_NUMBER, kind="entry")
    assert err.value.code == ErrorCode.DUPLICATE_MY_NUMBER
    before = count_versions()
    with pytest.raises(DomainError) as err:
        changes.my_number_record(actor=world, event_date=days_ago(0), person=ref(wife), my_number="23456789012",
                                 kind="entry")
    assert err.value.code == ErrorCode.INVALID_MY_NUMBER and count_versions() == before
    changes.my_number_record(actor=world, event_date=days_ago(0), person=ref(head), my_number=OTHER_NUMBER,
                             kind="change_request")
    assert person(head)["reason_label"] == "個人番号の変更請求"


def test_my_number_shown_only_with_the_right_and_logged(world, family, sup_actor):
    from juki.audit.models import AccessLog
    from juki.register import selectors

    head = ids(family)[0]
    changes.my_number_record(actor=world, event_date=days_ago(0), person=ref(head), my_number=MY_NUMBER, kind="entry")
    plain = selectors.person_get(actor=world, person_id=head)
    assert "my_number" not in plain and plain["has_my_number"]
    with pytest.raises(AccessDenied):
        selectors.person_get(actor=world, person_id=head, reveal_my_number=True)
    shown = selectors.person_get(actor=sup_actor, person_id=head, reveal_my_number=True)
    assert shown["my_number"] == MY_NUMBER
    last = AccessLog.objects.filter(function="person.view").order_by("-id").first()
    assert last.my_number_accessed and last.user == sup_actor.user
    refused = AccessLog.objects.filter(function="person.view", outcome="permission_denied").get()
    assert refused.user == world.user


def test_naturalization_keeps_atena_number_and_carries_items(world):
    from .test_entries import FOREIGN
    from juki.register.services.people import Address
    from ..conftest import KOKURA_JOUNAI

    result = changes.foreign_move_in(actor=world, event_date=days_ago(400), notified_on=days_ago(400),
                                     persons=[{**FOREIGN, "my_number": MY_NUMBER}], destination=changes.NEW,
                                     address=Address(KOKURA_JOUNAI, "5番"), previous_address="")
    pid = ids(result)[0]
    before = person(pid)
    changes.naturalization(actor=world, event_date=days_ago(1), notified_on=days_ago(1), person=ref(pid),
                           new_data={"family_name": "阮", "given_name": "文安", "family_name_kana": "グエン",
                                     "given_name_kana": "ヴァンアン", "domicile": "福岡県北九州市小倉北区城内5番",
                                     "domicile_head": "阮　文安"})
    versions = history(pid)
    assert [v["reason_label"] for v in versions] == ["国外転入等", "職権消除（帰化等）", "職権記載（帰化等）"]
    after = person(pid)
    assert after["resident_kind"] == "J" and after["status"] == "resident"
    assert after["atena_number"] == before["atena_number"]
    assert after["resident_code"] == before["resident_code"] and after["has_my_number"]
    assert after["became_resident_on"]["date"] == days_ago(400).isoformat()  # 外国人住民となった年月日 [930]
    assert "foreign" not in after
    assert after["birth_date"]["display"] == "平成7年3月3日"  # now shown in 和暦


def test_nationality_loss_makes_a_foreign_record(world, family):
    head = ids(family)[0]
    changes.nationality_loss(actor=world, event_date=days_ago(1), notified_on=days_ago(1), person=ref(head),
                             new_data={"nationality": "アメリカ合衆国", "article_30_45_category": "国籍喪失による経過滞在者",
                                       "family_name": "AOKI", "given_name": "TARO"})
    p = person(head)
    assert p["resident_kind"] == "F" and p["foreign"]["nationality"] == "アメリカ合衆国"
    assert p["foreign"]["became_foreign_resident_on"]["date"] == days_ago(1).isoformat()  # the later date [950]
    assert p["household_id"] == family.households[0]["id"] and p["relationship"] == "世帯主"


def test_naturalization_of_a_japanese_resident_is_refused(world, family):
    with pytest.raises(DomainError) as err:
        changes.nationality_acquisition(actor=world, event_date=days_ago(1), notified_on=None,
                                        person=ref(ids(family)[0]), new_data={})
    assert err.value.code == ErrorCode.NOT_FOREIGN_RESIDENT
