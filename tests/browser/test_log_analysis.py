"""The auditor's ログ分析 screen in a real Chromium: log in, list the login failures, download the CSV."""
from __future__ import annotations

import csv
import io
import re

from playwright.sync_api import expect

from juki.audit import events
from juki.audit.gate import Actor
from juki.audit.models import AccessLog

from .counter_helpers import ready


def test_auditor_lists_login_failures_and_downloads_csv(page, live_url, auditor, clerk, terminal, screenshot):
    events.record(Actor(terminal=terminal), function="auth.login_failure", outcome="denied",
                  criteria={"username": "nobody"})
    events.record(Actor(user=clerk, terminal=terminal), function="auth.login_failure", outcome="denied",
                  criteria={"username": clerk.username})
    events.record(Actor(user=clerk, terminal=terminal), function="auth.login")  # a success: not listed

    page.goto(live_url + "/counter/login/")
    page.get_by_label("職員ID").fill(auditor.username)
    page.get_by_label("パスワード").fill(auditor.plain_password)
    page.get_by_label("端末").select_option(terminal.code)
    page.get_by_label("パスワード").press("Enter")
    ready(page)
    # The auditor has no search right: the login lands on the analysis screen, which the menu offers too.
    expect(page.locator("h1")).to_have_text("ログ分析")
    expect(page.locator("header nav").get_by_role("link", name=re.compile("ログ分析"))).to_be_visible()
    expect(page.locator("header nav").get_by_role("link", name=re.compile("住民検索"))).to_have_count(0)

    page.get_by_label("分析の種類").select_option(label="ログイン失敗")
    page.get_by_role("button", name=re.compile("表示")).click()
    rows = page.locator("table.analysis tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("nobody")
    expect(rows.nth(1)).to_contain_text(clerk.username)
    expect(page.locator("#result-title")).to_contain_text("2件")
    assert "nobody" not in page.url and "report=login_failures" in page.url  # only names and dates in the URL
    screenshot(page, "log-analysis-login-failures")

    with page.expect_download() as info:
        page.get_by_role("link", name=re.compile("CSVで出力")).click()
    download = info.value
    assert re.fullmatch(r"accesslog-login_failures-\d{8}-\d{8}\.csv", download.suggested_filename)
    with open(download.path(), encoding="utf-8-sig", newline="") as f:
        table = list(csv.reader(io.StringIO(f.read())))
    assert table[0][:3] == ["日時", "職員ID", "職員氏名"]
    assert [r[1] for r in table[1:]] == ["nobody", clerk.username]
    assert AccessLog.objects.filter(function="export.accesslog_csv", user=auditor, category="export").count() == 1
