"""The rights screens through Django's test client (the browser test covers the main path)."""
import datetime as dt
import re

import pytest

from juki.accounts.models import Terminal
from juki.accounts.permissions import Perm
from juki.rights import services
from juki.rights.models import Posting, RightApplication

from ..conftest import counter_client
from .conftest import apply, fresh


def _client(user, terminal):
    return counter_client(user, terminal)  # the real login, with the second factor where the rights need it


@pytest.fixture
def admin_client(rights_admin, terminal):
    return _client(rights_admin, terminal)


@pytest.fixture
def manager_client(manager, db):
    # Another desk: one counter session per terminal (C01), so the admin's session stays live.
    return _client(manager, Terminal.objects.create(code="T-02", name="窓口2", location="本庁 市民課"))


def test_apply_on_screen_and_approve(admin_client, manager_client, clerk, sections):
    today = services.today()
    r = admin_client.get("/rights/applications/new/")
    assert r.status_code == 200 and "権限の申請" in r.content.decode()
    r = admin_client.post("/rights/applications/new/", {
        "target_kind": "user", "target_user": clerk.pk, "perms": [Perm.MY_NUMBER_VIEW], "role": "",
        "valid_from": today.isoformat(), "valid_until": (today + dt.timedelta(days=30)).isoformat(),
        "business_name": "住民記録事務", "business_outline": "証明書交付", "purpose": "本人確認",
        "legal_basis": "住民基本台帳法", "applying_section": sections["owner"].pk, "using_section": sections["kokura"].pk})
    application = RightApplication.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/rights/applications/{application.id}/"
    page = manager_client.get("/rights/").content.decode()
    assert application.number in page and "審査する" in page
    r = manager_client.post(f"/rights/applications/{application.id}/approve/")
    assert r.status_code == 302
    assert fresh(clerk).has_juki_perm(Perm.MY_NUMBER_VIEW)
    page = manager_client.get(f"/rights/applications/{application.id}/").content.decode()
    assert "承認" in page and "個人番号の表示" in page


def test_form_errors_are_shown(admin_client, sections):
    r = admin_client.post("/rights/applications/new/", {"target_kind": "user"})
    body = r.content.decode()
    # Each missing item says which it is (issue 12), not Django's 「この項目は必須です」.
    missing = re.findall(r'<small class="error">([^<]*を(?:入力して|選んで)ください[^<]*)</small>', body)
    assert r.status_code == 400 and len(missing) == 8 and "この項目は必須です" not in body, missing
    assert "業務名を入力してください。" in missing


def test_service_refusal_is_a_japanese_message(admin_client, clerk, sections):
    today = services.today()
    r = admin_client.post("/rights/applications/new/", {
        "target_kind": "user", "target_user": clerk.pk, "perms": [Perm.MY_NUMBER_VIEW],
        "valid_from": today.isoformat(), "valid_until": "2099-01-01", "business_name": "x", "business_outline": "x",
        "purpose": "x", "legal_basis": "x", "applying_section": sections["owner"].pk, "using_section": sections["kokura"].pk})
    assert r.status_code == 400 and "利用期間の終了日は" in r.content.decode()


def test_clerk_sees_denied(clerk, terminal):
    client = _client(clerk, terminal)
    for url in ("/rights/", "/rights/applications/new/", "/rights/table/", "/rights/table.csv", "/rights/staff/"):
        assert client.get(url).status_code == 403, url


def test_reject_on_screen(admin_actor, manager_client, clerk, sections):
    application = apply(admin_actor, sections, target_user=clerk, perms=[Perm.MY_NUMBER_VIEW])
    manager_client.post(f"/rights/applications/{application.id}/reject/", {"comment": "目的が不明確です"})
    application.refresh_from_db()
    assert (application.state, application.comment) == ("rejected", "目的が不明確です")


def test_table_screen_and_downloads(admin_client, clerk):
    page = admin_client.get("/rights/table/").content.decode()
    assert "clerk1" in page and "事務分担：窓口担当" in page
    r = admin_client.get("/rights/table.csv")
    assert r.status_code == 200 and "attachment" in r["Content-Disposition"]
    r = admin_client.get("/rights/table.pdf?on=R8.11.26")
    assert r.status_code == 200 and r.content.startswith(b"%PDF")


def test_transfer_on_screen(admin_client, clerk, sections):
    r = admin_client.post("/rights/staff/", {"user": clerk.pk, "kind": "transfer", "section": sections["yahata"].pk,
                                             "on": services.today().isoformat()})
    assert r.status_code == 200 and "異動" in r.content.decode()
    assert Posting.objects.get(user=clerk).section == sections["yahata"]
    assert not fresh(clerk).has_juki_perm(Perm.PERSON_VIEW)
    r = admin_client.post("/rights/staff/", {"user": clerk.pk, "kind": "retire", "on": services.today().isoformat()})
    assert r.status_code == 400 and "この日以後の異動が既に登録されています" in r.content.decode()
