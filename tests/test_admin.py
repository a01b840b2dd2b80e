"""The Django admin behind the counter's login (C01, C20; ADR 0016)."""
from urllib.parse import parse_qs, urlsplit

from django.contrib import admin as django_admin
from django.test import Client

from juki.accounts.login import needs_second_factor
from juki.accounts.models import Staff
from juki.accounts.services import generate_password, staff_create
from juki.audit import chain
from juki.audit.models import AccessLog
from juki.register.models import Town, Ward
from juki.rights.backends import ADMIN_MODELS
from tests.conftest import counter_client, otp_for
from tests.helpers import TEST_ACTOR


def _staff(role, name):
    password = generate_password()
    user = staff_create(username=name, password=password, role=role)
    user.is_staff = True
    user.save()
    user.plain_password = password
    return user


def _login(role, name, terminal):
    """Through the counter's login (password, terminal, TOTP when the rights need it)."""
    return counter_client(_staff(role, name), terminal)


def _town_form(town, **over):
    data = {f: getattr(town, f) for f in ("code", "name", "kana", "postal_code", "elementary_school_district",
                                          "junior_high_school_district", "voting_district")}
    data.update(ward=town.ward_id, is_active="on" if town.is_active else "")
    data.update(over)
    return {k: v for k, v in data.items() if v != ""}


def test_master_data_admin_edits_the_dictionary(towns, terminal):
    admin = _login("admin", "master1", terminal)
    page = admin.get("/admin/register/town/?q=城内")
    assert page.status_code == 200 and "城内" in page.content.decode()
    assert admin.get("/admin/register/town/add/").status_code == 200
    assert admin.get("/admin/").status_code == 200


def test_clerk_cannot_edit_master_data_and_no_resident_admin_exists(towns, terminal):
    clerk = _login("clerk", "clerk9", terminal)
    assert clerk.get("/admin/register/town/").status_code == 403
    admin = _login("admin", "master2", terminal)
    assert admin.get("/admin/register/person/").status_code == 404
    assert admin.get("/admin/register/personversion/").status_code == 404


def test_only_master_data_is_registered():
    registered = {m._meta.label_lower for m in django_admin.site._registry}
    allowed = set(ADMIN_MODELS) | {"accounts.staff", "auth.group", "otp_totp.totpdevice",
                                         "rights.contractorcompany"}
    assert registered <= allowed, registered - allowed
    assert not any(label.startswith(("register.person", "register.household", "register.change"))
                   for label in registered)


def test_admin_login_has_no_form_and_sends_to_the_counter_login(db):
    r = Client().get("/admin/login/?next=/admin/register/town/")
    assert r.status_code == 302
    url = urlsplit(r["Location"])
    assert url.path == "/counter/login/"
    assert parse_qs(url.query)["next"] == ["/admin/register/town/"]
    # An outside `next` is not passed on.
    r = Client().get("/admin/login/?next=https://evil.example/")
    assert parse_qs(urlsplit(r["Location"]).query)["next"] == ["/admin/"]
    # The admin's pages send a visitor to the counter login, with the way back.
    r = Client().get("/admin/register/town/")
    url = urlsplit(r["Location"])
    assert r.status_code == 302 and url.path == "/counter/login/"
    assert parse_qs(url.query)["next"] == ["/admin/register/town/"]


def test_a_password_posted_to_the_admin_login_logs_nobody_in(towns, terminal):
    user = _staff("admin", "master3")
    client = Client()
    r = client.post("/admin/login/", {"username": user.username, "password": user.plain_password,
                                      "next": "/admin/"})
    assert r.status_code == 302 and r["Location"].startswith("/counter/login/")
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302
    assert not AccessLog.objects.filter(user=user, function="auth.login").exists()


def test_a_password_without_the_second_factor_does_not_open_the_admin(towns, terminal):
    user = _staff("admin", "master4")
    assert needs_second_factor(user)
    client = Client()
    # Django's own login (no terminal, no TOTP) is not a counter session.
    assert client.login(username=user.username, password=user.plain_password)
    r = client.get("/admin/")
    assert r.status_code == 302 and "/counter/login/" in r["Location"]
    assert client.get("/admin/register/town/").status_code == 302
    # The counter's password step alone stops at the TOTP step: still no admin.
    otp_for(user)  # enrolled, but the code is never entered
    client = Client()
    r = client.post("/counter/login/", {"username": user.username, "password": user.plain_password,
                                        "terminal": terminal.code, "next": "/admin/"})
    assert r.status_code == 302 and "/counter/login/otp/" in r["Location"]
    r = client.get("/admin/")
    assert r.status_code == 302 and "/counter/login/" in r["Location"]


def test_the_full_counter_login_leads_back_to_the_admin(towns, terminal):
    user = _staff("admin", "master5")
    otp = otp_for(user)
    client = Client()
    r = client.post("/counter/login/?next=/admin/register/town/",
                    {"username": user.username, "password": user.plain_password, "terminal": terminal.code})
    r = client.post(r["Location"], {"otp": otp})
    assert r.status_code == 302 and r["Location"] == "/admin/register/town/"
    assert client.get(r["Location"]).status_code == 200


def test_failures_on_the_way_to_the_admin_count_towards_the_lockout(towns, terminal, settings):
    user = _staff("admin", "master6")
    client = Client()
    login_url = client.get("/admin/")["Location"]
    assert login_url.startswith("/counter/login/")
    for _ in range(settings.JUKI_LOGIN_MAX_FAILURES):
        client.post(login_url, {"username": user.username, "password": "wrong-" + user.plain_password,
                                "terminal": terminal.code})
    user.refresh_from_db()
    assert user.locked_at is not None
    assert AccessLog.objects.filter(user=user, function="auth.login_failure").count() == settings.JUKI_LOGIN_MAX_FAILURES
    assert AccessLog.objects.filter(user=user, function="auth.locked_out").exists()


def test_a_newer_login_ends_the_admin_session(towns, terminal):
    user = _staff("admin", "master7")
    first = counter_client(user, terminal)
    assert first.get("/admin/").status_code == 200
    counter_client(user, terminal)  # the one-session rule: the first session ends
    r = first.get("/admin/")
    assert r.status_code == 302 and "/counter/login/" in r["Location"]


def test_a_town_edit_in_the_admin_is_in_the_audit_chain(towns, terminal):
    admin = _login("admin", "master8", terminal)
    town = Town.objects.filter(name__contains="城内").first()
    r = admin.post(f"/admin/register/town/{town.pk}/change/",
                   _town_form(town, voting_district="第99投票区", postal_code="8020099"))
    assert r.status_code == 302, r.content.decode()[:2000]
    entry = AccessLog.objects.filter(function="master.change").get()
    assert entry.user.username == "master8" and entry.terminal == terminal and entry.category == "settings"
    assert entry.criteria["model"] == "register.town" and entry.criteria["object_id"] == str(town.pk)
    assert entry.criteria["changed"] == ["postal_code", "voting_district"]
    assert entry.criteria["before"] == {"postal_code": town.postal_code, "voting_district": town.voting_district}
    assert entry.criteria["after"] == {"postal_code": "8020099", "voting_district": "第99投票区"}
    assert chain.verify().ok


def test_a_town_added_and_deleted_in_the_admin_is_in_the_audit_chain(towns, terminal):
    admin = _login("admin", "master9", terminal)
    ward = Ward.objects.first()
    r = admin.post("/admin/register/town/add/", {"code": ward.code[:5] + "999000", "ward": ward.pk, "name": "試験町",
                                                 "kana": "シケンマチ", "postal_code": "8020000", "is_active": "on"})
    assert r.status_code == 302, r.content.decode()[:2000]
    town = Town.objects.get(name="試験町")
    added = AccessLog.objects.get(function="master.add")
    assert added.criteria["before"] is None and added.criteria["after"]["name"] == "試験町"
    r = admin.post(f"/admin/register/town/{town.pk}/delete/", {"post": "yes"})
    assert r.status_code == 302
    assert not Town.objects.filter(pk=town.pk).exists()
    deleted = AccessLog.objects.get(function="master.delete")
    assert deleted.criteria["object_id"] == str(town.pk) and deleted.criteria["before"]["name"] == "試験町"
    assert deleted.criteria["after"] is None
    assert chain.verify().ok


def test_ward_and_terminal_edits_are_logged_too(towns, terminal):
    admin = _login("admin", "master10", terminal)
    ward = Ward.objects.first()
    r = admin.post(f"/admin/register/ward/{ward.pk}/change/",
                   {"municipality": ward.municipality_id, "code": ward.code, "name": ward.name + "改"})
    assert r.status_code == 302, r.content.decode()[:2000]
    r = admin.post(f"/admin/accounts/terminal/{terminal.pk}/change/",
                   {"code": terminal.code, "name": "窓口1改", "location": terminal.location, "is_active": "on"})
    assert r.status_code == 302, r.content.decode()[:2000]
    models = sorted(e.criteria["model"] for e in AccessLog.objects.filter(function="master.change"))
    assert models == ["accounts.terminal", "register.ward"]
    # A bulk delete from the list is logged per object.
    extra = Town.objects.create(code=ward.code[:5] + "998000", ward=ward, name="消去町", postal_code="8020000")
    r = admin.post("/admin/register/town/", {"action": "delete_selected", "_selected_action": [extra.pk], "post": "yes"})
    assert r.status_code == 302
    assert AccessLog.objects.get(function="master.delete").criteria["object"].endswith("消去町")
    assert chain.verify().ok


def test_a_staff_edit_never_logs_the_password_hash(db):
    from juki.audit import master

    user = _staff("clerk", "clerk10")
    stored = Staff.objects.get(pk=user.pk)
    before = master.snapshot(stored)
    assert "password" not in before
    user.full_name = "窓口　花子"
    user.set_password(generate_password())
    user.save()
    entry = master.record_change(TEST_ACTOR, user, before, stored)
    assert "full_name" in entry.criteria["changed"] and "password" not in entry.criteria["changed"]
    assert entry.criteria["secret_changed"] == ["password"]
    assert stored.password not in str(entry.criteria) and user.password not in str(entry.criteria)


def test_a_town_in_use_cannot_be_deleted_and_no_resident_is_shown(family, terminal):
    admin = _login("admin", "master11", terminal)
    town = Town.objects.filter(name__contains="城内").first()
    page = admin.get(f"/admin/register/town/{town.pk}/delete/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "件）から参照されています" in body
    assert "青木" not in body and "アオキ" not in body
    r = admin.post(f"/admin/register/town/{town.pk}/delete/", {"post": "yes"})
    assert Town.objects.filter(pk=town.pk).exists()
    assert not AccessLog.objects.filter(function="master.delete").exists()
    checks = AccessLog.objects.filter(function="master.delete_check")
    assert checks.exists() and all(c.person_count == 0 for c in checks)
    assert chain.verify().ok


def test_a_counter_user_who_is_not_admin_staff_is_refused_not_sent_round(towns, terminal, clerk):
    client = counter_client(clerk, terminal)  # is_staff False
    r = client.get("/admin/", follow=True)
    assert r.status_code == 403
    assert "/counter/login/" not in r.redirect_chain[-1][0]


def test_the_admin_logout_ends_the_counter_session_and_the_idle_lock_applies(towns, terminal, settings):
    user = _staff("admin", "master12")
    client = counter_client(user, terminal)
    assert client.get("/admin/").status_code == 200
    settings.JUKI_IDLE_LOCK_SECONDS = -1
    r = client.get("/admin/register/town/")
    assert r.status_code == 302 and r["Location"].startswith("/counter/lock/")
    settings.JUKI_IDLE_LOCK_SECONDS = 900
    client = counter_client(user, terminal)
    r = client.post("/admin/logout/")
    assert r.status_code == 302 and r["Location"] == "/counter/login/"
    assert AccessLog.objects.filter(user=user, function="auth.logout").exists()
    assert client.get("/admin/").status_code == 302
