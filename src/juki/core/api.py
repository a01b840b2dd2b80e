"""API plumbing shared by every app: problem+json errors and strict input serializers."""
from __future__ import annotations

import logging

from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from .errors import DomainError, ErrorCode

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
        return problem(exc.status, exc.code, exc.message, **extra)
    if isinstance(exc, exceptions.ValidationError):
        codes = set(_error_codes(exc.detail))
        return problem(
            status.HTTP_400_BAD_REQUEST,
            ErrorCode.UNKNOWN_FIELD if ErrorCode.UNKNOWN_FIELD in codes else ErrorCode.INVALID_INPUT,
            "入力内容に誤りがあります。各項目の指摘を確認してください。",
            errors=exc.detail,
        )
    for cls, (code, msg) in _DRF_CODES.items():
        if isinstance(exc, cls):
            response = exception_handler(exc, context)
            status_code = response.status_code if response is not None else 400
            out = problem(status_code, code, msg)
            if response is not None and "WWW-Authenticate" in response:
                out["WWW-Authenticate"] = response["WWW-Authenticate"]
            return out
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
