"""core.csvout: the one CSV writer; a cell never runs as a formula in a spreadsheet (CSVの数式無効化)."""
from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from juki.core import csvout


@pytest.mark.parametrize("text", ["=1+1", '=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)",
                                  "\t=1", "\r=1", "＝１＋１", "＠SUM(A1)"])
def test_formula_text_gets_a_quote(text):
    assert csvout.escape_cell(text) == "'" + text


@pytest.mark.parametrize("value, expected", [
    ("八幡西区役所 市民課", "八幡西区役所 市民課"), ("", ""), (None, ""), ("a=b", "a=b"), ("'=1", "'=1"),
    (-5, -5), (0, 0), (1.5, 1.5), (Decimal("-300"), Decimal("-300")), ("-5", "'-5"), (True, "True")])
def test_plain_cells_and_numbers(value, expected):
    assert csvout.escape_cell(value) == expected


def test_to_bytes_is_utf8_with_bom_and_numbers_stay_numeric():
    data = csvout.to_bytes(["入力場所", "金額"], [["=1+1", -300], ["市民課", 300]])
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [["入力場所", "金額"], ["'=1+1", "-300"], ["市民課", "300"]]


def test_header_is_escaped_too():
    out = io.StringIO()
    csvout.write(out, ["=x"], [])
    assert out.getvalue().strip() == "'=x"


cells = st.one_of(st.text(), st.integers(), st.none(),
                  st.text(alphabet=st.sampled_from(list("=+-@\t\r＝＋－＠'a1 ")), max_size=6))


@given(st.lists(st.lists(cells, min_size=1, max_size=5), max_size=5))
def test_no_written_text_cell_starts_like_a_formula(rows):
    """Every text cell read back starts with the escape or with a harmless character; numbers
    passed as numbers stay as they were (a negative int is a number, not a formula)."""
    back = list(csv.reader(io.StringIO(csvout.to_bytes(None, rows).decode("utf-8-sig"), newline="")))
    assert len(back) == len(rows)
    for row, read in zip(rows, back):
        for value, cell in zip(row, read):
            if isinstance(value, int):
                assert cell == str(value)
            elif cell.startswith(csvout.FORMULA_STARTS):
                pytest.fail(f"formula cell {cell!r} from {value!r}")
            else:
                assert cell in ("", str(value), "'" + str(value))
