"""The leak matrix (issue 11, ADR 0013): no route shows a protected item to a role that may not see it.

The world: a household where a child is under a 支援措置 and her mother, in no measure, lives with
her (the 相手方 is 山田 次郎); another household where one member is under an error-level
抑止(照会). The protected items are the child's address, her 世帯番号, name and 住民票コード, and
the blocked person's name, 本籍 and 住民票コード.

Every route the URL resolver knows is either called in `CALLS` (as each role, and as the 相手方's
requests) with a text match for each protected item in the body, or named in `NOT_CALLED` with the
reason it shows none. A new route in neither fails `test_every_route_is_in_the_matrix`; a path whose
policy call is removed fails `test_the_matrix_finds_a_removed_policy_call`.
"""
from __future__ import annotations

import datetime as dt
import fnmatch
import json
import re

import pytest
from django.db import connection
from django.urls import get_resolver

from juki.protection import services as protection_services
from juki.register import selectors
from juki.register.models import Household
from juki.register.services import changes
from juki.register.services.people import Address

from .conftest import KOKURA_JOUNAI, TODAY, api_for, counter_client, days_ago, person_input
from .protection.helpers import OFFENDER_BIRTH, move_in_victim

ROLES = ("clerk", "supervisor", "viewer", "auditor", "linkage_user")
COUNTER_ROLES = ("clerk", "supervisor", "viewer", "auditor")  # the linkage user has the API only

# Routes not called here, each with why it shows no protected item to these roles.
NOT_CALLED = {
    "admin:*": "master data only (町字・区・端末・所属・職員); no resident record",
    "home": "a link page", "counter:login*": "login", "counter:lock": "screen lock", "counter:logout": "logout",
    "counter:password_change": "the user's own password", "counter:ping": "session keep-alive",
    "counter:help": "static help", "counter:town_options": "町字 master", "counter:katagaki_options": "方書 master",
    "api-token": "login", "api-token-revoke": "ends the calling token; answers 204 with no body",
    "api-wards": "master", "api-towns": "master", "api-buildings": "master",
    "api-schema": "OpenAPI", "api-docs": "OpenAPI", "api-certificate-verify": "genuine/altered/voided/unknown only",
    "api-certificate-numbers": "発行番号 ledger: numbers, times, forms and staff; no person (ADR 0021)",
    "certificates:verify*": "genuine/altered/voided/unknown only",
    "api-change-*": "writes: guard_change refuses a protected person (tests/protection/test_leak_paths.py)",
    "counter:change_form": "writes; its start reads go through person_get/household_get (called here)",
    "counter:change_commit": "writes: guard_change", "counter:change_done": "a change this user just committed",
    "counter:receipt": "a change this user just committed (change_get: guard_read)",
    "counter:pending_*": "pending changes: entered through guard_change", "api-pending*": "pending changes: guard_change",
    "counter:reveal_my_number": "person_get with the number (the same policy as counter:person)",
    "rights:*": "staff and rights only", "api-rights-*": "staff and rights only",
    "protection:*": "支援措置・抑止の事務: support.manage / restriction.manage only",
    "linkage:*": "the 庁内連携's operator screens: states, counts, positions and file names, no resident item "
                 "(tests/linkage/test_screens_access.py)",
    "atena:*": "the 宛名: a protected person is a marker whatever address is typed (search_mask with "
               "beyond_address) and the page refuses them (guard_read); tests/atena/test_atena.py",
    "api-atena-*": "the business systems' accounts only (none of these roles): a protected person is answered as "
                   "unknown, checked when answering (tests/atena/test_api.py, test_atena.py)",
    "api-support-measure*": "support.manage only", "api-protection-alerts": "support.manage only; counts",
    "api-restriction*": "restriction.manage, or the linkage stream of ids and block markers",
    "api-outbox-ack": "acknowledges a position; no data",
    "intermediary_link:*": "the 中間サーバー's screens: 統一識別番号, requesters, provisions and states, never a name or "
                           "an address; a held inquiry links to the person's page, which applies guard_read "
                           "(tests/intermediary/test_screens.py)",
    "jukinet:*": "the CS's and the national server's data: the outbox withholds a protected person from the "
                 "住基ネット連携 (block markers), so none reaches them; jukinet.operate/identify only (tests/jukinet)",
    "kiosk:*": "the card holder's own record; a protected holder is refused (kiosk.services.precheck)",
    "audit:anomalies*": "counts by user and function", "audit:analysis_csv": "the analysis as CSV (called as HTML)",
    "disclosure:start": "a form", "disclosure:report": "the data of disclosure:person (called) as a PDF",
    "api-disclosure": "the data of api-disclosure-summary (called) as a PDF",
    "certificate_counter:preview*": "gather(): the certificate check first (the 相手方's request is called via the API)",
    "certificate_counter:issue": "gather(): the certificate check first",
    "certificate_counter:move_out_*": "a 転出証明書 for the movers, checked as 本人",
    "certificate_counter:code_notice_*": "a notice to the person, checked as 本人",
    "certificate_counter:issue_detail": "by number; the list leaves out protected persons' certificates",
    "certificate_counter:issue_pdf": "the PDF of a certificate this session issued",
    "certificate_counter:issue_void": "guard_read before voiding", "certificate_counter:issue_reissue": "gather()",
    "certificate_counter:issue_receipt": "a receipt for a certificate this session issued",
    "certificate_counter:fee_table": "fees", "certificate_counter:cash_summary*": "amounts by form and channel",
    "api-certificate-void": "guard_read before voiding (tests/protection/test_around_paths.py)",
    "api-certificate-reissue": "gather()", "api-certificate-move-out": "checked as 本人",
    "api-certificate-code-notice": "checked as 本人",
    "card_counter:issue": "writes", "card_counter:step": "writes", "api-cards": "writes", "api-card-*": "writes by card id",
    "seal_counter:register": "writes", "seal_counter:inquiry_letter": "a letter to the applicant",
    "seal_counter:answer": "writes", "seal_counter:abolish": "writes", "seal_counter:lost": "writes",
    "seal_counter:image_check": "the 印影 only", "seal_counter:certificate*": "the seal certificate of the holder",
    "seal_counter:issued": "a seal certificate this session issued", "seal_counter:reissue": "writes",
    "api-seal-*": "writes, or the holder's seal certificate",
}


def _route_names() -> set[str]:
    names = set()

    def walk(patterns, ns=""):
        for p in patterns:
            if hasattr(p, "url_patterns"):
                walk(p.url_patterns, f"{ns}{p.namespace}:" if p.namespace else ns)
            elif p.name:
                names.add(f"{ns}{p.name}")

    walk(get_resolver().url_patterns)
    return names


# --- the world ------------------------------------------------------------------------------------------

BLOCKED_DOMICILE = "福岡県北九州市門司区照会抑止町九番"


@pytest.fixture
def world_of_protection(world, support, settings):
    settings.JUKI_TWO_PERSON_VERIFICATION = False
    victim = move_in_victim(world)
    protection_services.support_register(
        actor=support, person_id=victim["child"], kind="child_abuse", applied_on=days_ago(1),
        offender=protection_services.Offender(name="山田　次郎", birth_date=OFFENDER_BIRTH), provisional=True)
    other = changes.move_in(
        actor=world, event_date=days_ago(15), notified_on=days_ago(15), origin="domestic",
        persons=[person_input(family_name="門司", given_name="一郎", family_name_kana="モジ", given_name_kana="イチロウ"),
                 person_input(family_name="門司", given_name="照子", family_name_kana="モジ", given_name_kana="テルコ",
                              birth_date=dt.date(1991, 1, 1), sex=2, relationship="妻", domicile=BLOCKED_DOMICILE)],
        destination=changes.NEW, address=Address(KOKURA_JOUNAI, "8番8号"),
        previous_address="福岡県福岡市中央区天神二丁目2番2号", confirmed_new_person=True)
    neighbour, blocked = other.persons[0]["id"], other.persons[1]["id"]
    protection_services.restriction_set(actor=support, person_id=blocked, processes=["inquiry"], reason="照会の抑止")
    # A 世帯番号 unlike any 宛名番号 (both series start at 1 in a test database), so a match is the number.
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {Household._meta.db_table} SET number = %s WHERE id = %s", ["8765432109", victim["household"]])
    child = selectors.person_get(actor=support, person_id=victim["child"])
    shut = selectors.person_get(actor=support, person_id=blocked)
    items = {
        "protected address": "3番3号",
        "protected 世帯番号": child["household_number"],
        "protected name": "さくら",
        "protected 住民票コード": child["resident_code"],
        "blocked name": "照子",
        "blocked 本籍": BLOCKED_DOMICILE,
        "blocked 住民票コード": shut["resident_code"],
    }
    return {"mother": victim["mother"], "child": victim["child"], "household": victim["household"],
            "neighbour": neighbour, "blocked": blocked, "other_household": other.households[0]["id"],
            "mother_name": "花子", "items": items}


def _offender_request() -> dict:
    return {"kind": "third_party", "requester_name": "山田　次郎", "requester_kana": "ヤマダ　ジロウ",
            "requester_birth_date": OFFENDER_BIRTH.isoformat(), "documents": ["運転免許証"], "purpose": "家族の手続き"}


def _calls(w: dict) -> list[tuple[str, str, str, str, dict | None]]:
    """(route name, client kind, method, url, body) for the world `w`."""
    m, h, n, oh = w["mother"], w["household"], w["neighbour"], w["other_household"]
    today = TODAY.isoformat()
    return [
        ("api-person", "api", "get", f"/api/v1/persons/{m}", None),
        ("api-person", "api", "get", f"/api/v1/persons/{n}", None),
        ("api-person", "api", "get", f"/api/v1/persons/{m}?as_of={today}", None),
        ("api-person-history", "api", "get", f"/api/v1/persons/{m}/history", None),
        ("api-household", "api", "get", f"/api/v1/households/{h}", None),
        ("api-household", "api", "get", f"/api/v1/households/{oh}", None),
        ("api-households-without-head", "api", "get", "/api/v1/households/without-head", None),
        ("api-late-notifications", "api", "get", "/api/v1/changes/late-notifications", None),
        ("api-person-search", "api", "post", "/api/v1/persons/search", {"name": "山田", "town_code": KOKURA_JOUNAI}),
        ("api-person-search", "api", "post", "/api/v1/persons/search", {"name": "ヤマダ　ハナコ", "birth_date": "1990-02-03"}),
        ("api-person-search", "api", "post", "/api/v1/persons/search", {"name": "モジ", "town_code": KOKURA_JOUNAI}),
        ("api-certificates", "api", "get", f"/api/v1/certificates?date_from={today}", None),
        ("api-certificates", "api", "get", f"/api/v1/certificates?person={m}", None),
        ("api-certificates", "api", "post", "/api/v1/certificates",  # the 相手方's request for the co-resident
         {"form": "copy", "layout": "individual", "person_ids": [m], "request": _offender_request()}),
        ("api-certificate-check", "api", "post", "/api/v1/certificate-requests/check",
         {"subject_person_ids": [m], "requester": {"kind": "third_party", "name": "山田次郎",
                                                  "birth_date": OFFENDER_BIRTH.isoformat()}}),
        ("api-cards-person", "api", "get", f"/api/v1/cards/persons/{m}", None),
        ("api-seal", "api", "get", f"/api/v1/seals/persons/{m}", None),
        ("api-outbox", "api", "get", "/api/v1/outbox?consumer=atena", None),
        ("api-access-log", "api", "get", f"/api/v1/access-log?person={m}", None),
        ("api-disclosure-summary", "api", "get", f"/api/v1/persons/{m}/disclosure/summary", None),
        ("counter:search", "counter", "post", "/counter/", {"name": "山田", "town_code": KOKURA_JOUNAI}),
        ("counter:search", "counter", "post", "/counter/", {"name": "ヤマダ", "town_code": KOKURA_JOUNAI, "banchi": "3番3号"}),
        ("counter:search", "counter", "post", "/counter/", {"name": "モジ", "birth_date": "1991-01-01"}),
        ("counter:person", "counter", "get", f"/counter/persons/{m}/", None),
        ("counter:person", "counter", "get", f"/counter/persons/{n}/", None),
        ("counter:household", "counter", "get", f"/counter/households/{h}/", None),
        ("counter:household", "counter", "get", f"/counter/households/{oh}/", None),
        ("certificate_counter:issue_form", "counter", "get", f"/counter/certificates/persons/{m}/", None),
        ("certificate_counter:issue_list", "counter", "get", f"/counter/certificates/issues/?person={m}", None),
        ("certificate_counter:issue_list", "counter", "get", "/counter/certificates/issues/", None),
        ("card_counter:person", "counter", "get", f"/counter/cards/persons/{m}/", None),
        ("seal_counter:person", "counter", "get", f"/counter/seals/persons/{m}/", None),
        ("audit:analysis", "counter", "get", "/audit/analysis/", None),
        ("disclosure:person", "counter", "get", f"/disclosure/persons/{m}/", None),
    ]


def _body(response) -> str:
    content = response.content if not getattr(response, "streaming", False) else b"".join(response.streaming_content)
    try:
        return json.dumps(json.loads(content), ensure_ascii=False)
    except ValueError:
        return content.decode("utf-8", "replace")


# A role holding the right sees these items by right (the 支援措置担当, a supervisor with restriction.manage).
RIGHT_TO_SEE = {"protected": "support.manage", "blocked": "restriction.manage"}


def _shown(value: str, text: str) -> bool:
    """A number counts only as a whole number (a 世帯番号 inside a longer 宛名番号 is not it)."""
    if value.isdigit():
        return re.search(rf"(?<!\d){value}(?!\d)", text) is not None
    return value in text


def run_matrix(w: dict, users: dict, terminal) -> tuple[list[tuple], dict]:
    """(leaks: (route, role, url, item), how many calls answered 200 per route)."""
    leaks, answered = [], {}
    for role in ROLES:
        clients = {"api": api_for(users[role], terminal)}
        if role in COUNTER_ROLES:
            clients["counter"] = counter_client(users[role], terminal)
        for route, kind, method, url, body in _calls(w):
            if kind not in clients:
                continue
            client = clients[kind]
            if method == "get":
                response = client.get(url)
            elif kind == "api":
                response = client.post(url, body, format="json")
            else:
                response = client.post(url, body, HTTP_HX_REQUEST="true")
            if response.status_code == 200:
                answered[route] = answered.get(route, 0) + 1
            text = _body(response)
            leaks += [(route, role, url, item) for item, value in w["items"].items()
                      if value and _shown(value, text) and not users[role].has_juki_perm(RIGHT_TO_SEE[item.split()[0]])]
    return leaks, answered


@pytest.fixture
def users(clerk, supervisor, viewer, auditor, linkage_user):
    return {"clerk": clerk, "supervisor": supervisor, "viewer": viewer, "auditor": auditor, "linkage_user": linkage_user}


def _resolves(url: str) -> str:
    from django.urls import resolve

    match = resolve(url.split("?")[0])
    return f"{match.namespace}:{match.url_name}" if match.namespace else match.url_name


def test_every_route_is_in_the_matrix():
    called = {route for route, *_ in _calls({k: 1 for k in ("mother", "household", "neighbour", "other_household")})}
    unclassified = sorted(n for n in _route_names()
                          if n not in called and not any(fnmatch.fnmatchcase(n, pattern) for pattern in NOT_CALLED))
    assert unclassified == [], "add each new route to _calls() or, with the reason, to NOT_CALLED"


def test_each_call_is_the_route_it_names():
    for route, _, _, url, _ in _calls({k: 1 for k in ("mother", "household", "neighbour", "other_household")}):
        assert _resolves(url) == route, url


def test_no_route_shows_a_protected_item_to_any_role(world_of_protection, users, terminal):
    leaks, answered = run_matrix(world_of_protection, users, terminal)
    assert leaks == [], "\n".join(map(str, leaks))
    # Not vacuous: the co-resident's and the neighbour's records are shown, with their names.
    assert answered.get("api-person", 0) >= 3 and answered.get("counter:person", 0) >= 2
    assert answered.get("api-household", 0) >= 2 and answered.get("counter:household", 0) >= 2


def test_the_matrix_finds_a_removed_policy_call(world_of_protection, users, terminal, monkeypatch):
    """Take one path's policy call away (the person record's place policy) and the matrix sees it."""
    from juki.register import read_models

    real = read_models.protection

    class WithoutPlacePolicy:  # the enforcement module, less the one call the person record makes
        def __getattr__(self, name):
            return getattr(real, name)

        @staticmethod
        def place_protected(session, **place):
            return False

    monkeypatch.setattr(read_models, "protection", WithoutPlacePolicy())
    leaks, _ = run_matrix(world_of_protection, users, terminal)
    assert ("api-person", "clerk", f"/api/v1/persons/{world_of_protection['mother']}", "protected address") in leaks
    assert any(route == "counter:person" and item == "protected address" for route, _, _, item in leaks)


def test_the_matrix_finds_a_removed_household_policy(world_of_protection, users, terminal, monkeypatch):
    """And the household's: without `hidden_persons`, the blocked member shows in her household."""
    from juki.protection import enforcement

    monkeypatch.setattr(enforcement, "hidden_persons", lambda session, ids: {})
    leaks, _ = run_matrix(world_of_protection, users, terminal)
    assert any(route == "api-household" and item == "blocked 本籍" for route, _, _, item in leaks)
