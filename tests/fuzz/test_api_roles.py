"""The API fuzzing (schemathesis) reaches every operation with a caller allowed to use it (issue 18,
item 7).

tests/test_api_contract.py fuzzes every operation of the OpenAPI schema as an anonymous caller and
as a supervisor. A supervisor holds no right to 21 of them — the access log and the 開示 reports
(auditor), the rights applications (manager and admin), the outbox and the 団体内統合宛名's look-up
(the 連携システム account) and the 支援措置 (支援措置担当) — so there they were only ever answered
403 before any input was read. Here each of those operations is fuzzed as a caller whose role
holds its right, with the contract's checks (no server error, documented status, content type and
body), and `test_every_operation_has_an_authorised_fuzzing_caller` keeps the table complete: an
operation added to the schema must be reachable by the supervisor or be listed here.
"""
from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from juki.accounts.permissions import perms_of_role
from juki.linkage import approvals
from tests.conftest import _staff, api_for, move_in_family
from tests.helpers import TEST_ACTOR
from tests.test_api_contract import CHECKS, _schema_dict

EXAMPLES = 5

# Operation (method, path regex) → the role whose caller fuzzes it ("linkage:CODE": the connector of the
# destination CODE; a bare "linkage" is the 団体内統合宛名's own account, `atena`, which reads the outbox).
ROLE_OF = {
    ("GET", r"/api/v1/access-log"): "auditor",
    ("GET", r"/api/v1/persons/\{person_id\}/disclosure(/summary)?"): "auditor",
    ("GET", r"/api/v1/rights/table\.csv"): "auditor",
    ("GET", r"/api/v1/rights/applications"): "manager",
    ("POST", r"/api/v1/rights/applications"): "admin",
    ("POST", r"/api/v1/rights/applications/\{application_id\}/(approve|reject)"): "manager",
    ("GET", r"/api/v1/outbox(/restrictions)?"): "linkage",
    ("POST", r"/api/v1/outbox(/restrictions)?/ack"): "linkage",
    ("POST", r"/api/v1/atena/(lookup|non-residents)"): "linkage:tax",  # a business system's connector (税務)
    ("GET", r"/api/v1/protection/alerts"): "support",
    ("GET", r"/api/v1/protection/support-measures(/\{measure_id\})?"): "support",
    ("POST", r"/api/v1/protection/support-measures(/\{measure_id\}/(confirm|end|extend))?"): "support",
}


def _role_for(method: str, path: str) -> str | None:
    return next((role for (m, rx), role in ROLE_OF.items() if m == method.upper() and re.fullmatch(rx, path)), None)


def _schema():
    schema = schemathesis.openapi.from_dict(_schema_dict())
    schema.config.phases.update(phases=["examples", "fuzzing"])
    schema.config.generation.update(max_examples=EXAMPLES)
    return schema.include(lambda ctx: _role_for(ctx.operation.method, ctx.operation.path) is not None)


schema = _schema()


@pytest.fixture
def callers(terminal):
    """role → its caller's headers, each account made once per test (hypothesis calls the body per example)."""
    made: dict[str, dict] = {}

    def headers(role: str) -> dict:
        if role not in made:
            role_name, _, destination = role.partition(":")
            if destination:  # the business systems' applications in force (C16), as tests/atena does
                approvals.demo_approvals(TEST_ACTOR)
            user = _staff(role_name, destination or ("atena" if role_name == "linkage" else f"fuzz-{role_name}"))
            client = api_for(user, terminal)
            made[role] = {"Authorization": client._credentials["HTTP_AUTHORIZATION"], "X-Terminal-Id": terminal.code}
        return made[role]

    return headers


@pytest.fixture
def person(world):
    """A person who exists, for the operations that name one (the 開示 reports)."""
    return move_in_family(world).persons[0]["id"]


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
def test_operation_fuzzed_by_an_authorised_caller(case, callers, person, live_server):
    headers = callers(_role_for(case.operation.method, case.operation.path))
    # The caller's own credentials, not generated ones (test_contract_anonymous fuzzes those); a copy each
    # call, as schemathesis may drop a header from the dict it is given.
    case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() not in ("authorization", "x-terminal-id")}
    response = case.call_and_validate(base_url=live_server.url, headers=dict(headers), checks=CHECKS)
    # Past the door whenever the credentials went out (schemathesis' negative cases may leave the
    # Authorization header off: a 401 is their right answer): a refusal of the input is a 400/404/409 ….
    if response.request.headers.get("Authorization") == headers["Authorization"]:
        assert response.status_code not in (401, 403), (case.operation.label, response.text[:300])
    if "person_id" in (case.path_parameters or {}):  # also the person who exists: the report's success answer
        case.path_parameters = {**case.path_parameters, "person_id": person}
        case.call_and_validate(base_url=live_server.url, headers=dict(headers), checks=CHECKS)


def test_every_operation_has_an_authorised_fuzzing_caller():
    """Each operation of the schema is fuzzed by the supervisor of test_api_contract.py (holding its
    right) or by the role listed here (holding it), never only by callers refused at the door."""
    from django.urls import resolve

    from tests.test_authorization_matrix import ANY_STAFF, PUBLIC, ROUTES

    supervisor = perms_of_role("supervisor")
    unreached = []
    for path, item in _schema_dict()["paths"].items():
        for method, _operation in item.items():
            concrete = re.sub(r"\{\w+\}", "1", path)
            if path.startswith("/api/v1/certificates/{number}"):
                concrete = path.replace("{number}", "A0000001")
            name = resolve(concrete).url_name
            calls = [c for c in ROUTES[name] if c.method == method.upper()] or ROUTES[name]
            rights = calls[0].rights
            if rights in (PUBLIC, ANY_STAFF) or rights & supervisor:
                assert _role_for(method, path) is None, f"{method.upper()} {path}: the supervisor already reaches it"
                continue
            role = _role_for(method, path)
            if role is None or not rights & perms_of_role(role.partition(":")[0]):
                unreached.append(f"{method.upper()} {path} ({role})")
    assert unreached == []
