"""The README's tour on the demo city (issue 12), in a real Chromium: the demo set up by the same
commands `./scripts/demo` runs, its staff with the passwords they print, a 転居 entered, reviewed
and approved, then a right applied for (with the demo's 所属) and approved."""
from __future__ import annotations

import datetime as dt
import io
import re

from django.core.management import call_command
from playwright.sync_api import Page, expect

from juki.accounts.models import Staff
from juki.accounts.permissions import Perm
from juki.audit import gate
from juki.register.models import Person, PersonVersion, Status
from juki.rights import services as rights
from juki.rights.models import RightApplication, Section

from .counter_helpers import login, ready
from .test_counter_entry import fill_move
from .test_rights import fill_my_number_application
from tests.helpers import TEST_ACTOR


def _demo_staff() -> dict[str, Staff]:
    """Run the demo's set-up commands and take each user's password from what they print."""
    call_command("demo_setup", persons=300, stdout=io.StringIO())
    out = io.StringIO()
    call_command("demo_staff", stdout=out)
    users = {}
    for line in out.getvalue().splitlines():
        m = re.match(r"\s+(demo-[\w-]+)\s+\S+\s+(\S+)$", line)
        if m:
            user = Staff.objects.get(username=m.group(1))
            user.plain_password = m.group(2)
            users[m.group(1)] = user
    return users


def _logout(page: Page) -> None:
    page.get_by_role("button", name="ログアウト").click()
    expect(page.locator("h1")).to_have_text("ログイン")


def test_the_readme_tour_on_the_demo_city(page, live_url, screenshot):
    staff = _demo_staff()
    assert {"demo-clerk", "demo-supervisor", "demo-admin", "demo-manager"} <= set(staff)
    with gate.open(TEST_ACTOR, function="test", perm=Perm.PERSON_VIEW):
        person = Person.objects.filter(status=Status.RESIDENT, household__isnull=False).order_by("id").first()
        atena, household = person.atena_number, person.household_id
        members = Person.objects.filter(household_id=household, status=Status.RESIDENT).count()

    # 1–3. The clerk finds a resident by 宛名番号 alone, opens the 住民票 and enters a 転居.
    login(page, live_url, staff["demo-clerk"], "DEMO-01")
    form = page.locator("form.search")
    form.get_by_label("宛名番号", exact=True).fill(atena.lstrip("0"))  # typed without the leading zeros
    form.get_by_label("宛名番号", exact=True).press("Enter")
    page.locator("a.row-link").first.click()
    expect(page.locator("h1")).to_have_text("住民票の照会")
    page.get_by_role("link", name="転居", exact=True).first.click()
    expect(page.locator("h1")).to_have_text("異動入力（転居）")
    ready(page)
    fill_move(page, event="R8.11.20", notified="R8.11.21", banchi="9番9号")
    page.get_by_label("届出人の氏名").fill("届出　太郎")
    page.keyboard.press("Alt+k")
    expect(page.locator("h1")).to_have_text("確認（転居）")
    expect(page.locator("#entry-items")).to_contain_text("令和8年11月20日")
    ready(page)
    page.keyboard.press("Alt+k")
    expect(page.locator("#pending-state")).to_have_text("審査待ち（仮登録）")
    _logout(page)

    # 4. The supervisor (one-time password) reviews and approves it.
    login(page, live_url, staff["demo-supervisor"], "DEMO-01")
    page.keyboard.press("Alt+r")
    expect(page.locator("h1")).to_have_text("審査待ち一覧（仮登録）")
    page.get_by_role("link", name="審査する").first.click()
    expect(page.locator("#entry-items")).to_contain_text("令和8年11月21日")
    ready(page)
    page.keyboard.press("Alt+k")
    expect(page.locator("#done-message")).to_contain_text("転居を登録しました")
    expect(page.locator("#done-message")).to_contain_text("入力: 窓口 花子")  # names, not ids
    screenshot(page, "tour-move-approved")
    with gate.open(TEST_ACTOR, function="test", perm=Perm.PERSON_VIEW):
        assert PersonVersion.objects.filter(banchi="9番9号", person__household_id=household).count() == members
    _logout(page)

    # Rights: demo-admin applies for 個人番号の表示 for demo-clerk with the demo's 所属 …
    until = dt.date.today() + dt.timedelta(days=30)
    login(page, live_url, staff["demo-admin"], "DEMO-01", lands_on="権限申請の一覧")
    fill_my_number_application(page, user_pk=staff["demo-clerk"].pk, until=until,
                               applying_pk=Section.objects.get(is_system_owner=True).pk,
                               using_pk=rights.current_posting(staff["demo-clerk"]).section.pk)
    page.get_by_role("button", name=re.compile("申請する")).click()
    expect(page.locator("#application-state")).to_have_text("申請中")
    number = RightApplication.objects.get().number
    _logout(page)

    # … and demo-manager approves it.
    login(page, live_url, staff["demo-manager"], "DEMO-01", lands_on="権限申請の一覧")
    page.locator("#awaiting tr", has_text=number).get_by_role("link", name="審査する").click()
    ready(page)
    page.keyboard.press("Alt+k")
    expect(page.locator("#application-state")).to_have_text("承認")
    screenshot(page, "tour-right-approved")
    assert Staff.objects.get(username="demo-clerk").has_juki_perm(Perm.MY_NUMBER_VIEW)
