"""The 団体内統合宛名's API for the business systems (S5): look-up by 統一識別番号 or by the system's
own 宛名番号, and the registration of a 住登外者. The caller is a 庁内連携 destination's account, acting
as its system actor (ADR 0019); staff accounts are refused whatever they hold."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from juki.accounts.permissions import Perm
from juki.audit.requests import actor_of
from juki.core.api import STAFF_WITH_RIGHT, StrictSerializer
from juki.core.errors import DomainError, ErrorCode

from . import services

TAGS = ["atena"]


class LookupSerializer(StrictSerializer):
    unified_number = serializers.CharField(max_length=12, required=False, allow_blank=True, default="",
                                           help_text="統一識別番号")
    system_number = serializers.CharField(max_length=40, required=False, allow_blank=True, default="",
                                          help_text="業務システムの宛名番号")
    link = serializers.BooleanField(required=False, default=False,
                                    help_text="統一識別番号で照会し、業務システムの宛名番号をひも付ける")

    def validate(self, data):
        if not data["unified_number"] and not data["system_number"]:
            raise DomainError(ErrorCode.INVALID_INPUT, "統一識別番号か業務システムの宛名番号を指定してください。",
                              field="unified_number")
        return data


class NonResidentSerializer(StrictSerializer):
    system_number = serializers.CharField(max_length=40, help_text="業務システムの宛名番号")
    name = serializers.CharField(max_length=120, help_text="氏名")
    name_kana = serializers.CharField(max_length=160, help_text="氏名（カナ）")
    birth_date = serializers.DateField(required=False, allow_null=True, default=None)
    sex = serializers.ChoiceField(choices=["", "男", "女"], required=False, default="")
    address = serializers.CharField(max_length=240, required=False, allow_blank=True, default="")
    postal_code = serializers.RegexField(r"^(\d{7})?$", required=False, allow_blank=True, default="")
    my_number = serializers.CharField(max_length=12, required=False, allow_blank=True, default="",
                                      help_text="個人番号（本人から提供を受けた場合のみ。応答には含めない）")


class AtenaSerializer(serializers.Serializer):
    """A 宛名 as the calling system may see it: an item its application does not include is null."""

    unified_number = serializers.CharField()
    merged_from = serializers.CharField(allow_null=True)
    kind = serializers.CharField()
    name = serializers.CharField(allow_null=True)
    name_kana = serializers.CharField(allow_null=True)
    birth_date = serializers.DateField(allow_null=True)
    sex = serializers.CharField(allow_null=True)
    postal_code = serializers.CharField(allow_null=True)
    address = serializers.CharField(allow_null=True)
    status = serializers.CharField(allow_null=True)


class RegisteredSerializer(AtenaSerializer):
    created = serializers.BooleanField()


class LookupView(GenericAPIView):
    serializer_class = LookupSerializer
    permission_classes = STAFF_WITH_RIGHT
    required_rights = Perm.ATENA_QUERY
    audit_function = "atena.provide"

    @extend_schema(responses=AtenaSerializer, summary="宛名の照会（業務システム）", operation_id="atena_lookup", tags=TAGS)
    def post(self, request):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(services.lookup(actor_of(request), **data.validated_data))


class NonResidentView(GenericAPIView):
    serializer_class = NonResidentSerializer
    permission_classes = STAFF_WITH_RIGHT
    required_rights = Perm.ATENA_QUERY
    audit_function = "atena.register"

    @extend_schema(responses={201: RegisteredSerializer, 200: RegisteredSerializer},
                   summary="住登外者の登録（統一識別番号の付番）", operation_id="atena_register", tags=TAGS)
    def post(self, request):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        answer = services.register_non_resident(actor_of(request), **data.validated_data)
        return Response(answer, status=status.HTTP_201_CREATED if answer["created"] else status.HTTP_200_OK)
