"""The 中間サーバー's screens in a real Chromium, against the real platform and network servers: the
支援措置担当 opens the review queue, checks the person's 住民票, releases one held inquiry and declines
another; the records show both with their name; the 連携運用担当 reconciles the 副本."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from ..conftest import _staff
from ..intermediary.conftest import admin, applications, network, platform_db, tenant  # noqa: F401 (fixtures)
from ..intermediary.test_inquiries import _ask, _open
from ..intermediary.test_screens import _tie, city  # noqa: F401 (a fixture)
from .counter_helpers import login, ready


@pytest.fixture(autouse=True)
def in_force(transactional_db, applications):
    """The demo's applications, in the live server's committed database."""


def test_the_support_staff_releases_one_held_inquiry_and_declines_another(page, live_url, city, network, support_user,
                                                                         terminal, screenshot):
    mother, child = city["victim"]["mother"], city["victim"]["child"]
    first = _ask(network, "req-mhlw", _tie(network, mother, 21))[1]
    second = _ask(network, "req-401307", _tie(network, child, 22), provision=27, affair="027-1",
                  items=["head_name", "relationship"])[1]
    assert first["state"] == second["state"] == "held"

    login(page, live_url, support_user, terminal.code)
    page.locator("header nav").get_by_role("link", name=re.compile("中間サーバー")).click()
    ready(page)
    expect(page.locator("#inq-h")).to_contain_text("確認待ち 2件")
    screenshot(page, "intermediary-overview")
    page.get_by_role("link", name=re.compile("確認待ちの照会")).click()
    ready(page)
    rows = page.locator("tr[id^=held-]")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("厚生労働大臣（日本年金機構）")
    expect(rows.nth(0)).to_contain_text("別表第二 48の項")
    expect(rows.nth(1)).to_contain_text("福岡市長")
    expect(rows.nth(1)).to_contain_text("地方税の賦課徴収に関する事務")
    expect(rows.nth(0).get_by_role("link", name="住民票を確認する")).to_have_attribute(
        "href", f"/counter/persons/{mother}/")
    screenshot(page, "intermediary-review-queue")

    page.once("dialog", lambda dialog: dialog.accept())
    rows.nth(0).get_by_role("button", name="提供する").click()
    ready(page)
    expect(page.locator("tr[id^=held-]")).to_have_count(1)
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f"#held-{second['inquiry_id']}").get_by_role("button", name="提供しない").click()
    ready(page)
    expect(page.get_by_text("確認待ちの照会はありません。")).to_be_visible()

    released = network.net("req-mhlw").call("GET", f"/inquiries/401005/{first['inquiry_id']}")[1]
    assert released["state"] == "released" and _open(network, "req-mhlw", released) == {
        "is_head": True, "head_name": "", "relationship": ""}
    declined = network.net("req-401307").call("GET", f"/inquiries/401005/{second['inquiry_id']}")[1]
    assert (declined["state"], declined["answer"]) == ("declined", None)

    page.get_by_role("link", name=re.compile("情報提供等記録")).click()
    ready(page)
    page.get_by_role("button", name="表示する").click()
    ready(page)
    table = page.locator("table.list")
    expect(table).to_contain_text("提供（職員の確認後）")
    expect(table).to_contain_text("不提供（職員の確認後）")
    expect(table).to_contain_text(f"確認：{support_user.username}")
    screenshot(page, "intermediary-records")


def test_the_operator_reconciles_the_replica(page, live_url, city, network, terminal, admin, screenshot):
    operator = _staff("linkage_operator", "ope1")
    login(page, live_url, operator, terminal.code, lands_on="庁内連携")
    page.goto(live_url + "/intermediary/")
    ready(page)
    expect(page.locator("#replica-h")).to_be_visible()
    admin.execute("UPDATE replica SET relationship = '孫' WHERE relationship = '子' AND tenant = '401005'")
    page.get_by_role("button", name="住民記録と照合する").click()
    ready(page)
    expect(page.locator(".reconciled")).to_contain_text("相違が 2件あります")  # the two children
    expect(page.locator(".reconciled")).to_contain_text("世帯主との続柄が異なります")
    screenshot(page, "intermediary-reconciled")
