"""/api/v1/rights/…: every endpoint, including refused calls (403 + a log row "denied")."""
import datetime as dt

import pytest

from juki.accounts.permissions import Perm
from juki.audit.models import AccessLog
from juki.rights import services
from juki.rights.models import Grant, RightApplication

from ..conftest import api_for
from .conftest import apply, fresh


def _body(**over):
    today = services.today()
    body = {"perms": [Perm.MY_NUMBER_VIEW], "valid_from": today.isoformat(),
            "valid_until": (today + dt.timedelta(days=30)).isoformat(), "business_name": "住民記録事務",
            "business_outline": "証明書交付", "purpose": "本人確認", "legal_basis": "住民基本台帳法",
            "applying_section": "S-JUKI", "using_section": "S-KOKURA", "target_user": "clerk1"}
    body.update(over)
    return body


@pytest.fixture
def admin_api(rights_admin, terminal):
    return api_for(rights_admin, terminal)


@pytest.fixture
def manager_api(manager, terminal):
    return api_for(manager, terminal)


def _last(function):
    return AccessLog.objects.filter(function=function).latest("id")


def test_submit_list_approve(admin_api, manager_api, clerk, sections):
    r = admin_api.post("/api/v1/rights/applications", _body(), format="json")
    assert r.status_code == 201, r.content
    app_id = r.json()["id"]
    assert r.json()["state"] == "pending" and r.json()["target_user"] == "clerk1"
    r = manager_api.get("/api/v1/rights/applications?state=pending")
    assert r.status_code == 200 and [a["id"] for a in r.json()["applications"]] == [app_id]
    assert _last("rights.list").outcome == "done"
    r = manager_api.post(f"/api/v1/rights/applications/{app_id}/approve", {"comment": "可"}, format="json")
    assert r.status_code == 201, r.content
    assert r.json()["application"]["state"] == "approved" and r.json()["grants"][0]["perm"] == Perm.MY_NUMBER_VIEW
    assert fresh(clerk).has_juki_perm(Perm.MY_NUMBER_VIEW)


def test_reject_requires_comment(admin_api, manager_api, clerk, sections):
    app_id = admin_api.post("/api/v1/rights/applications", _body(), format="json").json()["id"]
    r = manager_api.post(f"/api/v1/rights/applications/{app_id}/reject", {}, format="json")
    assert r.status_code == 400 and r.json()["code"] == "invalid_input" and r.json()["field"] == "comment"
    r = manager_api.post(f"/api/v1/rights/applications/{app_id}/reject", {"comment": "不要"}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "rejected"


def test_submit_is_checked(admin_api, clerk, sections):
    r = admin_api.post("/api/v1/rights/applications", _body(valid_until=None), format="json")
    assert r.status_code == 400
    r = admin_api.post("/api/v1/rights/applications", _body(extra="x"), format="json")
    assert r.status_code == 400 and r.json()["code"] == "unknown_field"
    r = admin_api.post("/api/v1/rights/applications", _body(valid_until="2099-01-01"), format="json")
    assert r.status_code == 400 and r.json()["code"] == "invalid_period"
    assert not RightApplication.objects.exists()


def test_self_approval_via_api(manager_api, manager, admin_actor, sections):
    application = apply(admin_actor, sections, target_user=manager, perms=[Perm.MY_NUMBER_VIEW])
    r = manager_api.post(f"/api/v1/rights/applications/{application.id}/approve", {}, format="json")
    assert r.status_code == 400 and r.json()["code"] == "self_approval"
    assert not Grant.objects.filter(application=application).exists()


@pytest.mark.parametrize("method, path, function", [
    ("get", "/api/v1/rights/applications", "rights.list"),
    ("post", "/api/v1/rights/applications", "rights.apply"),
    ("post", "/api/v1/rights/applications/{id}/approve", "rights.approve"),
    ("post", "/api/v1/rights/applications/{id}/reject", "rights.reject"),
    ("get", "/api/v1/rights/table.csv", "export.rights_table"),
])
def test_clerk_is_refused_and_logged(api, clerk, admin_actor, sections, method, path, function):
    application = apply(admin_actor, sections, target_user=clerk, perms=[Perm.MY_NUMBER_VIEW])
    url = path.format(id=application.id)
    data = _body() if path.endswith("applications") else {"comment": "x"}
    r = api.get(url) if method == "get" else api.post(url, data, format="json")
    assert r.status_code == 403 and r.json()["code"] == "permission_denied"
    row = _last(function)
    assert (row.outcome, row.user) == (AccessLog.DENIED, clerk)
    assert RightApplication.objects.get().state == "pending"


def test_table_csv(admin_api, clerk, sections):
    r = admin_api.get("/api/v1/rights/table.csv")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    text = r.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("職員ID,氏名,所属,権限")
    assert "clerk1" in text and "事務分担：窓口担当" in text and "初期設定" in text
    row = _last("export.rights_table")
    assert (row.outcome, row.category) == ("done", "export")
    assert admin_api.get("/api/v1/rights/table.csv?on=bad").status_code == 400


def test_auditor_may_read_the_table(auditor, terminal):
    assert api_for(auditor, terminal).get("/api/v1/rights/table.csv").status_code == 200
