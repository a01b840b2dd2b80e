"""Steps a clerk takes at the counter, shared by the browser tests."""
from __future__ import annotations

import re

from playwright.sync_api import Page, expect


def login(page: Page, live_url: str, user, terminal_code: str = "T-01", lands_on: str = "住民検索") -> None:
    """Log in at the counter; users whose rights need it also pass the one-time password step.
    `lands_on` is the title of the user's first screen (an administrator has no search)."""
    from juki.accounts.login import needs_second_factor
    from tests.conftest import otp_for

    otp = otp_for(user) if needs_second_factor(user) else ""
    page.goto(live_url + "/counter/")
    expect(page).to_have_url(re.compile(r"/counter/login/"))
    page.get_by_label("職員ID").fill(user.username)
    page.get_by_label("パスワード", exact=True).fill(user.plain_password)
    page.get_by_label("端末").select_option(terminal_code)
    page.get_by_label("パスワード", exact=True).press("Enter")
    if otp:
        expect(page.locator("h1")).to_have_text("ワンタイムパスワード")
        page.get_by_label("ワンタイムパスワード").fill(otp)
        page.get_by_label("ワンタイムパスワード").press("Enter")
    expect(page.locator("h1")).to_have_text(lands_on)
    ready(page)


def ready(page: Page) -> None:
    """Wait until the page's script is live (access keys, idle lock)."""
    page.wait_for_selector("body[data-ready='1']", state="attached")


def search(page: Page, **fields) -> None:
    """Fill the search form by label and submit with Enter; wait for the results to swap in."""
    labels = {"name": "氏名（漢字・カナ・英字）", "kana": "フリガナ", "birth_date": "生年月日", "banchi": "番地",
              "atena_number": "宛名番号", "household_number": "世帯番号"}
    form = page.locator("form.search")
    for key, value in fields.items():
        form.get_by_label(labels[key], exact=True).fill(value)
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/counter/")):
        form.get_by_label(labels[next(iter(fields))], exact=True).press("Enter")
    page.wait_for_function("() => !document.querySelector('form.search').classList.contains('htmx-request')")
