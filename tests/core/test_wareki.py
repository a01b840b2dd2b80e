import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from juki.core.wareki import parse_date, to_wareki


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
