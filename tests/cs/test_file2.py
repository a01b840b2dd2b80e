"""The C13 checks of the CS: each refusal by its code and item."""
import pytest

from juki.core.checkdigits import mod11_check_digit
from juki.cs import file2


def code(body: str = "1234567890") -> str:
    return body + str(mod11_check_digit(body))


def items(**over) -> dict:
    base = {"resident_code": code(), "name": "青木　太郎", "name_kana": "アオキ　タロウ", "birth_date": "1985-04-01",
            "sex": "1", "municipality_code": "401005", "town_code": "40106001000", "address": "小倉北区城内1番1号",
            "reason": "domestic_move_in", "event_date": "2026-11-01"}
    return {**base, **over}


def codes(errors):
    return [(e["code"], e["item"]) for e in errors]


def test_file2_has_the_36_items_of_the_pia_in_order():
    assert len(file2.ITEMS) == 36
    assert file2.ITEMS[0] == ("resident_code", "住民票コード") and file2.ITEMS[29] == ("anomaly_seq", "異常時更新順番号")
    assert file2.ITEMS[-1] == ("timestamp", "タイムスタンプ")


def test_a_clean_entry_is_accepted():
    assert file2.check("entry", items(), None, current_kind=None) == []


@pytest.mark.parametrize("over, expected", [
    ({"resident_code": code()[:-1] + str((int(code()[-1]) + 1) % 10)}, [("invalid_check_digit", "resident_code")]),
    ({"resident_code": ""}, [("missing_item", "resident_code")]),
    ({"my_number": "123456789012"}, [("invalid_check_digit", "my_number")]),
    ({"name": ""}, [("missing_item", "name")]),
    ({"address": None}, [("missing_item", "address")]),
    ({"birth_date": "1985-02-30"}, [("invalid_date", "birth_date")]),
    ({"sex": "9"}, [("invalid_item", "sex")]),
])
def test_format_checks_name_the_item(over, expected):
    assert codes(file2.check("entry", items(**over), None, current_kind=None)) == expected


def test_an_entry_for_a_current_resident_is_refused_but_one_after_a_removal_is_not():
    current = items()
    assert codes(file2.check("entry", items(), current, current_kind="entry")) == [("already_resident", "resident_code")]
    assert file2.check("entry", items(), current, current_kind="remove") == []


def test_update_of_an_unknown_code_and_a_second_removal_are_refused():
    assert codes(file2.check("update", items(), None, current_kind=None)) == [("unknown_resident", "resident_code")]
    assert codes(file2.check("remove", items(), None, current_kind=None)) == [("unknown_resident", "resident_code")]
    # The initial load brings a removed person's record (kept five years, C23), which the CS never had.
    assert file2.check("remove", items(), None, current_kind=None, initial=True) == []
    assert codes(file2.check("remove", items(), items(), current_kind="remove")) == [("already_removed", "resident_code")]


def test_a_move_within_the_city_may_change_the_address_only():
    current = items()
    moved = items(reason="move_within_city", town_code="40106002000", address="小倉北区魚町一丁目8番",
                  address_set_on="2026-11-20", event_date="2026-11-20")
    assert file2.check("update", moved, current, current_kind="entry") == []
    renamed = {**moved, "name": "青木　次郎", "birth_date": "1985-04-02"}
    assert codes(file2.check("update", renamed, current, current_kind="entry")) == [
        ("move_changes_more_than_address", "birth_date"), ("move_changes_more_than_address", "name")]


def test_seion_and_gaiji():
    assert file2.seion("ガッコウ　パン") == "カツコウ　ハン"
    assert file2.gaiji_count("𠮷田") == 1 and file2.gaiji_count("吉田") == 0
