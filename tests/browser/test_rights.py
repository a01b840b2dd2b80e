"""Rights with a period (C03) in a real Chromium: an administrator applies for a right for a
clerk, the system's owning manager approves it, and the clerk then holds it."""
from __future__ import annotations

import datetime as dt
import re

from playwright.sync_api import Page, expect

from juki.accounts.models import Staff
from juki.accounts.permissions import Perm
from juki.audit.gate import Actor
from juki.rights import services
from juki.rights.models import RightApplication

from .counter_helpers import login as counter_login
from .counter_helpers import ready


def login(page: Page, live_url: str, user, terminal_code: str = "T-01") -> None:
    """Log in (the rights roles land on the rights screens: they have no search)."""
    counter_login(page, live_url, user, terminal_code, lands_on="権限申請の一覧")


def logout(page: Page) -> None:
    page.get_by_role("button", name="ログアウト").click()
    expect(page.locator("h1")).to_have_text("ログイン")


def fill_my_number_application(page: Page, *, user_pk: int, until: dt.date, applying_pk: int, using_pk: int) -> None:
    """From the rights screens: the application of 個人番号の表示 for one user, up to `until`."""
    page.get_by_role("link", name=re.compile("権限の申請")).click()
    expect(page.locator("h1")).to_have_text("権限の申請")
    page.get_by_label("利用者（職員）").select_option(str(user_pk))
    page.get_by_text("個別の権限を選ぶ").click()
    page.get_by_label("個人番号の表示", exact=True).check()
    page.get_by_label("利用期間（終了日）").fill(until.isoformat())
    page.get_by_label("業務名").fill("住民記録事務")
    page.get_by_label("業務概要").fill("窓口での個人番号カードの確認")
    page.get_by_label("利用目的").fill("転入届の際の個人番号の確認")
    page.get_by_label("根拠法令").fill("住民基本台帳法第30条の15")
    page.get_by_label("申請課").select_option(str(applying_pk))
    page.get_by_label("利用課").select_option(str(using_pk))


def test_apply_and_approve_a_right_with_a_period(page, live_url, rights_admin, manager, clerk, terminal, screenshot):
    admin = Actor(user=rights_admin, terminal=terminal, second_factor=True)
    owner = services.section_create(actor=admin, code="S-JUKI", name="市民課（システム所管）", is_system_owner=True)
    kokura = services.section_create(actor=admin, code="S-KOKURA", name="小倉北区役所 市民課")
    until = services.today() + dt.timedelta(days=30)
    assert Perm.MY_NUMBER_VIEW not in services.effective_perms(clerk)

    # 1. The administrator applies for 個人番号の表示 for the clerk, for 30 days.
    login(page, live_url, rights_admin)
    fill_my_number_application(page, user_pk=clerk.pk, until=until, applying_pk=owner.pk, using_pk=kokura.pk)
    screenshot(page, "rights-application-form")
    page.get_by_role("button", name=re.compile("申請する")).click()
    expect(page.locator("#application-state")).to_have_text("申請中")
    expect(page.get_by_text("申請者本人は承認できません")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("承認する"))).to_have_count(0)  # no self-approval
    number = RightApplication.objects.get().number
    logout(page)

    # 2. The manager finds it in the list awaiting approval and approves it with the keyboard.
    login(page, live_url, manager)
    row = page.locator("#awaiting tr", has_text=number)
    row.get_by_role("link", name="審査する").click()
    expect(page.locator("h1")).to_contain_text(number)
    ready(page)
    expect(page.get_by_text("個人番号の表示")).to_be_visible()
    screenshot(page, "rights-application-review")
    page.keyboard.press("Alt+k")
    expect(page.locator("#application-state")).to_have_text("承認")
    expect(page.locator("#grants")).to_contain_text(until.isoformat())

    # 3. The clerk now holds the right, until the end of the period only.
    clerk = Staff.objects.get(pk=clerk.pk)
    assert clerk.has_juki_perm(Perm.MY_NUMBER_VIEW)
    assert Perm.MY_NUMBER_VIEW not in services.effective_perms(clerk, on=until + dt.timedelta(days=1))

    # 4. The rights table lists it with the approver.
    page.get_by_role("link", name=re.compile("権限設定状況の一覧表")).click()
    table = page.locator("#rights-table")
    expect(table.locator("tr", has_text="個人番号の表示")).to_contain_text("manager1")
    expect(table.locator("tr", has_text="個人番号の表示")).to_contain_text(number)
    screenshot(page, "rights-table")


def test_rejection_needs_a_reason(page, live_url, rights_admin, manager, clerk, terminal):
    admin = Actor(user=rights_admin, terminal=terminal, second_factor=True)
    owner = services.section_create(actor=admin, code="S-JUKI", name="市民課", is_system_owner=True)
    application = services.application_submit(
        actor=admin, perms=[Perm.RESTRICTION_MANAGE], valid_from=services.today(),
        valid_until=services.today() + dt.timedelta(days=5), business_name="x", business_outline="x", purpose="x",
        legal_basis="x", applying_section=owner, using_section=owner, target_user=clerk)
    login(page, live_url, manager)
    page.goto(f"{live_url}/rights/applications/{application.id}/")
    ready(page)
    page.get_by_label("却下の理由").fill("利用目的を具体的に記載してください")
    page.get_by_role("button", name=re.compile("却下する")).click()
    expect(page.locator("#application-state")).to_have_text("却下")
    expect(page.get_by_text("利用目的を具体的に記載してください")).to_be_visible()
