"""北九州市民カード at the counter, in a real Chromium: issue a card (PIN typed twice), suspend it
after a reported loss, then reissue it under a new number."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from juki.audit import gate
from juki.audit.gate import Actor
from juki.cards.models import Card, CardState
from tests.conftest import move_in_family

from .counter_helpers import login, ready, search
from tests.helpers import TEST_ACTOR


@pytest.fixture
def residents(world):
    return move_in_family(world)


def cards() -> list[Card]:
    with gate.open(TEST_ACTOR, function="test.card", perm="card.manage"):
        return list(Card.objects.order_by("id"))


def test_clerk_issues_suspends_and_reissues_a_card(page, live_url, clerk, residents, screenshot):
    login(page, live_url, clerk)
    search(page, name="ｱｵｷ ﾀﾛｳ", birth_date="S60.4.1")
    page.locator("a.row-link").first.press("Enter")
    expect(page.locator("h1")).to_have_text("住民票の照会")
    ready(page)
    page.locator("#card-link").click()
    expect(page.locator("h1")).to_have_text("北九州市民カード")
    ready(page)
    assert re.search(r"/counter/cards/persons/\d+/$", page.url)  # an internal id only
    expect(page.locator("#issue-h")).to_have_text("カードの交付")
    screenshot(page, "cards-counter-new")

    # The PINs typed differently: refused, nothing issued, the PIN fields empty again.
    form = page.locator("#issue-form")
    form.get_by_label("確認した本人確認書類").fill("運転免許証")
    form.get_by_label("暗証番号（数字4桁）").fill("2580")
    form.get_by_label("暗証番号（確認のためもう一度）").fill("2581")
    form.get_by_role("button", name="カードを交付する").click()
    expect(page.locator("#form-error")).to_have_text("確認のため入力した暗証番号が一致しません。もう一度入力してください。")
    assert cards() == []
    form = page.locator("#issue-form")
    expect(form.get_by_label("暗証番号（数字4桁）")).to_have_value("")
    expect(form.get_by_label("確認した本人確認書類")).to_have_value("運転免許証")
    assert form.get_by_label("暗証番号（数字4桁）").get_attribute("type") == "password"
    screenshot(page, "cards-counter-pin-mismatch")

    form.get_by_label("暗証番号（数字4桁）").fill("2580")
    form.get_by_label("暗証番号（確認のためもう一度）").fill("2580")
    form.get_by_role("button", name="カードを交付する").click()
    expect(page.locator("#done")).to_have_text("市民カードを交付しました。カード番号を本人に確かめてもらい、カードをお渡しください。")
    (card,) = cards()
    expect(page.locator("#live-number")).to_have_text(card.number)
    expect(page.locator("#live-state")).to_have_text("利用中")
    screenshot(page, "cards-counter-issued")

    # Reported lost by phone: 一時停止.
    page.locator("#step-suspend > summary").click()
    page.locator("#step-suspend").get_by_label("一時停止の理由").fill("紛失の届出（電話）")
    page.locator("#step-suspend").get_by_role("button", name="一時停止する").click()
    expect(page.locator("#done")).to_have_text("カードを一時停止しました。")
    expect(page.locator("#live-state")).to_have_text("一時停止")
    assert cards()[0].state == CardState.SUSPENDED
    screenshot(page, "cards-counter-suspended")

    # Not found: 再交付 with a new number and PIN; the old card is abolished.
    page.locator("#step-reissue > summary").click()
    step = page.locator("#step-reissue")
    step.get_by_label("再交付の理由").select_option(label="紛失")
    step.get_by_label("確認した本人確認書類").fill("運転免許証")
    step.get_by_label("暗証番号（数字4桁）").fill("4713")
    step.get_by_label("暗証番号（確認のためもう一度）").fill("4713")
    screenshot(page, "cards-counter-reissue-form")
    step.get_by_role("button", name="再交付する").click()
    expect(page.locator("#done")).to_have_text("新しいカードを再交付しました。元のカードは廃止されました。")
    old, new = cards()
    assert old.state == CardState.ABOLISHED and old.end_reason == "reissue"
    assert new.state == CardState.ACTIVE and new.reissue_of_id == old.pk and new.number != old.number
    expect(page.locator("#live-number")).to_have_text(new.number)
    history = page.locator("section[aria-labelledby=hist-h]")
    expect(history).to_contain_text(old.number)
    expect(history).to_contain_text("再交付（紛失）")
    expect(history).to_contain_text("紛失の届出（電話）")
    screenshot(page, "cards-counter-reissued")


def test_locked_card_is_unlocked_at_the_counter_with_a_new_pin(page, live_url, clerk, world, residents, screenshot):
    from juki.cards import services
    from juki.core.errors import DomainError, ErrorCode

    head = residents.persons[0]["id"]
    card = services.card_issue(actor=world, person_id=head, pin="2580")
    kiosk = Actor.device("kiosk:TEST", frozenset({"certificate.issue"}))
    for code in (ErrorCode.CARD_PIN_WRONG, ErrorCode.CARD_PIN_WRONG, ErrorCode.CARD_LOCKED):  # the third locks it
        with pytest.raises(DomainError) as err:
            services.card_authenticate(actor=kiosk, number=card["number"], pin="1357")
        assert err.value.code == code
    login(page, live_url, clerk)
    page.goto(f"{live_url}/counter/cards/persons/{head}/")
    ready(page)
    expect(page.locator("#live-state")).to_have_text("暗証番号ロック")
    step = page.locator("#step-unlock")
    expect(step).to_have_attribute("open", "")  # the one thing to do is open already
    screenshot(page, "cards-counter-locked")
    step.get_by_label("確認した本人確認書類").fill("マイナンバーカード")
    step.get_by_label("新しい暗証番号（数字4桁）").fill("4713")
    step.get_by_label("新しい暗証番号（確認のためもう一度）").fill("4713")
    step.get_by_role("button", name="ロックを解除する").click()
    expect(page.locator("#done")).to_have_text("新しい暗証番号を設定しました。カードは利用できる状態です。")
    expect(page.locator("#live-state")).to_have_text("利用中")
    assert services.card_authenticate(actor=kiosk, number=card["number"], pin="4713").person_id == head
