"""Recording changes at the counter, in a real Chromium: the flows a ward office does daily."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from juki.register.models import PersonVersion
from tests.conftest import days_ago, move_in_family

from .counter_helpers import login
from tests.helpers import TEST_ACTOR

TOWN_OPTION = "小倉北区城内（40106001000）"
UOMACHI_OPTION = "小倉北区魚町一丁目（40106002000）"


def fill_dates(page: Page, event: str = "R8.11.20") -> None:
    page.get_by_label("異動日").fill(event)
    if page.get_by_label("届出日").count():
        page.get_by_label("届出日").fill(event)


def to_confirm_and_commit(page: Page, screenshot=None, name: str = "") -> None:
    page.get_by_role("button", name=re.compile("確認画面へ")).click()
    expect(page.locator("h1")).to_contain_text("確認")
    if screenshot:
        screenshot(page, f"confirm-{name}")
    page.get_by_role("button", name=re.compile("登録する")).click()
    expect(page.locator("#done-message")).to_contain_text("登録しました")


def person_id_of(family_name: str, given_name: str) -> int:
    from juki.audit import gate
    from juki.accounts.permissions import Perm

    with gate.open(TEST_ACTOR, function="test", perm=Perm.PERSON_VIEW):
        return PersonVersion.objects.filter(family_name=family_name, given_name=given_name).values_list(
            "person_id", flat=True).first()


def open_person(page: Page, live_url: str, pid: int) -> None:
    page.goto(f"{live_url}/counter/persons/{pid}/")
    expect(page.locator("h1")).to_have_text("住民票の照会")


@pytest.fixture
def one_step(settings):
    """Two-person verification off: these tests are about the forms, not the review."""
    settings.JUKI_TWO_PERSON_VERIFICATION = False


def test_household_life_cycle(page, live_url, clerk, world, one_step, screenshot):
    login(page, live_url, clerk)

    # 転入 of a new household: 世帯主 and 妻.
    page.keyboard.press("Alt+i")
    expect(page.locator("h1")).to_contain_text("転入")
    fill_dates(page)
    page.get_by_label("町字（カナ・漢字で候補）").fill(TOWN_OPTION)
    page.get_by_label("番地", exact=True).fill("2番3号")
    page.get_by_label("転入前住所", exact=True).fill("福岡県福岡市中央区天神一丁目1番1号")
    for n, (fam, given, fk, gk, birth, sex, rel) in enumerate([
        ("北九", "太郎", "ｷﾀｷｭｳ", "ﾀﾛｳ", "S55.5.5", "男", "世帯主"),
        ("北九", "花子", "キタキュウ", "ハナコ", "S57.7.7", "女", "妻"),
    ], start=1):
        box = page.locator(f"#person-{n}")
        box.get_by_label("氏", exact=True).fill(fam)
        box.get_by_label("名", exact=True).fill(given)
        box.get_by_label("氏フリガナ", exact=True).fill(fk)
        box.get_by_label("名フリガナ").fill(gk)
        box.get_by_label("生年月日").fill(birth)
        box.get_by_label("性別").select_option(label=sex)
        box.get_by_label("続柄").fill(rel)
        box.get_by_label("本籍").fill("福岡県北九州市小倉北区城内1番")
        box.get_by_label("筆頭者").fill("北九　太郎")
    # The 転出証明書's 住民票コード, typed as printed (full-width, spaced).
    page.locator("#person-1").get_by_label("住民票コード").fill("１２３４ ５６７８ ９０３")
    screenshot(page, "change-move-in")
    to_confirm_and_commit(page, screenshot, "move-in")
    screenshot(page, "change-done")
    head = person_id_of("北九", "太郎")
    assert head
    from juki.register import selectors

    assert selectors.person_get(actor=TEST_ACTOR, person_id=head)["resident_code"] == "12345678903"

    # 転居 of the whole household to 魚町.
    open_person(page, live_url, head)
    page.get_by_role("link", name="転居", exact=True).click()
    expect(page.locator("h1")).to_contain_text("転居")
    for box in page.locator("input[name=persons]").all():
        box.check()
    fill_dates(page)
    page.get_by_label("町字（カナ・漢字で候補）").fill(UOMACHI_OPTION)
    page.get_by_label("番地", exact=True).fill("5番1号")
    screenshot(page, "change-move-within-city")
    to_confirm_and_commit(page, screenshot, "move-within-city")
    expect(page.locator("table.list")).to_contain_text("魚町一丁目5番1号")

    # 出生 into it.
    open_person(page, live_url, head)
    page.get_by_role("link", name="出生", exact=True).click()
    fill_dates(page)
    box = page.locator("#person-1")
    box.get_by_label("氏", exact=True).fill("北九")
    box.get_by_label("名", exact=True).fill("一郎")
    box.get_by_label("氏フリガナ", exact=True).fill("キタキュウ")
    box.get_by_label("名フリガナ").fill("イチロウ")
    box.get_by_label("生年月日").fill("R8.11.20")
    box.get_by_label("性別").select_option(label="男")
    box.get_by_label("続柄").fill("子")
    box.get_by_label("本籍").fill("福岡県北九州市小倉北区城内1番")
    box.get_by_label("筆頭者").fill("北九　太郎")
    to_confirm_and_commit(page, screenshot, "birth")
    child = person_id_of("北九", "一郎")
    assert child

    # 世帯分離: the wife and the child form a new household; the wife becomes its 世帯主.
    wife = person_id_of("北九", "花子")
    open_person(page, live_url, wife)
    page.get_by_role("link", name="世帯分離", exact=True).click()
    page.locator(f"#mv-{head}").uncheck()
    page.locator(f"#mv-{wife}").check()
    page.locator(f"#mv-{child}").check()
    page.locator(f"input[name=rel_{wife}]").fill("世帯主")
    page.locator(f"input[name=rel_{child}]").fill("子")
    fill_dates(page)
    to_confirm_and_commit(page, screenshot, "split")

    # 死亡 of the 世帯主 of the new household: the child remains, with no 世帯主.
    open_person(page, live_url, wife)
    page.get_by_role("link", name="死亡", exact=True).click()
    page.locator(f"#mv-{child}").uncheck()
    fill_dates(page)
    page.get_by_role("button", name=re.compile("確認画面へ")).click()
    expect(page.locator("p.warning")).to_contain_text("世帯主が不在の世帯があります")
    page.get_by_role("button", name=re.compile("登録する")).click()
    expect(page.locator("#done-message")).to_contain_text("死亡")
    open_person(page, live_url, child)
    expect(page.locator("#hh-h")).to_contain_text("世帯主変更の届出が必要です")
    screenshot(page, "person-head-absent")


def test_as_of_view_shows_the_household_before_a_move(page, live_url, clerk, world, one_step, screenshot):
    from juki.register.services import changes
    from juki.register.services.people import Address
    from juki.register.services.writer import PersonRef

    family = move_in_family(world, event_date=days_ago(400))
    head = family.persons[0]
    changes.move_within_city(actor=world, event_date=days_ago(10), notified_on=days_ago(10),
                             persons=[PersonRef(p["id"], p["version"]) for p in family.persons],
                             address=Address("40106002000", "9番9号"))
    login(page, live_url, clerk)
    open_person(page, live_url, head["id"])
    expect(page.locator(".person")).to_contain_text("魚町一丁目9番9号")
    as_of = days_ago(100)
    page.get_by_label("基準日").fill(as_of.isoformat())
    page.get_by_label("基準日").press("Enter")
    expect(page.locator("#as-of-banner")).to_contain_text("現在の記録を表示しています")
    expect(page.locator(".person")).to_contain_text("城内1番1号")
    expect(page.locator(".person")).not_to_contain_text("魚町")
    # No change entry from a past state.
    expect(page.get_by_role("link", name="転居", exact=True)).to_have_count(0)
    screenshot(page, "person-as-of")
