"""印鑑登録 and the 印鑑登録証明書 at the counter, in a real Chromium: register a seal from an uploaded
scan, then issue its certificate with the card number."""
from __future__ import annotations

import re
import subprocess

import pytest
from playwright.sync_api import expect

from juki.cards import services as cards
from juki.certificates.models import CertificateIssue
from juki.seals.demo import seal_image
from tests.conftest import move_in_family
from tests.seals.helpers import seal_png

from .conftest import SCREENSHOTS
from .counter_helpers import login, ready


@pytest.fixture
def residents(world):
    return move_in_family(world)


def test_register_a_seal_and_issue_its_certificate(page, live_url, clerk, actor, residents, screenshot, tmp_path):
    head = residents.persons[0]["id"]
    card = cards.card_issue(actor=actor, person_id=head, pin="2580")  # the city card that becomes the 印鑑登録証
    scan = tmp_path / "seal.png"
    scan.write_bytes(seal_image("青木"))  # the family name in a 15 mm circle, as scanned

    login(page, live_url, clerk)
    page.goto(f"{live_url}/counter/persons/{head}/")
    ready(page)
    page.locator("#seal-link").click()
    expect(page.locator("h1")).to_have_text("印鑑登録")
    ready(page)
    expect(page.locator("#seal-state")).to_have_text("登録されている印鑑はありません。")
    screenshot(page, "seal-person-empty")

    form = page.locator("#register-form")
    form.get_by_label("印影の画像（読み取ったもの）").set_input_files(str(scan))
    expect(page.locator("#checked-size")).to_have_text("15.0mm × 15.0mm")  # measured before anything is sent
    expect(form.get_by_label("官公署発行の顔写真付き本人確認書類（即日登録）")).to_be_checked()
    expect(form.get_by_label("保証人の印鑑番号")).to_be_hidden()  # only for 保証人
    form.get_by_label("運転免許証").check()
    form.get_by_label("印影の文字（刻印文字）").fill("青木")
    form.get_by_label(re.compile("登録できる印鑑であることを確認した")).check()
    screenshot(page, "seal-register-form")

    page.once("dialog", lambda d: d.accept())  # 「この内容で印鑑登録を申請します。よろしいですか。」
    page.keyboard.press("Alt+K")
    expect(page.locator("#done-message")).to_have_text("印鑑を登録しました。")
    ready(page)
    expect(page.locator("#seal-state")).to_have_text("登録")
    expect(page.locator("#live-seal")).to_be_visible()
    expect(page.locator("table.seal-history")).to_contain_text("確認書類: 運転免許証")
    screenshot(page, "seal-person-registered")

    page.keyboard.press("Alt+C")  # 印鑑登録証明書の交付
    expect(page.locator("h1")).to_have_text("印鑑登録証明書の交付")
    ready(page)
    form = page.locator("#certificate-form")
    form.get_by_label("印鑑登録証（市民カード）のカード番号").fill(card["number"])
    form.get_by_label("交付申請書に書かれた登録者の生年月日").fill("S60.4.1")
    expect(form.get_by_label("本人", exact=True)).to_be_checked()
    expect(form.get_by_label("代理人の氏名")).to_be_hidden()
    with page.expect_response(lambda r: "/certificate/preview/" in r.url and r.request.method == "POST"):
        page.keyboard.press("Alt+P")
    expect(page.locator("#preview-frame")).to_be_visible()
    assert CertificateIssue.objects.count() == 0  # a preview records nothing
    page.wait_for_timeout(1500)  # let the PDF viewer draw before the screenshot
    screenshot(page, "seal-certificate-preview")

    page.keyboard.press("Alt+K")  # 交付する: the checks, then the fee to confirm
    expect(page.locator("#confirm-fee")).to_contain_text("印鑑登録証明書を交付します。")
    assert CertificateIssue.objects.count() == 0
    expect(page.locator("#confirm-issue")).to_be_focused()  # htmx focuses it once the swap settles
    page.keyboard.press("Enter")  # 交付を確定する
    expect(page.locator("#done-message")).to_have_text("交付しました。")
    ready(page)
    issue = CertificateIssue.objects.get()
    expect(page.locator("#issue-number")).to_have_text(issue.number)
    expect(page.locator("#fee-due")).to_contain_text("300円")
    screenshot(page, "seal-certificate-issued")

    with page.expect_download() as info:
        page.locator("#download-pdf").click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    text = re.sub(r"\s+", "", subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True,
                                             text=True).stdout)
    assert "印鑑登録証明書" in text and "青木太郎" in text and "この写しは、登録されている印影と相違ないことを証明する。" in text
    assert issue.number in text
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-singlefile", str(path), str(SCREENSHOTS / "certificate-seal")],
                   check=True)
    assert (SCREENSHOTS / "certificate-seal.png").stat().st_size > 10_000


def test_a_wrong_card_number_is_refused_next_to_the_buttons(page, live_url, clerk, actor, residents, screenshot):
    head = residents.persons[0]["id"]
    cards.card_issue(actor=actor, person_id=head, pin="2580")
    login(page, live_url, clerk)
    page.goto(f"{live_url}/counter/seals/persons/{head}/certificate/")
    ready(page)
    form = page.locator("#certificate-form")
    form.get_by_label("印鑑登録証（市民カード）のカード番号").fill("1234567890")
    form.get_by_label("交付申請書に書かれた登録者の生年月日").fill("S60.4.1")
    page.once("dialog", lambda d: d.accept())
    page.locator("#issue-button").click()
    message = page.locator("#cert-messages")
    expect(message).to_contain_text("カード番号")
    expect(message).to_be_in_viewport()
    screenshot(page, "seal-certificate-refused")
    assert CertificateIssue.objects.count() == 0


def test_an_agents_application_waits_for_the_answer(page, live_url, clerk, residents, screenshot, tmp_path):
    wife = residents.persons[1]["id"]
    scan = tmp_path / "seal.png"
    scan.write_bytes(seal_png(12, dpi=300))
    login(page, live_url, clerk)
    page.goto(f"{live_url}/counter/seals/persons/{wife}/")
    ready(page)
    form = page.locator("#register-form")
    form.get_by_label("印影の画像（読み取ったもの）").set_input_files(str(scan))
    expect(page.locator("#checked-size")).to_have_text("12.0mm × 12.0mm")
    expect(form.get_by_label("代理人の氏名（本人の申請は空欄）")).to_be_hidden()
    form.get_by_label("照会書・回答書による確認").check()
    form.get_by_label("代理人の氏名（本人の申請は空欄）").fill("青木　太郎")
    form.get_by_label("委任状を確認した").check()
    form.get_by_label("印影の文字（刻印文字）").fill("花子")
    form.get_by_label(re.compile("登録できる印鑑であることを確認した")).check()
    page.once("dialog", lambda d: d.accept())
    page.keyboard.press("Alt+K")
    expect(page.locator("#done-message")).to_contain_text("登録申請を受け付けました。")
    expect(page.locator("#inquiry-letter")).to_be_visible()
    ready(page)
    expect(page.locator("#seal-state")).to_have_text("照会中")
    expect(page.locator("#answer-due")).to_contain_text("令和")
    screenshot(page, "seal-person-pending")

    answer = page.locator("form[action$='/answer/']")
    answer.get_by_label("旅券").check()
    page.once("dialog", lambda d: d.accept())
    answer.get_by_role("button", name=re.compile("回答書を受け付けて登録する")).click()
    expect(page.locator("#done-message")).to_have_text("回答書を受け付け、印鑑を登録しました。")
    expect(page.locator("#seal-state")).to_have_text("登録")
    expect(page.locator("table.seal-history")).to_contain_text("回答書を受理")
