"""The 住基ネット連携 screens in a real Chromium, against a real CS and prefecture server on loopback:
the 本人確認情報管理責任者 sees the queue, works off a refused update (C14), and runs 整合性確認."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from juki.jukinet import services
from juki.jukinet.models import UpdateError
from juki.register.services import changes
from juki.register.services.people import Address

from ..conftest import days_ago, move_in_family
from ..network_fixtures import at_prefecture, codes_of, drain, net, until  # noqa: F401 (net: a fixture)
from ..register.helpers import href, ids, ref
from .counter_helpers import login, ready


def refused_move(world, net) -> tuple[int, int]:
    """A 転居 the CS refuses: its record of the head was changed directly, so the move changes the name too.
    Returns the head and the household."""
    family = move_in_family(world)
    head, wife, child = ids(family)
    drain(net)
    code = codes_of([head])[head]
    record = until(lambda: at_prefecture(net, code))["items"]
    net.s2().call("POST", "/updates", {"message_id": "direct-1", "kind": "update",
                                       "items": {**record, "name": "青木　太朗", "reason": "ex_officio_correction"}})
    changes.move_within_city(actor=world, event_date=days_ago(1), notified_on=None,
                             persons=[ref(head), ref(wife), ref(child)], address=Address("40106002000", "8番"))
    assert drain(net).rejected == 1
    return head, family.households[0]["id"]


def test_identity_manager_works_off_a_refused_update_and_checks_consistency(page, live_url, world, identity_manager,
                                                                            terminal, net, screenshot):
    head, household = refused_move(world, net)
    # A birth: J-LIS's number is recorded, and its 送付先情報 goes to the card management system.
    changes.birth(actor=world, event_date=days_ago(2), notified_on=days_ago(1),
                  child={"family_name": "青木", "given_name": "二郎", "sex": 1, "relationship": "子"},
                  destination=href(household))
    drain(net)
    assert services.answer_numbers(net.s2())["answered"] == 4
    drain(net)
    until(lambda: net.s2().call("GET", "/recipients")[1]["files"] and
          net.s2().call("GET", "/recipients")[1]["files"][0]["sent_at"])
    login(page, live_url, identity_manager, terminal.code)
    page.locator("header nav").get_by_role("link", name=re.compile("住基ネット")).click()
    ready(page)
    expect(page.locator("h1")).to_have_text("住基ネット連携の状況")
    expect(page.locator("#pending")).to_have_text(re.compile(r"\d+件"))
    expect(page.get_by_text("未処理の更新エラー")).to_contain_text("1件")
    screenshot(page, "jukinet-status")

    page.keyboard.press("Alt+2")
    ready(page)
    rows = page.locator("table.errors tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("漢字氏名：転居で住所以外の項目が変更されています。")
    screenshot(page, "jukinet-errors")
    page.get_by_label("理由").fill("CSの氏名の誤記を住民票のとおり訂正")
    page.get_by_role("button", name="住民票のとおり再送する").click()
    ready(page)
    expect(page.get_by_text("未処理の更新エラーはありません。")).to_be_visible()
    error = UpdateError.objects.get()
    assert (error.state, error.resolution, error.resolved_by_id) == ("resolved", "resent", identity_manager.id)
    code = codes_of([head])[head]
    until(lambda: (r := at_prefecture(net, code)) and r["items"]["name"] == "青木　太郎" and "魚町" in r["items"]["address"])

    page.keyboard.press("Alt+3")
    ready(page)
    until(lambda: net.s2().call("GET", "/status")[1]["pending"] == 0)
    page.get_by_role("button", name="都道府県サーバと照合する").click()
    ready(page)
    expect(page.locator("section.card h2").first).to_contain_text("4人中 相違 0人")
    expect(page.get_by_text(re.compile("相違はありません"))).to_be_visible()
    screenshot(page, "jukinet-consistency")

    page.keyboard.press("Alt+4")
    ready(page)
    files = net.s2().call("GET", "/recipients")[1]["files"]
    assert sum(f["count"] for f in files) == 4  # the family and the baby got their numbers
    expect(page.locator("#files-title")).to_contain_text(f"{len(files)}ファイル")
    expect(page.locator("table.list").first.locator("tbody tr").first).to_contain_text("年")  # sent, and due
    screenshot(page, "jukinet-recipients")


def test_a_clerk_has_no_jukinet_screens(page, live_url, clerk, terminal, net):
    login(page, live_url, clerk, terminal.code)
    expect(page.locator("header nav").get_by_role("link", name=re.compile("住基ネット"))).to_have_count(0)
    page.goto(live_url + "/jukinet/")
    expect(page.locator("h1")).to_have_text("権限がありません")


def test_identify_at_the_national_server_with_the_two_item_rule(page, live_url, world, identity_manager, terminal,
                                                                net, screenshot):
    move_in_family(world)
    drain(net)
    until(lambda: net.client("national").call("GET", "/status")[1]["records"] == 3, timeout=30)
    login(page, live_url, identity_manager, terminal.code)
    page.keyboard.press("Alt+n")
    ready(page)
    expect(page.locator("h1")).to_have_text("本人確認（全国サーバ）")
    page.get_by_label("氏名").fill("青木　花子")
    page.get_by_label("性別").select_option(label="女")
    page.get_by_role("button", name=re.compile("照会する")).click()
    ready(page)
    expect(page.get_by_text(re.compile("性別を除く2つ以上の情報"))).to_be_visible()
    page.goto(live_url + "/jukinet/identify/")
    page.get_by_label("氏名").fill("青木　花子")
    page.get_by_label("生年月日").fill("1987-06-02")
    page.get_by_role("button", name=re.compile("照会する")).click()
    ready(page)
    rows = page.locator("table.identify tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("青木　花子")
    expect(rows.first).to_contain_text("住民")
    assert "花子" not in page.url  # the question went in the body, not the address
    screenshot(page, "jukinet-identify")


def test_the_counter_records_a_my_number_card_at_the_card_management_system(page, live_url, world, clerk, terminal,
                                                                            net, screenshot):
    from ..conftest import person_input

    head = ids(move_in_family(world, members=[person_input(my_number="123456789018")]))[0]
    login(page, live_url, clerk, terminal.code)
    page.goto(f"{live_url}/counter/persons/{head}/")
    ready(page)
    screenshot(page, "person-my-number-links")
    page.get_by_role("link", name="個人番号カード").click()
    ready(page)
    expect(page.locator("#card-state")).to_have_text("なし")
    page.get_by_role("button", name="交付").click()
    ready(page)
    expect(page.locator("#card-state")).to_have_text("有効")
    expect(page.get_by_text("電子証明書のシリアル番号")).to_be_visible()
    page.get_by_role("button", name="一時停止の解除").click()  # not suspended: the system refuses, and says why
    ready(page)
    expect(page.get_by_text("カードが「有効」のため、一時停止の解除はできません。")).to_be_visible()
    page.go_back()
    page.reload()
    ready(page)
    page.get_by_role("button", name="一時停止", exact=True).click()
    ready(page)
    expect(page.locator("#card-state")).to_have_text("一時停止中")
    screenshot(page, "jukinet-card")


def test_a_clerk_takes_a_my_number_change_request_from_the_person_screen(page, live_url, world, clerk, terminal,
                                                                         screenshot):
    from juki.jukinet.models import NumberRequest

    from ..conftest import person_input

    head = ids(move_in_family(world, members=[person_input(my_number="123456789018")]))[0]
    login(page, live_url, clerk, terminal.code)
    page.goto(f"{live_url}/counter/persons/{head}/")
    ready(page)
    page.get_by_role("link", name=re.compile("変更請求")).click()
    ready(page)
    expect(page.locator("h1")).to_have_text("個人番号の変更請求")
    page.get_by_role("button", name=re.compile("変更請求を受け付ける")).click()  # no reason: refused, nothing recorded
    ready(page)
    expect(page.get_by_text(re.compile("変更請求の理由"))).to_be_visible()
    assert not NumberRequest.objects.exists()
    page.go_back()
    ready(page)
    page.get_by_label("変更請求の理由").fill("番号が漏えいし不正に用いられるおそれ")
    screenshot(page, "jukinet-my-number-change")
    page.get_by_role("button", name=re.compile("変更請求を受け付ける")).click()
    ready(page)
    expect(page.get_by_text("変更請求を受け付けました")).to_be_visible()
    assert NumberRequest.objects.get().kind == "change_request"
    assert "漏えい" not in page.url
