"""The change workflow as clerks work it (issue 12), in a real Chromium: the dates on the
confirmation and review screens, Esc back to the form with everything kept, a returned entry
corrected and resubmitted, every error of a form at once, an impossible date named as such."""
from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from juki.accounts.permissions import Perm
from juki.audit import gate
from juki.register.models import PendingChange, PersonVersion
from tests.conftest import move_in_family

from .counter_helpers import login, ready
from .test_counter_review import logout
from tests.helpers import TEST_ACTOR

UOMACHI = "小倉北区魚町一丁目（40106002000）"


def fill_move(page: Page, *, event: str, notified: str, banchi: str, town: str = UOMACHI) -> None:
    """The 転居 form: every member ticked, the dates, the 町字 as picked from the list, the 番地."""
    for box in page.locator("input[name=persons]").all():
        box.check()
    page.get_by_label("異動日").fill(event)
    page.get_by_label("届出日").fill(notified)
    page.get_by_label("町字（カナ・漢字で候補）").fill(town)
    page.get_by_label("番地").fill(banchi)


def open_move_form(page: Page, live_url: str, household_id: int) -> None:
    page.goto(f"{live_url}/counter/changes/move-within-city/?household={household_id}")
    expect(page.locator("h1")).to_have_text("異動入力（転居）")
    ready(page)


def test_move_dates_on_both_screens_esc_keeps_input_returned_entry_resubmitted(page, live_url, clerk, supervisor,
                                                                                world, screenshot):
    family = move_in_family(world)
    household = family.households[0]["id"]
    login(page, live_url, clerk)
    open_move_form(page, live_url, household)
    fill_move(page, event="R8.11.20", notified="R8.11.21", banchi="7番7号")
    page.get_by_label("方書").fill("魚町ビル202")
    page.get_by_label("届出人の氏名").fill("青木　花子")
    page.get_by_label("届出人と本人との関係").fill("世帯員")
    page.get_by_role("button", name=re.compile("確認画面へ")).click()
    expect(page.locator("h1")).to_have_text("確認（転居）")
    entry = page.locator("#entry-items")
    # Dates first, as entered.
    expect(entry.locator("tr").nth(0)).to_contain_text("転居日")
    expect(entry.locator("tr").nth(0)).to_contain_text("令和8年11月20日")
    expect(entry.locator("tr").nth(1)).to_contain_text("届出日")
    expect(entry.locator("tr").nth(1)).to_contain_text("令和8年11月21日")
    expect(entry).to_contain_text("青木　花子")
    screenshot(page, "confirm-move-entry-items")

    # Esc: back to the form, every field as typed (no browser resubmission page).
    ready(page)
    page.keyboard.press("Escape")
    expect(page.locator("h1")).to_have_text("異動入力（転居）")
    expect(page.get_by_label("異動日")).to_have_value("R8.11.20")
    expect(page.get_by_label("届出日")).to_have_value("R8.11.21")
    expect(page.get_by_label("町字（カナ・漢字で候補）")).to_have_value(UOMACHI)
    expect(page.get_by_label("番地")).to_have_value("7番7号")
    expect(page.get_by_label("方書")).to_have_value("魚町ビル202")
    expect(page.get_by_label("届出人の氏名")).to_have_value("青木　花子")
    boxes = page.locator("input[name=persons]")
    assert boxes.count() == 3 and all(boxes.nth(i).is_checked() for i in range(3))

    page.get_by_role("button", name=re.compile("確認画面へ")).click()
    page.get_by_role("button", name=re.compile("仮登録する")).click()
    expect(page.locator("#pending-state")).to_have_text("審査待ち（仮登録）")
    pending_url = page.url
    logout(page)

    # The reviewer sees the dates too, and returns it.
    login(page, live_url, supervisor)
    page.goto(pending_url)
    entry = page.locator("#entry-items")
    expect(entry).to_contain_text("令和8年11月20日")
    expect(entry).to_contain_text("令和8年11月21日")
    screenshot(page, "review-move-entry-items")
    page.get_by_label("差戻し理由").fill("番地は届書では8番8号です。")
    page.get_by_role("button", name=re.compile("差し戻す")).click()
    expect(page.locator("h1")).to_have_text("審査待ち一覧（仮登録）")
    logout(page)

    # The clerk opens the returned entry pre-filled, corrects it and resubmits it.
    login(page, live_url, clerk)
    page.goto(f"{live_url}/counter/pending/")
    page.get_by_role("link", name="内容を見る").first.click()
    expect(page.locator("#return-reason")).to_contain_text("番地は届書では8番8号です。")
    expect(page.locator("#entry-items")).to_contain_text("令和8年11月20日")  # what they entered
    page.get_by_role("link", name=re.compile("入力内容を修正して再提出する")).click()
    expect(page.locator("#resubmit-notice")).to_be_visible()
    expect(page.get_by_label("異動日")).to_have_value("R8.11.20")
    expect(page.get_by_label("方書")).to_have_value("魚町ビル202")
    page.get_by_label("番地").fill("8番8号")
    page.get_by_role("button", name=re.compile("確認画面へ")).click()
    page.get_by_role("button", name=re.compile("修正して再提出する")).click()
    expect(page.locator("#pending-state")).to_have_text("審査待ち（仮登録）")
    assert page.url == pending_url  # the same entry, not a new one
    logout(page)

    login(page, live_url, supervisor)
    page.goto(pending_url)
    page.get_by_role("button", name=re.compile("本登録する")).click()
    expect(page.locator("#done-message")).to_contain_text("転居を登録しました")
    page.goto(pending_url)
    history = page.locator("#pending-history")
    for step in ("仮登録", "差戻し", "修正して再提出", "本登録"):
        expect(history).to_contain_text(step)
    expect(history).to_contain_text("番地は届書では8番8号です。")
    screenshot(page, "pending-history")
    with gate.open(TEST_ACTOR, function="test", perm=Perm.PERSON_VIEW):
        assert PendingChange.objects.count() == 1
        written = PersonVersion.objects.filter(banchi="8番8号", katagaki="魚町ビル202")
        assert written.count() == 3
        assert written.first().change.notifier_name == "青木　花子"


def test_an_empty_form_shows_every_error_at_once_and_an_impossible_date_is_named(page, live_url, clerk, world,
                                                                                 screenshot):
    family = move_in_family(world)
    login(page, live_url, clerk)
    open_move_form(page, live_url, family.households[0]["id"])
    for box in page.locator("input[name=persons]").all():
        box.uncheck()
    page.get_by_role("button", name=re.compile("確認画面へ")).click()
    errors = page.locator("#change-error li")
    expect(errors).to_have_count(4)
    text = page.locator("#change-error").inner_text()
    for message in ("異動日を入力してください。", "町字を入力し、候補から選んでください。", "番地を入力してください。",
                    "異動する方を選んでください"):
        assert message in text, text
    # Each at its field, too.
    expect(page.locator("#f-event_date .error")).to_have_text("異動日を入力してください。")
    expect(page.locator("#f-banchi .error")).to_have_text("番地を入力してください。")
    screenshot(page, "change-all-errors")

    page.get_by_label("異動日").fill("令和7年2月30日")
    page.get_by_role("button", name=re.compile("確認画面へ")).click()
    expect(page.locator("#f-event_date .error")).to_have_text("令和7年2月30日は存在しない日付です。")
    page.get_by_label("異動日").fill("2025-02-30")
    page.get_by_role("button", name=re.compile("確認画面へ")).click()
    expect(page.locator("#f-event_date .error")).to_have_text("2025年2月30日は存在しない日付です。")
    # A 届出日 before the 転居 is refused at its field (only a 転出 is notified in advance).
    fill_move(page, event="R8.11.20", notified="R8.11.19", banchi="1番1号")
    page.get_by_role("button", name=re.compile("確認画面へ")).click()
    expect(page.locator("#f-notified_on .error")).to_contain_text("届出日が異動日より前です。")


def test_the_keyboard_starts_where_the_entry_starts(page, live_url, clerk, world):
    """転居: the first member's checkbox has the focus (not nine Tabs away); 転入: the 異動日; a form
    sent back with errors: its first item to correct."""
    family = move_in_family(world)
    login(page, live_url, clerk)
    open_move_form(page, live_url, family.households[0]["id"])
    first = page.locator("input[name=persons]").first
    expect(first).to_be_focused()
    page.keyboard.press("Tab")  # then the member's 異動後の続柄, in the same row
    expect(page.locator(f"input[name=rel_{family.persons[0]['id']}]")).to_be_focused()
    page.get_by_label("異動日").fill("R8.2.30")
    page.keyboard.press("Alt+K")
    expect(page.locator("#change-error")).to_be_visible()
    expect(page.get_by_label("異動日")).to_be_focused()  # the first item to correct
    page.keyboard.press("Alt+I")  # 転入
    expect(page.locator("h1")).to_have_text("異動入力（転入）")
    expect(page.get_by_label("異動日")).to_be_focused()
