import pytest
from hypothesis import given
from hypothesis import strategies as st

from juki.core.checkdigits import (
    is_valid_local_government_code, is_valid_my_number, is_valid_register_number, is_valid_resident_code,
    mod11_check_digit, with_check_digit,
)


@pytest.mark.parametrize("value", ["123456789018"])
def test_my_number_valid_example_from_the_ordinance(value):
    assert is_valid_my_number(value)


@pytest.mark.parametrize(
    "value, why",
    [
        ("123456789012", "wrong check digit"),
        ("12345678901", "11 digits"),
        ("1234567890180", "13 digits"),
        ("12345678901a", "non-digit"),
        ("１２３４５６７８９０１８", "full-width digits"),
        ("", "empty"),
        (None, "None"),
        (123456789018, "int, not text"),
    ],
)
def test_my_number_invalid(value, why):
    assert not is_valid_my_number(value), why


def test_resident_code_valid_example():
    assert is_valid_resident_code("24727059608")


@pytest.mark.parametrize("value", ["24727059607", "2472705960", "247270596080", "2472705960X", "", None])
def test_resident_code_invalid(value):
    assert not is_valid_resident_code(value)


@given(st.text(alphabet="0123456789", min_size=11, max_size=11))
def test_every_11_digit_body_has_exactly_one_valid_my_number(body):
    valid = [d for d in "0123456789" if is_valid_my_number(body + d)]
    assert valid == [str(mod11_check_digit(body))]


def _remainder(body: str) -> int:
    return sum(int(d) * w for d, w in zip(body, (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2), strict=True)) % 11


@given(st.text(alphabet="0123456789", min_size=11, max_size=11), st.integers(0, 11), st.integers(1, 9))
def test_changing_one_digit_of_a_valid_number_is_detected(body, pos, delta):
    valid = body + str(mod11_check_digit(body))
    changed = valid[:pos] + str((int(valid[pos]) + delta) % 10) + valid[pos + 1:]
    # Weights 2..7 and a prime modulus: a one-digit change always moves the remainder. The one
    # blind spot of the statutory rule is remainders 0 and 1 both giving check digit 0.
    blind_spot = pos < 11 and {_remainder(valid[:11]), _remainder(changed[:11])} == {0, 1}
    assert is_valid_my_number(changed) == blind_spot


@pytest.mark.parametrize(
    "code, name",
    [("401005", "北九州市"), ("401013", "門司区"), ("401021", "若松区"), ("401030", "戸畑区"), ("401064", "小倉北区"),
     ("401072", "小倉南区"), ("401081", "八幡東区"), ("401099", "八幡西区")],
)
def test_local_government_codes_of_kitakyushu(code, name):
    assert is_valid_local_government_code(code), name


@pytest.mark.parametrize("code", ["401006", "40100", "4010050", "40100a", "401082"])
def test_local_government_code_invalid(code):
    assert not is_valid_local_government_code(code)


@given(st.integers(1, 10**9 - 1))
def test_register_numbers_carry_their_check_digit(serial):
    number = with_check_digit(serial)
    assert len(number) == 10 and is_valid_register_number(number)
