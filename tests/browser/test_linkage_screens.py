"""The 庁内連携 and 宛名検索 screens in a real Chromium: the 連携運用担当 applies for a destination's items, the
システム所管課長 approves, the operator starts it; the delivery state (sent, waiting on a stopped receiver,
a file, a refused media output); and the 宛名検索 with its 2-item rule, a 名寄せ and its undo by a 係長."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from juki.accounts.models import Terminal
from juki.atena import services as atena
from juki.atena.models import AtenaPerson, Merge, SystemNumber
from juki.audit.gate import Actor
from juki.core import clock
from juki.core.wareki import to_wareki
from juki.linkage import approvals, engine
from juki.linkage.models import Approval, Delivery, MediaOutput
from juki.register.services import changes
from juki.register.services.people import Address

from ..conftest import _staff, days_ago, move_in_family
from ..helpers import TEST_ACTOR
from ..linkage.conftest import linkage, linkage_pki  # noqa: F401 (fixtures)
from ..register.helpers import ids, ref
from ..register.test_moves import UOMACHI
from .conftest import DEFAULT_TIMEOUT_MS, VIEWPORT
from .counter_helpers import login, ready

NO_HOME = "庁内連携"  # the operator's first screen (menu.Home of linkage)


@pytest.fixture
def operator(db):
    return _staff("linkage_operator", "ope1")


@pytest.fixture
def terminal2(db):
    # A second login on the same terminal would end the first session (C01).
    return Terminal.objects.create(code="T-02", name="窓口2", location="情報政策課")


def other_page(browser) -> Page:
    """A second person at another desk: a context of its own, like the `page` fixture's."""
    context = browser.new_context(viewport=VIEWPORT, locale="ja-JP", timezone_id="Asia/Tokyo")
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    context.set_default_navigation_timeout(DEFAULT_TIMEOUT_MS)
    return context.new_page()


def open_destination(page: Page, live_url: str, name: str) -> None:
    page.goto(live_url + "/linkage/")
    ready(page)
    page.get_by_role("link", name=name, exact=True).click()
    ready(page)
    expect(page.locator("#d-h")).to_contain_text(name)


def approval_row(page: Page, approval: Approval):
    return page.locator(f"#approval-{approval.id}")


# --- 1. applications ---------------------------------------------------------------------------------


def test_an_operator_applies_a_manager_approves_and_the_operator_starts_it(page, browser, live_url, linkage, operator,
                                                                           manager, terminal, terminal2, screenshot):
    login(page, live_url, operator, terminal.code, lands_on=NO_HOME)
    page.locator("header nav").get_by_role("link", name=re.compile("庁内連携")).click()
    ready(page)
    rows = page.locator("table.destinations tbody tr[id^=row-]")
    expect(rows).to_have_count(17)
    for i in range(17):
        expect(rows.nth(i)).to_contain_text("利用中")
    screenshot(page, "linkage-destinations")

    page.get_by_role("link", name="税制課（地方税）", exact=True).click()
    ready(page)
    before = Approval.objects.get(destination="tax", state=Approval.State.ACTIVE)
    expect(approval_row(page, before)).to_contain_text("利用中")
    # A refused application: the period ends before it starts. The error is at the field, nothing is made.
    starts, ends = clock.today(), clock.today() + dt.timedelta(days=365)
    page.get_by_text("新しい利用申請を作成する").click()
    page.get_by_label("利用開始日").fill(to_wareki(starts))
    page.get_by_label("利用終了日").fill(to_wareki(starts - dt.timedelta(days=1)))
    page.get_by_role("button", name="申請する").click()
    ready(page)
    expect(page.locator("#f-ends_on .error")).to_have_text("利用終了日は利用開始日以降の日にしてください。")
    assert Approval.objects.filter(destination="tax").count() == 1
    screenshot(page, "linkage-application-refused")

    # The application: fewer items than the registry's, for a period.
    form = page.locator("form.application")
    for label in ("通称", "転出先住所", "転入前住所"):
        form.get_by_label(label, exact=True).uncheck()
    page.get_by_label("利用終了日").fill(to_wareki(ends))
    page.get_by_label("備考").fill("通称・転入前住所・転出先住所は使わないため外す")
    screenshot(page, "linkage-application-form")
    page.get_by_role("button", name="申請する").click()
    ready(page)
    applied = Approval.objects.get(destination="tax", state=Approval.State.APPLIED)
    assert (applied.applied_by, applied.starts_on, applied.ends_on) == (operator, starts, ends)
    assert not {"alias_name", "previous_address", "move_out_address"} & set(applied.items)
    assert len(applied.items) == len(before.items) - 3
    row = approval_row(page, applied)
    expect(row).to_contain_text("申請中")
    expect(row).to_contain_text("承認待ち")
    expect(row.locator(".excluded span")).to_have_text(["通称", "転入前住所", "転出先住所"])
    expect(page.get_by_role("button", name="承認する")).to_have_count(0)  # the applicant never approves
    screenshot(page, "linkage-applied")

    # The manager approves it at another desk.
    boss = other_page(browser)
    try:
        login(boss, live_url, manager, terminal2.code, lands_on="権限申請の一覧")
        open_destination(boss, live_url, "税制課（地方税）")
        screenshot(boss, "linkage-approval-waiting")
        approval_row(boss, applied).get_by_role("button", name="承認する").click()
        ready(boss)
        expect(approval_row(boss, applied)).to_contain_text("承認済み")
        expect(boss.get_by_role("button", name="利用を開始する")).to_have_count(0)  # starting is the operator's
        screenshot(boss, "linkage-approved-by-manager")
    finally:
        boss.context.close()
    applied.refresh_from_db()
    assert applied.decided_by == manager and applied.state == Approval.State.APPROVED

    page.reload()
    ready(page)
    asked = []
    page.once("dialog", lambda d: (asked.append(d.message), d.accept()))
    approval_row(page, applied).get_by_role("button", name="利用を開始する").click()
    ready(page)
    expect(approval_row(page, applied)).to_contain_text("利用中")
    expect(approval_row(page, before)).to_contain_text("終了")
    assert asked == [f"{applied.number} の利用を開始します。利用中の {before.number} は終了します。よろしいですか。"]
    screenshot(page, "linkage-started")
    applied.refresh_from_db()
    before.refresh_from_db()
    assert (applied.state, before.state) == (Approval.State.ACTIVE, Approval.State.ENDED)


# --- 2. deliveries -----------------------------------------------------------------------------------


def _at(day: dt.date, hour: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 30)))


def test_the_delivery_state_a_waiting_delivery_a_file_and_a_refused_media_output(page, live_url, linkage, world,
                                                                                 operator, terminal, screenshot):
    family = move_in_family(world)
    head, wife, child = ids(family)
    assert engine.run_once("tax").sent == [1]  # the start: the initial full
    changes.move_within_city(actor=world, event_date=days_ago(2), notified_on=days_ago(1),
                             persons=[ref(head), ref(wife), ref(child)], address=Address(UOMACHI, "8番"))
    assert engine.run_once("tax").sent == [2]
    login(page, live_url, operator, terminal.code, lands_on=NO_HOME)
    open_destination(page, live_url, "税制課（地方税）")
    expect(page.locator("#delivery-2")).to_contain_text("送信済み")
    expect(page.locator("#delivery-2 td").first).to_have_text("2")
    screenshot(page, "linkage-delivered")

    # The tax system is down: the next change waits, and the screen says why.
    linkage.stop("tax")
    changes.ex_officio_correction(actor=world, event_date=days_ago(0), person=ref(child), changes={"given_name": "一朗"})
    outcome = engine.run_once("tax")
    assert outcome.collected == [3] and outcome.sent == [] and outcome.error
    page.reload()
    ready(page)
    waiting = page.locator("#delivery-3")
    expect(waiting).to_contain_text("送信待ち")
    expect(waiting.locator("small").first).to_contain_text("送信先に接続できません")
    expect(waiting).to_contain_text("接続できるようになると自動で送信します")
    expect(page.locator("#d-h + table")).to_contain_text("送信待ち 1件")
    screenshot(page, "linkage-waiting")
    # A re-send from the last position checked has nothing to send: said at the field, nothing made.
    page.get_by_text("連携先がデータを失ったとき（再送）").click()
    # The position last checked (event ids go on from earlier tests in the same database).
    page.get_by_label("この位置の後から").fill(str(engine.outbox.outbox_cursor("tax")))
    page.get_by_role("button", name="この位置の後から再送する").click()
    ready(page)
    expect(page.locator("#f-after .error")).to_have_text("この位置の後に、再送する異動はありません。", timeout=15_000)
    assert Delivery.objects.filter(destination="tax").count() == 3
    screenshot(page, "linkage-resend-refused")
    page.get_by_role("link", name="連携先の一覧").click()
    ready(page)
    expect(page.locator("#row-tax td").nth(5)).to_have_text("1件")
    expect(page.locator("#row-tax + tr.row-error")).to_contain_text("送信先に接続できません")
    screenshot(page, "linkage-destinations-waiting")

    # A monthly file destination: the month's full file on the 1st.
    first_of_next = (timezone.localdate().replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    assert engine.run_once("public-housing", now=_at(first_of_next, 3)).sent == [1]
    name = Delivery.objects.get(destination="public-housing").file_name
    assert name.endswith(".dat")
    open_destination(page, live_url, "住宅管理課（公営住宅）")
    expect(page.locator("#delivery-1")).to_contain_text(name)
    expect(page.locator("#delivery-1")).to_contain_text("送信済み")
    screenshot(page, "linkage-file")
    # No approved media request: the output is refused, in Japanese, and nothing is recorded.
    page.locator("#delivery-1").get_by_role("button", name="媒体に出力する").click()
    ready(page)
    expect(page.get_by_role("alert").filter(has_text="承認された媒体出力の申請書がありません")).to_be_visible()
    assert not MediaOutput.objects.exists()
    screenshot(page, "linkage-media-refused")


# --- 3. 宛名検索 and 名寄せ ---------------------------------------------------------------------------------


def test_atena_search_merge_and_undo(page, browser, live_url, world, operator, supervisor, terminal, terminal2,
                                     screenshot):
    head = ids(move_in_family(world))[0]
    atena.load()
    approvals.demo_approvals(TEST_ACTOR)  # tax's application in force: it may register a 住登外者 (C16)
    outside = atena.register_non_resident(Actor.system_actor("tax"), system_number="T-9", name="青木　太郎",
                                          name_kana="アオキタロウ", birth_date=dt.date(1985, 4, 1),
                                          address="福岡県福岡市博多区博多駅前二丁目1番1号")["unified_number"]
    resident = AtenaPerson.objects.get(person_id=head)

    login(page, live_url, operator, terminal.code, lands_on=NO_HOME)
    page.locator("header nav").get_by_role("link", name=re.compile("宛名検索")).click()
    ready(page)
    page.get_by_label("氏名（カナ可）").fill("アオキ　タロウ")
    page.get_by_role("button", name=re.compile("検索")).click()
    ready(page)
    expect(page.get_by_text("氏名（カナ可）に加えて、生年月日か住所のどちらかを入力してください（2項目以上）。")).to_be_visible()
    expect(page.locator("#results")).to_have_count(0)
    screenshot(page, "atena-search-refused")

    page.get_by_label("生年月日").fill("昭和60年4月1日")
    page.get_by_role("button", name=re.compile("検索")).click()
    ready(page)
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(2)  # the resident and the tax system's 住登外 namesake
    expect(rows.filter(has_text="住登外")).to_contain_text(outside)
    screenshot(page, "atena-search-results")

    page.get_by_role("link", name=resident.number).click()
    ready(page)
    expect(page.locator("#atena-h")).to_contain_text(resident.number)
    page.get_by_label("同一人とする統一識別番号").fill(outside)
    page.get_by_label("理由").fill("住登外の課税者が転入していた（氏名・生年月日・前住所が一致）")
    screenshot(page, "atena-person-merge-form")
    page.get_by_role("button", name="名寄せする").click()
    ready(page)
    merge = Merge.objects.get()
    assert (merge.survivor, merge.absorbed.number, merge.by) == (resident, outside, operator)
    assert SystemNumber.objects.get(system="tax", number="T-9").person == resident
    expect(page.locator(f"#merge-{merge.id}")).to_contain_text(outside)
    expect(page.locator(f"#merge-{merge.id}")).to_contain_text("係長が取り消せます")
    expect(page.get_by_role("button", name="名寄せを取り消す")).to_have_count(0)  # the operator may not undo
    screenshot(page, "atena-merged")

    sup = other_page(browser)
    try:
        login(sup, live_url, supervisor, terminal2.code)
        sup.goto(f"{live_url}/atena/{resident.pk}/")
        ready(sup)
        sup.get_by_label("取消しの理由").fill("別人と判明（生年月日の誤登録）")
        screenshot(sup, "atena-merge-undo-form")
        sup.once("dialog", lambda d: d.accept())
        sup.get_by_role("button", name="名寄せを取り消す").click()
        ready(sup)
        expect(sup.locator(f"#merge-{merge.id}")).to_contain_text("取消し済み")
        expect(sup.locator(f"#merge-{merge.id}")).to_contain_text("別人と判明")
        screenshot(sup, "atena-merge-undone")
    finally:
        sup.context.close()
    merge.refresh_from_db()
    assert merge.undone_by == supervisor and merge.undo_reason.startswith("別人と判明")
    assert AtenaPerson.objects.get(number=outside).merged_into is None
    assert SystemNumber.objects.get(system="tax", number="T-9").person.number == outside
