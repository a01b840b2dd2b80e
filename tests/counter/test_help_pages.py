"""Help pages of the issue-4 screens [1400]: each topic renders, and each screen's ヘルプ (Alt+H) opens it."""
import datetime as dt

import pytest

from juki.audit.gate import Actor
from juki.counter.views import HELP_PAGES
from juki.rights import services as rights_services
from juki.rights.models import Section
from tests.conftest import counter_client
from tests.protection.helpers import move_in_victim, protect

NEW_TOPICS = {"rights": "権限管理", "support": "支援措置・抑止", "analysis": "ログ分析・異常検知",
              "disclosure": "開示請求の回答作成"}


def _links_to_help(client, url: str, topic: str) -> str:
    r = client.get(url)
    body = r.content.decode()
    assert r.status_code == 200, (url, body[:300])
    assert f'href="/counter/help/{topic}/" accesskey="h"' in body, url
    return body


@pytest.mark.parametrize("topic", sorted(NEW_TOPICS))
def test_new_help_topics_render_with_their_title(clerk, terminal, topic):
    assert HELP_PAGES[topic] == NEW_TOPICS[topic]
    r = counter_client(clerk, terminal).get(f"/counter/help/{topic}/")
    body = r.content.decode()
    assert r.status_code == 200
    assert f"<h1>ヘルプ: {NEW_TOPICS[topic]}</h1>" in body
    for heading in ("画面の目的", "操作の手順", "入力のきまり", "キー操作"):
        assert heading in body, (topic, heading)
    # the table of contents links every topic, the new ones included
    assert all(f'href="/counter/help/{t}/"' in body for t in HELP_PAGES)


def test_rights_screens_link_to_their_help(rights_admin, terminal):
    owner = Section.objects.create(code="S-JUKI", name="市民課（システム所管）", is_system_owner=True)
    today = rights_services.today()
    application = rights_services.application_submit(
        actor=Actor(user=rights_admin, terminal=terminal, second_factor=True), role="viewer", perms=(), valid_from=today,
        valid_until=today + dt.timedelta(days=30), business_name="住民記録事務", business_outline="窓口での照会",
        purpose="届出の確認", legal_basis="住民基本台帳法第12条", applying_section=owner, using_section=owner,
        target_user=None, target_section=owner)
    c = counter_client(rights_admin, terminal)
    for url in ("/rights/", "/rights/applications/new/", f"/rights/applications/{application.id}/",
                "/rights/table/", "/rights/staff/"):
        _links_to_help(c, url, "rights")


def test_protection_screens_link_to_their_help(world, support_user, terminal):
    victim = move_in_victim(world)
    support = Actor(user=support_user, terminal=terminal)
    measure = protect(support, victim)
    c = counter_client(support_user, terminal)
    for url in ("/protection/support/", "/protection/support/new/", f"/protection/support/{measure['id']}/",
                f"/protection/persons/{victim['mother']}/"):
        _links_to_help(c, url, "support")


def test_audit_and_disclosure_screens_link_to_their_help(world, auditor, terminal):
    victim = move_in_victim(world)
    c = counter_client(auditor, terminal)
    _links_to_help(c, "/audit/analysis/", "analysis")
    today = dt.date.today()
    _links_to_help(c, f"/audit/analysis/?report=denied&date_from={today - dt.timedelta(days=1)}&date_to={today}",
                   "analysis")
    _links_to_help(c, "/audit/anomalies/", "analysis")
    _links_to_help(c, f"/audit/anomalies/?day={today}", "analysis")
    _links_to_help(c, "/disclosure/", "disclosure")
    _links_to_help(c, f"/disclosure/persons/{victim['mother']}/", "disclosure")
