"""Thin HTTP callers of the certificate services: issue (住民票の写し等, 転出証明書, 住民票コード通知票),
inquiry, void, reissue, and the public check."""
from __future__ import annotations

import datetime as dt

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from juki.accounts.permissions import Perm
from juki.core.api import STAFF_WITH_RIGHT, StrictSerializer, by_method
from juki.core.parsers import JSONParser  # DRF's, with the depth limit
from juki.core.errors import DomainError, ErrorCode
from juki.audit.requests import actor_of

from . import code_notice, issuing, move_out, services
from .content import FOREIGN_ITEMS, FORMS, LAYOUTS, Options
from .entitlement import REQUEST_KINDS
from .models import RequesterKind

TAGS = ["certificates"]


class RequestSerializer(StrictSerializer):
    kind = serializers.ChoiceField(choices=REQUEST_KINDS, help_text="請求者の区分")
    requester_person_id = serializers.IntegerField(required=False, allow_null=True, default=None,
                                                   help_text="請求者の住民ID（本人・同一世帯）")
    requester_name = serializers.CharField(max_length=120, required=False, allow_blank=True, default="",
                                           help_text="請求者の氏名（官公署は名称）")
    requester_kana = serializers.CharField(max_length=240, required=False, allow_blank=True, default="")
    requester_birth_date = serializers.DateField(required=False, allow_null=True, default=None)
    documents = serializers.ListField(child=serializers.CharField(max_length=60), required=False, default=list,
                                      max_length=10, help_text="確認した本人確認書類")
    power_of_attorney = serializers.BooleanField(required=False, default=False, help_text="委任状を確認した")
    purpose = serializers.CharField(max_length=400, required=False, allow_blank=True, default="",
                                    help_text="請求の目的・正当な理由")
    legal_basis = serializers.CharField(max_length=200, required=False, allow_blank=True, default="",
                                        help_text="法令上の根拠（国・地方公共団体）")
    acknowledge_alert = serializers.BooleanField(required=False, default=False,
                                                 help_text="証明書交付のアラート（抑止）の内容を確認した")

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        values["documents"] = tuple(values["documents"])
        return services.Request(**values)


class CertificateIssueSerializer(StrictSerializer):
    form = serializers.ChoiceField(choices=list(FORMS.items()), help_text="証明書の種類")
    layout = serializers.ChoiceField(choices=list(LAYOUTS.items()), required=False, default="household")
    household_id = serializers.IntegerField(required=False, allow_null=True, default=None, help_text="世帯ID（世帯連記式）")
    person_ids = serializers.ListField(child=serializers.IntegerField(), required=False, default=list, max_length=30,
                                       help_text="記載する方の住民ID（世帯連記式で省略すると世帯全員）")
    history = serializers.BooleanField(required=False, default=False, help_text="履歴を記載する")
    head_and_relationship = serializers.BooleanField(required=False, default=False, help_text="世帯主・続柄を記載する")
    domicile = serializers.BooleanField(required=False, default=False, help_text="本籍・筆頭者を記載する")
    resident_code = serializers.BooleanField(required=False, default=False, help_text="住民票コードを記載する")
    my_number = serializers.BooleanField(required=False, default=False, help_text="個人番号を記載する")
    foreign_items = serializers.ListField(child=serializers.ChoiceField(choices=list(FOREIGN_ITEMS.items())),
                                          required=False, default=list, help_text="記載する外国人住民の項目")
    official = serializers.BooleanField(required=False, default=False, help_text="公用")
    request = RequestSerializer(help_text="請求の内容")


class MoveOutCertificateSerializer(StrictSerializer):
    change_id = serializers.IntegerField(help_text="転出届の異動番号（転出の異動の change_id）")
    person_ids = serializers.ListField(child=serializers.IntegerField(), required=False, default=list, max_length=30,
                                       help_text="記載する方の住民ID（省略するとこの転出届で転出した全員）")
    special = serializers.BooleanField(required=False, default=False, help_text="特例転出: 「特例による転出処理済」と印字する")
    requester_name = serializers.CharField(max_length=120, required=False, allow_blank=True, default="",
                                           help_text="受け取る方の氏名（届出人と違うときなど）")
    documents = serializers.ListField(child=serializers.CharField(max_length=60), required=False, default=list,
                                      max_length=10, help_text="受け取りのときに確認した本人確認書類")


class CodeNoticeSerializer(StrictSerializer):
    person_id = serializers.IntegerField(help_text="住民ID")
    change_id = serializers.IntegerField(required=False, allow_null=True, default=None,
                                         help_text="住民票コードを記載・変更・修正した異動（省略すると再出力）")


class VoidSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=200, help_text="無効にする理由")


class VerifySerializer(StrictSerializer):
    number = serializers.CharField(max_length=20, help_text="発行番号（例 2026-000123）")
    pdf = serializers.FileField(required=False, help_text="証明書のPDF（multipart/form-data）")
    sha256 = serializers.CharField(max_length=64, required=False, allow_blank=True, default="",
                                   help_text="PDFのSHA-256（PDFを送らない場合）")


# --- output shapes (issue 13: the OpenAPI documents what the services return) -----------------------


class IssueVoidSerializer(serializers.Serializer):
    reason = serializers.CharField()
    by = serializers.CharField()
    at = serializers.DateTimeField()


class IssueRequestRecordSerializer(serializers.Serializer):
    requester_person_id = serializers.IntegerField(allow_null=True)
    requester_name = serializers.CharField()
    documents = serializers.ListField(child=serializers.CharField())
    power_of_attorney = serializers.BooleanField()
    purpose = serializers.CharField()
    legal_basis = serializers.CharField()


class IssueRecordSerializer(serializers.Serializer):
    """A 交付記録 (`services.issue_dict`): ids, codes and hashes, never the PDF."""

    number = serializers.CharField(help_text="発行番号")
    form = serializers.CharField()
    form_label = serializers.CharField()
    layout = serializers.CharField(allow_null=True)
    layout_label = serializers.CharField()
    options = serializers.DictField(help_text="交付したときの記載事項の選択（様式ごと）")
    person_ids = serializers.ListField(child=serializers.IntegerField())
    household_id = serializers.IntegerField(allow_null=True)
    requester_kind = serializers.ChoiceField(choices=RequesterKind.choices, help_text="請求者の区分")
    requester_kind_label = serializers.CharField()
    fee = serializers.IntegerField(help_text="手数料（円）")
    operator = serializers.CharField()
    operator_label = serializers.CharField()
    terminal = serializers.CharField()
    channel = serializers.CharField()
    issued_at = serializers.DateTimeField()
    sha256 = serializers.CharField()
    state = serializers.ChoiceField(choices=[("issued", "交付済み"), ("voided", "無効")])
    state_label = serializers.CharField()
    void = IssueVoidSerializer(allow_null=True)
    reissue_of = serializers.CharField(allow_null=True, help_text="再交付の元の発行番号")
    request = IssueRequestRecordSerializer(required=False, help_text="請求の内容（交付記録の照会のとき）")


class IssueListSerializer(serializers.Serializer):
    issues = IssueRecordSerializer(many=True)


class NumberRowSerializer(serializers.Serializer):
    number = serializers.CharField(help_text="発行番号")
    serial = serializers.IntegerField()
    state = serializers.ChoiceField(choices=["void", "abandoned", "pending"], help_text="欠番・欠番（処理の中断）・交付処理中")
    state_label = serializers.CharField()
    reserved_at = serializers.DateTimeField(help_text="払出し日時")
    form = serializers.CharField()
    channel = serializers.CharField()
    operator = serializers.CharField()
    terminal = serializers.CharField()
    code = serializers.CharField(help_text="結果コード")
    reason = serializers.CharField(help_text="欠番の理由")
    voided_at = serializers.DateTimeField(allow_null=True)


class NumberLedgerSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    last = serializers.IntegerField(help_text="払い出した最後の連番")
    counts = serializers.DictField(child=serializers.IntegerField(), help_text="issued・void・abandoned・pending の件数")
    missing = NumberRowSerializer(many=True, help_text="欠番（理由つき）")
    pending = NumberRowSerializer(many=True, help_text="交付処理中の番号")
    unrecorded = serializers.ListField(child=serializers.CharField(), help_text="記録のない番号（通常はなし）")


class VerifyResultSerializer(serializers.Serializer):
    """No personal data: the number, the form and the day of issue."""

    result = serializers.ChoiceField(choices=[("genuine", "真正"), ("altered", "改ざんのおそれ"), ("voided", "無効"),
                                              ("unknown", "交付されていない")])
    number = serializers.CharField()
    form = serializers.CharField(required=False)
    form_label = serializers.CharField(required=False)
    issued_on = serializers.DateField(required=False)
    issued_on_display = serializers.CharField(required=False)
    state = serializers.CharField(required=False)
    message = serializers.CharField()


def _pdf_response(result: issuing.IssueResult) -> HttpResponse:
    response = HttpResponse(result.pdf, content_type="application/pdf")
    response["X-Certificate-Number"] = result.number
    response["Content-Disposition"] = f'inline; filename="certificate-{result.number}.pdf"'
    response["Cache-Control"] = "no-store"  # personal data: never kept by a proxy or the browser cache
    return response


def _date_param(request, name: str) -> dt.date | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise DomainError(ErrorCode.INVALID_DATE, f"{name} は YYYY-MM-DD の形式で指定してください。", field=name) from None


_PDF = OpenApiResponse(OpenApiTypes.BINARY, description="証明書のPDF（ヘッダー X-Certificate-Number に発行番号）")
_PDF_201 = {(201, "application/pdf"): _PDF}


class CertificatesView(GenericAPIView):
    serializer_class = CertificateIssueSerializer
    permission_classes = STAFF_WITH_RIGHT
    required_rights = Perm.CERTIFICATE_ISSUE
    audit_function = by_method(GET="certificate.list", POST="certificate.issue")

    @extend_schema(parameters=[OpenApiParameter("date_from", OpenApiTypes.DATE), OpenApiParameter("date_to", OpenApiTypes.DATE),
                               OpenApiParameter("operator", str, description="交付者のユーザーID"),
                               OpenApiParameter("person", OpenApiTypes.INT, description="対象者の住民ID"),
                               OpenApiParameter("number", str, description="発行番号")],
                   responses=IssueListSerializer, summary="証明書の交付記録の照会", operation_id="certificate_list", tags=TAGS)
    def get(self, request):
        q = request.query_params
        try:
            person = int(q["person"]) if q.get("person") else None
        except ValueError:
            raise DomainError(ErrorCode.INVALID_INPUT, "person は住民IDで指定してください。", field="person") from None
        return Response({"issues": services.certificate_list(
            actor=actor_of(request), date_from=_date_param(request, "date_from"), date_to=_date_param(request, "date_to"),
            operator=q.get("operator", ""), person_id=person, number=q.get("number", ""))})

    @extend_schema(responses=_PDF_201, summary="証明書の交付（PDF）", operation_id="certificate_issue", tags=TAGS)
    def post(self, request):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        req, household_id, person_ids = values.pop("request"), values.pop("household_id"), values.pop("person_ids")
        values["foreign_items"] = frozenset(values["foreign_items"])
        result = services.certificate_issue(actor=actor_of(request), options=Options(**values), household_id=household_id,
                                            person_ids=person_ids, request=req)
        response = _pdf_response(result)
        response.status_code = 201
        return response


class CertificateNumbersView(GenericAPIView):
    """発行番号の払出し状況: 欠番とその理由 (ADR 0021)."""

    permission_classes = STAFF_WITH_RIGHT
    required_rights = (Perm.CERTIFICATE_ISSUE, Perm.ACCESS_LOG_VIEW)  # the counter, or the auditor
    audit_function = "certificate.numbers"

    @extend_schema(parameters=[OpenApiParameter("year", OpenApiTypes.INT, required=True, description="年（西暦）")],
                   responses=NumberLedgerSerializer, summary="発行番号の払出し状況・欠番一覧",
                   operation_id="certificate_numbers", tags=TAGS)
    def get(self, request):
        raw = request.query_params.get("year", "")
        if not raw.isdigit():
            raise DomainError(ErrorCode.INVALID_INPUT, "year は西暦4桁で指定してください。", field="year")
        return Response(services.certificate_numbers(actor=actor_of(request), year=int(raw)))


class MoveOutCertificateView(GenericAPIView):
    """転出証明書 [660]: for the persons of one 転出届. Reissue (the first state) via …/reissue."""

    serializer_class = MoveOutCertificateSerializer
    permission_classes = STAFF_WITH_RIGHT
    required_rights = Perm.CERTIFICATE_ISSUE
    audit_function = "certificate.issue"

    @extend_schema(responses=_PDF_201, summary="転出証明書の交付（PDF）", operation_id="certificate_move_out", tags=TAGS)
    def post(self, request):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        values["documents"] = tuple(values["documents"])
        response = _pdf_response(move_out.move_out_certificate_issue(actor=actor_of(request), **values))
        response.status_code = 201
        return response


class CodeNoticeView(GenericAPIView):
    """住民票コード(変更・修正)通知票 [890]: 職権, free. Reissue (the first state) via …/reissue."""

    serializer_class = CodeNoticeSerializer
    permission_classes = STAFF_WITH_RIGHT
    required_rights = Perm.CERTIFICATE_ISSUE
    audit_function = "certificate.issue"

    @extend_schema(responses=_PDF_201, summary="住民票コード通知票の出力（PDF）", operation_id="certificate_code_notice",
                   tags=TAGS)
    def post(self, request):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        response = _pdf_response(code_notice.resident_code_notice_issue(actor=actor_of(request), **data.validated_data))
        response.status_code = 201
        return response


class CertificateVoidView(GenericAPIView):
    serializer_class = VoidSerializer
    permission_classes = STAFF_WITH_RIGHT
    required_rights = Perm.CERTIFICATE_ISSUE
    audit_function = "certificate.void"

    @extend_schema(responses=IssueRecordSerializer, summary="証明書を無効にする", operation_id="certificate_void", tags=TAGS)
    def post(self, request, number: str):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(services.certificate_void(actor=actor_of(request), number=number, **data.validated_data))


class CertificateReissueView(GenericAPIView):
    permission_classes = STAFF_WITH_RIGHT
    required_rights = Perm.CERTIFICATE_ISSUE
    audit_function = "certificate.reissue"

    @extend_schema(request=None, responses=_PDF_201, summary="証明書の再交付（新しい発行番号）",
                   operation_id="certificate_reissue", tags=TAGS)
    def post(self, request, number: str):
        response = _pdf_response(services.certificate_reissue(actor=actor_of(request), number=number))
        response.status_code = 201
        return response


class CertificateVerifyView(GenericAPIView):
    """Public: anyone holding a certificate may check it. No login, no personal data in or out."""

    serializer_class = VerifySerializer
    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes = [JSONParser, MultiPartParser]

    @extend_schema(responses=VerifyResultSerializer, summary="証明書の真正性の確認（ログイン不要）",
                   operation_id="certificate_verify", tags=TAGS, auth=[])
    def post(self, request):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data.get("pdf")
        return Response(services.certificate_verify(number=data.validated_data["number"],
                                                    pdf=services.read_pdf(upload) if upload is not None else None,
                                                    sha256=data.validated_data["sha256"] or None))
