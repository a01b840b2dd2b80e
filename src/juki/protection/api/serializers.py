"""Input of the protection API: strict, so a field the service does not know is refused (C11)."""
from rest_framework import serializers

from juki.core.api import StrictSerializer

from ..certificates import Requester, RequesterKind
from ..models import Level, Process, SupportMeasure
from ..services import Offender


class OffenderSerializer(StrictSerializer):
    name = serializers.CharField(max_length=120, required=False, allow_blank=True, default="", help_text="相手方の氏名")
    kana = serializers.CharField(max_length=240, required=False, allow_blank=True, default="", help_text="相手方のフリガナ")
    birth_date = serializers.DateField(required=False, allow_null=True, default=None, help_text="相手方の生年月日")
    person_id = serializers.IntegerField(required=False, allow_null=True, default=None,
                                         help_text="相手方が住民の場合の住民ID")
    note = serializers.CharField(max_length=400, required=False, allow_blank=True, default="",
                                 help_text="相手方の住所・その他")

    def to_internal_value(self, data):
        return Offender(**super().to_internal_value(data))


class MemberSerializer(StrictSerializer):
    person_id = serializers.IntegerField(help_text="併せて支援を求める者の住民ID")
    relationship = serializers.CharField(max_length=40, required=False, allow_blank=True, default="",
                                         help_text="申出者との関係")

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        return value["person_id"], value["relationship"]


class SupportRegisterSerializer(StrictSerializer):
    person_id = serializers.IntegerField(help_text="支援対象者（申出者）の住民ID")
    kind = serializers.ChoiceField(choices=SupportMeasure.Kind.choices, help_text="種別")
    applied_on = serializers.DateField(help_text="申出日")
    offender = OffenderSerializer(help_text="相手方（住民でなくてもよい）")
    provisional = serializers.BooleanField(required=False, default=True, help_text="仮支援措置として登録する")
    start = serializers.DateField(required=False, allow_null=True, default=None, help_text="開始年月日（本登録の場合）")
    end = serializers.DateField(required=False, allow_null=True, default=None, help_text="終了年月日（省略時は1年）")
    members = MemberSerializer(many=True, required=False, default=list, help_text="併せて支援を求める者")


class SupportConfirmSerializer(StrictSerializer):
    start = serializers.DateField(required=False, allow_null=True, default=None, help_text="開始年月日（省略時は本日）")
    end = serializers.DateField(required=False, allow_null=True, default=None, help_text="終了年月日（省略時は1年）")


class SupportEndSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=200, help_text="終了の理由")


class RestrictionSetSerializer(StrictSerializer):
    person_id = serializers.IntegerField(required=False, allow_null=True, default=None, help_text="対象者の住民ID")
    household_id = serializers.IntegerField(required=False, allow_null=True, default=None, help_text="対象世帯のID")
    processes = serializers.ListField(child=serializers.ChoiceField(choices=Process.choices), help_text="抑止する処理")
    level = serializers.ChoiceField(choices=Level.choices, required=False, default=Level.ERROR, help_text="抑止レベル")
    start = serializers.DateField(required=False, allow_null=True, default=None, help_text="開始日（省略時は本日）")
    end = serializers.DateField(required=False, allow_null=True, default=None, help_text="終了日（予定）")
    reason = serializers.CharField(max_length=200, help_text="理由")


class TemporaryReleaseSerializer(StrictSerializer):
    minutes = serializers.IntegerField(required=False, allow_null=True, default=None,
                                       help_text="一時解除の時間（分、省略時は設定値）")


class RequesterSerializer(StrictSerializer):
    kind = serializers.ChoiceField(choices=list(RequesterKind.LABELS.items()), help_text="請求者の区分")
    person_id = serializers.IntegerField(required=False, allow_null=True, default=None, help_text="請求者の住民ID（住民の場合）")
    name = serializers.CharField(max_length=120, required=False, allow_blank=True, default="", help_text="請求者の氏名")
    kana = serializers.CharField(max_length=240, required=False, allow_blank=True, default="", help_text="請求者のフリガナ")
    birth_date = serializers.DateField(required=False, allow_null=True, default=None, help_text="請求者の生年月日")

    def to_internal_value(self, data):
        return Requester(**super().to_internal_value(data))


class CertificateCheckSerializer(StrictSerializer):
    subject_person_ids = serializers.ListField(child=serializers.IntegerField(), min_length=1, max_length=50,
                                               help_text="証明書の対象者の住民ID")
    requester = RequesterSerializer(help_text="請求者")
