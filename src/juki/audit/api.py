"""Disclosure (開示請求) over the API: thin callers of juki.audit.disclosure."""
from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from juki.accounts.permissions import Perm
from juki.core.api import STAFF_WITH_RIGHT
from juki.core.errors import DomainError, ErrorCode

from . import disclosure
from .disclosure_views import pdf_response
from .gate import Actor
from .requests import actor_of

SINCE = OpenApiParameter("since", OpenApiTypes.DATE, description="この日以降の利用記録を集計（省略時は全期間）")


def _actor(request) -> Actor:
    return actor_of(request)  # the one factory: second factor and work application too (issue 13)


def _since(request):
    import datetime as dt

    raw = request.query_params.get("since")
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise DomainError(ErrorCode.INVALID_DATE, "since は YYYY-MM-DD の形式で指定してください。", field="since") from None


class DisclosureReportView(APIView):
    # `since` is read before the service's own check: refuse first (403, logged).
    permission_classes = STAFF_WITH_RIGHT
    required_rights = Perm.DISCLOSURE_PREPARE
    audit_function = disclosure.FUNCTION

    @extend_schema(parameters=[SINCE], responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY)},
                   summary="開示請求に対する回答書（PDF）")
    def get(self, request, person_id: int):
        return pdf_response(disclosure.disclosure_report(_actor(request), person_id, since=_since(request)))


class DisclosureSummaryView(APIView):
    permission_classes = STAFF_WITH_RIGHT
    required_rights = Perm.DISCLOSURE_PREPARE
    audit_function = "disclosure.summary"

    @extend_schema(parameters=[SINCE], responses=OpenApiTypes.OBJECT, summary="開示請求：利用状況のまとめ（場所・目的別）")
    def get(self, request, person_id: int):
        return Response(disclosure.disclosure_summary(_actor(request), person_id, _since(request)))
