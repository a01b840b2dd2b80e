"""The administration screens for contractors (C04) and staff logins (C01), through the test client:
register a contractor, apply for and approve their work on screen, then the contractor logs in with
the number; enrol a one-time password (the secret shown once); unlock a locked account."""
import datetime as dt
import re
from base64 import b32encode

import pytest
from django.test import Client
from django_otp.oath import totp

from juki.accounts import login
from juki.accounts.models import Staff, Terminal
from juki.audit.models import AccessLog
from juki.rights import services
from juki.rights.models import ContractorStaff, WorkApplication

from ..conftest import _staff, counter_client

DAY = dt.timedelta(days=1)


@pytest.fixture
def admin_user(db):
    return _staff("admin", "admin1")


@pytest.fixture
def manager_user(db):
    return _staff("manager", "manager1")


@pytest.fixture
def admin_client(admin_user, terminal):
    return counter_client(admin_user, terminal)


@pytest.fixture
def manager_client(manager_user, db):
    # Another desk: one counter session per terminal (C01).
    return counter_client(manager_user, Terminal.objects.create(code="T-02", name="窓口2", location="本庁 情報政策課"))


@pytest.fixture
def vendor(db):
    return _staff("viewer", "vendor1")


def _login(user, terminal, **extra):
    client = Client()
    return client, client.post("/counter/login/", {"username": user.username, "password": user.plain_password,
                                                   "terminal": terminal.code, **extra})


def test_contractor_registered_applied_for_approved_then_logs_in(admin_client, manager_client, admin_user,
                                                                 manager_user, vendor, db):
    today = services.today()
    desk = Terminal.objects.create(code="T-09", name="委託作業用", location="本庁 情報政策課")

    # 1. The manager registers the contractor by name for a period.
    assert "委託先職員の事前登録" in manager_client.get("/rights/contractors/new/").content.decode()
    r = manager_client.post("/rights/contractors/new/", {
        "user": vendor.pk, "company": "株式会社北九州システム", "full_name": "委託 太郎",
        "valid_from": today.isoformat(), "valid_until": (today + 60 * DAY).isoformat()})
    registration = ContractorStaff.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/rights/contractors/?done={registration.pk}"
    assert (registration.user, registration.approved_by, registration.company.name) == (
        vendor, manager_user, "株式会社北九州システム")
    page = admin_client.get("/rights/contractors/").content.decode()
    assert "委託 太郎" in page and "登録期間中" in page and "vendor1" in page

    # Before any work application the contractor cannot log in.
    _, r = _login(vendor, desk)
    assert r.status_code == 200 and "作業申請番号を入力してください" in r.content.decode()

    # 2. The administrator applies for the work; the application cannot go past the registration.
    r = admin_client.post("/rights/work/new/", {"contractor": registration.pk, "description": "帳票の改修作業",
                                                "valid_from": today.isoformat(),
                                                "valid_until": (today + 61 * DAY).isoformat()})
    assert r.status_code == 400 and "作業期間が委託先職員の登録期間を超えています" in r.content.decode()
    r = admin_client.post("/rights/work/new/", {"contractor": registration.pk, "description": "帳票の改修作業",
                                                "valid_from": today.isoformat(),
                                                "valid_until": (today + 5 * DAY).isoformat()})
    work = WorkApplication.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/rights/work/{work.id}/"
    page = admin_client.get(r["Location"]).content.decode()
    assert work.number in page and "申請中" in page and "承認する<kbd>" not in page  # not by the submitter
    r = admin_client.post(f"/rights/work/{work.id}/approve/")
    assert r.status_code == 403  # the administrator lacks rights.approve
    assert AccessLog.objects.filter(function="screen.work_approve", user=admin_user, outcome="denied").exists()

    # 3. The manager sees it awaiting approval and approves it.
    page = manager_client.get("/rights/work/").content.decode()
    assert work.number in page and "審査する" in page
    assert "承認する<kbd>" in manager_client.get(f"/rights/work/{work.id}/").content.decode()
    r = manager_client.post(f"/rights/work/{work.id}/approve/")
    assert r.status_code == 302
    work.refresh_from_db()
    assert (work.state, work.approved_by) == ("approved", manager_user)
    assert AccessLog.objects.filter(function="rights.work_approve", user=manager_user, outcome="done").exists()

    # 4. The contractor logs in with the number, which every log row of the session carries.
    client, r = _login(vendor, desk, work_application=work.number)
    assert r.status_code == 302 and "/login/" not in r["Location"]
    assert AccessLog.objects.filter(function="auth.login", user=vendor).latest("id").work_application == work.number
    assert client.get("/rights/").status_code == 403  # a viewer; the refusal row also names the work
    row = AccessLog.objects.filter(user=vendor).latest("id")
    assert (row.function, row.work_application) == ("screen.application_list", work.number)


def test_contractor_form_errors_and_service_refusals(manager_client, manager_user):
    r = manager_client.post("/rights/contractors/new/", {})
    body = r.content.decode()
    missing = re.findall(r'<small class="error">([^<]*を(?:入力して|選んで)ください[^<]*)</small>', body)
    assert r.status_code == 400 and len(missing) == 5 and "この項目は必須です" not in body, missing
    today = services.today().isoformat()
    r = manager_client.post("/rights/contractors/new/", {"user": manager_user.pk, "company": "x", "full_name": "x",
                                                         "valid_from": today, "valid_until": today})
    assert r.status_code == 400 and "自分自身を委託先職員として登録することはできません" in r.content.decode()
    assert not ContractorStaff.objects.exists()


def test_totp_enrolment_shows_the_secret_once(admin_client, admin_user, clerk):
    page = admin_client.get("/rights/staff/logins/").content.decode()
    assert "clerk1" in page and "未登録" in page
    page = admin_client.get(f"/rights/staff/{clerk.pk}/").content.decode()
    assert "登録されていません" in page and "totp-secret" not in page

    r = admin_client.post(f"/rights/staff/{clerk.pk}/totp/")
    page = r.content.decode()
    device = login.totp_device(clerk)
    secret = b32encode(device.bin_key).decode()
    assert r.status_code == 200 and "no-store" in r["Cache-Control"]
    assert secret in page and "otpauth://totp/" in page and "<svg" in page and 'aria-label="ワンタイムパスワード登録用のQRコード"' in page
    assert AccessLog.objects.filter(function="auth.totp_enrol", user=admin_user, criteria__username="clerk1").exists()
    # The code of the enrolled device is the one the login will accept.
    assert device.verify_token(f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}")

    # A second look shows that a device is registered, never the secret.
    page = admin_client.get(f"/rights/staff/{clerk.pk}/").content.decode()
    assert "登録済みです" in page and secret not in page and "otpauth://" not in page and "<svg" not in page

    # Through htmx only the section is answered, and re-enrolment replaces the device.
    r = admin_client.post(f"/rights/staff/{clerk.pk}/totp/", HTTP_HX_REQUEST="true")
    fragment = r.content.decode()
    new = login.totp_device(clerk)
    assert new.pk != device.pk and b32encode(new.bin_key).decode() in fragment and "<html" not in fragment


def test_unlock_a_locked_user(admin_client, admin_user, clerk, terminal, settings):
    settings.JUKI_LOGIN_MAX_FAILURES = 2
    for _ in range(2):
        _login(clerk, terminal, password="wrong")
    assert login.is_locked(Staff.objects.get(pk=clerk.pk))
    page = admin_client.get("/rights/staff/logins/").content.decode()
    assert "ロック中のアカウントが 1件" in page
    assert "ロック中です" in admin_client.get(f"/rights/staff/{clerk.pk}/").content.decode()

    r = admin_client.post(f"/rights/staff/{clerk.pk}/unlock/")
    assert r.status_code == 302 and r["Location"] == f"/rights/staff/{clerk.pk}/?done=unlocked"
    assert "ロックを解除しました" in admin_client.get(r["Location"]).content.decode()
    after = Staff.objects.get(pk=clerk.pk)
    assert not login.is_locked(after) and after.failed_logins == 0
    row = AccessLog.objects.filter(function="auth.unlock_staff").latest("id")
    assert (row.user, row.outcome, row.criteria["username"]) == (admin_user, "unlocked", "clerk1")
    _, r = _login(clerk, Terminal.objects.create(code="T-03", name="窓口3", location="本庁"))
    assert r.status_code == 302


def test_unknown_user_is_404(admin_client):
    assert admin_client.get("/rights/staff/987654/").status_code == 404
    assert admin_client.post("/rights/staff/987654/unlock/").status_code == 404


@pytest.mark.parametrize("url,method,function", [
    ("/rights/staff/logins/", "get", "screen.account_list"),
    ("/rights/staff/{pk}/", "get", "screen.account_detail"),
    ("/rights/staff/{pk}/totp/", "post", "screen.account_totp_enrol"),
    ("/rights/staff/{pk}/unlock/", "post", "screen.account_unlock"),
    ("/rights/contractors/", "get", "screen.contractor_list"),
    ("/rights/contractors/new/", "post", "screen.contractor_new"),
    ("/rights/work/", "get", "screen.work_list"),
    ("/rights/work/new/", "post", "screen.work_new"),
])
def test_a_clerk_is_refused_and_logged(clerk, terminal, url, method, function):
    client = counter_client(clerk, terminal)
    r = getattr(client, method)(url.format(pk=clerk.pk))
    assert r.status_code == 403 and "この画面を使う権限がありません" in r.content.decode()
    row = AccessLog.objects.filter(user=clerk).latest("id")
    assert (row.function, row.outcome) == (function, "denied")
    assert login.totp_device(clerk) is None and Staff.objects.get(pk=clerk.pk).failed_logins == 0


def test_manager_cannot_enrol_or_unlock(manager_client, manager_user, clerk):
    r = manager_client.post(f"/rights/staff/{clerk.pk}/totp/")
    assert r.status_code == 403 and login.totp_device(clerk) is None
    assert AccessLog.objects.filter(function="screen.account_totp_enrol", user=manager_user, outcome="denied").exists()
    r = manager_client.post(f"/rights/staff/{clerk.pk}/unlock/")
    assert r.status_code == 403
    assert AccessLog.objects.filter(function="screen.account_unlock", user=manager_user, outcome="denied").exists()


def test_new_screens_link_to_the_rights_help(admin_client, manager_client, clerk):
    for client, url in ((admin_client, "/rights/staff/logins/"), (admin_client, f"/rights/staff/{clerk.pk}/"),
                        (admin_client, "/rights/contractors/"), (admin_client, "/rights/work/"),
                        (admin_client, "/rights/work/new/"), (manager_client, "/rights/contractors/new/")):
        r = client.get(url)
        assert r.status_code == 200 and 'href="/counter/help/rights/" accesskey="h"' in r.content.decode(), url
    help_page = admin_client.get("/counter/help/rights/").content.decode()
    assert "委託先職員の事前登録" in help_page and "職員のログイン管理" in help_page
