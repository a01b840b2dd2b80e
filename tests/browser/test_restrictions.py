"""抑止 [410] in a real Chromium: a 係長 sets one on the person's 抑止・支援措置 screen, releases it for
a while, then for good; the set and the release go out to the other systems, the 一時解除 does not."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from juki.audit.gate import Actor
from juki.protection import linkage
from tests.protection.helpers import move_in_victim

from .counter_helpers import login, ready


@pytest.fixture
def victim(world):
    return move_in_victim(world)


def test_set_release_for_a_while_then_for_good(page, live_url, supervisor, linkage_user, terminal, victim, screenshot):
    login(page, live_url, supervisor)
    page.goto(live_url + f"/protection/persons/{victim['mother']}/")
    ready(page)
    expect(page.locator("h1")).to_have_text("抑止・支援措置")
    expect(page.locator("#linkage-note")).to_contain_text("一時解除は連携されません")

    # Bad input first: no process chosen. The clerk is told, and nothing is set.
    page.get_by_label("理由").fill("本人からの申出（調査中）")
    page.get_by_role("button", name="抑止を設定する").click()
    expect(page.locator("#form-error")).to_have_text("抑止の入力内容を確認してください。")
    expect(page.locator("table.restrictions")).to_have_count(0)

    page.get_by_label("証明書交付").check()
    page.get_by_label("理由").fill("本人からの申出（調査中）")
    page.get_by_role("button", name="抑止を設定する").click()
    row = page.locator("table.restrictions tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("証明書交付")
    expect(row).to_contain_text("抑止中")
    screenshot(page, "restriction-set")

    row.get_by_label("時間（分）").fill("15")
    row.get_by_role("button", name="一時解除").click()
    expect(page.locator("table.restrictions tbody tr")).to_contain_text("一時解除中")
    page.locator("table.restrictions tbody tr").get_by_role("button", name="解除", exact=True).click()
    expect(page.locator("table.restrictions tbody tr")).to_contain_text("解除済み")
    screenshot(page, "restriction-released")

    got = linkage.restriction_events_read(actor=Actor.system_actor("atena", terminal=terminal), destination="atena")
    assert [(e["action"], e["certificate"]) for e in got["events"]] == [("set", True), ("release", True)]
