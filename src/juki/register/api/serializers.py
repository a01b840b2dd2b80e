"""Input shapes of the register API. Shape only: rules live in the services. The change
operations' shapes are the register's own (`register.commands`); the API imports them."""
from rest_framework import serializers

from juki.core.api import StrictSerializer

from ..models import PendingChange, Sex
from ..reasons import OPERATION_LABELS, Operation


# --- search [340] and two-person verification [530] (C10) ------------------------------------------


class PersonSearchSerializer(StrictSerializer):
    """The items of `services.search.Criteria`; which combinations are allowed (C15) is the service's rule."""

    name = serializers.CharField(max_length=120, required=False, allow_blank=True, default="",
                                 help_text="氏名・旧氏・通称（漢字・英字・かな、前方一致）")
    kana = serializers.CharField(max_length=240, required=False, allow_blank=True, default="", help_text="フリガナ（前方一致）")
    birth_date = serializers.DateField(required=False, allow_null=True, default=None, help_text="生年月日")
    sex = serializers.ChoiceField(choices=Sex.choices, required=False, allow_null=True, default=None,
                                  help_text="性別（項目数には数えません）")
    ward_code = serializers.CharField(max_length=6, required=False, allow_blank=True, default="", help_text="区コード")
    town_code = serializers.CharField(max_length=11, required=False, allow_blank=True, default="", help_text="町字コード")
    banchi = serializers.CharField(max_length=40, required=False, allow_blank=True, default="", help_text="番地（前方一致）")
    katagaki = serializers.CharField(max_length=80, required=False, allow_blank=True, default="", help_text="方書（前方一致）")
    atena_number = serializers.CharField(max_length=20, required=False, allow_blank=True, default="", help_text="宛名番号")
    household_number = serializers.CharField(max_length=20, required=False, allow_blank=True, default="", help_text="世帯番号")
    resident_code = serializers.CharField(max_length=11, required=False, allow_blank=True, default="", help_text="住民票コード")
    my_number = serializers.CharField(max_length=20, required=False, allow_blank=True, default="", write_only=True,
                                      help_text="個人番号（ログには記録されません）")
    residence_card_number = serializers.CharField(max_length=12, required=False, allow_blank=True, default="",
                                                  help_text="在留カード等番号")
    include_removed = serializers.BooleanField(required=False, default=False, help_text="消除者（除票）も含める")


PENDING_OPERATIONS = [(str(op), OPERATION_LABELS.get(op, str(op))) for op in Operation if op != Operation.SEED]


class PendingSubmitSerializer(StrictSerializer):
    operation = serializers.ChoiceField(choices=PENDING_OPERATIONS, help_text="異動処理（/changes/ の各操作と同じ名前）")
    payload = serializers.DictField(help_text="その異動処理の入力内容（/changes/ の各操作の要求本文と同じ形）")


class PendingRejectSerializer(StrictSerializer):
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="", help_text="差戻しの理由")


class NoInputSerializer(StrictSerializer):
    """No items: the request body must be empty (or {})."""


PENDING_STATES = [c for c, _ in PendingChange.State.choices]


class OutboxAckSerializer(StrictSerializer):
    consumer = serializers.CharField(max_length=40)
    position = serializers.IntegerField(min_value=0)
