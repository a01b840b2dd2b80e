"""Names and text fields (issue 11): stored as NFC, refused with a character nobody can see or print,
a Japanese 氏・名 without a space inside, 外字 kept; the 3情報 duplicate check on what is stored."""
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from juki.register.textnorm import InvalidText, clean_text, forbidden_characters

from ..api.test_api import _person, move_in


@pytest.mark.parametrize("bad, shown", [
    ("山田\u200b", "U+200B"),  # zero-width space
    ("山\u0007田", "U+0007"),  # control (BEL)
    ("山田\u202e", "U+202E"),  # bidi override
    ("\u2066山田\u2069", "U+2066"),  # bidi isolate
    ("山田\ue000", "U+E000"),  # private use
    ("山田\ufeff", "U+FEFF"),  # BOM
    ("山\n田", "U+000A"),
])
def test_invisible_characters_are_refused_and_named(bad, shown):
    with pytest.raises(InvalidText) as exc:
        clean_text(bad, label="氏")
    assert exc.value.message.startswith("氏に、表示・印刷できない文字") and shown in exc.value.message
    assert bad not in exc.value.message


@pytest.mark.parametrize("kept", ["𠮷野", "葛\U000e0100城", "﨑山", "塚本", "髙橋", "渡邊", "ＳＭＩＴＨ"])
def test_gaiji_ivs_and_compatibility_ideographs_stay_as_they_are(kept):
    assert clean_text(kept, label="氏") == kept


def test_nfc_composes_and_surrounding_spaces_go():
    assert clean_text("しす\u3099か", label="名") == "しずか"
    assert clean_text("\u3000山田 ", label="氏") == "山田"


def test_a_space_inside_a_japanese_name_part_is_refused():
    with pytest.raises(InvalidText, match="空白は入れられません"):
        clean_text("山田　花子", label="氏", inner_space=False)
    assert clean_text("SMITH JOHN", label="氏") == "SMITH JOHN"  # a foreign resident's name may have one


@given(st.text(max_size=20))
def test_cleaning_is_idempotent_and_never_lets_a_forbidden_character_through(text):
    try:
        once = clean_text(text, label="氏")
    except InvalidText:
        assert forbidden_characters(unicodedata.normalize("NFC", text))
        return
    assert clean_text(once, label="氏") == once
    assert forbidden_characters(once) == []


# --- through the API: nothing written, a precise code at the field ----------------------------------------


@pytest.fixture(autouse=True)
def _direct_changes(settings):
    settings.JUKI_TWO_PERSON_VERIFICATION = False


@pytest.mark.parametrize("field, value", [
    ("family_name", "青木\u200b"), ("given_name", "太\u202e郎"), ("domicile", "福岡県\u0007北九州市"),
    ("family_name", "青木　太郎"),
])
def test_a_move_in_with_such_a_name_is_refused_at_the_field(api, world, field, value):
    r = move_in(api, members=[_person(**{field: value})])
    assert r.status_code == 400, r.content
    body = r.json()
    assert body["code"] == "invalid_characters" and body["field"] == field
    assert value not in r.content.decode()
    assert api.post("/api/v1/persons/search", {"name": "アオキ", "birth_date": "1985-04-01"},
                    format="json").json()["rows"] == []


def test_the_duplicate_check_compares_what_is_stored(api, world):
    first = move_in(api, members=[_person(given_name="しずか", given_name_kana="シズカ")])
    assert first.status_code == 201, first.content
    again = move_in(api, members=[_person(given_name="しす\u3099か", given_name_kana="シズカ")])
    assert again.status_code in (400, 409), again.content
    assert again.json()["code"] == "possible_returning_resident"
