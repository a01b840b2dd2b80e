"""Thin HTTP callers of the protection services ([410][440])."""
from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from juki.accounts.permissions import Perm
from juki.core.api import STAFF_WITH_RIGHT, by_method
from juki.core.errors import DomainError, ErrorCode
from juki.audit.requests import actor_of
from juki.register.api.responses import OutboxPositionSerializer, OutboxReadSerializer
from juki.register.api.views import OutboxAckView, OutboxView

from .. import linkage, services
from ..certificates import certificate_request_check
from . import responses as r
from . import serializers as s

TAGS = ["protection"]


def _body(view, request) -> dict:
    data = view.get_serializer(data=request.data)
    data.is_valid(raise_exception=True)
    return dict(data.validated_data)


class SupportMeasuresView(GenericAPIView):
    serializer_class = s.SupportRegisterSerializer
    permission_classes = STAFF_WITH_RIGHT
    required_rights = Perm.SUPPORT_MEASURE_MANAGE
    audit_function = by_method(GET="support.list", POST="support.register")

    @extend_schema(parameters=[OpenApiParameter("include_ended", OpenApiTypes.BOOL, description="終了したものも含める")],
                   responses=r.SupportMeasureListSerializer, summary="支援措置の一覧", operation_id="support_measure_list", tags=TAGS)
    def get(self, request):
        include_ended = request.query_params.get("include_ended") in ("1", "true")
        return Response({"measures": services.support_list(actor=actor_of(request), include_ended=include_ended)})

    @extend_schema(responses={201: r.SupportMeasureSerializer}, summary="支援措置の登録（仮支援措置または支援措置）",
                   operation_id="support_measure_register", tags=TAGS)
    def post(self, request):
        return Response(services.support_register(actor=actor_of(request), **_body(self, request)), status=201)


class SupportMeasureView(APIView):
    @extend_schema(responses=r.SupportMeasureSerializer, summary="支援措置の詳細", operation_id="support_measure_get", tags=TAGS)
    def get(self, request, measure_id: int):
        return Response(services.support_get(actor=actor_of(request), measure_id=measure_id))


class SupportConfirmView(GenericAPIView):
    serializer_class = s.SupportConfirmSerializer
    permission_classes = STAFF_WITH_RIGHT
    required_rights = Perm.SUPPORT_MEASURE_MANAGE
    audit_function = "support.confirm"

    @extend_schema(responses=r.SupportMeasureSerializer, summary="仮支援措置から支援措置への移行", tags=TAGS)
    def post(self, request, measure_id: int):
        return Response(services.support_confirm(actor=actor_of(request), measure_id=measure_id, **_body(self, request)))


class SupportExtendView(APIView):
    @extend_schema(request=None, responses=r.SupportMeasureSerializer, summary="支援措置の延長（1年）", tags=TAGS)
    def post(self, request, measure_id: int):
        return Response(services.support_extend(actor=actor_of(request), measure_id=measure_id))


class SupportEndView(GenericAPIView):
    serializer_class = s.SupportEndSerializer
    permission_classes = STAFF_WITH_RIGHT
    required_rights = Perm.SUPPORT_MEASURE_MANAGE
    audit_function = "support.end"

    @extend_schema(responses=r.SupportMeasureSerializer, summary="支援措置の終了", tags=TAGS)
    def post(self, request, measure_id: int):
        return Response(services.support_end(actor=actor_of(request), measure_id=measure_id, **_body(self, request)))


class AlertsView(APIView):
    @extend_schema(responses=r.AlertsSerializer, summary="支援措置・抑止の確認事項（内部IDのみ）", tags=TAGS)
    def get(self, request):
        return Response(services.alerts(actor=actor_of(request)))


class RestrictionsView(GenericAPIView):
    serializer_class = s.RestrictionSetSerializer
    permission_classes = STAFF_WITH_RIGHT
    required_rights = Perm.RESTRICTION_MANAGE
    audit_function = by_method(GET="restriction.view", POST="restriction.set")

    @extend_schema(parameters=[OpenApiParameter("person", OpenApiTypes.INT, required=True)],
                   responses=r.PersonRestrictionsSerializer, summary="住民の抑止の一覧", operation_id="restriction_list",
                   tags=TAGS)
    def get(self, request):
        try:
            person_id = int(request.query_params["person"])
        except (KeyError, ValueError):
            raise DomainError(ErrorCode.INVALID_INPUT, "person（住民ID）を指定してください。", field="person") from None
        return Response(services.protection_of(actor=actor_of(request), person_id=person_id))

    @extend_schema(responses={201: r.RestrictionSerializer}, summary="抑止の設定", operation_id="restriction_set", tags=TAGS)
    def post(self, request):
        return Response(services.restriction_set(actor=actor_of(request), **_body(self, request)), status=201)


class RestrictionReleaseView(APIView):
    permission_classes = STAFF_WITH_RIGHT
    required_rights = Perm.RESTRICTION_RELEASE
    audit_function = "restriction.release"

    @extend_schema(request=None, responses=r.RestrictionSerializer, summary="抑止の解除", tags=TAGS)
    def post(self, request, restriction_id: int):
        return Response(services.restriction_release(actor=actor_of(request), restriction_id=restriction_id))


class RestrictionTemporaryReleaseView(GenericAPIView):
    serializer_class = s.TemporaryReleaseSerializer
    permission_classes = STAFF_WITH_RIGHT
    required_rights = Perm.RESTRICTION_TEMPORARY_RELEASE
    audit_function = "restriction.temporary_release"

    @extend_schema(responses=r.RestrictionSerializer, summary="抑止の一時解除（時間経過で元に戻る）", tags=TAGS)
    def post(self, request, restriction_id: int):
        return Response(services.restriction_temporary_release(actor=actor_of(request), restriction_id=restriction_id,
                                                               **_body(self, request)))


class RestrictionEventsView(OutboxView):
    audit_function = "outbox.restrictions.read"
    stream = linkage.RESTRICTIONS

    @extend_schema(parameters=[OpenApiParameter("consumer", str, required=True), OpenApiParameter("limit", int)],
                   responses=OutboxReadSerializer, summary="抑止連携イベントの取得（宛名・コンビニ交付・CS）",
                   operation_id="restriction_events_read", tags=TAGS)
    def get(self, request):
        return super().get(request)


class RestrictionEventsAckView(OutboxAckView):
    audit_function = "outbox.restrictions.ack"
    stream = linkage.RESTRICTIONS

    @extend_schema(responses=OutboxPositionSerializer, summary="抑止連携イベントの処理済み位置の記録",
                   operation_id="restriction_events_ack", tags=TAGS)
    def post(self, request):
        return super().post(request)


class CertificateCheckView(GenericAPIView):
    serializer_class = s.CertificateCheckSerializer
    permission_classes = STAFF_WITH_RIGHT
    required_rights = Perm.CERTIFICATE_ISSUE
    audit_function = "certificate.check"

    @extend_schema(responses=r.CertificateCheckResultSerializer, summary="証明書の請求が交付できるかの確認（抑止・支援措置）",
                   operation_id="certificate_request_check", tags=["certificates"])
    def post(self, request):
        return Response(certificate_request_check(actor=actor_of(request), **_body(self, request)))
