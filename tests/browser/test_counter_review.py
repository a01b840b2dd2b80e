"""Two-person verification [530][540] (C10) and keyboard-only work [400], in a real Chromium."""
from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from juki.audit import gate
from juki.accounts.permissions import Perm
from juki.register.models import Change, PendingChange, PersonVersion
from tests.conftest import move_in_family

from .counter_helpers import login, ready
from tests.helpers import TEST_ACTOR


def logout(page: Page) -> None:
    page.get_by_role("button", name="ログアウト").click()
    expect(page.locator("h1")).to_have_text("ログイン")


def pending_states():
    with gate.open(TEST_ACTOR, function="test", perm=Perm.PERSON_VIEW):
        return list(PendingChange.objects.order_by("id").values_list("state", flat=True))


def test_keyboard_only_move_approved_by_a_second_user(page, live_url, clerk, supervisor, world, screenshot):
    """The issue's "done when": find by half-width kana, record a 転居, have it approved by a
    second user and see it in the history — keyboard only, two-person verification on."""
    family = move_in_family(world)
    head_id = family.persons[0]["id"]
    login(page, live_url, clerk)
    kb = page.keyboard
    # The name field has the focus on arrival.
    expect(page.get_by_label("氏名（漢字・カナ・英字）", exact=True)).to_be_focused()
    kb.type("ｱｵｷ ﾀﾛｳ")
    kb.press("Tab")
    kb.press("Tab")  # フリガナ → 生年月日
    kb.type("S60.4.1")
    kb.press("Enter")
    expect(page.locator("a.row-link").first).to_be_focused()
    kb.press("Enter")
    expect(page.locator("h1")).to_have_text("住民票の照会")
    ready(page)
    # To the 転居 entry by tabbing to its link (no mouse).
    link = page.get_by_role("link", name="転居", exact=True)
    for _ in range(40):
        kb.press("Tab")
        if link.evaluate("el => el === document.activeElement"):
            break
    expect(link).to_be_focused()
    kb.press("Enter")
    expect(page.locator("h1")).to_contain_text("転居")
    ready(page)
    # Tick every member: Tab to each checkbox, Space.
    boxes = page.locator("input[name=persons]")
    for i in range(boxes.count()):
        box = boxes.nth(i)
        while not box.evaluate("el => el === document.activeElement"):
            kb.press("Tab")
        if not box.is_checked():
            kb.press("Space")
    event = page.get_by_label("異動日")
    while not event.evaluate("el => el === document.activeElement"):
        kb.press("Tab")
    kb.type("R8.11.20")
    kb.press("Tab")
    kb.type("R8.11.20")
    kb.press("Tab")
    kb.type("小倉北区魚町一丁目（40106002000）")
    kb.press("Tab")
    kb.type("7番7号")
    kb.press("Alt+k")  # 確認画面へ
    expect(page.locator("h1")).to_contain_text("確認（転居）")
    expect(page.locator(".compare table.diff").first).to_contain_text("魚町一丁目7番7号")
    ready(page)
    kb.press("Alt+k")  # 仮登録する (the button also has the focus)
    expect(page.locator("#pending-state")).to_have_text("審査待ち（仮登録）")
    screenshot(page, "pending-detail-own")
    # Nothing in the register yet.
    with gate.open(TEST_ACTOR, function="test", perm=Perm.PERSON_VIEW):
        assert not PersonVersion.objects.filter(banchi="7番7号").exists()
    logout(page)

    # The supervisor reviews it.
    login(page, live_url, supervisor)
    kb.press("Alt+r")
    expect(page.locator("h1")).to_have_text("審査待ち一覧（仮登録）")
    screenshot(page, "pending-list")
    row_link = page.locator("a.row-link").first
    while not row_link.evaluate("el => el === document.activeElement"):
        kb.press("Tab")
    kb.press("Enter")
    expect(page.locator("h1")).to_contain_text("仮登録の審査")
    expect(page.locator(".compare table.diff").first).to_contain_text("魚町一丁目7番7号")
    screenshot(page, "pending-review")
    ready(page)
    kb.press("Alt+k")  # 本登録する
    expect(page.locator("#done-message")).to_contain_text("転居を登録しました")
    expect(page.locator("#done-message")).to_contain_text(f"入力: {clerk.username}")
    expect(page.locator("#done-message")).to_contain_text(f"審査: {supervisor.username}")
    # And it is in the history.
    page.goto(f"{live_url}/counter/persons/{head_id}/")
    expect(page.locator("table.history tbody tr").first).to_contain_text("転居")
    expect(page.locator("table.history tbody tr").first).to_contain_text("魚町一丁目7番7号")
    assert pending_states() == ["approved"]


def test_reviewer_rejects_with_a_comment_and_the_clerk_cannot_approve_own_entry(page, live_url, clerk, supervisor, world):
    family = move_in_family(world)
    head_id = family.persons[0]["id"]
    login(page, live_url, clerk)
    page.goto(f"{live_url}/counter/persons/{head_id}/")
    page.get_by_role("link", name="転出", exact=True).click()
    for box in page.locator("input[name=persons]").all():
        box.check()
    page.get_by_label("異動日").fill("R8.11.20")
    page.get_by_label("届出日").fill("R8.11.20")
    page.get_by_label("転出先住所").fill("東京都千代田区千代田1番1号")
    page.get_by_role("button", name=re.compile("確認画面へ")).click()
    page.get_by_role("button", name=re.compile("仮登録する")).click()
    expect(page.locator("#pending-state")).to_have_text("審査待ち（仮登録）")
    # The entering clerk is offered no review buttons, and a forged POST is refused.
    expect(page.get_by_role("button", name=re.compile("本登録する"))).to_have_count(0)
    pending_url = page.url
    logout(page)

    login(page, live_url, supervisor)
    page.goto(pending_url)
    page.get_by_label("差戻し理由").fill("転出先の番地を届書で確認してください。")
    page.get_by_role("button", name=re.compile("差し戻す")).click()
    expect(page.locator("h1")).to_have_text("審査待ち一覧（仮登録）")
    assert pending_states() == ["rejected"]
    with gate.open(TEST_ACTOR, function="test", perm=Perm.PERSON_VIEW):
        assert not Change.objects.filter(operation="move_out").exists()
    logout(page)

    # The clerk sees it returned, with the reason.
    login(page, live_url, clerk)
    page.goto(f"{live_url}/counter/pending/")
    expect(page.locator("body")).to_contain_text("差し戻された入力")
    expect(page.locator("body")).to_contain_text("転出先の番地を届書で確認してください。")
