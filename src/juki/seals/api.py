"""Thin HTTP callers of the seal services: a person's registration (read, register, 回答書, 廃止,
亡失) and the 印鑑登録証明書 (PDF)."""
from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from juki.accounts.permissions import Perm
from juki.certificates.api import RequestSerializer
from juki.core.api import STAFF_WITH_RIGHT, StrictSerializer
from juki.core.schema import HistoryEventSerializer
from juki.audit.requests import actor_of

from . import images, services
from .models import RegistrationMethod

TAGS = ["seals"]
_PDF = OpenApiResponse(OpenApiTypes.BINARY, description="印鑑登録証明書のPDF（ヘッダー X-Certificate-Number に発行番号）")
_DOCUMENTS = serializers.ListField(child=serializers.CharField(max_length=60), required=False, default=list, max_length=10,
                                   help_text="確認した本人確認書類")


class RegisterSerializer(StrictSerializer):
    method = serializers.ChoiceField(choices=RegistrationMethod.choices, help_text="本人確認の方法")
    image = serializers.FileField(help_text="印影を読み取った画像（PNG・JPEG・TIFF・BMP、5MBまで）")
    seal_text = serializers.CharField(max_length=40, help_text="印影の文字（刻印文字）")
    documents = _DOCUMENTS
    agent_name = serializers.CharField(max_length=120, required=False, allow_blank=True, default="",
                                       help_text="代理人の氏名（照会書による確認のときだけ）")
    power_of_attorney = serializers.BooleanField(required=False, default=False, help_text="委任状を確認した")
    guarantor_number = serializers.CharField(max_length=20, required=False, allow_blank=True, default="",
                                             help_text="保証人の印鑑番号（保証人による確認のとき）")
    seal_checked = serializers.BooleanField(required=False, default=False,
                                            help_text="印鑑の材質・外枠・文字を確認した（必須）")


class AnswerSerializer(StrictSerializer):
    documents = _DOCUMENTS
    answer_agent_name = serializers.CharField(max_length=120, required=False, allow_blank=True, default="",
                                              help_text="回答書を持参した代理人の氏名")
    power_of_attorney = serializers.BooleanField(required=False, default=False)


class EndSerializer(StrictSerializer):
    documents = _DOCUMENTS
    agent_name = serializers.CharField(max_length=120, required=False, allow_blank=True, default="",
                                       help_text="届け出た代理人の氏名")
    power_of_attorney = serializers.BooleanField(required=False, default=False)


class LostSerializer(EndSerializer):
    what = serializers.ChoiceField(choices=list(services.LOST_WHAT.items()), help_text="亡失したもの")


class CertificateSerializer(StrictSerializer):
    card_number = serializers.CharField(max_length=20, help_text="印鑑登録証（市民カード）のカード番号")
    stated_birth_date = serializers.DateField(required=False, allow_null=True, default=None,
                                              help_text="交付申請書に書かれた登録者の生年月日（窓口では必須）")
    person_id = serializers.IntegerField(required=False, allow_null=True, default=None,
                                         help_text="窓口で確認している住民ID（カードがこの方のものか照合）")
    request = RequestSerializer(help_text="請求の内容（本人または代理人）")


# --- output shapes (issue 13): `services.registration_dict` and `seal_get` ---------------------------


class SealEventSerializer(HistoryEventSerializer):
    """A seal registration's 経過."""


class SealRegistrationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField(help_text="印鑑番号")
    person_id = serializers.IntegerField()
    state = serializers.CharField()
    state_label = serializers.CharField()
    method = serializers.CharField()
    method_label = serializers.CharField()
    seal_text = serializers.CharField()
    image_sha256 = serializers.CharField()
    image_width_mm = serializers.CharField(allow_null=True, help_text="印影の幅（mm、10進数の文字列）")
    image_height_mm = serializers.CharField(allow_null=True)
    image_dpi = serializers.IntegerField(allow_null=True)
    applied_on = serializers.DateField()
    registered_on = serializers.DateField(allow_null=True)
    inquiry_sent_on = serializers.DateField(allow_null=True)
    answer_due = serializers.DateField(allow_null=True, help_text="回答書の期限")
    agent_name = serializers.CharField()
    answer_agent_name = serializers.CharField()
    guarantor_number = serializers.CharField()
    ended_on = serializers.DateField(allow_null=True)
    end_reason = serializers.CharField()
    end_reason_label = serializers.CharField()
    end_agent_name = serializers.CharField()
    registered_by = serializers.CharField()
    ended_by = serializers.CharField()
    events = SealEventSerializer(many=True)
    image_data_uri = serializers.CharField(required=False, help_text="印影（data: URI）")


class SealEndedSerializer(SealRegistrationSerializer):
    cards_abolished = serializers.ListField(child=serializers.IntegerField(), help_text="亡失で廃止した市民カード")


class SealCardSerializer(serializers.Serializer):
    state = serializers.CharField()
    state_label = serializers.CharField()
    linked = serializers.BooleanField(help_text="この印鑑登録の印鑑登録証")


class PersonSealSerializer(serializers.Serializer):
    person_id = serializers.IntegerField()
    live = SealRegistrationSerializer(allow_null=True, help_text="現在の登録（照会中を含む）")
    registrations = SealRegistrationSerializer(many=True, help_text="すべての登録（新しい順）")
    card = SealCardSerializer(allow_null=True)
    age = serializers.IntegerField()
    resident = serializers.BooleanField()
    inquiry_overdue = serializers.BooleanField()
    may_register = serializers.BooleanField()


def _body(view, request) -> dict:
    data = view.get_serializer(data=request.data)
    data.is_valid(raise_exception=True)
    return dict(data.validated_data)


def _registration(state: dict) -> dict:
    """The API's view of a person's seal: no copy of the register's person data."""
    return {k: v for k, v in state.items() if k != "person"}


class SealView(GenericAPIView):
    permission_classes = STAFF_WITH_RIGHT
    required_rights = Perm.SEAL_MANAGE
    audit_function = "seal.view"

    @extend_schema(responses=PersonSealSerializer, summary="印鑑登録の照会（現在の登録と履歴）", operation_id="seal_get", tags=TAGS)
    def get(self, request, person_id: int):
        return Response(_registration(services.seal_get(actor=actor_of(request), person_id=person_id)))


class SealRegisterView(GenericAPIView):
    serializer_class = RegisterSerializer
    permission_classes = STAFF_WITH_RIGHT
    required_rights = Perm.SEAL_MANAGE
    audit_function = "seal.register"
    parser_classes = [MultiPartParser]

    @extend_schema(responses={201: SealRegistrationSerializer}, summary="印鑑登録の申請（multipart/form-data）",
                   operation_id="seal_register", tags=TAGS)
    def post(self, request, person_id: int):
        values = _body(self, request)
        values["image"] = images.read_upload(values["image"])
        return Response(services.seal_register(actor=actor_of(request), person_id=person_id, **values), status=201)


class SealAnswerView(GenericAPIView):
    serializer_class = AnswerSerializer
    permission_classes = STAFF_WITH_RIGHT
    required_rights = Perm.SEAL_MANAGE
    audit_function = "seal.inquiry_answer"

    @extend_schema(responses=SealRegistrationSerializer, summary="回答書の受付（照会中の申請を登録）", operation_id="seal_answer",
                   tags=TAGS)
    def post(self, request, person_id: int):
        return Response(services.seal_inquiry_answer(actor=actor_of(request), person_id=person_id, **_body(self, request)))


class SealAbolishView(GenericAPIView):
    serializer_class = EndSerializer
    permission_classes = STAFF_WITH_RIGHT
    required_rights = Perm.SEAL_MANAGE
    audit_function = "seal.abolish"

    @extend_schema(responses=SealEndedSerializer, summary="印鑑登録の廃止（申請の取下げを含む）", operation_id="seal_abolish",
                   tags=TAGS)
    def post(self, request, person_id: int):
        return Response(services.seal_abolish(actor=actor_of(request), person_id=person_id, **_body(self, request)))


class SealLostView(GenericAPIView):
    serializer_class = LostSerializer
    permission_classes = STAFF_WITH_RIGHT
    required_rights = Perm.SEAL_MANAGE
    audit_function = "seal.lost"

    @extend_schema(responses=SealEndedSerializer, summary="亡失の届出（印鑑または印鑑登録証）", operation_id="seal_lost", tags=TAGS)
    def post(self, request, person_id: int):
        return Response(services.seal_report_lost(actor=actor_of(request), person_id=person_id, **_body(self, request)))


class SealCertificateView(GenericAPIView):
    serializer_class = CertificateSerializer
    permission_classes = STAFF_WITH_RIGHT
    required_rights = Perm.CERTIFICATE_ISSUE
    audit_function = "seal.certificate_issue"

    @extend_schema(responses={(201, "application/pdf"): _PDF}, summary="印鑑登録証明書の交付（PDF）", operation_id="seal_certificate_issue",
                   tags=TAGS)
    def post(self, request):
        values = _body(self, request)
        result = services.seal_certificate_issue(actor=actor_of(request), **values)
        response = HttpResponse(result.pdf, content_type="application/pdf", status=201)
        response["X-Certificate-Number"] = result.number
        response["Content-Disposition"] = f'inline; filename="certificate-{result.number}.pdf"'
        response["Cache-Control"] = "no-store"  # personal data: never kept by a proxy or the browser cache
        return response
