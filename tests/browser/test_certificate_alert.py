"""An アラート-level 抑止 on 証明書交付 [410] in a real Chromium: the record and the form show it, Alt+K
is stopped until the clerk ticks the acknowledgement, then issues, and the log row records it."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from juki.audit.models import AccessLog
from juki.certificates.models import CertificateIssue
from juki.protection import services as protection_services
from juki.protection.certificates import ALERT_ACKNOWLEDGED_FLAG
from juki.protection.enforcement import CERTIFICATE_ALERT
from tests.conftest import move_in_family

from .counter_helpers import login, ready


@pytest.fixture
def alerted(world, support):
    head = move_in_family(world).persons[0]["id"]
    protection_services.restriction_set(actor=support, person_id=head, processes=["certificate"],
                                        reason="不正請求の疑いがあるため、請求者を確認すること", level="alert")
    return head


def test_the_alert_stops_alt_k_until_acknowledged(page, live_url, clerk, alerted, screenshot):
    login(page, live_url, clerk)
    page.goto(f"{live_url}/counter/persons/{alerted}/")
    ready(page)
    expect(page.get_by_text(CERTIFICATE_ALERT)).to_be_visible()  # on the record, before any issue
    page.keyboard.press("Alt+C")  # 証明書の交付
    expect(page.locator("h1")).to_have_text("証明書の交付（住民票の写し等）")
    ready(page)
    box = page.locator("#certificate-alert")
    expect(box).to_be_visible()
    acknowledge = page.get_by_label("アラートの内容を確認しました（交付の記録に残ります）")
    expect(acknowledge).not_to_be_checked()
    form = page.locator("form.cert")
    form.get_by_label("運転免許証").check()

    # Alt+K without the acknowledgement: refused, nothing issued, the reason next to the buttons.
    with page.expect_response(lambda r: r.url.endswith("/issue/") and r.request.method == "POST"):
        page.keyboard.press("Alt+K")
    expect(page.locator("#cert-messages")).to_contain_text("「アラートの内容を確認しました」にチェックしてから交付してください")
    expect(page.locator("#done-message")).to_have_count(0)
    expect(page.locator("#confirm-issue")).to_have_count(0)  # refused before the fee is asked
    assert CertificateIssue.objects.count() == 0
    refused = AccessLog.objects.filter(function="certificate.issue_check").latest("id")
    assert refused.outcome == "restriction_alert_unacknowledged"
    screenshot(page, "certificate-alert-refused")

    # Ticked (keyboard only: focus the box, Space), then Alt+K issues.
    acknowledge.focus()
    page.keyboard.press("Space")
    expect(acknowledge).to_be_checked()
    page.keyboard.press("Alt+K")
    expect(page.locator("#confirm-issue")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#done-message")).to_have_text("交付しました。")
    ready(page)
    expect(page.locator("#alert-acknowledged")).to_be_visible()
    expect(page.get_by_text(CERTIFICATE_ALERT)).to_have_count(0)  # no 「確認してから交付」 after the issue
    issue = CertificateIssue.objects.get()
    row = AccessLog.objects.filter(function="certificate.issue", outcome="ok").latest("id")
    assert ALERT_ACKNOWLEDGED_FLAG in row.flags and row.criteria["number"] == issue.number
    assert row.criteria["alert_acknowledged"] is True
    screenshot(page, "certificate-alert-issued")
