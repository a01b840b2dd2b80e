"""Staff logins (C01) in a real Chromium: the administrator enrols a clerk's one-time password with
the keyboard and sees the QR code and the secret, once."""
from __future__ import annotations

import re
from base64 import b32encode

from playwright.sync_api import expect

from juki.accounts import login as login_rules

from .counter_helpers import login, ready


def test_enrol_a_one_time_password_and_see_the_qr_code(page, live_url, rights_admin, clerk, terminal, screenshot):
    login(page, live_url, rights_admin, lands_on="権限申請の一覧")
    page.keyboard.press("Alt+a")
    expect(page.locator("h1")).to_have_text("職員のログイン管理")
    row = page.locator("#accounts tr", has_text="clerk1")
    expect(row).to_contain_text("未登録")
    row.get_by_role("link", name="開く").click()
    expect(page.locator("h1")).to_contain_text("clerk1")
    ready(page)
    expect(page.locator("#totp-state")).to_contain_text("登録されていません")

    page.keyboard.press("Alt+e")  # htmx: only the section is replaced
    expect(page.locator("#totp-enrolled")).to_contain_text("この画面にしか表示されません")
    secret = b32encode(login_rules.totp_device(clerk).bin_key).decode()
    expect(page.locator("#totp-secret")).to_have_text(secret)
    expect(page.locator("#totp-uri")).to_contain_text("otpauth://totp/")
    qr = page.locator("#totp-qr svg")
    expect(qr).to_be_visible()
    box = qr.bounding_box()
    assert box and box["width"] >= 150 and box["height"] >= 150
    screenshot(page, "rights-totp-enrolment")

    # Opened again, the page says a device is registered and shows no secret.
    page.reload()
    expect(page.locator("#totp-state")).to_contain_text("登録済みです")
    expect(page.locator("#totp-secret")).to_have_count(0)
    expect(page.locator("#totp-qr")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("登録をやり直す"))).to_be_visible()
