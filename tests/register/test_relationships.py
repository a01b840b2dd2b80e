import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from juki.core.errors import DomainError, ErrorCode
from juki.register.relationships import BASIC, Member, derive_for_new_head, validate


@pytest.mark.parametrize(
    "text, expected",
    [("世帯主", "世帯主"), ("妻", "妻"), ("妻(未届)", "妻（未届）"), ("子の妻", "子の妻"), ("子の子の子の子", "子の子の子の子"),
     ("妻の父", "妻の父"), ("縁故者", "縁故者"), ("同居人", "同居人"), (" 子 ", "子")],
)
def test_valid_relationships(text, expected):
    assert validate(text) == expected


@pytest.mark.parametrize("text", ["祖父", "おじ", "孫", "家事使用人", "準世帯主", "", "子の", "の子"])
def test_relationships_outside_the_vocabulary_are_refused(text):
    with pytest.raises(DomainError) as err:
        validate(text)
    assert err.value.code == ErrorCode.INVALID_RELATIONSHIP


def test_five_links_must_be_entered_as_enkosha():
    with pytest.raises(DomainError) as err:
        validate("子の子の子の子の子")
    assert "縁故者" in err.value.message
    assert err.value.code == ErrorCode.INVALID_RELATIONSHIP


@given(st.lists(st.sampled_from(BASIC), min_size=1, max_size=4))
def test_any_chain_of_up_to_four_basic_terms_is_valid(parts):
    assert validate("の".join(parts)) == "の".join(parts)


def _m(pid, rel, sex, year):
    return Member(pid, rel, sex, dt.date(year, 1, 1))


def test_wife_becomes_head_children_stay_children_parents_become_husbands():
    old = _m(1, "世帯主", 1, 1970)
    members = [old, _m(2, "妻", 2, 1972), _m(3, "子", 1, 2000), _m(4, "母", 2, 1945), _m(5, "同居人", 1, 1990)]
    out = derive_for_new_head(members, old, 2)
    assert out == {2: "世帯主", 1: "夫", 3: "子", 4: "夫の母", 5: "同居人"}


def test_child_becomes_head_mother_and_siblings_derived():
    old = _m(1, "世帯主", 1, 1950)
    members = [old, _m(2, "妻", 2, 1952), _m(3, "子", 1, 1975), _m(4, "子", 2, 1978), _m(5, "子", 1, 1980),
               _m(6, "子の妻", 2, 1976)]
    out = derive_for_new_head(members, old, 4)
    assert out[1] == "父" and out[2] == "母"
    assert out[3] == "兄" and out[5] == "弟"
    assert out[6] is None  # whose wife? the clerk must say


def test_unmarried_partner_stays_unregistered():
    old = _m(1, "世帯主", 2, 1980)
    out = derive_for_new_head([old, _m(2, "夫（未届）", 1, 1979)], old, 2)
    assert out[1] == "妻（未届）"
