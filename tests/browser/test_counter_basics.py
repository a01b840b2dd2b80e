"""Login, idle lock and search at the counter, in a real Chromium."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import move_in_family, person_input

from .counter_helpers import login, search


@pytest.fixture
def residents(world):
    """The 青木 family (kana アオキ) plus a 髙橋 for 異体字 folding."""
    family = move_in_family(world)
    move_in_family(world, members=[person_input(family_name="髙橋", family_name_kana="タカハシ", given_name="一",
                                                given_name_kana="ハジメ", domicile_head="髙橋　一")])
    return family


def test_login_search_by_half_width_kana_and_open_person(page, live_url, clerk, residents, screenshot):
    login(page, live_url, clerk)
    screenshot(page, "search-empty")
    search(page, name="ｱｵｷ ﾀﾛｳ", birth_date="S60.4.1")
    rows = page.locator("table.results tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("青木　太郎")
    expect(rows.first).to_contain_text("昭和60年4月1日")
    screenshot(page, "search-results")
    # The first result has the keyboard: Enter opens it.
    expect(page.locator("a.row-link").first).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("住民票の照会")
    expect(page.locator("#p-name")).to_contain_text("青木　太郎")
    # Nothing personal in the URL: only the internal id.
    assert re.search(r"/counter/persons/\d+/$", page.url)
    screenshot(page, "person")


def test_search_refused_with_one_item(page, live_url, clerk, residents):
    login(page, live_url, clerk)
    search(page, name="ｱｵｷ")
    expect(page.locator("#search-error")).to_contain_text("氏名・住所・生年月日のうち2項目以上を入力してください")
    expect(page.locator("table.results")).to_have_count(0)


def test_variant_characters_are_folded(page, live_url, clerk, residents):
    login(page, live_url, clerk)
    search(page, name="高橋", birth_date="1985-04-01")
    expect(page.locator("table.results tbody tr")).to_have_count(1)
    expect(page.locator("table.results")).to_contain_text("髙橋")


def test_idle_lock_hides_data_and_needs_the_password(page, live_url, clerk, residents, settings, screenshot):
    settings.JUKI_IDLE_LOCK_SECONDS = 2
    login(page, live_url, clerk)
    search(page, name="ｱｵｷ", birth_date="S60.4.1")
    expect(page.locator("table.results")).to_contain_text("青木")
    # No key or mouse for longer than the idle time: the screen locks by itself.
    expect(page.locator("h1")).to_have_text("画面ロック", timeout=8000)
    expect(page.locator("body")).not_to_contain_text("青木")
    screenshot(page, "lock")
    # Back to a data page without unlocking: still locked.
    page.goto(live_url + "/counter/")
    expect(page.locator("h1")).to_have_text("画面ロック")
    page.get_by_label("パスワード").fill("wrong-password-123")
    page.get_by_label("パスワード").press("Enter")
    expect(page.locator(".error")).to_contain_text("パスワードが正しくありません")
    page.get_by_label("パスワード").fill(clerk.plain_password)
    page.get_by_label("パスワード").press("Enter")
    expect(page.locator("h1")).to_have_text("住民検索")


def test_pages_with_personal_data_are_not_stored(page, live_url, clerk, residents):
    login(page, live_url, clerk)
    response = page.goto(live_url + "/counter/")
    assert "no-store" in response.headers["cache-control"]


def test_the_lock_key_returns_to_the_locked_screen_once_unlocked(page, live_url, clerk, residents, screenshot):
    """Alt+L on a person's screen, then the password: back on that screen, not on the search."""
    head = residents.persons[0]["id"]
    login(page, live_url, clerk)
    page.goto(f"{live_url}/counter/persons/{head}/")
    expect(page.locator("h1")).to_contain_text("住民票")
    page.keyboard.press("Alt+L")
    expect(page.locator("h1")).to_have_text("画面ロック")
    expect(page.locator("body")).not_to_contain_text("青木")
    page.get_by_label("パスワード").fill(clerk.plain_password)
    page.get_by_label("パスワード").press("Enter")
    page.wait_for_url(f"{live_url}/counter/persons/{head}/")
    expect(page.locator("body")).to_contain_text("青木")
