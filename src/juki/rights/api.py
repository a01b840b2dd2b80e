"""API for rights applications and the rights table (/api/v1/rights/…): thin callers of the services."""
from __future__ import annotations

import datetime as dt

from django.http import HttpResponse
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from juki.accounts.models import Staff
from juki.accounts.permissions import Perm
from juki.audit import events
from juki.audit.requests import actor_of  # the one factory (issue 13); rights.admin needs a second-factor token
from juki.core.api import STAFF_WITH_RIGHT, StrictSerializer, by_method
from juki.core.errors import DomainError, ErrorCode

from . import selectors, services, table
from .models import RightApplication, Section




class ApplicationSubmitSerializer(StrictSerializer):
    role = serializers.CharField(max_length=20, required=False, allow_blank=True, default="", help_text="事務分担コード")
    perms = serializers.ListField(child=serializers.CharField(max_length=60), required=False, default=list,
                                  help_text="個別の権限")
    valid_from = serializers.DateField()
    valid_until = serializers.DateField(help_text="終了日（必須：期限のない権限は付与できません）")
    business_name = serializers.CharField(max_length=100)
    business_outline = serializers.CharField(max_length=2000)
    purpose = serializers.CharField(max_length=2000)
    legal_basis = serializers.CharField(max_length=200)
    applying_section = serializers.CharField(max_length=20, help_text="申請課の所属コード")
    using_section = serializers.CharField(max_length=20, help_text="利用課の所属コード")
    target_user = serializers.CharField(max_length=150, required=False, help_text="利用者の職員ID")
    target_section = serializers.CharField(max_length=20, required=False, help_text="付与先の所属コード")


class DecisionSerializer(StrictSerializer):
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


# --- output shapes (issue 13): `selectors.as_dict` and the grants an approval made ------------------


class ApplicationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField(help_text="申請番号")
    state = serializers.CharField()
    state_label = serializers.CharField()
    role = serializers.CharField()
    perms = serializers.ListField(child=serializers.CharField())
    valid_from = serializers.DateField()
    valid_until = serializers.DateField()
    business_name = serializers.CharField()
    business_outline = serializers.CharField()
    purpose = serializers.CharField()
    legal_basis = serializers.CharField()
    applying_section = serializers.CharField()
    using_section = serializers.CharField()
    target_user = serializers.CharField(allow_null=True)
    target_section = serializers.CharField(allow_null=True)
    applicant = serializers.CharField()
    applied_at = serializers.DateTimeField()
    decided_by = serializers.CharField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    comment = serializers.CharField()


class ApplicationListSerializer(serializers.Serializer):
    applications = ApplicationSerializer(many=True)


class GrantSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    role = serializers.CharField()
    perm = serializers.CharField()
    valid_from = serializers.DateField()
    valid_until = serializers.DateField()


class ApprovalSerializer(serializers.Serializer):
    application = ApplicationSerializer()
    grants = GrantSerializer(many=True)


def _body(serializer_class, request) -> dict:
    data = serializer_class(data=request.data)
    data.is_valid(raise_exception=True)
    return dict(data.validated_data)


def _section(code: str | None, field: str) -> Section | None:
    if not code:
        return None
    section = Section.objects.filter(code=code).first()
    if section is None:
        raise DomainError(ErrorCode.INVALID_INPUT, "指定された所属コードはありません。", field=field)
    return section


STATES = [c for c, _ in RightApplication.State.choices]


class ApplicationListView(GenericAPIView):
    serializer_class = ApplicationSubmitSerializer
    # Checked before the body is read: without rights.admin an application is a 403, not a 400.
    permission_classes = STAFF_WITH_RIGHT
    required_rights = by_method(GET=(Perm.RIGHTS_ADMIN, Perm.RIGHTS_APPROVE), POST=Perm.RIGHTS_ADMIN)
    audit_function = by_method(GET="rights.list", POST="rights.apply")

    @extend_schema(parameters=[OpenApiParameter("state", str, enum=STATES, description="状態（省略時はすべて）"),
                               OpenApiParameter("mine", OpenApiTypes.BOOL, description="自分の申請だけ")],
                   responses=ApplicationListSerializer, summary="権限申請の一覧", operation_id="rights_application_list",
                   tags=["rights"])
    def get(self, request):
        actor = actor_of(request)
        state = request.query_params.get("state") or None
        mine = request.query_params.get("mine") in ("1", "true")
        if state and state not in STATES:
            raise DomainError(ErrorCode.INVALID_INPUT, "state には pending・approved・rejected・withdrawn のいずれかを指定してください。",
                              field="state")
        rows = selectors.applications(applicant=request.user if mine else None, state=state)
        events.record(actor, function="rights.list", criteria={"state": state, "mine": mine, "rows": len(rows)})
        return Response({"applications": [selectors.as_dict(a) for a in rows]})

    @extend_schema(responses={201: ApplicationSerializer}, summary="権限の申請", operation_id="rights_application_submit",
                   tags=["rights"])
    def post(self, request):
        body = _body(ApplicationSubmitSerializer, request)
        target_user = None
        if body.get("target_user"):
            target_user = Staff.objects.filter(username=body["target_user"]).first()
            if target_user is None:
                raise DomainError(ErrorCode.INVALID_INPUT, "指定された職員IDはありません。", field="target_user")
        application = services.application_submit(
            actor=actor_of(request), role=body["role"], perms=body["perms"], valid_from=body["valid_from"],
            valid_until=body["valid_until"], business_name=body["business_name"],
            business_outline=body["business_outline"], purpose=body["purpose"], legal_basis=body["legal_basis"],
            applying_section=_section(body["applying_section"], "applying_section"),
            using_section=_section(body["using_section"], "using_section"),
            target_user=target_user, target_section=_section(body.get("target_section"), "target_section"))
        return Response(selectors.as_dict(application), status=status.HTTP_201_CREATED)


class ApplicationApproveView(GenericAPIView):
    serializer_class = DecisionSerializer
    permission_classes = STAFF_WITH_RIGHT
    required_rights = Perm.RIGHTS_APPROVE
    audit_function = "rights.approve"

    @extend_schema(responses={201: ApprovalSerializer}, summary="権限申請の承認（付与）",
                   operation_id="rights_application_approve", tags=["rights"])
    def post(self, request, application_id: int):
        body = _body(DecisionSerializer, request)
        grants = services.application_approve(actor=actor_of(request), application_id=application_id,
                                              comment=body["comment"])
        return Response({"application": selectors.as_dict(selectors.application(application_id)),
                         "grants": [{"id": g.id, "role": g.role, "perm": g.perm, "valid_from": g.valid_from.isoformat(),
                                     "valid_until": g.valid_until.isoformat()} for g in grants]},
                        status=status.HTTP_201_CREATED)


class ApplicationRejectView(GenericAPIView):
    serializer_class = DecisionSerializer
    permission_classes = STAFF_WITH_RIGHT
    required_rights = Perm.RIGHTS_APPROVE
    audit_function = "rights.reject"

    @extend_schema(responses=ApplicationSerializer, summary="権限申請の却下（理由が必要）",
                   operation_id="rights_application_reject", tags=["rights"])
    def post(self, request, application_id: int):
        body = _body(DecisionSerializer, request)
        application = services.application_reject(actor=actor_of(request), application_id=application_id,
                                                  comment=body["comment"])
        return Response(selectors.as_dict(application))


class RightsTableCsvView(APIView):
    permission_classes = STAFF_WITH_RIGHT
    required_rights = table.VIEW_PERMS
    audit_function = "export.rights_table"

    @extend_schema(parameters=[OpenApiParameter("on", OpenApiTypes.DATE, description="基準日（省略時は今日）")],
                   responses={(200, "text/csv"): OpenApiTypes.BINARY}, summary="権限設定状況の一覧表（CSV）",
                   operation_id="rights_table_csv", tags=["rights"])
    def get(self, request):
        raw = request.query_params.get("on")
        try:
            on = dt.date.fromisoformat(raw) if raw else None
        except ValueError:
            raise DomainError(ErrorCode.INVALID_DATE, "on は YYYY-MM-DD の形式で指定してください。", field="on") from None
        content = table.export_csv(actor=actor_of(request), on=on)
        response = HttpResponse(content, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="rights-{(on or services.today()):%Y%m%d}.csv"'
        return response


urlpatterns = [
    path("applications", ApplicationListView.as_view(), name="api-rights-applications"),
    path("applications/<id:application_id>/approve", ApplicationApproveView.as_view(), name="api-rights-approve"),
    path("applications/<id:application_id>/reject", ApplicationRejectView.as_view(), name="api-rights-reject"),
    path("table.csv", RightsTableCsvView.as_view(), name="api-rights-table"),
]
