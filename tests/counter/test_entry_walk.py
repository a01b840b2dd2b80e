"""The walk over all 25 operations (issue 12): every item the clerk entered is on the
confirmation screen and on the reviewer's screen, dates first, before the entry is approved.

Each operation is entered through the counter's form as a clerk would, confirmed, entered as
仮登録 and opened by a supervisor. Every leaf of the payload the form produced must be shown on
both screens (hidden inputs are stripped first, so the carried payload itself does not count);
an item added to a form or a payload without a place on the screens fails here.
"""
from __future__ import annotations

import datetime as dt
import html
import json
import re

import pytest

from juki.accounts.models import Terminal
from juki.accounts.permissions import Perm
from juki.audit import gate
from juki.core.checkdigits import mod11_check_digit
from juki.core.wareki import to_wareki
from juki.register.models import Household, PendingChange, Town
from juki.counter.forms import FORMS
from juki.register.services import changes, numbers
from juki.register.services.people import Address
from tests.conftest import KOKURA_JOUNAI, _staff, days_ago, move_in_family, person_input
from tests.register.helpers import TEST, person, ref
from tests.register.test_entries import FOREIGN

from .test_views import client_for

MY_NUMBER = "123456789018"
FOREIGN_NUMBER = "23456789012" + str(mod11_check_digit("23456789012"))
RESIDENT_CODE = "7654321098" + str(mod11_check_digit("7654321098"))  # from the 転出証明書


def w(d: dt.date) -> str:
    return to_wareki(d)


@pytest.fixture
def walk_world(world, settings, monkeypatch):
    settings.JUKI_TWO_PERSON_VERIFICATION = True
    a = move_in_family(world)
    b = move_in_family(world, members=[person_input(family_name="白石", family_name_kana="シライシ",
                                                    domicile_head="白石　太郎")])
    f = changes.foreign_move_in(actor=world, event_date=days_ago(400), notified_on=days_ago(400),
                                persons=[dict(FOREIGN)], destination=changes.NEW,
                                address=Address(KOKURA_JOUNAI, "5番"), previous_address="")
    c = move_in_family(world, members=[person_input(family_name="村上", family_name_kana="ムラカミ",
                                                    domicile_head="村上　太郎")])
    c_head = c.persons[0]["id"]
    changes.move_out(actor=world, event_date=days_ago(10), notified_on=days_ago(12),
                     persons=[ref(c_head)],
                     destination_address="東京都千代田区丸の内一丁目9番")
    # A record without a 住民票コード (as records migrated from an older system can be), for the 付番:
    # the move-in is written while the stock hands out nothing.
    with monkeypatch.context() as m:
        m.setattr(numbers, "take_resident_code", lambda: ("", []))
        d = move_in_family(world, members=[person_input(family_name="未付番", family_name_kana="ミフバン",
                                                        domicile_head="未付番　太郎")]).persons[0]["id"]
    assert person(d)["resident_code"] == ""
    return {"a": a, "b": b, "f": f.persons[0]["id"], "c": c_head, "d": d}


def _dates(**extra) -> dict:
    return {"event_date": w(days_ago(2)), "notified_on": w(days_ago(1)), "notifier_name": "届出　太郎",
            "notifier_relationship": "世帯主", **extra}


def _person(prefix: str = "p0", **over) -> dict:
    base = {"family_name": "松本", "given_name": "花", "family_name_kana": "マツモト", "given_name_kana": "ハナ",
            "birth_date": "H2.5.6", "sex": "2", "relationship": "世帯主", "domicile": "福岡県北九州市小倉北区城内3番",
            "domicile_head": "松本　一郎", "resident_kind": "J"}
    base.update(over)
    return {f"{prefix}-{k}": v for k, v in base.items()}


_FOREIGN_PERSON = dict(family_name="TRAN", given_name="THI MAI", family_name_kana="チャン", given_name_kana="ティ マイ",
                       birth_date="1998-07-08", sex="2", resident_kind="F", nationality="ベトナム", alias_name="陳　舞",
                       article_30_45_category="中長期在留者", residence_status="留学", period_of_stay="2年",
                       stay_expires_on="2028-03-31", residence_card_number="CD98765432EF", domicile="", domicile_head="")
_ADDRESS = {"town_text": f"小倉北区城内（{KOKURA_JOUNAI}）", "banchi": "7番8号", "katagaki": "城内ハイツ305"}
_CORRECTION_ITEMS = {"family_name": "青木", "given_name": "太郎", "family_name_kana": "アオキ", "given_name_kana": "タロウ",
                     "birth_date": "1985-04-01", "sex": "1", "domicile": "福岡県北九州市小倉北区城内1番",
                     "domicile_head": "青木　太郎", "former_surname": "", "former_surname_kana": "", "alias_name": "",
                     "alias_name_kana": "", "nationality": "", "residence_status": "", "period_of_stay": "",
                     "stay_expires_on": "", "residence_card_number": ""}


def _cases(ww) -> list[tuple[str, dict]]:
    a = ww["a"]
    head, wife, child = (p["id"] for p in a.persons)
    hh = a.households[0]["id"]
    other = ww["b"].households[0]["number"]
    new_in = {**_dates(origin="domestic", previous_address="福岡県福岡市博多区博多駅前二丁目1番1号",
                       previous_postal_code="8120011", confirmed_new_person="on"),
              **_ADDRESS, **_person(my_number=MY_NUMBER, former_surname="山田", former_surname_kana="ヤマダ",
                                    resident_code=RESIDENT_CODE)}
    foreign_in = {**_dates(previous_address="ベトナム社会主義共和国ハノイ市"), **_ADDRESS,
                  **_person(**_FOREIGN_PERSON, my_number=FOREIGN_NUMBER, alias_name_kana="チン　マイ", kanji_name="陳氏舞")}
    return [
        ("move-in", new_in),
        ("ex-officio-entry", {k: v for k, v in new_in.items() if k != "origin"} | {"note": "職権調査による"}),
        ("foreign-move-in", foreign_in),
        ("foreign-registration", foreign_in),
        ("birth", {**_dates(), "household": hh, **_person(family_name="青木", given_name="次郎", family_name_kana="アオキ",
                                                            given_name_kana="ジロウ", birth_date=w(days_ago(2)),
                                                            sex="1", relationship="子", domicile="福岡県北九州市小倉北区城内1番",
                                                            domicile_head="青木　太郎")}),
        ("move-within-city", {**_dates(), "household": hh, "persons": [head, wife, child], **_ADDRESS,
                              "destination": "same"}),
        ("move-out", {**_dates(event_date=w(dt.date.today() + dt.timedelta(days=5))), "household": hh,
                      "persons": [child], "destination_address": "東京都港区芝公園四丁目2番8号"}),
        ("move-out-confirm", {"person": ww["c"], "notice_on": w(days_ago(1)), "moved_on": w(days_ago(9)),
                              "confirmed_address": "東京都千代田区丸の内一丁目9番1号"}),
        ("death", {**_dates(), "household": hh, "persons": [wife], "note": "死亡届（戸籍法）の送付を受けて"}),
        ("disappearance", {**_dates(), "household": hh, "persons": [child], "note": "失踪宣告の審判確定"}),
        ("ex-officio-removal", {**_dates(), "household": hh, "persons": [child], "note": "実態調査により居住の事実なし"}),
        ("household-split", {**_dates(), "household": hh, "persons": [child], f"rel_{child}": "世帯主"}),
        ("household-merge", {**_dates(), "household": hh, "persons": [head, wife, child], "target_number": other,
                             f"rel_{head}": "同居人", f"rel_{wife}": "同居人", f"rel_{child}": "同居人"}),
        ("household-change", {**_dates(), "household": hh, "persons": [child], "target_number": other,
                              f"rel_{child}": "縁故者"}),
        ("head-change", {**_dates(), "household": hh, "new_head": wife, f"rel_{wife}": "世帯主", f"rel_{head}": "夫",
                         f"rel_{child}": "子"}),
        ("ex-officio-correction", {"event_date": w(days_ago(2)), "notified_on": w(days_ago(1)), "person": head,
                                   **_CORRECTION_ITEMS, "given_name": "太朗", "note": "戸籍照合により"}),
        ("minor-correction", {"event_date": w(days_ago(2)), "person": head, **_CORRECTION_ITEMS,
                              "family_name_kana": "アヲキ", "note": "フリガナの誤り"}),
        ("erratum-correction", {"event_date": w(days_ago(2)), "person": head, **_CORRECTION_ITEMS,
                                "former_surname": "赤木", "former_surname_kana": "アカギ", "note": "旧氏の記載漏れ"}),
        ("resident-code-assign", {"event_date": w(days_ago(2)), "person": ww["d"]}),
        ("resident-code-change", {"event_date": w(days_ago(2)), "person": head}),
        ("my-number", {"event_date": w(days_ago(2)), "person": head, "my_number": MY_NUMBER, "kind": "entry"}),
        ("naturalization", {**_dates(), "person": ww["f"], "family_name": "陳", "given_name": "舞",
                            "family_name_kana": "チン", "given_name_kana": "マイ", "domicile": "福岡県北九州市小倉北区城内5番",
                            "domicile_head": "陳　舞"}),
        ("nationality-acquisition", {**_dates(), "person": ww["f"], "family_name": "陳", "given_name": "美舞",
                                     "family_name_kana": "チン", "given_name_kana": "ミマイ",
                                     "domicile": "福岡県北九州市小倉北区城内6番", "domicile_head": "陳　美舞"}),
        ("nationality-loss", {**_dates(), "person": head, "nationality": "アメリカ合衆国",
                              "article_30_45_category": "国籍喪失による経過滞在者", "family_name": "AOKI",
                              "given_name": "TARO", "family_name_kana": "アオキ", "given_name_kana": "タロウ"}),
        ("cancel", {**_dates(), "household": hh, "persons": [head, wife, child], "change_id": a.change_id,
                    "note": "二重登録のため"}),
    ]


_LABELS = {"origin": {"domestic": "国内からの転入", "abroad": "国外からの転入"},
           "kind": {"entry": "職権記載", "change_request": "変更請求", "correction": "職権修正"},
           "sex": {1: "男", 2: "女", "1": "男", "2": "女"},
           "resident_kind": {"J": "日本人住民", "F": "外国人住民"}}
_SKIP = {"id", "version", "kana_confirmed"}  # ids address the record; not items


def _expected(key: str, value, path: str) -> list[str]:
    """What the screens must show for one entered item (any of the strings)."""
    if key in _SKIP or value in (None, "", False, {}, []):
        return []
    if key == "my_number":  # never the number: that one was typed (or is recorded)
        return ["入力あり", "記載あり"]
    if key in _LABELS:
        return [_LABELS[key][value]]
    if key == "town_code":
        return [Town.objects.get(code=value).name]
    if key in ("destination", "target") and isinstance(value, dict):
        with gate.open(TEST, function="test.read", perm=Perm.PERSON_VIEW):
            return [Household.objects.get(pk=value["id"]).number]
    if key == "destination" and value == "new":
        return ["新しい世帯"]
    if key == "new_head":
        return [person(value)["name"]["given_name"]]
    if key == "confirmed_new_person":
        return ["別人"]
    if key == "abroad":
        return ["国外"]
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        d = dt.date.fromisoformat(value)
        return [w(d), f"{d.year}年{d.month}月{d.day}日"]
    return [str(value)]


def _leaves(value, path=""):
    if isinstance(value, dict):
        if set(value) >= {"id", "version"} and path.rsplit(".", 1)[-1] in ("destination", "target"):
            yield path.rsplit(".", 1)[-1], value, path
            return
        for k, v in value.items():
            if re.fullmatch(r"\d+", str(k)):  # a 続柄 map: person id → 続柄
                yield "relationship", v, f"{path}.{k}"
            else:
                yield from _leaves(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _leaves(v, f"{path}[{i}]")
    else:
        yield path.rsplit(".", 1)[-1].split("[")[0], value, path


def _visible(page: str) -> str:
    page = re.sub(r"<input[^>]*>", "", page)
    page = re.sub(r"<(script|datalist)\b.*?</\1>", "", page, flags=re.S)
    return html.unescape(page)


def _missing(payload: dict, page: str) -> list[str]:
    text = _visible(page)
    # A failure names the item, and its value unless it is a 個人番号 (never printed, even a test one).
    return [f"{path}={'(個人番号)' if key == 'my_number' else repr(value)}" for key, value, path in _leaves(payload)
            if (wanted := _expected(key, value, path)) and not any(x in text for x in wanted)]


SUPERVISOR_ONLY = {"resident-code-assign", "resident-code-change"}  # 住民票コード: the supervisor's right


def test_every_entered_item_is_on_the_confirmation_and_review_screens(walk_world, clerk, supervisor, terminal):
    desk = Terminal.objects.create(code="T-02", name="窓口2", location="小倉北区役所 市民課")
    clerks = {"clerk": client_for(clerk, terminal),
              "supervisor": client_for(supervisor, Terminal.objects.create(code="T-03", name="窓口3", location="同"))}
    s = client_for(_staff("supervisor", "super2"), desk)
    cases = _cases(walk_world)
    assert {slug.replace("-", "_") for slug, _ in cases} == {str(op) for op in FORMS} and len(cases) == 25
    problems = []
    for slug, data in cases:
        c = clerks["supervisor" if slug in SUPERVISOR_ONLY else "clerk"]
        r = c.post(f"/counter/changes/{slug}/", data)
        page = r.content.decode()
        if "確認（" not in page:
            text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page.split('<main', 1)[-1])))
            problems.append(f"{slug}: no confirmation ({r.status_code}): {text[:300]}")
            continue
        payload = json.loads(html.unescape(re.search(r'name="payload" value="([^"]*)"', page).group(1)))
        entered = html.unescape(re.search(r'name="entered" value="([^"]*)"', page).group(1))
        if miss := _missing(payload, page):
            problems.append(f"{slug}: confirmation lacks {miss}")
        # Dates first: the 異動日 row leads the 届出の内容.
        first = re.search(r'id="entry-items".*?<tr data-key="(\w+)"', page, flags=re.S)
        assert first and first.group(1) in ("event_date", "notice_on"), slug
        r = c.post(f"/counter/changes/{slug}/commit/", {"payload": json.dumps(payload), "entered": entered})
        assert r.status_code == 302 and "/counter/pending/" in r["Location"], (slug, r.content.decode()[:300])
        with gate.open(TEST, function="test.read", perm=Perm.PERSON_VIEW):
            pending = PendingChange.objects.order_by("-id").first()
        review = s.get(f"/counter/pending/{pending.id}/").content.decode()
        if miss := _missing(payload, review):
            problems.append(f"{slug}: review lacks {miss}")
        assert "本登録する" in review, slug
        # Return it, so the next operation on the same persons is not held by this one.
        r = s.post(f"/counter/pending/{pending.id}/reject/", {"comment": "確認用"})
        assert r.status_code == 302
    assert not problems, "\n".join(problems)
