"""The authorisation matrix (issue 4, C02): every role against every API endpoint and staff screen.

`ROUTES` says, for every named URL under `api/v1/` and the staff screens, what each route is
designed to allow: the rights that open it (any one of them), or `PUBLIC` / `ANY_STAFF`. A route
missing from the table fails `test_every_route_is_in_the_matrix`, so a new route has to be
classified in review.

The calls are cheap and change nothing: ids that do not exist (an allowed role gets 404) and
empty bodies (400). A role holding a designed right must get past the check (not 401/403, not
sent to the login screen); any other role must get 403 and leave a refusal in the access log.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.urls import URLResolver, get_resolver, reverse

from juki.accounts.models import Terminal
from juki.accounts.permissions import ROLES, Perm, perms_of_role
from juki.audit.models import AccessLog
from juki.ui.access import home_for
from juki.register.api.views import OPERATIONS
from juki.rights.services import effective_perms

from .conftest import _staff, api_for, counter_client

PUBLIC = "public"  # no login needed (login, token, help, API schema)
ANY_STAFF = "any_staff"  # any logged-in user, whatever their rights

SCREEN_PREFIXES = ("counter/", "rights/", "protection/", "audit/", "disclosure/")
NO_SUCH_ID = 987654321
# Outcomes of a log row that mean "it was done": a refusal must leave something else.
DONE = {AccessLog.OK, AccessLog.EMPTY, "done"}


@dataclass(frozen=True)
class Call:
    method: str
    rights: str | frozenset[str]  # PUBLIC, ANY_STAFF, or any one of these rights
    body: dict = field(default_factory=dict)
    query: str = ""


def get(rights, query: str = "") -> Call:
    return Call("GET", rights, query=query)


def post(rights, body: dict | None = None) -> Call:
    return Call("POST", rights, body=body or {})


def any_of(*rights: str) -> frozenset[str]:
    return frozenset(str(r) for r in rights)


P = Perm
VIEW = any_of(P.PERSON_VIEW)
CHANGE = any_of(P.PERSON_CHANGE)
APPROVE = any_of(P.CHANGE_APPROVE)
SUPPORT = any_of(P.SUPPORT_MEASURE_MANAGE)
RESTRICT = any_of(P.RESTRICTION_MANAGE)
RELEASE = any_of(P.RESTRICTION_RELEASE)
RELEASE_TEMPORARILY = any_of(P.RESTRICTION_TEMPORARY_RELEASE)
LOGS = any_of(P.ACCESS_LOG_VIEW)
DISCLOSE = any_of(P.DISCLOSURE_PREPARE)
RIGHTS_ADMIN = any_of(P.RIGHTS_ADMIN)
RIGHTS_APPROVE = any_of(P.RIGHTS_APPROVE)
RIGHTS_ANY = any_of(P.RIGHTS_ADMIN, P.RIGHTS_APPROVE)  # the applications: who applies and who decides
RIGHTS_TABLE = any_of(P.RIGHTS_ADMIN, P.ACCESS_LOG_VIEW)  # rights.table.VIEW_PERMS: admin and audit
OUTBOX = any_of(P.OUTBOX_CONSUME)
CERT = any_of(P.CERTIFICATE_ISSUE)

# Route name -> the calls to try and what each is designed to allow. Path arguments not named in
# KWARGS are ids and get NO_SUCH_ID.
ROUTES: dict[str, list[Call]] = {
    # --- API: login and the schema are public; master lists hold no personal data
    "api-token": [post(PUBLIC)],
    "api-token-revoke": [post(ANY_STAFF)],  # the caller's own token (ADR 0015)
    "api-schema": [get(PUBLIC)],
    "api-docs": [get(PUBLIC)],
    "api-wards": [get(ANY_STAFF)],
    "api-towns": [get(ANY_STAFF)],
    "api-buildings": [get(ANY_STAFF)],
    # --- API: the register
    "api-person-search": [post(any_of(P.PERSON_SEARCH))],
    "api-person": [get(VIEW)],
    "api-person-history": [get(VIEW)],
    "api-household": [get(VIEW)],
    "api-households-without-head": [get(VIEW)],
    "api-late-notifications": [get(VIEW)],
    **{f"api-change-{op}": [post(any_of(f"change.{op}"))] for op in OPERATIONS},
    # 仮登録 (C10): entered by anybody who enters changes, decided by a reviewer; an identity
    # correction's approval also needs identity.approve, which the service checks on the item.
    "api-pending": [get(CHANGE), post(CHANGE)],
    "api-pending-detail": [get(CHANGE)],
    "api-pending-approve": [post(APPROVE)],
    "api-pending-reject": [post(APPROVE)],
    "api-pending-withdraw": [post(CHANGE)],
    "api-access-log": [get(LOGS)],
    "api-outbox": [get(OUTBOX)],
    "api-outbox-ack": [post(OUTBOX)],
    # 団体内統合宛名 (issue 16): the business systems' accounts only (their system actors hold atena.query)
    "api-atena-lookup": [post(any_of(P.ATENA_QUERY))],
    "api-atena-register": [post(any_of(P.ATENA_QUERY))],
    "api-restriction-events": [get(OUTBOX, "?consumer=atena")],
    "api-restriction-events-ack": [post(OUTBOX)],
    "api-disclosure": [get(DISCLOSE)],
    "api-disclosure-summary": [get(DISCLOSE)],
    # --- API: rights administration
    "api-rights-applications": [get(RIGHTS_ANY), post(RIGHTS_ADMIN)],
    "api-rights-approve": [post(RIGHTS_APPROVE)],
    "api-rights-reject": [post(RIGHTS_APPROVE)],
    "api-rights-table": [get(RIGHTS_TABLE)],
    # --- API: 支援措置 [440] and 抑止 [410]; the certificate check is the issuing counter's
    "api-support-measures": [get(SUPPORT), post(SUPPORT)],
    "api-support-measure": [get(SUPPORT)],
    "api-support-measure-confirm": [post(SUPPORT)],
    "api-support-measure-extend": [post(SUPPORT)],
    "api-support-measure-end": [post(SUPPORT)],
    "api-protection-alerts": [get(SUPPORT)],
    "api-restrictions": [get(RESTRICT), post(RESTRICT)],
    "api-restriction-release": [post(RELEASE)],
    "api-restriction-temporary-release": [post(RELEASE_TEMPORARILY)],
    "api-certificate-check": [post(any_of(P.CERTIFICATE_ISSUE))],
    # --- API: certificates (issue 5); anyone holding a certificate may verify it
    "api-certificates": [get(any_of(P.CERTIFICATE_ISSUE)), post(any_of(P.CERTIFICATE_ISSUE))],
    "api-certificate-void": [post(any_of(P.CERTIFICATE_ISSUE))],
    "api-certificate-reissue": [post(any_of(P.CERTIFICATE_ISSUE))],
    "api-certificate-move-out": [post(any_of(P.CERTIFICATE_ISSUE))],  # 転出証明書 [660]
    "api-certificate-code-notice": [post(any_of(P.CERTIFICATE_ISSUE))],  # 住民票コード通知票 [890]
    "api-certificate-verify": [post(PUBLIC)],
    "api-certificate-numbers": [get(any_of(P.CERTIFICATE_ISSUE, P.ACCESS_LOG_VIEW), "?year=2026")],  # 欠番一覧 (ADR 0021)
    # --- API: 北九州市民カード (the counter's card steps; the kiosk's PIN check is no route of its own)
    "api-cards": [post(any_of(P.CARD_MANAGE))],
    "api-cards-person": [get(any_of(P.CARD_MANAGE))],
    "api-card-suspend": [post(any_of(P.CARD_MANAGE))],
    "api-card-resume": [post(any_of(P.CARD_MANAGE))],
    "api-card-unlock": [post(any_of(P.CARD_MANAGE))],
    "api-card-pin": [post(any_of(P.CARD_MANAGE))],
    "api-card-reissue": [post(any_of(P.CARD_MANAGE))],
    "api-card-abolish": [post(any_of(P.CARD_MANAGE))],
    # --- API: 印鑑登録 and the 印鑑登録証明書
    "api-seal": [get(any_of(P.SEAL_MANAGE))],
    "api-seal-register": [post(any_of(P.SEAL_MANAGE))],
    "api-seal-answer": [post(any_of(P.SEAL_MANAGE))],
    "api-seal-abolish": [post(any_of(P.SEAL_MANAGE))],
    "api-seal-lost": [post(any_of(P.SEAL_MANAGE))],
    "api-seal-certificate": [post(any_of(P.CERTIFICATE_ISSUE))],
    # --- screens: the counter. The search is POSTed: a GET of the front page by a user without
    # person.search sends them to their own first screen (ui.menu.Home, registered by each screen app) instead.
    "counter:search": [post(any_of(P.PERSON_SEARCH))],
    "counter:login": [get(PUBLIC)],
    "counter:login_otp": [get(PUBLIC)],
    "counter:help": [get(PUBLIC)],
    "counter:logout": [post(PUBLIC)],  # ends whatever session there is
    "counter:lock": [get(ANY_STAFF)],
    "counter:password_change": [get(ANY_STAFF)],
    "counter:ping": [post(ANY_STAFF)],
    "counter:town_options": [get(ANY_STAFF)],  # the address dictionary: no personal data
    "counter:katagaki_options": [get(ANY_STAFF)],
    "counter:person": [get(VIEW)],
    "counter:household": [get(VIEW)],
    "counter:reveal_my_number": [post(any_of(P.MY_NUMBER_VIEW))],
    "counter:change_form": [get(CHANGE)],  # each operation's own change.<op> is the service's check
    "counter:change_commit": [post(CHANGE)],
    "counter:change_done": [get(VIEW)],
    "counter:receipt": [get(VIEW)],
    "counter:pending_list": [get(CHANGE)],
    "counter:pending_detail": [get(CHANGE)],
    "counter:pending_approve": [post(APPROVE)],
    "counter:pending_reject": [post(APPROVE)],
    "counter:pending_withdraw": [post(CHANGE)],
    # --- screens: certificates (issue 5), under /counter/certificates/
    "certificate_counter:issue_form": [get(CERT)],
    "certificate_counter:preview": [post(CERT)],
    "certificate_counter:issue": [post(CERT)],
    "certificate_counter:preview_pdf": [get(CERT)],
    "certificate_counter:issue_list": [get(CERT)],
    "certificate_counter:issue_detail": [get(CERT)],
    "certificate_counter:issue_pdf": [get(CERT)],
    "certificate_counter:issue_void": [post(CERT)],
    "certificate_counter:issue_reissue": [post(CERT)],
    # 転出証明書 [660] and 住民票コード通知票 [890]: tabs of the same screen, and from the change-done screen
    "certificate_counter:move_out_form": [get(CERT)],
    "certificate_counter:move_out_preview": [post(CERT)],
    "certificate_counter:move_out_issue": [post(CERT)],
    "certificate_counter:move_out_after_change": [post(CERT)],
    "certificate_counter:code_notice_form": [get(CERT)],
    "certificate_counter:code_notice_preview": [post(CERT)],
    "certificate_counter:code_notice_issue": [post(CERT)],
    # fees and cash [1420]: no personal data, but the counter's money
    "certificate_counter:issue_receipt": [get(CERT)],
    "certificate_counter:fee_table": [get(CERT)],
    "certificate_counter:cash_summary": [get(CERT)],
    "certificate_counter:cash_summary_csv": [get(CERT)],
    "certificate_counter:cash_summary_pdf": [get(CERT)],
    # --- screens: 北九州市民カード, under /counter/cards/
    "card_counter:person": [get(any_of(P.CARD_MANAGE))],
    "card_counter:issue": [post(any_of(P.CARD_MANAGE))],
    "card_counter:step": [post(any_of(P.CARD_MANAGE))],
    # --- screens: 印鑑登録, under /counter/seals/ (the 印影 check stores nothing, but it is the seal clerk's)
    "seal_counter:person": [get(any_of(P.SEAL_MANAGE))],
    "seal_counter:register": [post(any_of(P.SEAL_MANAGE))],
    "seal_counter:inquiry_letter": [get(any_of(P.SEAL_MANAGE))],
    "seal_counter:answer": [post(any_of(P.SEAL_MANAGE))],
    "seal_counter:abolish": [post(any_of(P.SEAL_MANAGE))],
    "seal_counter:lost": [post(any_of(P.SEAL_MANAGE))],
    "seal_counter:image_check": [post(any_of(P.SEAL_MANAGE))],
    "seal_counter:certificate": [get(CERT)],
    "seal_counter:certificate_preview": [post(CERT)],
    "seal_counter:certificate_issue": [post(CERT)],
    "seal_counter:issued": [get(CERT)],
    "seal_counter:reissue": [post(CERT)],
    # --- screens: rights
    "rights:application_list": [get(RIGHTS_ANY)],
    "rights:application_new": [get(RIGHTS_ADMIN)],
    "rights:application_detail": [get(RIGHTS_ANY)],
    "rights:application_approve": [post(RIGHTS_APPROVE)],
    "rights:application_reject": [post(RIGHTS_APPROVE)],
    "rights:application_withdraw": [post(RIGHTS_ADMIN)],
    "rights:table": [get(RIGHTS_TABLE)],
    "rights:table_csv": [get(RIGHTS_TABLE)],
    "rights:table_pdf": [get(RIGHTS_TABLE)],
    "rights:staff_change": [get(RIGHTS_ADMIN)],
    # 委託先職員 (C04): registered by the system's owning manager, work applied for by the administrator
    "rights:contractor_list": [get(RIGHTS_ANY)],
    "rights:contractor_new": [get(RIGHTS_APPROVE), post(RIGHTS_APPROVE)],
    "rights:work_list": [get(RIGHTS_ANY)],
    "rights:work_new": [get(RIGHTS_ADMIN), post(RIGHTS_ADMIN)],
    "rights:work_detail": [get(RIGHTS_ANY)],
    "rights:work_approve": [post(RIGHTS_APPROVE)],
    # staff logins (C01): one-time password enrolment and unlock
    "rights:account_list": [get(RIGHTS_ADMIN)],
    "rights:account_detail": [get(RIGHTS_ADMIN)],
    "rights:account_totp_enrol": [post(RIGHTS_ADMIN)],
    "rights:account_unlock": [post(RIGHTS_ADMIN)],
    # --- screens: protection
    "protection:support_list": [get(SUPPORT)],
    "protection:support_new": [get(SUPPORT)],
    "protection:support_term": [get(SUPPORT)],
    "protection:support_detail": [get(SUPPORT)],
    "protection:support_notice": [post(SUPPORT)],
    "protection:support_action": [post(SUPPORT)],
    "protection:person": [get(any_of(P.RESTRICTION_MANAGE, P.RESTRICTION_RELEASE, P.RESTRICTION_TEMPORARY_RELEASE))],
    "protection:restriction_new": [post(RESTRICT)],
    "protection:restriction_roster": [get(RESTRICT)],  # 抑止対象者一覧 [1290]
    "protection:restriction_action": [post(RELEASE)],  # action=release below
    # --- screens: the auditor's
    "audit:analysis": [get(LOGS)],
    "audit:analysis_csv": [get(LOGS)],
    "audit:anomalies": [get(LOGS)],
    "audit:anomalies_csv": [get(LOGS)],
    "disclosure:start": [get(DISCLOSE)],
    "disclosure:person": [get(DISCLOSE)],
    "disclosure:report": [post(DISCLOSE)],
}
KWARGS = {
    "counter:change_form": {"slug": "move-in"},
    "counter:change_commit": {"slug": "move-in"},
    "counter:help": {"topic": "search"},
    "protection:support_action": {"action": "extend"},
    "protection:restriction_action": {"action": "release"},
    "card_counter:step": {"step": "suspend"},
}
# They end or lock the session, so each role's client calls them last.
# The revoke ends the role's API token, and the logout its tokens and session: called last.
LAST = ("api-token-revoke", "counter:lock", "counter:logout")


@dataclass(frozen=True)
class Route:
    name: str
    path_args: tuple[str, ...]
    is_api: bool


def routes() -> dict[str, Route]:
    found: dict[str, Route] = {}

    def walk(patterns, prefix="", namespace=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = ":".join(x for x in (namespace, p.namespace) if x)
                walk(p.url_patterns, prefix + str(p.pattern), ns)
                continue
            full = prefix + str(p.pattern)
            if p.name and (full.startswith("api/v1/") or full.startswith(SCREEN_PREFIXES)):
                name = f"{namespace}:{p.name}" if namespace else p.name
                args = tuple(getattr(p.pattern, "converters", {}))
                found[name] = Route(name, args, full.startswith("api/v1/"))

    walk(get_resolver().url_patterns)
    return found


def test_every_route_is_in_the_matrix():
    names = set(routes())
    assert sorted(names - set(ROUTES)) == [], "classify these routes in ROUTES"
    assert sorted(set(ROUTES) - names) == [], "these routes no longer exist"


def _url(route: Route, call: Call) -> str:
    kwargs = {a: KWARGS.get(route.name, {}).get(a, NO_SUCH_ID) for a in route.path_args}
    url = reverse(route.name, kwargs=kwargs)
    return f"{url}?{call.query}" if call.query else url


def _send(client, route: Route, call: Call, url: str):
    if call.method == "GET":
        return client.get(url)
    if route.is_api:
        return client.post(url, call.body, format="json")
    return client.post(url, call.body)


def _allowed(role: str, rights) -> bool:
    if rights in (PUBLIC, ANY_STAFF):
        return True
    return bool(perms_of_role(role) & rights)


def _refused_rows(user, before: int) -> list[str]:
    return [r.outcome for r in AccessLog.objects.filter(user=user, pk__gt=before).order_by("pk")]


def _sent_to_login(response) -> bool:
    location = response.get("Location", "") or response.get("HX-Redirect", "")
    return response.status_code in (302, 303, 204) and any(
        p in location for p in ("/counter/login/", "/counter/lock/", "/counter/password/"))


@pytest.fixture
def staff_by_role(db):
    out = {}
    for i, role in enumerate(ROLES):
        # A terminal each: a login on a terminal ends the session another user had there (C01).
        terminal = Terminal.objects.create(code=f"T-MX{i}", name=f"窓口{i}", location="小倉北区役所 市民課")
        user = _staff(role, f"mx-{role}")
        # The API token first: the counter login's TOTP enrolment is then the user's latest device.
        assert effective_perms(user) == perms_of_role(role)  # what the table's expectations assume
        out[role] = (user, api_for(user, terminal), counter_client(user, terminal))
    return out


def _order(names):
    return sorted(names, key=lambda n: (n in LAST, LAST.index(n) if n in LAST else 0, n))


@pytest.mark.django_db
def test_every_role_against_every_route(staff_by_role):
    found = routes()
    mismatches: list[str] = _front_page(staff_by_role)
    for role, (user, api, screen) in staff_by_role.items():
        for name in _order(found):
            route = found[name]
            for call in ROUTES.get(name, []):
                client = api if route.is_api else screen
                url = _url(route, call)
                last = AccessLog.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
                try:
                    response = _send(client, route, call, url)
                except Exception as exc:  # noqa: BLE001 - report every route, not only the first
                    mismatches.append(f"{role:16} {call.method:4} {name}: raised {type(exc).__name__}: {exc}"[:300])
                    continue
                status = response.status_code
                where = f"{role:16} {call.method:4} {name} ({url})"
                if status >= 500:
                    mismatches.append(f"{where}: {status}")
                elif _allowed(role, call.rights):
                    if status in (401, 403) or (call.rights != PUBLIC and _sent_to_login(response)):
                        mismatches.append(f"{where}: should be allowed, got {status} {response.get('Location', '')}")
                else:
                    rows = _refused_rows(user, last)
                    if status != 403:
                        mismatches.append(f"{where}: should be refused with 403, got {status}")
                    elif not [o for o in rows if o not in DONE]:
                        mismatches.append(f"{where}: 403 without a refusal in the access log (rows: {rows})")
    assert mismatches == [], "\n" + "\n".join(mismatches)


def _front_page(staff_by_role) -> list[str]:
    """GET /counter/ without person.search: the user's own first screen, or 403 if they have none."""
    out = []
    for role, (user, _, screen) in staff_by_role.items():
        last = AccessLog.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        response = screen.get(reverse("counter:search"))
        home = home_for(user)
        if Perm.PERSON_SEARCH in perms_of_role(role):
            ok = response.status_code == 200
        elif home != reverse("counter:search"):
            ok = response.status_code == 302 and response["Location"] == home
        else:
            ok = response.status_code == 403 and any(o not in DONE for o in _refused_rows(user, last))
        if not ok:
            out.append(f"{role:16} GET  counter:search (front page): got {response.status_code} {response.get('Location', '')}")
    return out


@pytest.mark.django_db
def test_without_login_only_public_routes_answer(db):
    """No session, no token: the API says 401, a screen sends the visitor to the login page."""
    from django.test import Client
    from rest_framework.test import APIClient

    found = routes()
    mismatches = []
    for name in _order(found):
        route = found[name]
        for call in ROUTES.get(name, []):
            url = _url(route, call)
            response = _send(APIClient() if route.is_api else Client(), route, call, url)
            status = response.status_code
            if call.rights == PUBLIC:
                ok = status not in (401, 403) and status < 500
            elif route.is_api:
                ok = status == 401
            else:
                ok = status == 302 and response["Location"].startswith(reverse("counter:login"))
            if not ok:
                mismatches.append(f"{call.method:4} {name} ({url}): got {status} {response.get('Location', '')}")
    assert mismatches == [], "\n" + "\n".join(mismatches)
