"""Property tests for PIN input: what is accepted is exactly 4 digits that are not trivial, and a
refusal never echoes the input."""
import datetime as dt
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from juki.cards import numbers, services
from juki.core.errors import DomainError, ErrorCode

births = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2026, 1, 1))


# 同じ数字の繰り返し and straight runs up or down (no wrap-around: 7890 and 0987 are fine), written out.
TRIVIAL = frozenset({
    "0000", "1111", "2222", "3333", "4444", "5555", "6666", "7777", "8888", "9999",
    "0123", "1234", "2345", "3456", "4567", "5678", "6789",
    "9876", "8765", "7654", "6543", "5432", "4321", "3210",
})


def trivial(pin: str) -> bool:
    return pin in TRIVIAL


@settings(max_examples=400)
@given(st.text(max_size=8), st.one_of(st.none(), births))
def test_any_text_is_accepted_only_as_four_nontrivial_ascii_digits(raw, birth):
    try:
        pin = services.validate_pin(raw, birth_date=birth)
    except DomainError as exc:
        assert exc.code == ErrorCode.INVALID_INPUT and exc.field == "pin"
        assert exc.message in (services.PIN_FORMAT, services.PIN_TRIVIAL, services.PIN_BIRTH)
        assert not exc.details
    else:
        assert len(pin) == 4 and all(c in "0123456789" for c in pin)
        assert pin == unicodedata.normalize("NFKC", raw)
        assert not trivial(pin)
        assert birth is None or pin not in (f"{birth.year:04d}", f"{birth:%m%d}")


@given(st.from_regex(r"[0-9]{4}", fullmatch=True), births)
def test_four_digits_are_refused_exactly_for_the_trivial_and_birth_rules(pin, birth):
    expected_ok = not trivial(pin) and pin not in (f"{birth.year:04d}", f"{birth:%m%d}")
    try:
        services.validate_pin(pin, birth_date=birth)
        ok = True
    except DomainError:
        ok = False
    assert ok == expected_ok


def test_of_all_ten_thousand_pins_exactly_the_listed_ones_are_refused_as_trivial():
    """Random examples rarely hit one of the 24: every four-digit PIN is checked once."""
    refused_as_trivial = set()
    for n in range(10_000):
        pin = f"{n:04d}"
        try:
            services.validate_pin(pin)
        except DomainError as exc:
            assert exc.message == services.PIN_TRIVIAL, pin
            refused_as_trivial.add(pin)
    assert refused_as_trivial == TRIVIAL


@given(st.from_regex(r"[0-9]{4}", fullmatch=True))
def test_fullwidth_digits_read_as_the_same_pin(pin):
    fullwidth = "".join(chr(ord(c) + 0xFEE0) for c in pin)
    if not trivial(pin):
        assert services.validate_pin(fullwidth) == pin


# The Damm quasigroup (the standard table, written out here rather than taken from the service).
DAMM = (
    "0317598642", "7092154863", "4206871359", "1750983426", "6123045978",
    "3674209581", "5869720134", "8945362017", "9438617205", "2581436790",
)


def check_digit(body: str) -> str:
    interim = 0
    for d in body:
        interim = int(DAMM[interim][int(d)])
    return str(interim)


# A card number: 9 digits not starting with 0, then the Damm check digit.
card_numbers = st.integers(min_value=10**8, max_value=10**9 - 1).map(str).map(lambda body: body + check_digit(body))


@settings(max_examples=300)
@given(st.text(max_size=20))
def test_card_number_input_never_crashes_and_only_valid_numbers_pass(raw):
    number = numbers.normalize_number(raw)
    if numbers.number_valid(number):
        assert len(number) == 10 and number.isascii() and number.isdigit()
        assert number[0] != "0" and check_digit(number[:9]) == number[9]


@settings(max_examples=300)
@given(card_numbers)
def test_a_valid_card_number_passes_as_typed(number):
    assert numbers.number_valid(number)
    fullwidth = "".join(chr(ord(c) + 0xFEE0) for c in number)
    typed = f"{fullwidth[:4]} {fullwidth[4:8]}-{fullwidth[8:]}"  # 「１２３４ ５６７８-９０」
    assert numbers.normalize_number(typed) == number and numbers.number_valid(numbers.normalize_number(typed))


@settings(max_examples=300)
@given(card_numbers, st.integers(min_value=0, max_value=9), st.integers(min_value=1, max_value=9))
def test_every_single_digit_change_of_a_card_number_fails(number, position, shift):
    changed = number[:position] + str((int(number[position]) + shift) % 10) + number[position + 1:]
    assert changed != number and not numbers.number_valid(changed)


@settings(max_examples=300)
@given(card_numbers, st.integers(min_value=0, max_value=8))
def test_swapping_two_adjacent_different_digits_of_a_card_number_fails(number, position):
    swapped = number[:position] + number[position + 1] + number[position] + number[position + 2:]
    if swapped != number:
        assert not numbers.number_valid(swapped)
