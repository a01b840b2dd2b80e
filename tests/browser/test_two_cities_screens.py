"""The screens of Juki-net II in a real Chromium (issue 15): a clerk of 北九州市 (this test's register, its
CS a process) takes a family from 福岡市 (its register, CS and link each a process) by 特例転入, from the
card and its PIN to the pre-filled 転入; the 転入通知 that could not be taken and the 転入通知未着者 lists."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from juki.core import clock
from juki.jukinet import messages
from juki.jukinet.models import Received
from juki.register.services import changes

from ..conftest import days_ago, move_in_family
from ..jukinet.test_messages import Inbox
from ..network_fixtures import cities, net  # noqa: F401 (fixtures)
from ..register.helpers import ids, ref
from .counter_helpers import login, ready

PIN = "2580"
UOMACHI = "小倉北区魚町一丁目（40106002000）"


def test_a_clerk_takes_a_family_in_by_special_move_in(page, live_url, world, clerk, terminal, net, cities, screenshot):
    left = cities.drive("family_leaves", pin=PIN, destination="福岡県北九州市小倉北区魚町一丁目8番")
    login(page, live_url, clerk, terminal.code)
    page.locator("header nav").get_by_role("link", name=re.compile("特例転入")).click()
    ready(page)
    expect(page.locator("h1")).to_have_text("特例転入（個人番号カードによる転入）")
    screenshot(page, "special-move-in-start")
    page.get_by_label("個人番号カードのカード番号（12桁）").fill(left["card_number"])
    page.get_by_label("暗証番号（数字4桁。本人が入力します）").fill("0000")
    page.get_by_role("button", name=re.compile("転出証明書情報を求める")).click()
    ready(page)
    expect(page.locator(".field .error")).to_contain_text("暗証番号が違います（あと2回")
    page.get_by_label("個人番号カードのカード番号（12桁）").fill(left["card_number"])
    page.get_by_label("暗証番号（数字4桁。本人が入力します）").fill(PIN)
    page.get_by_role("button", name=re.compile("転出証明書情報を求める")).click()
    ready(page)
    assert left["card_number"] not in page.url and PIN not in page.url
    rows = page.locator("table.transfer tbody tr")
    expect(rows).to_have_count(2, timeout=30_000)  # the screen asks again until 福岡市's CS has answered
    expect(rows.first).to_contain_text("松尾　健一")
    expect(rows.first).to_contain_text("記載あり")
    expect(page.locator("#transfer")).to_contain_text("福岡市（401307）")
    screenshot(page, "special-move-in-certificates")

    page.get_by_role("link", name=re.compile("この内容で転入届を入力する")).click()
    ready(page)
    expect(page.locator("h1")).to_have_text("異動入力（転入）")
    expect(page.locator("#person-1")).to_contain_text("転出証明書情報（特例転入）から入力しています")
    expect(page.locator("#id_p0-family_name")).to_have_value("松尾")
    expect(page.locator("#id_p1-given_name")).to_have_value("由香")
    expect(page.locator("#id_p0-resident_code")).to_have_value(left["resident_code"])
    expect(page.get_by_label("転入前住所", exact=True)).to_have_value(re.compile("^福岡県福岡市"))
    expect(page.locator("#id_previous_municipality_code")).to_have_value("401307")
    page.get_by_label("異動日").fill(days_ago(0).strftime("%Y-%m-%d"))
    page.get_by_label("町字（カナ・漢字で候補）").fill(UOMACHI)
    page.get_by_label("番地").fill("8番")
    screenshot(page, "special-move-in-form")
    page.get_by_role("button", name=re.compile("確認画面へ")).click()
    expect(page.locator("h1")).to_have_text("確認（転入）")
    expect(page.locator("body")).to_contain_text("福岡市（401307）")  # the 転出地, where the 転入通知 goes
    expect(page.locator("body")).to_contain_text(left["resident_code"])
    screenshot(page, "special-move-in-confirm")


def test_the_move_in_notices_not_taken_and_the_missing_ones_are_listed(page, live_url, world, supervisor, terminal,
                                                                       screenshot):
    family = ids(move_in_family(world))
    changes.move_out(actor=world, event_date=days_ago(20), notified_on=days_ago(20), persons=[ref(p) for p in family],
                     destination_address="東京都千代田区千代田1番")
    messages.pull(Inbox([{"id": 1, "sender": "401307", "kind": "move_in_notice", "message_id": "x", "body": {
        "resident_code": "51234567890", "name": "加藤　一郎", "birth_date": "1970-01-01",
        "moved_on": days_ago(2).isoformat(), "address": "福岡県福岡市東区箱崎一丁目2番"}}]), None)
    login(page, live_url, supervisor, terminal.code)
    page.goto(live_url + "/jukinet/received/")
    ready(page)
    rows = page.locator("table.received tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("加藤　一郎")
    expect(rows.first).to_contain_text("福岡市")
    expect(rows.first).to_contain_text("該当者なし")
    screenshot(page, "received-move-in-notices")
    page.get_by_label("処理の内容").fill("転出者ではないため福岡市に返戻")
    page.get_by_role("button", name="処理済みにする").click()
    ready(page)
    expect(page.get_by_text("該当する通知はありません。")).to_be_visible()
    assert Received.objects.get().state == Received.State.CLOSED

    page.keyboard.press("Alt+6")
    ready(page)
    expect(page.locator("h1")).to_have_text("転入通知未着者一覧")
    rows = page.locator("table.missing tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("東京都千代田区千代田1番")
    # The days since the move-out as the city counts them today: days_ago counts from the day the suite
    # was collected, and a run that crosses midnight (Japan's, 15:00 UTC) is a day on by now.
    expect(rows.first).to_contain_text(f"{(clock.today() - days_ago(20)).days}日")
    screenshot(page, "notice-missing")
    with page.expect_response(re.compile(r"inquiry\.pdf")) as response:
        rows.first.get_by_role("link", name="照会書（PDF）").click()
    assert response.value.headers["content-type"] == "application/pdf"


def test_a_supervisor_checks_a_moj_notice_and_applies_it(page, live_url, world, supervisor, terminal, screenshot):
    from ..register.helpers import person
    from ..register.test_entries import FOREIGN
    from juki.register.services.people import Address

    from ..conftest import KOKURA_JOUNAI

    (nguyen,) = ids(changes.foreign_move_in(actor=world, event_date=days_ago(30), notified_on=days_ago(30),
                                            persons=[FOREIGN], destination=changes.NEW,
                                            address=Address(KOKURA_JOUNAI, "5番"), previous_address=""))
    messages.pull(Inbox([
        {"id": 1, "sender": "moj", "kind": "immigration_notice", "message_id": "n-1", "body": {
            "kind": "change", "residence_card_number": "AB12345678CD", "name": "NGUYEN VAN AN", "birth_date": "1995-03-03",
            "sex": "1", "period_of_stay": "3年", "stay_expires_on": "2033-03-31", "event_date": days_ago(1).isoformat()}},
        {"id": 2, "sender": "moj", "kind": "immigration_notice", "message_id": "n-2", "body": {
            "kind": "change", "residence_card_number": "ZZ00000000ZZ", "name": "SOMEONE ELSE", "birth_date": "1990-01-01",
            "sex": "2", "period_of_stay": "1年"}}]), None)
    login(page, live_url, supervisor, terminal.code)
    page.goto(live_url + "/jukinet/received/?kind=immigration_notice")
    ready(page)
    rows = page.locator("table.received tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("table.received")).to_contain_text("該当者なし")
    expect(page.locator("table.received")).to_contain_text("法務省")
    screenshot(page, "moj-notices")
    page.get_by_role("link", name="住民票と照合して反映する").click()
    ready(page)
    expect(page.locator("h1")).to_have_text("法務省通知の確認")
    compare = page.locator("table.compare")
    expect(compare).to_contain_text("在留期間")
    expect(compare).to_contain_text("5年")
    expect(compare).to_contain_text("3年")
    expect(compare).to_contain_text("2033年3月31日")
    screenshot(page, "moj-notice-check")
    page.get_by_role("button", name=re.compile("確認して反映する")).click()
    ready(page)
    expect(page.locator("h1")).to_have_text("登録しました")
    assert person(nguyen)["foreign"]["period_of_stay"] == "3年"


def test_a_clerk_issues_a_copy_for_a_resident_of_another_city(page, live_url, world, clerk, terminal, net, cities,
                                                              screenshot):
    """広域交付 at 北九州市's counter for a resident of 福岡市 (its register, CS and link are processes)."""
    from juki.audit.models import AccessLog
    from juki.certificates.models import CertificateIssue

    from ..network_fixtures import until

    holder = cities.drive("resident_with_card", pin=PIN)
    login(page, live_url, clerk, terminal.code)
    page.locator("header nav").get_by_role("link", name=re.compile("広域交付")).click()
    ready(page)
    expect(page.locator("h1")).to_have_text("広域交付（住民票の写し）")
    page.get_by_label("個人番号カードのカード番号（12桁）").fill(holder["card_number"])
    page.get_by_label("暗証番号（数字4桁。本人が入力します）").fill(PIN)
    page.get_by_label("世帯主の氏名・続柄").check()
    screenshot(page, "wide-area-request")
    page.get_by_role("button", name=re.compile("住所地に照会する")).click()
    ready(page)
    rows = page.locator("table.wide-area tbody tr")
    expect(rows).to_have_count(1, timeout=30_000)
    expect(rows.first).to_contain_text(holder["name"])
    expect(page.locator("#wide-area")).to_contain_text("福岡県福岡市（401307）")
    screenshot(page, "wide-area-answer")
    page.get_by_label("請求者の氏名").fill(holder["name"])
    # The PDF opens in a tab of its own, so the clerk keeps the screen (its text: test_two_cities).
    with page.context.expect_page() as tab:
        page.get_by_role("button", name=re.compile("住民票の写しを交付する")).click()
    tab.value.wait_for_load_state()
    issue = until(lambda: CertificateIssue.objects.filter(form="copy").first())
    assert (issue.operator_id, issue.person_ids) == (clerk.id, [])  # none of this register's persons
    log = AccessLog.objects.get(function="certificate.wide_area")
    assert log.criteria["wide_area_from"] == "福岡県福岡市" and log.criteria["items"] == ["head_and_relationship"]
