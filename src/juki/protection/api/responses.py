"""Output shapes of the protection API, for the OpenAPI contract (issue 13): what
`protection.services` returns (`_measure_dict`, `_restriction_dict`, `alerts`, `protection_of`)
and the certificate check. They document; the views return the services' dicts as they are."""
from rest_framework import serializers as f

from juki.register.api.responses import DateValueSerializer


class PersonBriefSerializer(f.Serializer):
    """A person named in a measure or a 抑止: only `person_id` if the person has no current record."""

    person_id = f.IntegerField()
    atena_number = f.CharField(required=False)
    name = f.CharField(required=False)
    kana = f.CharField(required=False)
    birth_date = DateValueSerializer(required=False, allow_null=True)
    household_id = f.IntegerField(required=False, allow_null=True)


class MeasureMemberSerializer(PersonBriefSerializer):
    relationship = f.CharField(help_text="申出者との関係")


class OffenderOutSerializer(f.Serializer):
    name = f.CharField()
    kana = f.CharField()
    birth_date = DateValueSerializer(allow_null=True)
    person_id = f.IntegerField(allow_null=True)
    note = f.CharField()


class SupportMeasureSerializer(f.Serializer):
    id = f.IntegerField()
    person = PersonBriefSerializer(help_text="支援対象者（申出者）")
    kind = f.CharField()
    kind_label = f.CharField()
    state = f.CharField()
    state_label = f.CharField()
    applied_on = DateValueSerializer(allow_null=True)
    provisional_since = DateValueSerializer(allow_null=True)
    start = DateValueSerializer(allow_null=True)
    end = DateValueSerializer(allow_null=True)
    extensions = f.IntegerField()
    extension_opens = DateValueSerializer(allow_null=True, help_text="延長の申出を受け付ける最初の日")
    can_extend = f.BooleanField()
    offender = OffenderOutSerializer(help_text="相手方")
    members = MeasureMemberSerializer(many=True, help_text="併せて支援を求める者")
    registered_by = f.CharField()
    ended_on = DateValueSerializer(allow_null=True)
    end_reason = f.CharField()
    end_notice_issued_on = DateValueSerializer(allow_null=True)
    alerts = f.ListField(child=f.CharField())


class SupportMeasureListSerializer(f.Serializer):
    measures = SupportMeasureSerializer(many=True)


class AlertsSerializer(f.Serializer):
    """Internal ids only: the 支援措置 and 抑止 that need the support desk's attention."""

    on = f.DateField()
    ending_soon = f.ListField(child=f.IntegerField(), help_text="1か月以内に終了する支援措置")
    expired = f.ListField(child=f.IntegerField(), help_text="期間が終了したままの支援措置")
    notice_due = f.ListField(child=f.IntegerField(), help_text="終了通知を出していない支援措置")
    provisional = f.ListField(child=f.IntegerField(), help_text="仮支援措置")
    restrictions_past_end = f.ListField(child=f.IntegerField(), help_text="終了日を過ぎた抑止（解除まで有効）")


class RestrictionSerializer(f.Serializer):
    id = f.IntegerField()
    person_id = f.IntegerField(allow_null=True)
    household_id = f.IntegerField(allow_null=True)
    processes = f.ListField(child=f.CharField())
    process_labels = f.ListField(child=f.CharField())
    level = f.CharField()
    level_label = f.CharField()
    start = DateValueSerializer(allow_null=True)
    end = DateValueSerializer(allow_null=True)
    reason = f.CharField()
    set_by = f.CharField()
    in_force = f.BooleanField()
    temporarily_released_until = f.DateTimeField(allow_null=True)
    past_end = f.BooleanField()
    ended_at = f.DateTimeField(allow_null=True)


class PersonRestrictionsSerializer(f.Serializer):
    person = PersonBriefSerializer()
    household_id = f.IntegerField(allow_null=True)
    restrictions = RestrictionSerializer(many=True)


class CertificateCheckResultSerializer(f.Serializer):
    """A refused request is an error (403 support_measure_block, restricted); an allowed one may warn."""

    allowed = f.BooleanField()
    warnings = f.ListField(child=f.CharField())
