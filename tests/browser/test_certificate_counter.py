"""証明書の交付 at the counter (issue 5, 総合証明), in a real Chromium: a counter issue with options."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from juki.certificates.models import CertificateIssue
from tests.conftest import move_in_family
from tests.helpers import pdf_text

from .counter_helpers import login, ready, search


@pytest.fixture
def residents(world):
    return move_in_family(world)


def test_clerk_issues_a_household_copy_with_chosen_items(page, live_url, clerk, residents, screenshot, tmp_path):
    login(page, live_url, clerk)
    search(page, name="ｱｵｷ ﾀﾛｳ", birth_date="S60.4.1")
    page.locator("a.row-link").first.press("Enter")
    expect(page.locator("h1")).to_have_text("住民票の照会")
    ready(page)
    expect(page.locator("#certificate-link")).to_be_visible()
    screenshot(page, "certificate-counter-person")
    page.keyboard.press("Alt+C")  # 証明書の交付
    expect(page.locator("h1")).to_have_text("証明書の交付（住民票の写し等）")
    ready(page)
    assert re.search(r"/counter/certificates/persons/\d+/$", page.url)  # an internal id only
    screenshot(page, "certificate-counter-form")

    form = page.locator("form.cert")
    expect(form.get_by_label("住民票の写し")).to_be_checked()
    form.get_by_label("世帯連記式").check()
    for cb in form.locator("input[name=persons]").all():
        expect(cb).to_be_checked()  # 世帯全員 by default
    form.get_by_label("世帯主・続柄").check()
    form.get_by_label("本籍・筆頭者").check()
    expect(form.get_by_label("個人番号")).not_to_be_checked()
    form.get_by_label("本人", exact=True).check()
    expect(form.get_by_label("請求者（世帯員から選ぶ）")).to_be_visible()
    expect(form.get_by_label("請求者の氏名（官公署は名称）")).to_be_hidden()  # only for the others
    form.get_by_label("運転免許証").check()
    form.get_by_label("利用目的（第三者は正当な理由）").fill("年金の手続きのため")

    with page.expect_response(lambda r: "/preview/" in r.url and r.request.method == "POST"):
        page.keyboard.press("Alt+P")  # 印刷プレビュー
    expect(page.locator("#preview-frame")).to_be_visible()
    expect(page.locator("#preview")).to_contain_text("見本")
    assert CertificateIssue.objects.count() == 0  # a preview records nothing
    expect(page.locator("#preview-h")).to_be_in_viewport()  # the screen scrolls to the preview
    page.wait_for_timeout(1500)  # let the PDF viewer draw before the screenshot
    screenshot(page, "certificate-counter-preview")

    page.keyboard.press("Alt+K")  # 交付する: every check first, then the fee to confirm
    expect(page.locator("#confirm-fee")).to_contain_text("手数料 300円 を受け取ってください。")
    expect(page.locator("#confirm-issue")).to_be_focused()
    expect(page.locator("#preview-frame")).to_be_visible()  # the preview stays on the screen
    assert CertificateIssue.objects.count() == 0
    screenshot(page, "certificate-counter-confirm")
    # A change to the form takes the confirmation away: what was checked is no longer what would be issued.
    form.get_by_label("利用目的（第三者は正当な理由）").fill("年金の手続きのため（再）")
    expect(page.locator("#confirm-issue")).to_have_count(0)
    page.keyboard.press("Alt+K")
    expect(page.locator("#confirm-issue")).to_be_focused()
    page.keyboard.press("Enter")  # 交付を確定する
    expect(page.locator("#done-message")).to_have_text("交付しました。")
    ready(page)
    issue = CertificateIssue.objects.get()
    expect(page.locator("#issue-number")).to_have_text(issue.number)
    expect(page.locator("#issue-fee")).to_have_text(f"{issue.fee}円")
    assert issue.number in page.locator("h1").inner_text()
    screenshot(page, "certificate-counter-issued")

    with page.expect_download() as info:
        page.locator("#download-pdf").click()
    download = info.value
    assert download.suggested_filename == f"certificate-{issue.number}.pdf"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    text = pdf_text(path.read_bytes())
    assert issue.number in text and "住民票の写し（世帯全員）" in text
    assert "本籍" in text and "福岡県北九州市小倉北区城内1番" in text
    assert "続柄" in text
    assert "個人番号" not in text and "住民票コード" not in text

    # 交付履歴 (Alt+Y, on every screen) lists it.
    page.keyboard.press("Alt+Y")
    expect(page.locator("h1")).to_have_text("証明書の交付履歴")
    expect(page.locator("table.issues")).to_contain_text(issue.number)
    screenshot(page, "certificate-counter-list")


def test_refusal_is_shown_next_to_the_buttons(page, live_url, clerk, residents, screenshot):
    head = residents.persons[0]["id"]
    login(page, live_url, clerk)
    page.goto(f"{live_url}/counter/certificates/persons/{head}/")
    ready(page)
    form = page.locator("form.cert")
    form.get_by_label("本籍・筆頭者").check()
    form.get_by_label("第三者", exact=True).check()
    expect(form.get_by_label("請求者の氏名（官公署は名称）")).to_be_visible()
    expect(form.get_by_label("請求者（世帯員から選ぶ）")).to_be_hidden()
    form.get_by_label("請求者の氏名（官公署は名称）").fill("山田　一郎")
    form.get_by_label("運転免許証").check()
    form.get_by_label("利用目的（第三者は正当な理由）").fill("債権回収のため")
    page.keyboard.press("Alt+K")  # refused before any fee is asked
    message = page.locator("#cert-messages")
    expect(message).to_contain_text("第三者からの請求では、本籍・筆頭者を記載した証明書は交付できません。")
    expect(message).to_be_in_viewport()
    expect(page.locator("#confirm-issue")).to_have_count(0)
    screenshot(page, "certificate-counter-refused")
    assert CertificateIssue.objects.count() == 0
