"""The typed API contract (issue 13, item 8): schemathesis against the running app, and the
contract's own promises.

Every operation of the OpenAPI schema is called with generated valid and invalid inputs
(explicit examples, then fuzzing; a bounded number per operation so the file stays within a few
minutes on two cores), as an anonymous caller and as a supervisor holding a token issued with the
second factor, and every response must:

- not be a server error (`not_a_server_error`: 2xx/4xx/503, never a 500 — issue 11's check,
  moved here from tests/api/test_schemathesis.py);
- have a status code the operation documents (`status_code_conformance`);
- have the content type documented for that status (`content_type_conformance`: JSON,
  problem+json, PDF or CSV);
- match the documented schema (`response_schema_conformance`): the success bodies typed in
  `*/api/responses.py` and beside the views, the errors as the one `Problem` (`core/schema.py`).

A real server: pytest-django's `live_server` (Django's threaded server, in front of the test
database), reached over HTTP by schemathesis' own requests transport — the requests go through
the socket, the WSGI handler and every middleware as a client's would. It costs a database flush
per test (`live_server` runs on `transactional_db`), which is why the examples stay few. The
schema itself is generated in-process when the module is collected (drf-spectacular, the same
generator `/api/v1/schema/` serves): schemathesis' lazy fixture loader does not work with pytest 9.

No operation is excluded. The staff caller's token is a supervisor's: its random inputs can
revoke that token (`POST /auth/token/revoke`), after which the rest of that operation's examples
are 401s — documented, and still checked.
"""
from __future__ import annotations

import json

import pytest
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from .conftest import TODAY, api_for, move_in_family

EXAMPLES = 5  # per operation and caller (as tests/api/test_schemathesis.py had): 87 operations × 2 callers
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _schema_dict() -> dict:
    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


def _schema():
    schema = schemathesis.openapi.from_dict(_schema_dict())
    schema.config.phases.update(phases=["examples", "fuzzing"])
    schema.config.generation.update(max_examples=EXAMPLES)
    return schema


schema = _schema()

# No example database: nothing is written under .hypothesis, and each run is the same.
HYPOTHESIS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))


@pytest.fixture
def staff(supervisor, terminal, world, sup_actor):
    """The supervisor's headers, and the records created for it by the path parameter that names
    them: a generated id rarely finds one (and ids go on counting across the flushes), so each
    staff case is also sent with its ids pointing at these, and the success answers (a 住民票, a
    household, a 仮登録, a card, a 抑止 …) are checked against their schemas too."""
    from juki.cards.services import card_issue
    from juki.protection.services import restriction_set
    from juki.register.services.verification import pending_submit

    family = move_in_family(world)  # 世帯主, 妻, 子 in one household
    head, wife = family.persons[0], family.persons[1]
    pending = pending_submit(actor=world, operation="ex_officio_correction", payload={  # a 仮登録 by the clerk
        "event_date": TODAY.isoformat(), "person": {"id": head["id"], "version": head["version"]},
        "changes": {"domicile_head": "青木　太郎（修正）"}})
    card = card_issue(actor=world, person_id=head["id"], pin="4821")
    restriction = restriction_set(actor=sup_actor, processes=["certificate"], level="alert", reason="確認のため",
                                  person_id=wife["id"])
    client = api_for(supervisor, terminal)
    return {
        "headers": {"Authorization": client._credentials["HTTP_AUTHORIZATION"], "X-Terminal-Id": terminal.code},
        "existing": {"person_id": head["id"], "household_id": family.households[0]["id"], "pending_id": pending.id,
                     "card_id": card["card_id"], "restriction_id": restriction["id"]},
    }


@schema.parametrize()
@HYPOTHESIS
def test_contract_as_staff(case, staff, live_server):
    case.call_and_validate(base_url=live_server.url, headers=staff["headers"], checks=CHECKS)
    existing = staff["existing"]
    if set(case.path_parameters or {}) & set(existing):
        case.path_parameters = {name: existing.get(name, value) for name, value in case.path_parameters.items()}
        case.call_and_validate(base_url=live_server.url, headers=staff["headers"], checks=CHECKS)


@schema.parametrize()
@HYPOTHESIS
def test_contract_anonymous(case, live_server):
    case.call_and_validate(base_url=live_server.url, checks=CHECKS)


# --- the contract's promises, each a test that fails if it breaks ------------------------------------

# The responses issue 13 names (persons, households, history, pending, access log), and every other
# JSON answer: each a component with its items, never a bare `object`.
NAMED = [
    ("/api/v1/persons/{person_id}", "get", "200"),
    ("/api/v1/persons/{person_id}/history", "get", "200"),
    ("/api/v1/households/{household_id}", "get", "200"),
    ("/api/v1/pending", "get", "200"),
    ("/api/v1/pending/{pending_id}", "get", "200"),
    ("/api/v1/access-log", "get", "200"),
    ("/api/v1/outbox", "get", "200"),
    ("/api/v1/outbox/ack", "post", "200"),
]


@pytest.fixture(scope="module")
def openapi():
    return _schema_dict()


def _resolve(doc: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _bare(doc: dict, schema: dict) -> bool:
    schema = _resolve(doc, schema)
    return schema.get("type") == "object" and not schema.get("properties") and not schema.get("oneOf")


def test_every_json_response_has_a_typed_schema(openapi):
    bare = []
    for path, item in openapi["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                for media, content in (response.get("content") or {}).items():
                    if "json" in media and _bare(openapi, content["schema"]):
                        bare.append(f"{method.upper()} {path} {status}")
    assert bare == []


@pytest.mark.parametrize(("path", "method", "status"), NAMED)
def test_the_named_responses_are_components_with_items(openapi, path, method, status):
    content = openapi["paths"][path][method]["responses"][status]["content"]["application/json"]
    assert "$ref" in content["schema"]
    assert _resolve(openapi, content["schema"])["properties"]


def test_a_pdf_is_documented_as_a_pdf(openapi):
    for path in ("/api/v1/certificates", "/api/v1/certificates/move-out", "/api/v1/seals/certificates"):
        assert list(openapi["paths"][path]["post"]["responses"]["201"]["content"]) == ["application/pdf"]


def test_certificate_issue_documents_its_own_body(openapi):
    """POST /certificates once showed the city card's body: two serializers named IssueSerializer
    shared one component."""
    ref = openapi["paths"]["/api/v1/certificates"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    body = _resolve(openapi, ref)
    assert {"form", "layout", "household_id", "person_ids", "request"} <= set(body["properties"])
    assert "pin" not in body["properties"]
    card = _resolve(openapi, openapi["paths"]["/api/v1/cards"]["post"]["requestBody"]["content"]["application/json"]["schema"])
    assert {"person_id", "pin"} <= set(card["properties"])


def test_every_operation_documents_the_problem_responses(openapi):
    for path, item in openapi["paths"].items():
        for method, operation in item.items():
            for status in ("400", "403", "404"):
                content = operation["responses"][status]["content"]
                assert content == {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}, \
                    (method, path, status)
    assert "errors" in openapi["components"]["schemas"]["Problem"]["properties"]


def test_one_spelling_of_requester_kinds(openapi):
    """/certificates (request.kind) and /certificate-requests/check (requester.kind) take the same values."""
    from juki.certificates.entitlement import REQUEST_KINDS
    from juki.protection.certificates import RequesterKind

    assert set(RequesterKind.ALL) == {k for k, _ in REQUEST_KINDS}
    schemas = openapi["components"]["schemas"]
    issue_kind = _resolve(openapi, schemas["RequestRequest"]["properties"]["kind"]["allOf"][0])
    check_kind = _resolve(openapi, schemas["RequesterRequest"]["properties"]["kind"]["allOf"][0])
    assert issue_kind["enum"] == check_kind["enum"]


# --- one error shape for validation errors (issue 13) ------------------------------------------------


@pytest.fixture
def two_person_off(settings):
    settings.JUKI_TWO_PERSON_VERIFICATION = False


def test_validation_errors_have_one_shape_on_changes_and_pending(world, clerk, terminal, two_person_off):
    """The same bad payload, sent to /changes/<operation> and inside /pending: the same code, and
    the items in `errors` keyed like each request body (`details.fields` is gone)."""
    api = api_for(clerk, terminal)
    payload = {"persons": [{"id": 1, "version": 1}], "address": {"town_code": "40106001000"}}
    direct = api.post("/api/v1/changes/move-within-city", payload, format="json")
    pending = api.post("/api/v1/pending", {"operation": "move_within_city", "payload": payload}, format="json")
    for r in (direct, pending):
        assert r.status_code == 400 and r["Content-Type"] == "application/problem+json"
        assert r.json()["code"] == "invalid_input"
        assert "details" not in r.json()
    assert set(direct.json()["errors"]) == {"event_date", "address"}
    assert pending.json()["errors"] == {"payload": direct.json()["errors"]}


def test_a_refused_item_in_pending_names_its_place_in_the_body(world, clerk, terminal):
    api = api_for(clerk, terminal)
    r = api.post("/api/v1/pending", {"operation": "move_within_city", "payload": {"persons": "x"}}, format="json")
    assert r.status_code == 400 and r.json()["code"] == "invalid_input"
    assert "persons" in r.json()["errors"]["payload"]


def test_the_schema_endpoint_is_public_and_typed(db):
    r = APIClient().get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert r.status_code == 200
    assert "Problem" in r.json()["components"]["schemas"]
    assert set(r.json()["components"]["securitySchemes"]) == {"bearerAuth", "terminalId"}
