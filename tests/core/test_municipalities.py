"""The 本籍地 read from a 本籍 (juki.core.municipalities): every municipality of the directory is found
from its written name whatever follows it, and a place outside it gives None."""
from hypothesis import given, strategies as st

from juki.core.checkdigits import is_valid_local_government_code
from juki.core.municipalities import MUNICIPALITIES, name_of, of_domicile

CODES = sorted(MUNICIPALITIES)
REST = st.text(alphabet="一二三丁目番地号0123456789１２３　 ", max_size=12)


def test_every_code_of_the_directory_is_valid():
    assert all(is_valid_local_government_code(code) for code in CODES)


@given(st.sampled_from(CODES), REST)
def test_a_domicile_names_its_municipality_whatever_follows(code, rest):
    assert of_domicile(name_of(code) + rest) == code


def test_examples_and_places_outside_the_directory():
    assert of_domicile("福岡県北九州市小倉北区城内１番") == "401005"
    assert of_domicile("北九州市小倉北区城内1番") == "401005"  # the prefecture left out
    assert of_domicile("福岡県福岡市中央区天神一丁目8番") == "401307"
    assert of_domicile("東京都千代田区千代田1番") == "131016"
    assert of_domicile("北海道函館市") is None and of_domicile("") is None
