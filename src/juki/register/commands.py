"""The input shapes of the change operations (the commands of the register's domain): what a
change's payload may hold, checked before the service runs. The API, the counter's forms (through
`operations`) and two-person verification all validate with these; the rules stay in the services.
DRF serializers are the schema language here, as the API documents them (drf-spectacular)."""
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from juki.core.api import StrictSerializer

from .models import ResidentKind, Sex
from .services.changes import MY_NUMBER_REASONS, NEW
from .services.people import Address
from .services.writer import HouseholdRef, PersonRef


class PersonRefSerializer(StrictSerializer):
    id = serializers.IntegerField(help_text="住民のID")
    version = serializers.IntegerField(help_text="画面に表示していた履歴番号（楽観的排他制御）")

    def to_internal_value(self, data):
        return PersonRef(**super().to_internal_value(data))


class HouseholdRefSerializer(StrictSerializer):
    id = serializers.IntegerField(help_text="世帯のID")
    version = serializers.IntegerField(help_text="画面に表示していた世帯の版")

    def to_internal_value(self, data):
        return HouseholdRef(**super().to_internal_value(data))


@extend_schema_field({
    "oneOf": [
        {"type": "string", "enum": [NEW], "description": "新しい世帯"},
        {"type": "object", "description": "既存の世帯", "additionalProperties": False, "required": ["id", "version"],
         "properties": {"id": {"type": "integer", "description": "世帯のID"},
                        "version": {"type": "integer", "description": "画面に表示していた世帯の版"}}},
    ],
})
class DestinationField(serializers.Field):
    """"new" for a new household, or {"id": …, "version": …} of an existing one."""

    def to_internal_value(self, data):
        if data == NEW:
            return NEW
        return HouseholdRefSerializer().run_validation(data)

    def to_representation(self, value):
        return value


class AddressSerializer(StrictSerializer):
    town_code = serializers.CharField(max_length=11, help_text="町字コード（住所辞書）")
    banchi = serializers.CharField(max_length=40, help_text="番地")
    katagaki = serializers.CharField(max_length=80, required=False, allow_blank=True, default="", help_text="方書")

    def to_internal_value(self, data):
        return Address(**super().to_internal_value(data))


class RelationshipMapField(serializers.DictField):
    """住民ID → 続柄; keys must be person ids."""

    child = serializers.CharField(max_length=40)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            return {int(k): v for k, v in value.items()}
        except (TypeError, ValueError):
            raise serializers.ValidationError("キーは住民ID（整数）で指定してください。") from None


def _relationship_dict():
    return RelationshipMapField(required=False, default=dict, help_text="住民ID → 続柄")


class NewPersonSerializer(StrictSerializer):
    family_name = serializers.CharField(max_length=60, required=False)
    given_name = serializers.CharField(max_length=60, required=False, allow_blank=True)
    family_name_kana = serializers.CharField(max_length=120, required=False, allow_blank=True)
    given_name_kana = serializers.CharField(max_length=120, required=False, allow_blank=True)
    kana_confirmed = serializers.BooleanField(required=False)
    former_surname = serializers.CharField(max_length=60, required=False, allow_blank=True)
    former_surname_kana = serializers.CharField(max_length=120, required=False, allow_blank=True)
    birth_date = serializers.DateField(required=False)
    sex = serializers.ChoiceField(choices=Sex.choices, required=False)
    relationship = serializers.CharField(max_length=40)
    domicile = serializers.CharField(max_length=120, required=False, allow_blank=True)
    domicile_head = serializers.CharField(max_length=60, required=False, allow_blank=True)
    resident_kind = serializers.ChoiceField(choices=ResidentKind.choices, required=False)
    resident_code = serializers.CharField(max_length=11, required=False, allow_blank=True)
    my_number = serializers.CharField(max_length=12, required=False, allow_blank=True, write_only=True)
    nationality = serializers.CharField(max_length=60, required=False, allow_blank=True)
    kanji_name = serializers.CharField(max_length=60, required=False, allow_blank=True)
    alias_name = serializers.CharField(max_length=60, required=False, allow_blank=True)
    alias_name_kana = serializers.CharField(max_length=120, required=False, allow_blank=True)
    article_30_45_category = serializers.CharField(max_length=20, required=False, allow_blank=True)
    residence_status = serializers.CharField(max_length=40, required=False, allow_blank=True)
    period_of_stay = serializers.CharField(max_length=20, required=False, allow_blank=True)
    stay_expires_on = serializers.DateField(required=False, allow_null=True)
    residence_card_number = serializers.CharField(max_length=12, required=False, allow_blank=True)
    returning_person = PersonRefSerializer(required=False, help_text="再転入: その方の除票（ID・履歴番号）")
    transfer_certificate = serializers.IntegerField(
        required=False, min_value=1, help_text="特例転入: 受信した転出証明書情報のID（住民票コード・個人番号はそこから記録）")


class _Dated(StrictSerializer):
    event_date = serializers.DateField(help_text="異動日")
    notified_on = serializers.DateField(required=False, allow_null=True, default=None, help_text="届出日")
    # No defaults: absent unless given, so the services' own keyword arguments stay as they are
    # (`verification.run` takes these two out and records them on the Change).
    notifier_name = serializers.CharField(max_length=60, required=False, allow_blank=True,
                                          help_text="届出人の氏名（本人・世帯主・代理人など）")
    notifier_relationship = serializers.CharField(max_length=20, required=False, allow_blank=True,
                                                  help_text="届出人と本人との関係（本人、世帯主、代理人 など）")


class _HeadChangeAlong(serializers.Serializer):
    new_head = serializers.IntegerField(required=False, allow_null=True, default=None,
                                        help_text="残る世帯員から職権で定める新しい世帯主（住民ID）")
    new_head_relationships = _relationship_dict()


class MoveInSerializer(_Dated):
    origin = serializers.ChoiceField(choices=[("domestic", "国内"), ("abroad", "国外")])
    persons = NewPersonSerializer(many=True)
    destination = DestinationField(help_text='"new" または既存世帯 {id, version}')
    address = AddressSerializer(required=False, allow_null=True, default=None)
    previous_address = serializers.CharField(max_length=160, required=False, allow_blank=True, default="")
    previous_postal_code = serializers.CharField(max_length=7, required=False, allow_blank=True, default="")
    previous_municipality_code = serializers.CharField(
        max_length=6, required=False, allow_blank=True, default="",
        help_text="転出地の地方公共団体コード（6桁）: 転入通知の送付先")
    confirmed_new_person = serializers.BooleanField(required=False, default=False,
                                                    help_text="3情報が一致する方と別人であることを確認済み")
    note = serializers.CharField(required=False, allow_blank=True, default="")


class EntrySerializer(MoveInSerializer):
    """職権記載・30条46転入・30条47届出: like 転入, without the origin choice."""

    origin = None


class BirthSerializer(_Dated):
    child = NewPersonSerializer()
    destination = DestinationField()
    address = AddressSerializer(required=False, allow_null=True, default=None)


class MoveWithinCitySerializer(_Dated, _HeadChangeAlong):
    persons = PersonRefSerializer(many=True)
    address = AddressSerializer()
    destination = DestinationField(required=False, allow_null=True, default=None)
    relationships_in_destination = _relationship_dict()


class MoveOutSerializer(_Dated, _HeadChangeAlong):
    persons = PersonRefSerializer(many=True)
    destination_address = serializers.CharField(max_length=160)
    abroad = serializers.BooleanField(required=False, default=False)
    special = serializers.BooleanField(required=False, default=False,
                                       help_text="特例転出: 転出証明書情報をCSへ送り、転出証明書は交付しない")


class MoveOutConfirmSerializer(StrictSerializer):
    person = PersonRefSerializer()
    notice_on = serializers.DateField(help_text="転入通知年月日")
    moved_on = serializers.DateField(help_text="転出年月日（確定）")
    confirmed_address = serializers.CharField(max_length=160)


class RemovalSerializer(_Dated, _HeadChangeAlong):
    persons = PersonRefSerializer(many=True)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class HeadChangeSerializer(_Dated):
    household = HouseholdRefSerializer()
    new_head = serializers.IntegerField()
    relationships_after = _relationship_dict()


class HouseholdSplitSerializer(_Dated, _HeadChangeAlong):
    persons = PersonRefSerializer(many=True)
    relationships_in_new = _relationship_dict()


class HouseholdJoinSerializer(_Dated, _HeadChangeAlong):
    persons = PersonRefSerializer(many=True)
    target = HouseholdRefSerializer()
    relationships_in_target = _relationship_dict()


class CorrectionSerializer(_Dated):
    person = PersonRefSerializer()
    changes = serializers.DictField(help_text="項目名 → 修正後の値（town_code・banchi・katagaki で住所）")
    note = serializers.CharField(required=False, allow_blank=True, default="")

    def validate_changes(self, value):
        from .models import PersonVersion

        out = {}
        for name, raw in value.items():
            if name in ("town_code", "banchi", "katagaki"):
                out[name] = raw
                continue
            try:
                field = PersonVersion._meta.get_field(name)
            except Exception:
                out[name] = raw  # the service refuses it with its code
                continue
            if raw in (None, "") and field.null:
                out[name] = None
                continue
            if raw is None:
                raise serializers.ValidationError({name: ["この項目は空にできません。"]})
            try:
                value = field.to_python(raw)
                field.run_validators(value)  # max_length and the like: a 400, never a database error
            except Exception:
                raise serializers.ValidationError({name: ["値の形式が正しくありません。"]}) from None
            out[field.attname] = value
        return out


class ResidentCodeSerializer(StrictSerializer):
    event_date = serializers.DateField()
    person = PersonRefSerializer()


class MyNumberSerializer(StrictSerializer):
    event_date = serializers.DateField()
    person = PersonRefSerializer()
    my_number = serializers.CharField(max_length=20, write_only=True)
    kind = serializers.ChoiceField(choices=[(k, k) for k in MY_NUMBER_REASONS])


class NewDataSerializer(NewPersonSerializer):
    """Items of the new record after 帰化・国籍取得・国籍喪失; the rest is carried over."""

    relationship = serializers.CharField(max_length=40, required=False)
    returning_person = None


class NationalitySerializer(_Dated):
    person = PersonRefSerializer()
    new_data = NewDataSerializer(help_text="新しい住民票に記載する項目（氏名・本籍・国籍など）")


class CancelSerializer(_Dated):
    change_id = serializers.IntegerField()
    persons = PersonRefSerializer(many=True)
    note = serializers.CharField(required=False, allow_blank=True, default="")
