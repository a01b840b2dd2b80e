"""The staff menu and first screens come from one registry that each screen app fills (issue 13)."""
from __future__ import annotations

import pytest
from django.urls import reverse

from juki.ui import menu
from juki.ui.access import home_for
from tests.conftest import counter_client


def _labels(user) -> list[str]:
    return [e["label"] for e in menu.entries_for(user)]


def test_every_screen_app_registers_its_links_in_order():
    assert [e.label for e in menu.entries()] == [
        "住民検索", "転入", "特例転入", "審査待ち", "交付履歴", "広域交付", "支援措置", "ログ分析", "開示請求", "住基ネット", "本人確認",
        "庁内連携", "宛名検索", "中間サーバー", "権限管理"]
    for entry in menu.entries():  # each names a URL that exists
        assert entry.url().startswith("/")


def test_registering_again_keeps_one():
    before = menu.entries()
    menu.register(*before)
    assert menu.entries() == before


@pytest.mark.django_db
def test_a_clerk_sees_only_what_their_rights_open(clerk, auditor):
    assert _labels(clerk) == ["住民検索", "転入", "特例転入", "審査待ち", "交付履歴", "広域交付"]
    assert _labels(auditor) == ["ログ分析", "開示請求", "中間サーバー"]  # 情報提供等記録 (issue 17)
    assert home_for(clerk) == reverse("counter:search")
    assert home_for(auditor) == reverse("audit:analysis")


@pytest.mark.django_db
def test_the_frame_shows_the_registered_links(clerk, terminal):
    page = counter_client(clerk, terminal).get(reverse("counter:search")).content.decode()
    assert f'href="{reverse("counter:change_form", args=["move-in"])}" accesskey="i">転入<kbd>Alt+I</kbd>' in page
    assert "ログ分析" not in page
