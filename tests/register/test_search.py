"""Resident search [340] (services.search.person_search): keys, C15, ranking, identifiers and the log.

Every person is registered through the change services; the SearchKey index is whatever the
writer wrote for those changes.
"""
import datetime as dt
import json
import re

import jaconv
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from juki.audit.models import AccessLog
from juki.core.errors import DomainError
from juki.register.services import changes
from juki.register.services.people import Address
from juki.register.services.search import MAX_ROWS, Criteria, person_search
from juki.register.services.seed import resident_code_for
from juki.register.textnorm import VARIANTS

from ..conftest import KOKURA_JOUNAI, days_ago, person_input
from .helpers import person, ref

UOMACHI = "40106002000"
BIRTH = dt.date(1980, 5, 6)
HYPO = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def enter(actor, family, given, fkana, gkana, *, birth=BIRTH, sex=1, town=KOKURA_JOUNAI, banchi="1番1号", katagaki="",
          **more):
    """転入 of one person as head of a new household; returns the person's id."""
    result = changes.move_in(
        actor=actor, event_date=days_ago(20), notified_on=days_ago(20), origin="domestic",
        persons=[person_input(family_name=family, given_name=given, family_name_kana=fkana, given_name_kana=gkana,
                              birth_date=birth, sex=sex, domicile_head=f"{family}　{given}", **more)],
        destination=changes.NEW, address=Address(town, banchi, katagaki), previous_address="福岡県福岡市博多区博多駅前二丁目1番1号",
        confirmed_new_person=True,
    )
    return result.persons[0]["id"]


def search(actor, **criteria):
    return person_search(actor=actor, criteria=Criteria(**criteria))


def found(actor, **criteria) -> list[int]:
    return [r["person_id"] for r in search(actor, **criteria).rows]


def refused(actor, **criteria) -> str:
    with pytest.raises(DomainError) as exc:
        search(actor, **criteria)
    return exc.value.code


# --- kana, width, spaces and 異体字 (hypothesis) ------------------------------------------------

PEOPLE = [
    # family, given, family kana, given kana
    ("髙橋", "一郎", "タカハシ", "イチロウ"),
    ("渡邊", "祐子", "ワタナベ", "ユウコ"),
    ("齋藤", "翔太", "サイトウ", "ショウタ"),
    ("山﨑", "美穂", "ヤマザキ", "ミホ"),
]


@pytest.fixture
def people(world):
    return [enter(world, *p) for p in PEOPLE]


def _kana_form(c: str, how: int) -> str:
    return [c, jaconv.kata2hira(c), jaconv.z2h(c, kana=True, digit=False, ascii=False)][how]


_INVERSE: dict[str, list[str]] = {}
for _variant, _standard in VARIANTS.items():
    _INVERSE.setdefault(_standard, []).append(_variant)


def _spellings(c: str) -> list[str]:
    """A character and every 異体字 folded to the same standard form."""
    standard = VARIANTS.get(c, c)
    return [standard, *_INVERSE.get(standard, [])]


spaces = st.sampled_from(["", " ", "　", "  "])


@HYPO
@given(which=st.integers(0, len(PEOPLE) - 1), forms=st.lists(st.integers(0, 2), min_size=12, max_size=12),
       cut=st.integers(1, 12), gap=spaces, given_only=st.booleans())
def test_kana_in_any_width_or_script_finds_the_person(people, world, which, forms, cut, gap, given_only):
    _, _, fkana, gkana = PEOPLE[which]
    full = gkana if given_only else fkana + "\0" + gkana
    typed = "".join(gap if c == "\0" else _kana_form(c, forms[i % len(forms)]) for i, c in enumerate(full[:cut + 1]))
    if not typed.strip():
        return
    assert people[which] in found(world, name=typed, birth_date=BIRTH)
    assert people[which] in found(world, kana=typed, birth_date=BIRTH)


@HYPO
@given(which=st.integers(0, len(PEOPLE) - 1), picks=st.lists(st.integers(0, 5), min_size=4, max_size=4), gap=spaces,
       cut=st.integers(1, 4))
def test_kanji_with_or_without_space_and_in_any_variant_finds_the_person(people, world, which, picks, gap, cut):
    family, given, *_ = PEOPLE[which]

    def spelt(text):
        return "".join(_spellings(c)[picks[i] % len(_spellings(c))] for i, c in enumerate(text))

    typed = spelt(family) + gap + spelt(given)
    assert people[which] in found(world, name=typed, birth_date=BIRTH)
    assert people[which] in found(world, name=spelt(family)[:cut], birth_date=BIRTH)  # prefix of the name


def test_variant_kanji_either_way(world):
    stored_variant = enter(world, "髙橋", "次郎", "タカハシ", "ジロウ")
    stored_standard = enter(world, "高橋", "三郎", "タカハシ", "サブロウ")
    for typed in ("高橋", "髙橋"):
        assert sorted(found(world, name=typed, birth_date=BIRTH)) == sorted([stored_variant, stored_standard])
    assert found(world, name="高橋次郎", birth_date=BIRTH) == [stored_variant]
    assert found(world, name="髙橋　三郎", birth_date=BIRTH) == [stored_standard]
    assert person(stored_variant)["name"]["family_name"] == "髙橋"  # the register keeps the 字形 entered


def test_given_name_alone_with_birth_date(people, world):
    assert found(world, name="翔太", birth_date=BIRTH) == [people[2]]
    assert found(world, name="しょうた", birth_date=BIRTH) == [people[2]]
    assert found(world, name="翔太", birth_date=dt.date(1980, 5, 7)) == []


def test_sex_narrows_but_does_not_count(people, world):
    assert found(world, name="渡辺", birth_date=BIRTH, sex=1) == [people[1]]
    assert found(world, name="渡辺", birth_date=BIRTH, sex=2) == []


# --- past names and addresses, removed persons ------------------------------------------------


def test_past_address_after_a_move_is_found_and_flagged(world):
    pid = enter(world, "青木", "太郎", "アオキ", "タロウ", katagaki="サンハイツ101")
    changes.move_within_city(actor=world, event_date=days_ago(1), notified_on=days_ago(1), persons=[ref(pid)],
                             address=Address(UOMACHI, "2番3号"))
    old = search(world, town_code=KOKURA_JOUNAI, birth_date=BIRTH)
    assert [(r["person_id"], r["matched_past"]) for r in old.rows] == [(pid, True)]
    assert "魚町" in old.rows[0]["address"]  # the row shows where the person lives now
    assert [(r["person_id"], r["matched_past"]) for r in search(world, town_code=UOMACHI, birth_date=BIRTH).rows] == [(pid, False)]
    assert found(world, katagaki="ｻﾝﾊｲﾂ", birth_date=BIRTH) == [pid]  # 方書 counts as 住所, width folded
    assert found(world, town_code=UOMACHI, banchi="２番", birth_date=BIRTH) == [pid]


def test_past_name_after_a_correction_is_found_and_flagged(world):
    pid = enter(world, "青木", "太郎", "アオキ", "タロウ")
    changes.ex_officio_correction(actor=world, event_date=days_ago(0), person=ref(pid),
                                  changes={"family_name": "青山", "family_name_kana": "アオヤマ"})
    rows = search(world, name="青木太郎", birth_date=BIRTH).rows
    assert [(r["person_id"], r["matched_past"], r["name"]) for r in rows] == [(pid, True, "青山　太郎")]
    assert search(world, kana="アオキ", birth_date=BIRTH).rows[0]["matched_past"] is True
    assert search(world, name="青山", birth_date=BIRTH).rows[0]["matched_past"] is False


def test_removed_persons_only_with_include_removed(world):
    pid = enter(world, "青木", "太郎", "アオキ", "タロウ")
    changes.death(actor=world, event_date=days_ago(0), notified_on=days_ago(0), persons=[ref(pid)])
    empty = search(world, name="青木", birth_date=BIRTH)
    assert empty.rows == [] and empty.message == "該当する方はいません。"
    rows = search(world, name="青木", birth_date=BIRTH, include_removed=True).rows
    assert [(r["person_id"], r["status"], r["status_label"]) for r in rows] == [(pid, "removed", "消除")]
    atena = rows[0]["atena_number"]
    assert found(world, atena_number=atena) == []
    assert found(world, atena_number=atena, include_removed=True) == [pid]


# --- identifiers --------------------------------------------------------------------------------

MY_NUMBER = "123456789018"


def _last_search_log() -> AccessLog:
    return AccessLog.objects.filter(function="person.search").latest("id")


def test_identifiers_find_exactly_one_person_with_one_item(world, sup_actor):
    pid = enter(world, "青木", "太郎", "アオキ", "タロウ")
    other = enter(world, "佐藤", "花子", "サトウ", "ハナコ", sex=2)
    changes.my_number_record(actor=world, event_date=days_ago(0), person=ref(pid), my_number=MY_NUMBER, kind="entry")
    view = person(pid)
    assert found(world, atena_number=view["atena_number"]) == [pid]
    assert found(world, household_number=view["household_number"]) == [pid]
    assert found(world, resident_code=view["resident_code"]) == [pid]
    assert found(sup_actor, my_number=MY_NUMBER) == [pid]
    assert found(sup_actor, my_number="1234 5678 9018") == [pid]
    assert found(world, atena_number=view["atena_number"], household_number=person(other)["household_number"]) == []
    assert found(world, atena_number="999999999") == []


def test_numbers_are_found_as_typed_full_width_spaced_or_without_leading_zeros(world, sup_actor):
    """Issue 12: one normalisation for every number typed at the counter (glossary)."""
    import jaconv

    pid = enter(world, "青木", "太郎", "アオキ", "タロウ")
    view = person(pid)
    atena = view["atena_number"]
    assert found(world, atena_number=jaconv.h2z(atena, digit=True)) == [pid]  # ０００…
    assert found(world, atena_number=atena.lstrip("0")) == [pid]  # 169862 for 0000169862
    assert found(world, household_number=jaconv.h2z(view["household_number"].lstrip("0"), digit=True)) == [pid]
    code = view["resident_code"]
    assert found(world, resident_code=f"{code[:4]} {code[4:8]}-{code[8:]}") == [pid]


def test_a_my_number_search_is_never_logged_in_plain(world, sup_actor):
    pid = enter(world, "青木", "太郎", "アオキ", "タロウ")
    changes.my_number_record(actor=world, event_date=days_ago(0), person=ref(pid), my_number=MY_NUMBER, kind="entry")
    assert found(sup_actor, my_number=MY_NUMBER) == [pid]
    log = _last_search_log()
    assert log.criteria == {"my_number": "***"} and log.outcome == "ok"
    assert MY_NUMBER not in json.dumps(log.criteria)
    with pytest.raises(DomainError) as exc:
        search(sup_actor, my_number="123456789012")  # wrong check digit
    assert exc.value.code == "invalid_my_number" and "123456789012" not in exc.value.message
    log = _last_search_log()
    assert log.outcome == "invalid_my_number" and log.criteria == {"my_number": "***"}
    assert not re.search(r"\d{12}", json.dumps(list(AccessLog.objects.values_list("criteria", flat=True))))


def test_residence_card_number(world):
    result = changes.foreign_registration(
        actor=world, event_date=days_ago(0), notified_on=days_ago(0), origin="abroad", destination=changes.NEW,
        address=Address(UOMACHI, "5番"), previous_address="",
        persons=[{"family_name": "LEE", "given_name": "ANNA", "birth_date": dt.date(1992, 1, 1), "sex": 2,
                  "relationship": "世帯主", "resident_kind": "F", "nationality": "韓国",
                  "article_30_45_category": "特別永住者", "residence_card_number": "SP1234567890"}])
    pid = result.persons[0]["id"]
    assert found(world, residence_card_number="sp1234567890") == [pid]
    assert found(world, name="lee anna", birth_date=dt.date(1992, 1, 1)) == [pid]  # alphabet: case and space folded


# --- C15 ------------------------------------------------------------------------------------------


def test_c15_two_items_other_than_sex(people, world):
    assert refused(world) == "search_criteria"
    assert refused(world, sex=1) == "search_criteria"
    assert refused(world, name="髙橋") == "search_criteria"
    assert refused(world, kana="タカハシ") == "search_criteria"
    assert refused(world, name="髙橋", sex=1) == "search_criteria"
    assert refused(world, name="髙橋", kana="タカハシ") == "search_criteria"  # both are 氏名: one item
    assert refused(world, birth_date=BIRTH, sex=1) == "search_criteria"
    assert refused(world, town_code=KOKURA_JOUNAI, ward_code="401064") == "search_criteria"
    assert refused(world, name="・", birth_date=BIRTH) == "search_criteria"  # nothing left to search by
    assert refused(world, kana="山田", birth_date=BIRTH) == "search_criteria"  # フリガナ in kanji
    assert refused(world, town_code="99999999999", birth_date=BIRTH) == "search_criteria"
    assert people[0] in found(world, name="髙橋", birth_date=BIRTH)
    assert set(found(world, town_code=KOKURA_JOUNAI, birth_date=BIRTH)) == set(people)
    assert people[0] in found(world, name="髙橋", town_code=KOKURA_JOUNAI)
    refusals = AccessLog.objects.filter(function="person.search", outcome="search_criteria")
    assert refusals.count() == 11  # refused searches are logged too


@HYPO
@given(name=st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=6), sex=st.none() | st.sampled_from([1, 2]))
def test_c15_no_single_item_ever_passes(world, name, sex):
    with pytest.raises(DomainError) as exc:
        search(world, name=name, sex=sex)
    assert exc.value.code == "search_criteria"


# --- ranking and too many ----------------------------------------------------------------------


def test_exact_before_prefix(world):
    longer = enter(world, "高橋", "一郎", "タカハシ", "イチロウ")  # sorts first by kana
    exact = enter(world, "高橋", "一", "タカハシ", "ハジメ")
    assert found(world, name="高橋一", birth_date=BIRTH) == [exact, longer]
    assert found(world, name="高橋", birth_date=BIRTH) == [longer, exact]  # both prefix: by kana
    assert found(world, kana="たかはしはじめ", birth_date=BIRTH) == [exact]


def test_current_before_past_only(world):
    past = enter(world, "山田", "花子", "ヤマダ", "ハナエ", sex=2)  # sorts first by kana
    now = enter(world, "山田", "花子", "ヤマダ", "ハナコ", sex=2)
    changes.ex_officio_correction(actor=world, event_date=days_ago(0), person=ref(past), changes={"given_name": "花江"})
    rows = search(world, name="山田花子", birth_date=BIRTH).rows
    assert [(r["person_id"], r["matched_past"]) for r in rows] == [(now, False), (past, True)]


def test_more_than_fifty_is_too_many_and_shows_fifty(world):
    members = [person_input(family_name="大塚", given_name=f"太郎{i:02d}", family_name_kana="オオツカ",
                            given_name_kana="タロウ", birth_date=BIRTH, relationship="世帯主" if i == 0 else "同居人",
                            resident_code=resident_code_for(7_000_000 + i, 7))
               for i in range(MAX_ROWS + 1)]
    changes.move_in(actor=world, event_date=days_ago(5), notified_on=days_ago(5), origin="domestic", persons=members,
                    destination=changes.NEW, address=Address(KOKURA_JOUNAI, "3番"), previous_address="不明",
                    confirmed_new_person=True)
    result = search(world, name="大塚", birth_date=BIRTH)
    assert result.too_many is True and len(result.rows) == MAX_ROWS == 50
    assert "50件を超えました" in result.message
    log = _last_search_log()
    assert log.person_count == 50
    assert sorted(log.subjects.values_list("person_id", flat=True)) == sorted(r["person_id"] for r in result.rows)
    exact = search(world, name="大塚太郎07", birth_date=BIRTH)
    assert len(exact.rows) == 1 and not exact.too_many and exact.message == ""


# --- the access log ---------------------------------------------------------------------------


def test_every_search_writes_one_log_row_with_criteria_and_subjects(people, world, clerk):
    before = AccessLog.objects.filter(function="person.search").count()
    result = search(world, name=" ﾀｶﾊｼ ", birth_date=BIRTH, sex=1, include_removed=True)
    logs = AccessLog.objects.filter(function="person.search")
    assert logs.count() == before + 1
    log = logs.latest("id")
    assert log.user == clerk and log.outcome == "ok"
    assert log.criteria == {"name": "ﾀｶﾊｼ", "birth_date": "1980-05-06", "sex": 1, "include_removed": True}
    ids = [r["person_id"] for r in result.rows]
    assert ids == [people[0]]
    assert list(log.subjects.values_list("person_id", flat=True)) == ids and log.person_count == 1
    search(world, name="存在しない", birth_date=BIRTH)
    empty = logs.latest("id")
    assert logs.count() == before + 2 and empty.outcome == "empty" and empty.subjects.count() == 0


def test_search_needs_the_right(world, auditor, terminal):
    from juki.audit.gate import Actor

    with pytest.raises(DomainError) as exc:
        search(Actor(user=auditor, terminal=terminal), name="髙橋", birth_date=BIRTH)
    assert exc.value.code == "permission_denied"
    denied = AccessLog.objects.get(user=auditor, function="person.search")
    assert denied.outcome == "denied" and denied.criteria["name"] == "髙橋"


# --- found while writing these tests (fixed in the service) ---------------------------------------


def test_household_number_lists_the_current_members_only(world):
    from .helpers import href

    pid = enter(world, "青木", "太郎", "アオキ", "タロウ")
    child = changes.birth(actor=world, event_date=days_ago(0), notified_on=days_ago(0),
                          destination=href(person(pid)["household_id"]),
                          child={"family_name": "青木", "given_name": "次郎", "sex": 1, "relationship": "子"}).persons[0]["id"]
    number = person(pid)["household_number"]
    changes.household_split(actor=world, event_date=days_ago(0), notified_on=days_ago(0), persons=[ref(child)],
                            relationships_in_new={child: "世帯主"})
    assert found(world, household_number=number) == [pid]


def test_a_my_number_search_is_logged_as_a_my_number_access(world, sup_actor):
    pid = enter(world, "青木", "太郎", "アオキ", "タロウ")
    changes.my_number_record(actor=world, event_date=days_ago(0), person=ref(pid), my_number=MY_NUMBER, kind="entry")
    assert found(sup_actor, my_number=MY_NUMBER) == [pid]
    assert _last_search_log().my_number_accessed is True


def test_a_user_who_may_not_see_my_numbers_cannot_search_by_one(world):
    """Issue 11: a 個人番号 is no way in for a user without the right to see 個人番号 (a clerk, 照会のみ);
    the refusal is logged as a use of the number, with the number masked."""
    pid = enter(world, "青木", "太郎", "アオキ", "タロウ")
    changes.my_number_record(actor=world, event_date=days_ago(0), person=ref(pid), my_number=MY_NUMBER, kind="entry")
    with pytest.raises(DomainError) as exc:
        search(world, my_number=MY_NUMBER)
    assert exc.value.code == "permission_denied" and "個人番号で検索する権限" in exc.value.message
    log = _last_search_log()
    assert log.outcome == "permission_denied" and log.criteria == {"my_number": "***"} and log.my_number_accessed
