import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from juki.core.errors import DomainError, ErrorCode
from juki.core.wareki import InvalidDate, era_of, parse_date, parse_input, to_wareki


@pytest.mark.parametrize(
    "date, text",
    [
        (dt.date(2019, 5, 1), "令和元年5月1日"),
        (dt.date(2019, 4, 30), "平成31年4月30日"),
        (dt.date(1989, 1, 8), "平成元年1月8日"),
        (dt.date(1989, 1, 7), "昭和64年1月7日"),
        (dt.date(1926, 12, 25), "昭和元年12月25日"),
        (dt.date(1926, 12, 24), "大正15年12月24日"),
        (dt.date(1912, 7, 30), "大正元年7月30日"),
        (dt.date(1912, 7, 29), "明治45年7月29日"),
        (dt.date(2026, 11, 26), "令和8年11月26日"),
    ],
)
def test_era_boundaries(date, text):
    assert to_wareki(date) == text
    assert parse_date(text) == date


@pytest.mark.parametrize("text", ["R8.11.26", "令和８年１１月２６日", "2026-11-26", "2026/11/26", "20261126", "Ｒ８．１１．２６"])
def test_parse_accepts_clerks_ways_of_typing(text):
    assert parse_date(text) == dt.date(2026, 11, 26)


@pytest.mark.parametrize("text", ["令和8年2月30日", "きのう", "2026-13-01", ""])
def test_parse_rejects_non_dates(text):
    with pytest.raises(ValueError):
        parse_date(text)


@given(st.dates(min_value=dt.date(1868, 10, 23), max_value=dt.date(2100, 12, 31)))
def test_round_trip(date):
    assert parse_date(to_wareki(date)) == date


# --- impossible 和暦 dates (issue 11): refused, never converted by arithmetic ---------------------


@pytest.mark.parametrize("text, meant", [
    ("S64.1.8", "平成元年1月8日"),
    ("昭和64年1月8日", "平成元年1月8日"),
    ("H1.1.7", "昭和64年1月7日"),
    ("R1.4.30", "平成31年4月30日"),
    ("S65.1.1", "平成2年1月1日"),
    ("H32.1.1", "令和2年1月1日"),
    ("M45.7.30", "大正元年7月30日"),
    ("T15.12.25", "昭和元年12月25日"),
    ("S1.12.24", "大正15年12月24日"),
    ("Ｓ６４．１．８", "平成元年1月8日"),
])
def test_a_date_outside_its_era_is_refused_and_names_the_date_meant(text, meant):
    with pytest.raises(InvalidDate) as exc:
        parse_date(text)
    assert "は存在しない日付です" in exc.value.message
    assert f"（{meant}です）" in exc.value.message


@pytest.mark.parametrize("text", ["T0.1.1", "令和0年5月1日", "H0.1.8"])
def test_year_zero_does_not_exist(text):
    with pytest.raises(InvalidDate, match="元年です"):
        parse_date(text)


@pytest.mark.parametrize("text, date", [
    ("S64.1.7", dt.date(1989, 1, 7)), ("H1.1.8", dt.date(1989, 1, 8)), ("H31.4.30", dt.date(2019, 4, 30)),
    ("R1.5.1", dt.date(2019, 5, 1)), ("T1.7.30", dt.date(1912, 7, 30)), ("M45.7.29", dt.date(1912, 7, 29)),
    ("T15.12.24", dt.date(1926, 12, 24)), ("S1.12.25", dt.date(1926, 12, 25)),
])
def test_each_eras_first_and_last_day_are_accepted(text, date):
    assert parse_date(text) == date


def test_the_message_says_the_eras_range():
    with pytest.raises(InvalidDate) as exc:
        parse_date("S64.1.8")
    assert exc.value.message == ("昭和64年1月8日は存在しない日付です（平成元年1月8日です）。"
                                 "昭和は1926年12月25日から1989年1月7日までです。")


def test_parse_input_refuses_with_invalid_date_at_the_field():
    with pytest.raises(DomainError) as exc:
        parse_input("R1.4.30", field="as_of", label="基準日")
    assert exc.value.code == ErrorCode.INVALID_DATE and exc.value.field == "as_of"
    assert "令和元年4月30日は存在しない日付です" in exc.value.message
    with pytest.raises(DomainError) as exc:
        parse_input("きのう", field="as_of", label="基準日")
    assert exc.value.code == ErrorCode.INVALID_DATE and exc.value.message.startswith("基準日は")


@given(st.sampled_from(["M", "T", "S", "H", "R"]), st.integers(0, 99), st.integers(1, 12), st.integers(1, 31))
def test_parse_gives_a_date_only_within_the_era(letter, year, month, day):
    try:
        date = parse_date(f"{letter}{year}.{month}.{day}")
    except InvalidDate:
        return
    # Whatever it accepts reads back as exactly what was typed.
    era, era_year = era_of(date)
    assert (era.letter, era_year, date.month, date.day) == (letter, year, month, day)
