"""Property tests for PIN input: what is accepted is exactly 4 digits that are not trivial, and a
refusal never echoes the input."""
import datetime as dt
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from juki.cards import services
from juki.core.errors import DomainError, ErrorCode

births = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2026, 1, 1))


def trivial(pin: str) -> bool:
    steps = {int(b) - int(a) for a, b in zip(pin, pin[1:])}
    return steps in ({0}, {1}, {-1})


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


@given(st.from_regex(r"[0-9]{4}", fullmatch=True))
def test_fullwidth_digits_read_as_the_same_pin(pin):
    fullwidth = "".join(chr(ord(c) + 0xFEE0) for c in pin)
    if not trivial(pin):
        assert services.validate_pin(fullwidth) == pin


@settings(max_examples=300)
@given(st.text(max_size=20))
def test_card_number_input_never_crashes_and_only_valid_numbers_pass(raw):
    number = services.normalize_number(raw)
    if services.number_valid(number):
        assert len(number) == 10 and number.isascii() and number.isdigit()
