"""証明書自動交付機 (S6) in a real Chromium at 1366×768, used with the mouse as a touch screen:
enrolment, card + PIN on the keypad, the choices, coins, the PDF, and the refusals."""
from __future__ import annotations

import datetime as dt
import subprocess

from playwright.sync_api import Page, expect

from juki.audit.gate import Actor
from juki.cards.services import card_issue
from juki.certificates.models import CertificateIssue
from juki.kiosk import access
from juki.kiosk import services as kiosk_services
from juki.kiosk.models import KioskPayment
from juki.protection import services as protection
from juki.protection.models import Level, Process
from tests.helpers import pdf_text
from tests.kiosk.conftest import PIN
from tests.protection.helpers import OFFENDER, move_in_victim

from .conftest import SCREENSHOTS
from .counter_helpers import login, ready

REFUSED = kiosk_services.REFUSED


def enrol(page: Page, live_url: str, made) -> None:
    page.goto(live_url + "/kiosk/setup/")
    page.get_by_label("端末ID").fill(made.device.code)
    page.get_by_label("秘密鍵").fill(made.secret)
    page.locator("#enrol").click()
    expect(page.locator("#begin")).to_be_visible()


def tap(page: Page, digits: str) -> None:
    for d in digits:
        page.locator(f".keypad [data-key='{d}']").click()


def sign_in(page: Page, number: str, pin: str = PIN, screenshot=None) -> None:
    page.locator("#begin").click()
    expect(page.locator("h1")).to_have_text("カードを入れてください")
    tap(page, number)
    expect(page.locator("#number")).to_have_value(number)
    if screenshot:
        screenshot(page, "kiosk-card")
    page.locator("#insert-card").click()
    expect(page.locator("h1")).to_have_text("暗証番号を入力してください")
    tap(page, pin)
    if screenshot:
        screenshot(page, "kiosk-pin")
    page.locator("#pin-ok").click()


def insert(page: Page, *coins: int) -> None:
    for coin in coins:
        page.locator(f"#coin-{coin}").click()
        page.wait_for_load_state()


def test_enrolment_then_a_copy_with_card_and_pin(page, live_url, kiosk, card, household, screenshot, tmp_path):
    page.goto(live_url + "/kiosk/")
    expect(page.locator("#not-registered")).to_have_text("この端末は自動交付機として登録されていません。")
    screenshot(page, "kiosk-unregistered")
    enrol(page, live_url, kiosk)
    screenshot(page, "kiosk-start")

    sign_in(page, card["number"], screenshot=screenshot)
    expect(page.locator("h1")).to_have_text("証明書の種類を選んでください")
    expect(page.locator("#choose-seal")).to_be_disabled()  # this card serves no seal
    expect(page.locator("main")).not_to_contain_text("青木")
    screenshot(page, "kiosk-menu")
    page.locator("#choose-copy").click()

    expect(page.locator("h1")).to_have_text("住民票の写しの内容を選んでください")
    page.get_by_text("世帯の一部（選んだ方）").click()
    page.locator("fieldset", has_text="世帯主の氏名と続柄").get_by_text("記載する", exact=True).click()
    screenshot(page, "kiosk-options")
    page.locator("#next").click()
    expect(page.locator("h1")).to_have_text("記載する方を選んでください")
    expect(page.get_by_text("青木　太郎（ご本人）")).to_be_visible()
    page.get_by_text("青木　一郎").click()
    screenshot(page, "kiosk-members")
    page.locator("#next").click()

    expect(page.locator("h1")).to_have_text("内容を確認してください")
    expect(page.locator("#fee")).to_have_text("300円")
    expect(page.locator(".summary")).to_contain_text("ご本人と選んだ方（2人）")
    screenshot(page, "kiosk-confirm")
    page.locator("#to-pay").click()

    expect(page.locator("h1")).to_have_text("料金を入れてください")
    expect(page.locator("#issue")).to_be_disabled()
    insert(page, 100)
    expect(page.locator("#short")).to_have_text("200円")
    insert(page, 1000)
    expect(page.locator("#paid")).to_have_text("1100円")
    expect(page.locator("#change")).to_have_text("800円")
    expect(page.locator("#issue")).to_be_enabled()
    expect(page.locator("#coin-100")).to_be_disabled()
    screenshot(page, "kiosk-pay")
    page.locator("#issue").click()

    expect(page.locator("h1")).to_have_text("証明書を発行しました")
    expect(page.locator("#change")).to_have_text("800円")
    page.wait_for_timeout(1500)  # let the PDF viewer draw
    screenshot(page, "kiosk-done")
    issued = CertificateIssue.objects.get()
    assert issued.channel == "kiosk" and issued.terminal.code == "KIOSK-01" and issued.fee == 300
    assert issued.person_ids == [household["ids"][0], household["ids"][2]]
    with page.expect_download() as info:
        page.locator("#download-pdf").click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    text = pdf_text(path.read_bytes())
    assert "青木太郎" in text and "青木一郎" in text and "青木花子" not in text and issued.number in text
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-singlefile", str(path), str(SCREENSHOTS / "kiosk-certificate")],
                   check=True)

    page.locator("#finish").click()
    expect(page.locator("h1")).to_have_text("カードをお取りください")
    screenshot(page, "kiosk-end")
    page.locator("#to-start").click()
    expect(page.locator("#begin")).to_be_visible()
    page.goto(live_url + "/kiosk/done/")  # the session is over
    expect(page.locator("#begin")).to_be_visible()


def test_a_seal_certificate_at_the_kiosk(page, live_url, kiosk, card, household, world, screenshot, tmp_path):
    from juki.seals.models import RegistrationMethod
    from juki.seals.services import seal_register
    from tests.seals.helpers import seal_png

    seal_register(actor=world, person_id=household["ids"][0], method=RegistrationMethod.IDENTITY_DOCUMENT,
                  image=seal_png(15), seal_text="青木", documents=["運転免許証"], seal_checked=True)
    enrol(page, live_url, kiosk)
    sign_in(page, card["number"])
    page.locator("#choose-seal").click()
    expect(page.locator(".summary")).to_contain_text("印鑑登録証明書")
    # 通数: two copies with ＋, the fee doubles.
    page.locator("#copies-more").click()
    expect(page.locator("#copies")).to_have_text("2通")
    expect(page.locator("#fee")).to_have_text("600円")
    screenshot(page, "kiosk-seal-confirm-copies")
    page.locator("#to-pay").click()
    insert(page, 500)
    insert(page, 500)
    page.locator("#issue").click()
    expect(page.locator("h1")).to_have_text("証明書を発行しました")
    expect(page.locator("#change")).to_have_text("400円")
    expect(page.locator(".lead")).to_contain_text("印鑑登録証明書を2通発行しました")
    page.wait_for_timeout(1500)
    screenshot(page, "kiosk-seal-done")
    first, second = CertificateIssue.objects.order_by("id")
    for issued in (first, second):
        assert issued.form == "seal_cert" and issued.channel == "kiosk" and issued.terminal.code == "KIOSK-01"
    for link, issued in (("#download-pdf", first), ("#download-pdf-2", second)):
        with page.expect_download() as info:
            page.locator(link).click()
        path = tmp_path / f"seal-{issued.number}.pdf"
        info.value.save_as(path)
        text = pdf_text(path.read_bytes())
        assert "印鑑登録証明書" in text and "青木太郎" in text and issued.number in text


def test_three_wrong_pins_lock_the_card_and_the_counter_sees_it(page, live_url, kiosk, card, household, clerk,
                                                              screenshot):
    enrol(page, live_url, kiosk)
    sign_in(page, card["number"], pin="1357")
    expect(page.locator("#error")).to_contain_text(kiosk_services.PIN_OR_CARD_WRONG)
    screenshot(page, "kiosk-pin-wrong")
    for pin in ("1358", "1359"):
        tap(page, pin)
        page.locator("#pin-ok").click()
    expect(page.locator("#end-message")).to_have_text(
        "暗証番号を3回誤ったため、このカードは利用できません。窓口へお越しください。")
    screenshot(page, "kiosk-locked")

    login(page, live_url, clerk)
    page.goto(live_url + f"/counter/cards/persons/{household['ids'][0]}/")
    ready(page)
    expect(page.locator("main")).to_contain_text("暗証番号ロック")
    screenshot(page, "kiosk-locked-counter")


def test_a_protected_resident_and_a_restriction_are_sent_to_the_counter(page, live_url, kiosk, world, household,
                                                                        support_user, supervisor, terminal, screenshot):
    victim = move_in_victim(world)
    victim_card = card_issue(actor=world, person_id=victim["mother"], pin=PIN)
    protection.support_register(actor=Actor(user=support_user, terminal=terminal), person_id=victim["mother"],
                                kind="dv", applied_on=dt.date.today(), offender=OFFENDER, members=[(victim["child"], "子")])
    enrol(page, live_url, kiosk)
    sign_in(page, victim_card["number"])
    page.locator("#choose-copy").click()
    expect(page.locator("#end-message")).to_have_text(REFUSED)
    expect(page.locator("main")).not_to_contain_text("支援措置")
    screenshot(page, "kiosk-refused")

    taro_card = card_issue(actor=world, person_id=household["ids"][0], pin=PIN)
    page.locator("#to-start").click()
    sign_in(page, taro_card["number"])
    page.locator("#choose-copy").click()
    page.get_by_text("本人のみ").click()
    page.locator("#next").click()
    page.locator("#to-pay").click()
    insert(page, 100, 100)
    protection.restriction_set(actor=Actor(user=supervisor, terminal=terminal), processes=[Process.CERTIFICATE],
                               reason="調査中", person_id=household["ids"][0], level=Level.ERROR)
    insert(page, 100)
    page.locator("#issue").click()
    expect(page.locator("#end-message")).to_have_text(REFUSED)
    expect(page.locator("#returned")).to_contain_text("入れたお金（300円）をお返しします")
    expect(page.locator("main")).not_to_contain_text("抑止")
    screenshot(page, "kiosk-refused-restriction")
    assert not CertificateIssue.objects.exists()


def test_the_idle_timer_returns_to_the_start(page, live_url, kiosk, card, settings, screenshot):
    settings.JUKI_KIOSK_IDLE_SECONDS = 2
    enrol(page, live_url, kiosk)
    sign_in(page, card["number"])
    expect(page.locator("h1")).to_have_text("証明書の種類を選んでください")
    expect(page.locator("#end-message")).to_have_text("一定時間操作がなかったため、手続きを終了しました。", timeout=6000)
    screenshot(page, "kiosk-timeout")


def _kiosk_state(page: Page) -> dict:
    from django.contrib.sessions.backends.db import SessionStore

    key = next(c["value"] for c in page.context.cookies() if c["name"] == "sessionid")
    return SessionStore(session_key=key).load()[access.STATE]


def test_a_second_tap_while_the_first_issue_runs_waits_and_then_shows_the_certificate(page, live_url, kiosk, card,
                                                                                       screenshot):
    enrol(page, live_url, kiosk)
    sign_in(page, card["number"])
    page.locator("#choose-copy").click()
    page.get_by_text("本人のみ").click()
    page.locator("#next").click()
    page.locator("#to-pay").click()
    insert(page, 500)
    # The first tap's request has claimed the payment and is still rendering the PDF.
    stand_in = KioskPayment.objects.create(token=_kiosk_state(page)["payment"], device=kiosk.device, amount=500, fee=300)
    page.locator("#issue").click()
    expect(page.locator("h1")).to_have_text("発行しています。しばらくお待ちください。")
    expect(page.locator("#quit")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text("お返しします")
    screenshot(page, "kiosk-issuing")
    page.wait_for_timeout(2500)  # a refresh or two: still waiting, the session is not ended
    expect(page.locator("h1")).to_have_text("発行しています。しばらくお待ちください。")
    # The first request finishes (played by the real view; its response goes nowhere, as in a double tap).
    stand_in.delete()
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    first = page.request.post(live_url + "/kiosk/issue/", headers={"X-CSRFToken": csrf, "Referer": live_url + "/kiosk/pay/"},
                              max_redirects=0)
    assert first.status == 302 and first.headers["location"] == "/kiosk/done/"
    expect(page.locator("h1")).to_have_text("証明書を発行しました", timeout=6000)  # the wait page's own refresh
    expect(page.locator("#change")).to_have_text("200円")
    issued = CertificateIssue.objects.get()
    assert KioskPayment.objects.get().issue_number == issued.number
