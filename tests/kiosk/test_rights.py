"""The kiosk acts as a device with a few fixed rights, and its credential opens nothing but the kiosk."""
from __future__ import annotations

import datetime as dt

import pytest

from juki.accounts.permissions import ALL_PERMS, Perm
from juki.audit.models import AccessLog
from juki.audit.selectors import access_log_for_person
from juki.cards.services import card_issue
from juki.certificates.content import Options
from juki.certificates.entitlement import Request
from juki.certificates.models import CertificateIssue, Channel
from juki.certificates.services import certificate_issue
from juki.core.errors import AccessDenied
from juki.kiosk import access, devices
from juki.protection import services as protection
from juki.register import selectors
from juki.register.services import changes
from juki.register.services.search import Criteria, person_search

from ..conftest import person_input


def test_the_kiosk_actor_holds_only_its_rights(kiosk_actor, kiosk):
    assert kiosk_actor.user is None and kiosk_actor.system == "kiosk:KIOSK-01"
    assert kiosk_actor.terminal == kiosk.device.terminal
    assert devices.KIOSK_RIGHTS == {Perm.PERSON_VIEW, Perm.CERTIFICATE_ISSUE, Perm.FIELD_DOMICILE}
    for perm in ALL_PERMS:
        assert kiosk_actor.can(perm) == (perm in devices.KIOSK_RIGHTS), perm


def test_the_kiosk_actor_cannot_search_change_or_read_logs(kiosk_actor, household, world):
    holder = household["ids"][0]
    refused = [
        lambda: person_search(actor=kiosk_actor, criteria=Criteria(name="青木", birth_date=dt.date(1985, 4, 1))),
        lambda: changes.move_in(actor=kiosk_actor, event_date=dt.date.today(), notified_on=dt.date.today(),
                                origin="domestic", persons=[person_input(given_name="次郎")],
                                destination=household["household_id"], address=None, previous_address="福岡市"),
        lambda: access_log_for_person(actor=kiosk_actor, person_id=holder),
        lambda: protection.support_list(actor=kiosk_actor),
        lambda: card_issue(actor=kiosk_actor, person_id=holder, pin="2580"),
        lambda: devices.device_add(actor=kiosk_actor, code="KIOSK-66", name="x", location="y"),
        # 個人番号: refused even though a certificate with it is otherwise the kiosk's to issue.
        lambda: certificate_issue(actor=kiosk_actor, options=Options(layout="individual", my_number=True),
                                  household_id=None, person_ids=[holder],
                                  request=Request(kind="self", requester_person_id=holder), channel=Channel.KIOSK),
    ]
    refusals = ("denied", "permission_denied")
    for i, call in enumerate(refused):
        before = AccessLog.objects.filter(system="kiosk:KIOSK-01", outcome__in=refusals).count()
        with pytest.raises(AccessDenied):
            call()
        assert AccessLog.objects.filter(system="kiosk:KIOSK-01", outcome__in=refusals).count() == before + 1, i
    assert not CertificateIssue.objects.exists()
    denied = AccessLog.objects.filter(system="kiosk:KIOSK-01", outcome=AccessLog.DENIED)
    assert {"person.search", "accesslog.view", "card.issue", "kiosk.device_add"} <= set(
        denied.values_list("function", flat=True))
    # What it may do, it can: read the holder (without 住民票コード) for the certificate.
    person = selectors.person_get(actor=kiosk_actor, person_id=holder)
    assert person["resident_code"] is None and person["domicile"] == "福岡県北九州市小倉北区城内1番"


def test_the_device_cookie_is_httponly_strict_signed_and_kiosk_only(kiosk, kc):
    cookie = kc.cookies[access.COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/kiosk/"
    assert int(cookie["max-age"]) == 365 * 86400
    assert kc.get("/kiosk/").status_code == 200
    # Signed: the same code and secret with the signature altered are refused.
    kc.cookies[access.COOKIE] = cookie.value[:-2] + ("AA" if not cookie.value.endswith("AA") else "BB")
    kc.cookies[access.COOKIE]["path"] = "/kiosk/"
    r = kc.get("/kiosk/")
    assert r.status_code == 403 and "この端末は自動交付機として登録されていません。" in r.content.decode()


def test_staff_screens_and_the_api_do_not_open_with_the_device_cookie(kc, household):
    kc.get("/kiosk/card/")  # a resident's session is open too
    for url in ("/counter/", f"/counter/persons/{household['ids'][0]}/", "/counter/certificates/issues/",
                "/counter/certificates/cash/", "/audit/analysis/", "/protection/support/"):
        r = kc.get(url)
        assert r.status_code == 302 and "/counter/login/" in r["Location"], url
    for url in (f"/api/v1/persons/{household['ids'][0]}", "/api/v1/certificates"):
        assert kc.get(url).status_code in (401, 403), url
    # The browser never even sends the credential outside /kiosk/.
    assert kc.cookies[access.COOKIE]["path"] == "/kiosk/"


def _login(user, code: str):
    from django.test import Client

    client = Client()
    r = client.post("/counter/login/", {"username": user.username, "password": user.plain_password, "terminal": code})
    return client, r


def test_staff_cannot_log_in_on_the_kiosks_terminal(kiosk, clerk, terminal):
    """KIOSK-01's terminal names the device in issue records and its 日計表: a clerk's issues must
    never land there. Refused like a terminal that does not exist."""
    offered = _login(clerk, "NOPE")[0].get("/counter/login/").content.decode()
    assert "KIOSK-01" not in offered and terminal.code in offered
    client, r = _login(clerk, "KIOSK-01")
    _, unknown = _login(clerk, "NOPE")
    assert r.status_code == unknown.status_code == 200
    said = str(r.context["form"].errors)
    assert said.replace("KIOSK-01", "NOPE") == str(unknown.context["form"].errors) and "候補にありません" in said
    assert client.get("/counter/")["Location"].startswith("/counter/login/")
    assert not AccessLog.objects.filter(function__startswith="auth.", terminal=kiosk.device.terminal).exists()


def test_a_counter_session_on_the_kiosks_terminal_does_not_open(kiosk, clerk, terminal):
    from juki.ui import access as counter_access
    from tests.conftest import counter_client

    client = counter_client(clerk, terminal)
    assert client.get("/counter/").status_code == 200
    session = client.session
    session[counter_access.SESSION_TERMINAL] = kiosk.device.terminal.pk
    session.save()
    assert client.get("/counter/")["Location"].startswith("/counter/login/")


def test_the_api_refuses_the_kiosks_terminal_like_an_unknown_one(kiosk, clerk, terminal):
    from tests.conftest import api_for

    api = api_for(clerk, terminal)
    assert api.get("/api/v1/certificates").status_code == 200
    token = api._credentials["HTTP_AUTHORIZATION"]
    answers = []
    for code in ("KIOSK-01", "NOPE"):
        api.credentials(HTTP_AUTHORIZATION=token, HTTP_X_TERMINAL_ID=code)
        r = api.get("/api/v1/certificates")
        answers.append((r.status_code, r.json()))
    assert answers[0] == answers[1] and answers[0][0] == 401
    assert not AccessLog.objects.filter(terminal=kiosk.device.terminal, user=clerk).exists()
