"""転出証明書 from the change-done screen, and a 住民票コード通知票 re-output from the person's
certificate screen (総合証明 tabs), in a real Chromium."""
from __future__ import annotations

import datetime as dt

from playwright.sync_api import expect

from juki.certificates.models import CertificateIssue
from juki.register.services import changes
from tests.conftest import TODAY, days_ago, move_in_family
from tests.helpers import pdf_text
from tests.register.helpers import ref

from .counter_helpers import login, ready

MY_NUMBER = "123456789018"


def download(page, live_url) -> str:
    """The PDF behind the screen's 保存・印刷 link, fetched in the page's session. (Clicking it
    while the embedded PDF viewer is still loading makes Chromium's download event unreliable.)"""
    href = page.locator("#download-pdf").get_attribute("href")
    response = page.request.get(live_url + href)
    assert response.ok and response.headers["content-disposition"].startswith("attachment;")
    return pdf_text(response.body())


def test_move_out_certificate_from_the_change_done_screen(page, live_url, world, supervisor, screenshot):
    family = move_in_family(world)
    ids = [p["id"] for p in family.persons]
    changes.my_number_record(actor=world, event_date=days_ago(10), person=ref(ids[0]), my_number=MY_NUMBER, kind="entry")
    moved = changes.move_out(actor=world, event_date=TODAY + dt.timedelta(days=7), notified_on=TODAY,
                             persons=[ref(pid) for pid in ids], destination_address="東京都千代田区丸の内一丁目9番")

    login(page, live_url, supervisor)  # 係長: the 転出証明書 prints a 個人番号
    page.goto(f"{live_url}/counter/changes/done/{moved.change_id}/")
    ready(page)
    expect(page.locator("#offers-h")).to_have_text("続けて出力する帳票")
    expect(page.locator("#move-out-certificate")).to_be_enabled()
    screenshot(page, "certificate-change-done-offers")

    page.keyboard.press("Alt+T")  # 転出証明書を交付: one click, no further questions
    expect(page.locator("#done-message")).to_have_text("交付しました。")
    ready(page)
    issue = CertificateIssue.objects.get()
    expect(page.locator("#issue-number")).to_have_text(issue.number)
    expect(page.locator("#issue-form")).to_have_text("転出証明書")
    expect(page.locator("#fee-due")).to_contain_text("手数料はかかりません")
    expect(page.locator("#issued-frame")).to_be_visible()  # the PDF is open on the screen, to print
    page.wait_for_timeout(1500)  # let the PDF viewer draw before the screenshot
    screenshot(page, "certificate-move-out-issued")

    text = download(page, live_url)
    assert "転出証明書" in text and issue.number in text and "東京都千代田区丸の内一丁目9番" in text
    assert "個人番号123456789018" in text and "青木一郎" in text
    assert issue.person_ids == ids and issue.requester_kind == "notifier"

    # The person's certificate screen now has a 転出証明書 tab, which sends a lost one to 再交付.
    page.goto(f"{live_url}/counter/certificates/persons/{ids[1]}/")
    ready(page)
    page.locator("#tab-move-out").click()
    expect(page.locator("h1")).to_have_text("証明書の交付（転出証明書）")
    ready(page)
    expect(page.locator("#already-issued")).to_contain_text(issue.number)
    screenshot(page, "certificate-move-out-tab")


def test_code_notice_re_output_from_the_certificate_screen(page, live_url, world, clerk, screenshot):
    family = move_in_family(world)
    child = family.persons[2]["id"]
    login(page, live_url, clerk)
    page.goto(f"{live_url}/counter/persons/{child}/")
    ready(page)
    page.keyboard.press("Alt+C")  # 証明書の交付
    expect(page.locator("h1")).to_have_text("証明書の交付（住民票の写し等）")
    expect(page.locator("#tab-move-out")).to_have_count(0)  # no 転出: no 転出証明書 tab
    page.locator("#tab-code-notice").click()
    expect(page.locator("h1")).to_have_text("証明書の交付（住民票コード通知票）")
    ready(page)
    expect(page.locator("#notice-kind")).to_have_text("住民票コード通知票")
    screenshot(page, "certificate-code-notice-tab")

    with page.expect_response(lambda r: "/code-notice/preview/" in r.url and r.request.method == "POST"):
        page.keyboard.press("Alt+P")
    expect(page.locator("#preview-frame")).to_be_visible()
    assert CertificateIssue.objects.count() == 0  # a preview records nothing
    page.wait_for_timeout(1500)
    screenshot(page, "certificate-code-notice-preview")

    page.once("dialog", lambda d: d.accept())  # 「住民票コード通知票を出力します。よろしいですか。」
    page.locator("#issue-from-preview").click()
    expect(page.locator("#done-message")).to_have_text("交付しました。")
    ready(page)
    issue = CertificateIssue.objects.get()
    expect(page.locator("#issue-fee")).to_have_text("無料（職権）")
    expect(page.locator("#issued-frame")).to_be_visible()
    text = download(page, live_url)
    assert "住民票コード通知票" in text and "青木一郎様" in text and issue.number in text
    assert (issue.form, issue.requester_kind, issue.person_ids) == ("resident_code_notice", "ex_officio", [child])
