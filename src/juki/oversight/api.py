"""Disclosure (開示請求) over the API: thin callers of juki.oversight.disclosure."""
from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from juki.accounts.permissions import Perm
from juki.core.api import STAFF_WITH_RIGHT
from juki.core.errors import DomainError, ErrorCode

from . import disclosure
from .disclosure_views import pdf_response
from juki.audit.gate import Actor
from juki.audit.requests import actor_of

SINCE = OpenApiParameter("since", OpenApiTypes.DATE, description="この日以降の利用記録を集計（省略時は全期間）")


class DisclosurePersonSerializer(serializers.Serializer):
    person_id = serializers.IntegerField()
    atena_number = serializers.CharField()
    name = serializers.CharField()
    status = serializers.CharField()
    municipality = serializers.CharField()


class UseGroupSerializer(serializers.Serializer):
    section = serializers.CharField(help_text="利用した場所（課）")
    purpose = serializers.CharField(help_text="目的")
    count = serializers.IntegerField()
    first = serializers.CharField(help_text="最初の日（表示用）")
    last = serializers.CharField(help_text="最後の日（表示用）")
    last_iso = serializers.DateTimeField()


class WithheldEntrySerializer(serializers.Serializer):
    at = serializers.CharField()
    at_iso = serializers.DateTimeField()
    section = serializers.CharField()
    purpose = serializers.CharField()
    category = serializers.CharField()
    outcome = serializers.CharField()
    user = serializers.CharField()
    log_id = serializers.IntegerField(help_text="アクセスログの記録番号（id）")
    reason = serializers.CharField()


class DisclosureSummarySerializer(serializers.Serializer):
    """The resident-facing summary (`disclosure.disclosure_summary`); `withheld` is for the auditor (ADR 0014)."""

    person = DisclosurePersonSerializer()
    since = serializers.DateField(allow_null=True)
    groups = UseGroupSerializer(many=True, help_text="場所・目的ごとの利用")
    withheld = WithheldEntrySerializer(many=True, help_text="回答から除いた記録と理由")


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

    @extend_schema(parameters=[SINCE], responses=DisclosureSummarySerializer, summary="開示請求：利用状況のまとめ（場所・目的別）")
    def get(self, request, person_id: int):
        return Response(disclosure.disclosure_summary(_actor(request), person_id, _since(request)))
