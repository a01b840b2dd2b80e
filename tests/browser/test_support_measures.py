"""支援措置 [440] in a real Chromium: the support section registers one; a clerk's search then shows
only the masked hit, while the support section sees the person, flagged."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.protection.helpers import move_in_victim

from .counter_helpers import login, ready, search

MARKER = "支援措置対象者（閲覧できません。担当課に確認してください。）"


@pytest.fixture
def victim(world):
    return move_in_victim(world)


def test_support_measure_registration_masks_the_clerks_search(page, live_url, support_user, clerk, victim, screenshot):
    login(page, live_url, support_user)
    # Registration starts from a search hit (issue 12): the person's name, birth date and address
    # are on the form, never a bare 宛名番号.
    search(page, name="ヤマダハナコ", birth_date="H2.2.3")
    page.locator("table.results tbody tr a.row-link").first.click()
    page.get_by_role("link", name="抑止・支援措置").click()
    page.get_by_role("link", name="この方の支援措置を登録する").click()
    ready(page)
    expect(page.locator("h1")).to_have_text("支援措置の登録")
    expect(page.locator("#support-person")).to_contain_text("山田　花子")
    expect(page.locator("#support-person")).to_contain_text("平成2年2月3日")
    expect(page.locator("#support-person")).to_contain_text("小倉北区城内3番3号")
    page.get_by_label("種別").select_option("dv")
    page.get_by_label("申出日").fill("R8.11.20")
    page.get_by_label("支援措置（確認済み）").check()
    page.get_by_label("支援措置の開始年月日").fill("R8.11.20")
    # The term is computed while typing: one year less a day.
    expect(page.locator("#term")).to_have_text("令和8年11月20日 から 令和9年11月19日 まで（1年）")
    page.get_by_label("相手方の氏名").fill("山田　次郎")
    page.get_by_label("相手方のフリガナ").fill("ヤマダ　ジロウ")
    page.get_by_label("相手方の生年月日").fill("S63.7.7")
    screenshot(page, "support-measure-new")
    page.get_by_role("button", name=re.compile("確認画面へ")).click()
    expect(page.locator("h1")).to_have_text("支援措置の登録（確認）")
    expect(page.locator("#support-person")).to_contain_text("山田　花子")
    expect(page.locator("#support-offender")).to_contain_text("山田　次郎")
    screenshot(page, "support-measure-confirm")
    page.get_by_role("button", name=re.compile("登録する")).click()
    expect(page.locator("h1")).to_have_text("支援措置の詳細")
    expect(page.locator("#measure-state")).to_have_text("支援措置中")
    expect(page.locator("#measure-term")).to_contain_text("令和9年11月19日")
    assert re.search(r"/protection/support/\d+/$", page.url)  # an internal id only
    screenshot(page, "support-measure-detail")

    # The support section finds the person, flagged.
    page.goto(live_url + "/counter/")
    ready(page)
    search(page, name="ヤマダハナコ", birth_date="H2.2.3")
    row = page.locator("table.results tbody tr")
    expect(row).to_have_count(1)
    expect(row.first).to_contain_text("山田　花子")
    expect(row.first.locator(".support-measure")).to_have_text("支援措置")
    screenshot(page, "support-measure-search-support")

    # A clerk sees only the marker: no name, birth date, address or link.
    page.get_by_role("button", name="ログアウト").click()
    login(page, live_url, clerk)
    search(page, name="ヤマダハナコ", birth_date="H2.2.3")
    row = page.locator("table.results tbody tr")
    expect(row).to_have_count(1)
    expect(row.first).to_have_text(MARKER)
    expect(page.locator("table.results a")).to_have_count(0)
    expect(page.locator("table.results")).not_to_contain_text("花子")
    screenshot(page, "support-measure-search-clerk")
