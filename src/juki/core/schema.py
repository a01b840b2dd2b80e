"""The OpenAPI contract's shared parts (issue 13): the one error shape, the error responses every
operation documents, and the token authentication.

Every error is `application/problem+json` (`core.api.problem`): `code` is a stable `ErrorCode`,
`detail` the Japanese message. A refused input names its items in `errors`, keyed like the
request body (a nested item under its parent: `{"payload": {"event_date": [...]}}` on `/pending`);
a rule's refusal may name one `field` and carry `details` (ids, counts). The schema of each
operation lists these responses from one place, `problem_responses`, so a client can rely on them.
"""
from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import serializers

from .api import PROBLEM

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "エラー（RFC 9457 problem+json）。code は安定した機械可読のコード、detail は日本語の説明（値は含みません）。",
    "properties": {
        "type": {"type": "string", "description": "urn:juki:error:<code>"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "code": {"type": "string", "description": "ErrorCode（例: invalid_input, unknown_field, conflict, not_found）"},
        "detail": {"type": "string", "description": "日本語の説明"},
        "field": {"type": "string", "description": "規則が拒否した項目（1つの場合）"},
        "details": {"type": "object", "additionalProperties": {}, "description": "規則ごとの補足（ID・件数など）"},
        "errors": {
            "type": "object", "additionalProperties": {},
            "description": "入力形式の誤り: 項目名ごとの指摘。入れ子の項目は要求本文と同じ入れ子（例: {\"payload\": {\"event_date\": [...]}}）",
        },
    },
    "required": ["type", "title", "status", "code", "detail"],
}

_DESCRIPTIONS = {
    "400": "入力の誤り（invalid_input・unknown_field など）または規則による拒否",
    "401": "認証が必要（not_authenticated・token_terminal_mismatch）",
    "403": "権限がない（permission_denied）または抑止・支援措置による拒否",
    "404": "該当する記録がない（not_found）",
    "409": "他の職員が先に更新した（conflict）",
    "413": "送信内容が大きすぎる（request_too_large）",
    "415": "送信形式が違う（unsupported_media_type）",
    "503": "記録できない・データベースに接続できない状態（storage_unavailable・database_unavailable）",
}


# Public operations that answer 401 themselves: the token request refuses a wrong password so.
LOGIN_OPERATIONS = {"auth_token"}


def _problem_response(code: str) -> dict:
    return {"description": _DESCRIPTIONS[code], "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def problem_responses(operation: dict, method: str) -> dict:
    """The error responses an operation can give, by what it takes: every operation may refuse its
    input (400), find nothing (404), be refused (403) or find the store unable to record (503, the
    gate logs reads too); one with a login 401; one with a body 409, 413 and 415."""
    codes = ["400", "403", "404", "503"]
    if operation.get("security") or operation.get("operationId") in LOGIN_OPERATIONS:
        codes.append("401")
    if method in ("post", "put", "patch"):
        codes += ["409", "413", "415"]
    return {code: _problem_response(code) for code in sorted(codes)}


def add_problem_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: the Problem component and each operation's error responses."""
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            for code, response in problem_responses(operation, method).items():
                responses.setdefault(code, response)
    return result


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """`Authorization: Bearer <token>` together with `X-Terminal-Id` (ADR 0015: a token is bound to
    its user and its terminal)."""

    target_class = "juki.accounts.authentication.BearerTokenAuthentication"
    name = ["bearerAuth", "terminalId"]

    def get_security_requirement(self, auto_schema):
        return {"bearerAuth": [], "terminalId": []}

    def get_security_definition(self, auto_schema):
        return [
            {"type": "http", "scheme": "bearer",
             "description": "POST /api/v1/auth/token で発行したトークン（端末に結び付けられます）"},
            {"type": "apiKey", "in": "header", "name": "X-Terminal-Id", "description": "トークンを発行した端末のID"},
        ]


class HistoryEventSerializer(serializers.Serializer):
    """One row of a record's 経過 as the card and seal APIs return it (their events share this shape)."""

    seq = serializers.IntegerField()
    kind = serializers.CharField()
    kind_label = serializers.CharField()
    on = serializers.DateField()
    at = serializers.DateTimeField()
    by = serializers.CharField()
    note = serializers.CharField()
