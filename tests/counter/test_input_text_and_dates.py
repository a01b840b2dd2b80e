"""What the counter's forms do with what a clerk types (issue 11): impossible 和暦 dates and
names with characters that cannot be seen or printed are refused, with the reason."""
from __future__ import annotations

import pytest

from tests.conftest import move_in_family

from .test_views import client_for


@pytest.fixture
def family(world, settings):
    settings.JUKI_TWO_PERSON_VERIFICATION = True
    return move_in_family(world)


def post(c, slug, data):
    r = c.post(f"/counter/changes/{slug}/", data)
    return r.status_code, r.content.decode()


@pytest.mark.parametrize("typed, message", [
    ("S64.1.8", "昭和64年1月8日は存在しない日付です（平成元年1月8日です）"),
    ("R1.4.30", "令和元年4月30日は存在しない日付です（平成31年4月30日です）"),
    ("T0.1.1", "大正0年はありません"),
])
def test_an_impossible_wareki_date_is_refused_at_the_field(family, clerk, terminal, typed, message):
    c = client_for(clerk, terminal)
    status, body = post(c, "move-within-city", {
        "event_date": typed, "household": family.households[0]["id"], "persons": [family.persons[0]["id"]],
        "destination": "same", "town_text": "小倉北区城内（40106001000）", "banchi": "2番2号"})
    assert status == 200 and "確認（" not in body
    assert message in body


def test_an_impossible_as_of_date_is_refused_beside_the_field(family, clerk, terminal):
    """Issue 12: a 基準日 that cannot be used is said beside the field, on the same screen (no
    separate error page); the record is shown as of today."""
    c = client_for(clerk, terminal)
    url = f"/counter/persons/{family.persons[0]['id']}/"
    cases = {"H1.1.7": "平成元年1月7日は存在しない日付です（昭和64年1月7日です）",
             "H32.1.1": "平成32年1月1日は存在しない日付です（令和2年1月1日です）",
             "3000-01-01": "基準日には本日以前の日付を入力してください。",  # would read 令和982年
             "S50.1.1": "昭和50年1月1日現在、この方の記録はありません（住民となる前の日付です）。"}
    for typed, message in cases.items():
        r = c.get(url, {"as_of": typed})
        body = r.content.decode()
        assert r.status_code == 200, typed
        assert 'id="as-of-error"' in body and message in body, typed
        assert "住民票の照会" in body and 'id="as-of-banner"' not in body, typed


def test_a_name_with_an_invisible_character_is_refused_with_the_reason(family, supervisor, terminal):
    """Issue 11: a zero-width space typed into a name is refused before the confirmation, with the reason."""
    c = client_for(supervisor, terminal)
    status, body = post(c, "ex-officio-correction", {
        "event_date": "R8.11.20", "person": family.persons[0]["id"], "family_name": "青木", "given_name": "太\u200b朗",
        "family_name_kana": "アオキ", "given_name_kana": "タロウ", "birth_date": "1985-04-01", "sex": "1",
        "domicile": "福岡県北九州市小倉北区城内1番", "domicile_head": "青木　太郎", "note": "戸籍照合により"})
    assert status == 200 and "確認（" not in body
    assert "名に、表示・印刷できない文字" in body and "U+200B" in body
