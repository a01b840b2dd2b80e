"""Every change form the person/household screens offer turns its input into a payload the
service accepts: the confirmation screen appears with the change's before/after."""
from __future__ import annotations

import pytest

from tests.conftest import move_in_family, person_input

from .test_views import client_for


@pytest.fixture
def setup(world, clerk, supervisor, terminal, settings):
    settings.JUKI_TWO_PERSON_VERIFICATION = True
    family = move_in_family(world)
    other = move_in_family(world, members=[person_input(family_name="白石", family_name_kana="シライシ",
                                                        domicile_head="白石　太郎")])
    return family, other


def post(c, slug, data):
    r = c.post(f"/counter/changes/{slug}/", data)
    return r.status_code, r.content.decode()


def test_rarer_operations_reach_the_confirmation(setup, supervisor, terminal):
    family, other = setup
    head, wife, child = (p["id"] for p in family.persons)
    hh = family.households[0]["id"]
    c = client_for(supervisor, terminal)
    base = {"event_date": "R8.11.20", "notified_on": "R8.11.20"}
    cases = [
        ("head-change", {**base, "household": hh, "new_head": wife, f"rel_{wife}": "世帯主", f"rel_{head}": "夫",
                         f"rel_{child}": "子"}, "続柄"),
        ("household-change", {**base, "household": hh, "persons": [child], f"rel_{child}": "同居人",
                              "target_number": other.households[0]["number"]}, "世帯番号"),
        ("ex-officio-correction", {"event_date": "R8.11.20", "person": head, "family_name": "青木", "given_name": "太朗",
                                   "family_name_kana": "アオキ", "given_name_kana": "タロウ", "birth_date": "1985-04-01",
                                   "sex": "1", "domicile": "福岡県北九州市小倉北区城内1番", "domicile_head": "青木　太郎",
                                   "note": "戸籍照合により"}, "青木　太朗"),
        ("cancel", {**base, "household": hh, "persons": [head, wife, child], "change_id": family.change_id,
                    "note": "誤入力"}, "取消"),
        ("resident-code-change", {"event_date": "R8.11.20", "person": head}, "住民票コード"),
    ]
    for slug, data, expected in cases:
        status, body = post(c, slug, data)
        assert status == 200
        assert "確認（" in body, (slug, body[body.find('class="error"'):][:400])
        assert expected in body, slug


def test_a_refused_form_shows_the_rule_message_and_writes_nothing(setup, clerk, terminal):
    family, _ = setup
    c = client_for(clerk, terminal)
    status, body = post(c, "move-within-city", {"event_date": "R8.11.20", "household": family.households[0]["id"],
                                                "persons": [family.persons[0]["id"]], "destination": "same",
                                                "town_text": "小倉北区城内（40106001000）", "banchi": "1番1号"})
    assert status == 200 and "異動入力（転居）" in body
    assert 'class="error"' in body
