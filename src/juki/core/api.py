"""API plumbing shared by every app: problem+json errors and strict input serializers."""
from __future__ import annotations

import logging
from collections.abc import Mapping
from types import MappingProxyType

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DataError
from rest_framework import exceptions, permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from .errors import DomainError, ErrorCode
from .parsers import BodyTooDeep
from .storage import STORAGE_MESSAGE, UNAVAILABLE_MESSAGE, database_gone, storage_failure

TOO_LARGE = "送信内容が大きすぎます。内容を分けて送信してください。"

log = logging.getLogger("juki.api")

PROBLEM = "application/problem+json"

_DRF_CODES = {
    exceptions.NotAuthenticated: (ErrorCode.NOT_AUTHENTICATED, "ログインしてください（認証トークンが必要です）。"),
    exceptions.AuthenticationFailed: (ErrorCode.NOT_AUTHENTICATED, "認証に失敗しました。トークンまたは端末IDを確認してください。"),
    exceptions.PermissionDenied: (ErrorCode.PERMISSION_DENIED, "この操作を行う権限がありません。"),
    exceptions.NotFound: (ErrorCode.NOT_FOUND, "該当する記録がありません。"),
    exceptions.MethodNotAllowed: ("method_not_allowed", "この操作はできません。"),
    exceptions.UnsupportedMediaType: ("unsupported_media_type", "送信形式は application/json にしてください。"),
    exceptions.ParseError: ("malformed_request", "送信内容を読み取れませんでした。"),
    exceptions.Throttled: ("throttled", "要求が多すぎます。しばらく待ってから操作してください。"),
}


def problem(status_code: int, code: str, detail: str, **extra) -> Response:
    body = {"type": f"urn:juki:error:{code}", "title": str(code), "status": status_code, "code": str(code), "detail": detail}
    body.update(extra)
    return Response(body, status=status_code, content_type=PROBLEM)


def _error_codes(detail):
    if isinstance(detail, dict):
        for value in detail.values():
            yield from _error_codes(value)
    elif isinstance(detail, list):
        for value in detail:
            yield from _error_codes(value)
    else:
        yield getattr(detail, "code", None)


def problem_exception_handler(exc, context):
    if isinstance(exc, DomainError):
        extra = {}
        if exc.field:
            extra["field"] = exc.field
        if exc.details:
            extra["details"] = exc.details
        if exc.errors:
            extra["errors"] = exc.errors
        return problem(exc.status, exc.code, exc.message, **extra)
    if isinstance(exc, exceptions.ValidationError):
        codes = set(_error_codes(exc.detail))
        return problem(
            status.HTTP_400_BAD_REQUEST,
            ErrorCode.UNKNOWN_FIELD if ErrorCode.UNKNOWN_FIELD in codes else ErrorCode.INVALID_INPUT,
            "入力内容に誤りがあります。各項目の指摘を確認してください。",
            errors=exc.detail,
        )
    if isinstance(exc, BodyTooDeep):
        return problem(status.HTTP_400_BAD_REQUEST, ErrorCode.JSON_TOO_DEEP,
                       f"送信内容の入れ子が深すぎます（{settings.JUKI_MAX_JSON_DEPTH}段まで）。")
    if isinstance(exc, RequestDataTooBig):  # a body past Django's DATA_UPLOAD_MAX_MEMORY_SIZE
        return problem(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, ErrorCode.REQUEST_TOO_LARGE, TOO_LARGE)
    if storage_failure(exc):
        log.error("API write refused by the database: storage unavailable (%s)", type(exc).__name__)
        return problem(status.HTTP_503_SERVICE_UNAVAILABLE, ErrorCode.STORAGE_UNAVAILABLE, STORAGE_MESSAGE)
    if database_gone(exc):
        log.error("API request failed: the database is unavailable (%s)", type(exc).__name__)
        return problem(status.HTTP_503_SERVICE_UNAVAILABLE, ErrorCode.DATABASE_UNAVAILABLE, UNAVAILABLE_MESSAGE)
    for cls, (code, msg) in _DRF_CODES.items():
        if isinstance(exc, cls):
            # An authentication failure may name its own code and message (TokenRefused).
            code, msg = getattr(exc, "juki_code", code), getattr(exc, "juki_message", msg)
            response = exception_handler(exc, context)
            status_code = response.status_code if response is not None else 400
            out = problem(status_code, code, msg)
            if response is not None and "WWW-Authenticate" in response:
                out["WWW-Authenticate"] = response["WWW-Authenticate"]
            return out
    if isinstance(exc, (OverflowError, DataError)):
        # A number past what the database holds (an id of 20 digits in the body): bad input, not a 500.
        # Logged (the type only: the driver's message may quote the value), since a value the
        # validation should have caught first, such as a text too long for its column, lands here too.
        log.warning("API input refused by the database (%s)", type(exc).__name__)
        return problem(status.HTTP_400_BAD_REQUEST, ErrorCode.INVALID_INPUT, "番号などの値が大きすぎます。入力内容を確認してください。")
    response = exception_handler(exc, context)
    if response is not None:
        return problem(response.status_code, "error", "要求を処理できませんでした。")
    log.exception("unhandled API error (%s)", type(exc).__name__)  # DB detail redacted by juki.core.logging
    return problem(500, "internal_error", "システムエラーが発生しました。処理は行われていません。")


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not declare (C11: only the items an operation needs can be entered)."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise exceptions.ValidationError(
                    {name: ["この操作では入力できない項目です。"] for name in unknown}, code=ErrorCode.UNKNOWN_FIELD
                )
        return super().to_internal_value(data)


def by_method(**values) -> Mapping:
    """`required_rights` / `audit_function` that differ by HTTP method: by_method(GET=…, POST=…)."""
    return MappingProxyType(values)


def _for_method(value, method: str):
    if not isinstance(value, Mapping):
        return value
    return value.get("GET" if method == "HEAD" else method)


class RightRequired(permissions.BasePermission):
    """The view's `required_rights` (one right, a tuple of which any one will do, or `by_method`)
    checked before the input is read: a caller without the right gets 403, never a 400 about
    their input, and the refusal is logged (C06/C07) under the view's `audit_function` (the
    function the service would have logged; `api.<url name>` if the view names none)."""

    def has_permission(self, request, view):
        rights = _for_method(getattr(view, "required_rights", None), request.method)
        if not rights:
            return True
        user = request.user
        if user is None or not user.is_authenticated:
            return False  # DRF answers 401 (IsAuthenticated runs first anyway)
        rights = (rights,) if isinstance(rights, str) else tuple(rights)
        # Imported here: this module is imported by serializers before the app registry is ready.
        from juki.audit import events
        from juki.audit.requests import actor_of
        from juki.audit.models import AccessLog

        # Checked as the services check it (`Actor.can`): a right in TWO_FACTOR_PERMS needs a token
        # issued after the second factor (C01), whatever rights the user holds today.
        actor = actor_of(request)
        if any(actor.can(r) for r in rights):
            return True
        function = _for_method(getattr(view, "audit_function", None), request.method) \
            or f"api.{request.resolver_match.url_name}"
        events.record(actor, function=function,
                      outcome=AccessLog.DENIED, criteria={"method": request.method, "rights": sorted(map(str, rights))})
        raise exceptions.PermissionDenied()


# The default for a view holding `required_rights`: logged in, and holding the right.
STAFF_WITH_RIGHT = (permissions.IsAuthenticated, RightRequired)
