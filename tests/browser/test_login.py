"""Login in a real Chromium: the one-time password step, 個人番号 after it, forced password change, lockout."""
from __future__ import annotations

import datetime as dt
import re

from django.utils import timezone
from playwright.sync_api import expect

from juki.accounts.models import Staff
from tests.accounts.helpers import person_with_my_number
from tests.conftest import otp_for

from .counter_helpers import login, ready


def _password_step(page, live_url, user, password=None):
    page.goto(live_url + "/counter/")
    page.get_by_label("職員ID").fill(user.username)
    page.get_by_label("パスワード", exact=True).fill(password or user.plain_password)
    page.get_by_label("端末").select_option("T-01")
    page.get_by_label("パスワード", exact=True).press("Enter")


def test_supervisor_logs_in_with_a_one_time_password_and_reveals_a_my_number(page, live_url, supervisor, world,
                                                                             screenshot):
    pid, number = person_with_my_number(world)
    code = otp_for(supervisor)
    _password_step(page, live_url, supervisor)
    expect(page.locator("h1")).to_have_text("ワンタイムパスワード")
    expect(page.get_by_label("ワンタイムパスワード")).to_be_focused()
    screenshot(page, "login-otp")
    page.keyboard.type("000000" if code != "000000" else "111111")
    page.keyboard.press("Enter")
    expect(page.locator("p.error")).to_have_text("ワンタイムパスワードが正しくありません。")
    page.get_by_label("ワンタイムパスワード").fill(code)
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("住民検索")
    page.goto(f"{live_url}/counter/persons/{pid}/")
    ready(page)
    page.get_by_role("button", name=re.compile("個人番号を表示")).click()
    expect(page.locator("body")).to_contain_text(number)


def test_expired_password_leads_to_the_change_screen_first(page, live_url, clerk, terminal):
    Staff.objects.filter(pk=clerk.pk).update(password_changed_at=timezone.now() - dt.timedelta(days=120))
    _password_step(page, live_url, clerk)
    expect(page.locator("h1")).to_have_text("パスワードの変更")
    expect(page.locator("body")).to_contain_text("有効期限が切れています")
    page.goto(live_url + "/counter/")
    expect(page.locator("h1")).to_have_text("パスワードの変更")  # nothing else before the change
    new = "kitakyushu-2026-new"
    page.get_by_label("現在のパスワード").fill(clerk.plain_password)
    page.get_by_label("新しいパスワード", exact=True).fill(new)
    page.get_by_label("新しいパスワード（確認）").fill(new)
    page.get_by_label("新しいパスワード（確認）").press("Enter")
    expect(page.locator("#done-message")).to_have_text("パスワードを変更しました。")
    page.get_by_role("link", name="業務に戻る").click()
    expect(page.locator("h1")).to_have_text("住民検索")


def test_lockout_message_and_a_second_login_ends_the_first_page(page, browser, live_url, clerk, terminal, settings):
    settings.JUKI_LOGIN_MAX_FAILURES = 2
    login(page, live_url, clerk)
    other = browser.new_context(locale="ja-JP").new_page()
    try:
        login(other, live_url, clerk)
    finally:
        other.context.close()
    page.goto(live_url + "/counter/")
    expect(page.locator("p.error")).to_have_text("別の端末または画面でログインしたため、この画面はログアウトしました。")
    for _ in range(2):
        _password_step(page, live_url, clerk, password="wrong-password-1")
    expect(page.locator("p.error")).to_contain_text("ログインの失敗が続いたため")
    _password_step(page, live_url, clerk)
    expect(page.locator("p.error")).to_contain_text("ログインの失敗が続いたため")
