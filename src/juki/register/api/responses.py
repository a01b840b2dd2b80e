"""Output shapes of the register API, for the OpenAPI contract (issue 13). They describe what the
selectors and services return (`selectors.version_dict`, `household_get`, `verification.pending_get`,
`outbox.read` …); the views return those dicts as they are, so these serializers only document.

An item a user may not see is null (`hidden_items` names it, [1390]); a protected place is null
with `place_hidden` (ADR 0013). Every object may gain items later: clients ignore unknown keys.
"""
from drf_spectacular.utils import PolymorphicProxySerializer
from rest_framework import serializers as f

# --- building blocks -------------------------------------------------------------------------------


class DateValueSerializer(f.Serializer):
    """A date with its display form: 和暦, or 西暦 for a foreign resident's birth date and 満了日 [90]."""

    date = f.DateField()
    display = f.CharField()


def _date(**kw):
    return DateValueSerializer(allow_null=True, **kw)


class PersonNameSerializer(f.Serializer):
    family_name = f.CharField()
    given_name = f.CharField()
    family_name_kana = f.CharField()
    given_name_kana = f.CharField()
    kana_confirmed = f.BooleanField(required=False)
    former_surname = f.CharField(required=False, help_text="旧氏")
    former_surname_kana = f.CharField(required=False)


class AddressSerializer(f.Serializer):
    town_code = f.CharField(help_text="町字コード（11桁）")
    ward = f.CharField()
    town = f.CharField()
    banchi = f.CharField()
    katagaki = f.CharField(help_text="方書")
    postal_code = f.CharField()
    display = f.CharField(required=False, help_text="住所（表示用）")


class MoveOutSerializer(f.Serializer):
    planned_address = f.CharField(help_text="転出先（予定）")
    planned_on = _date(help_text="転出予定日")
    confirmed_address = f.CharField(help_text="転出先（確定）")
    confirmed_on = _date(help_text="転出確定日")
    notice_on = _date(help_text="転入通知の受理日")


class ForeignItemsSerializer(f.Serializer):
    nationality = f.CharField()
    kanji_name = f.CharField()
    alias_name = f.CharField(help_text="通称")
    alias_name_kana = f.CharField()
    article_30_45_category = f.CharField(allow_null=True, help_text="法第30条の45の区分（権限がなければ null）")
    residence_status = f.CharField(allow_null=True)
    period_of_stay = f.CharField(allow_null=True)
    stay_expires_on = _date()
    residence_card_number = f.CharField(allow_null=True)
    became_foreign_resident_on = _date()


class SupportMeasureNoticeSerializer(f.Serializer):
    id = f.IntegerField()
    state = f.CharField()
    state_label = f.CharField()
    end = f.DateField(allow_null=True)


class ProtectionNoticeSerializer(f.Serializer):
    """What the 住民票 says about 支援措置 and 抑止 ([160][380][440])."""

    support_measures = SupportMeasureNoticeSerializer(many=True)
    restricted = f.BooleanField()
    alerts = f.ListField(child=f.CharField())
    certificate_alert = f.BooleanField(required=False, help_text="証明書交付のアラート（抑止）がある")


class PersonVersionSerializer(f.Serializer):
    """One version of a person's record (`selectors.version_dict`)."""

    person_id = f.IntegerField()
    atena_number = f.CharField(help_text="宛名番号")
    version = f.IntegerField(help_text="履歴番号")
    change_id = f.IntegerField()
    reason = f.CharField(help_text="異動事由")
    reason_label = f.CharField()
    event_date = _date(help_text="異動日")
    status = f.CharField(help_text="resident（住民）または removed（消除）")
    status_label = f.CharField()
    resident_kind = f.CharField(help_text="J（日本人）または F（外国人住民）")
    removal_reason = f.CharField()
    removed_on = _date(help_text="消除日")
    name = PersonNameSerializer()
    birth_date = _date()
    sex = f.IntegerField()
    sex_label = f.CharField()
    household_id = f.IntegerField()
    household_number = f.CharField(allow_null=True, help_text="世帯番号（支援措置の対象者と同じ住所・世帯なら null）")
    relationship = f.CharField(help_text="続柄")
    domicile = f.CharField(allow_null=True, help_text="本籍（権限がなければ null）")
    domicile_head = f.CharField(allow_null=True, help_text="筆頭者（権限がなければ null）")
    address = AddressSerializer(allow_null=True, help_text="住所（支援措置の対象者と同じ住所・世帯なら null）")
    became_resident_on = _date()
    address_set_on = _date()
    notified_on = _date()
    previous_address = f.CharField()
    move_out = MoveOutSerializer()
    resident_code = f.CharField(allow_null=True, help_text="住民票コード（権限がなければ null）")
    has_my_number = f.BooleanField()
    my_number = f.CharField(required=False, help_text="個人番号（reveal_my_number=1 で権限がある場合だけ）")
    foreign = ForeignItemsSerializer(required=False, help_text="外国人住民の項目（外国人住民だけ）")
    hidden_items = f.ListField(child=f.CharField(), help_text="権限がないため表示していない項目")
    place_hidden = f.BooleanField(required=False)
    place_marker = f.CharField(required=False)


class PersonRecordSerializer(PersonVersionSerializer):
    """住民票 (one person, GET /persons/{id})."""

    protection = ProtectionNoticeSerializer()
    latest_version = f.IntegerField(help_text="最新の履歴番号（変更の入力で送る version）")
    household_version = f.IntegerField(help_text="世帯の版（変更の入力で送る household version）")


class ChangeInfoSerializer(f.Serializer):
    id = f.IntegerField()
    operation = f.CharField()
    operation_label = f.CharField()
    notified_on = _date()
    processed_at = f.DateTimeField()
    operator = f.CharField()
    operator_display = f.CharField()
    terminal = f.CharField()
    late_notification = f.BooleanField()
    cancels_change_id = f.IntegerField(allow_null=True)


class HistoryVersionSerializer(PersonVersionSerializer):
    change = ChangeInfoSerializer()


class PersonHistorySerializer(f.Serializer):
    versions = HistoryVersionSerializer(many=True, help_text="履歴（古い順）")


class HouseholdMemberSerializer(f.Serializer):
    """A member as `version_dict` gives it, or — one this user may not see — a marker: `masked`,
    the marker in place of the name, and no other item."""

    person_id = f.IntegerField()
    masked = f.BooleanField(required=False)
    marker = f.CharField(required=False)
    name = PersonNameSerializer()
    relationship = f.CharField()
    birth_date = _date()
    sex = f.IntegerField(allow_null=True)
    sex_label = f.CharField()
    status = f.CharField()
    status_label = f.CharField()
    address = AddressSerializer(allow_null=True)
    hidden_items = f.ListField(child=f.CharField())


class HouseholdHeadSerializer(f.Serializer):
    person_id = f.IntegerField()
    name = f.CharField()


class HouseholdSerializer(f.Serializer):
    household_id = f.IntegerField()
    number = f.CharField(allow_null=True, help_text="世帯番号（支援措置の対象者がいれば null）")
    protection_hidden = f.BooleanField()
    version = f.IntegerField()
    as_of = f.DateField()
    head_absent_since = _date()
    head = HouseholdHeadSerializer(allow_null=True)
    address = AddressSerializer(allow_null=True)
    members = HouseholdMemberSerializer(many=True, help_text="世帯員（[1010] の順）")


class HouseholdWithoutHeadSerializer(f.Serializer):
    household_id = f.IntegerField()
    number = f.CharField()
    version = f.IntegerField()
    head_absent_since = _date()
    member_ids = f.ListField(child=f.IntegerField())


class HouseholdsWithoutHeadSerializer(f.Serializer):
    households = HouseholdWithoutHeadSerializer(many=True)


class LateNotificationSerializer(f.Serializer):
    change_id = f.IntegerField()
    operation = f.CharField()
    event_date = _date()
    notified_on = _date()
    person_ids = f.ListField(child=f.IntegerField())


class LateNotificationsSerializer(f.Serializer):
    changes = LateNotificationSerializer(many=True)


# --- changes ------------------------------------------------------------------------------------------


class ChangedPersonSerializer(f.Serializer):
    id = f.IntegerField()
    atena_number = f.CharField()
    version = f.IntegerField(help_text="新しい履歴番号")
    reason = f.CharField()
    reason_label = f.CharField()


class ChangedHouseholdSerializer(f.Serializer):
    id = f.IntegerField()
    number = f.CharField()
    version = f.IntegerField()


class WarningSerializer(f.Serializer):
    code = f.CharField()
    message = f.CharField()


class ChangeResultSerializer(f.Serializer):
    """The result of a change (`writer.ChangeResult`): the persons and households with their new versions."""

    change_id = f.IntegerField()
    operation = f.CharField()
    persons = ChangedPersonSerializer(many=True)
    households = ChangedHouseholdSerializer(many=True)
    warnings = WarningSerializer(many=True)


# --- search [340] -------------------------------------------------------------------------------------


class SearchHitSerializer(f.Serializer):
    """A hit (`search._row`)."""

    person_id = f.IntegerField()
    version = f.IntegerField()
    atena_number = f.CharField()
    name = f.CharField()
    kana = f.CharField()
    alias_name = f.CharField()
    birth_date = f.CharField(help_text="生年月日（表示用）")
    sex = f.CharField()
    address = f.CharField(allow_null=True)
    household_id = f.IntegerField()
    household_number = f.CharField(allow_null=True)
    relationship = f.CharField()
    status = f.CharField()
    status_label = f.CharField()
    resident_kind = f.CharField()
    matched_past = f.BooleanField(help_text="過去の氏名・住所だけで一致した")
    place_hidden = f.BooleanField(required=False)
    place_marker = f.CharField(required=False)


class MaskedHitSerializer(f.Serializer):
    """A hit this user may not see (支援措置・照会抑止): a marker, no item of the person."""

    masked = f.BooleanField()
    reason = f.CharField()
    marker = f.CharField(help_text="氏名の代わりに表示する文言")


SEARCH_ROW = PolymorphicProxySerializer(component_name="SearchRow", serializers=[SearchHitSerializer, MaskedHitSerializer],
                                       resource_type_field_name=None, many=True)


class PersonSearchResultSerializer(f.Serializer):
    rows = SEARCH_ROW
    too_many = f.BooleanField()
    message = f.CharField()


# --- 仮登録・審査 (C10) ------------------------------------------------------------------------------


class PendingCreatedSerializer(f.Serializer):
    id = f.IntegerField()
    state = f.CharField()
    summary = f.CharField()


class PendingEntrySerializer(f.Serializer):
    """A 仮登録 (`verification.pending._pending_dict`); one about a protected person is `masked` for a user
    without support.manage: its summary and comment say nothing."""

    id = f.IntegerField()
    operation = f.CharField()
    operation_label = f.CharField()
    slug = f.CharField(help_text="/changes/ の URL の名前")
    summary = f.CharField()
    state = f.CharField()
    state_label = f.CharField()
    ward = f.CharField()
    entered_by = f.CharField()
    entered_by_id = f.IntegerField()
    entered_at = f.DateTimeField()
    reviewed_by = f.CharField()
    reviewed_at = f.DateTimeField(allow_null=True)
    review_comment = f.CharField()
    change_id = f.IntegerField(allow_null=True)
    person_ids = f.ListField(child=f.IntegerField())
    identity_correction = f.BooleanField(help_text="本人確認情報の修正（本登録は本人確認情報管理責任者）")
    masked = f.BooleanField()


class PendingListSerializer(f.Serializer):
    pending = PendingEntrySerializer(many=True)


class PendingEventSerializer(f.Serializer):
    kind = f.CharField()
    label = f.CharField()
    at = f.DateTimeField()
    by = f.CharField()
    comment = f.CharField()


class CompareRowSerializer(f.Serializer):
    label = f.CharField()
    before = f.JSONField()
    after = f.JSONField()
    changed = f.BooleanField()


class PreviewPersonSerializer(f.Serializer):
    person_id = f.IntegerField(allow_null=True, help_text="新しく記載される方は null")
    name = f.CharField()
    reason_label = f.CharField()
    is_new = f.BooleanField()
    rows = CompareRowSerializer(many=True)


class PreviewSerializer(f.Serializer):
    """The change run and rolled back: 届出の内容 and each person's items before/after."""

    operation = f.CharField()
    operation_label = f.CharField()
    entry = f.ListField(child=f.DictField(), help_text="届出の内容（項目名と値）")
    people = PreviewPersonSerializer(many=True)
    warnings = WarningSerializer(many=True)
    person_ids = f.ListField(child=f.IntegerField())


class PendingDetailSerializer(PendingEntrySerializer):
    payload = f.DictField(allow_null=True, help_text="入力内容（個人番号は封印したまま）")
    preview = PreviewSerializer(allow_null=True, required=False, help_text="現在の記録との比較（審査待ち・差戻しのとき）")
    preview_error = f.CharField(allow_null=True, required=False, help_text="いまは登録できない理由")
    events = PendingEventSerializer(many=True, help_text="経過")


# --- access log, outbox ----------------------------------------------------------------------------


class AccessLogEntrySerializer(f.Serializer):
    id = f.IntegerField()
    at = f.DateTimeField()
    user = f.CharField(allow_null=True)
    system = f.CharField()
    terminal = f.CharField(allow_null=True)
    function = f.CharField()
    outcome = f.CharField()
    person_count = f.IntegerField()
    my_number_accessed = f.BooleanField()


class AccessLogSerializer(f.Serializer):
    entries = AccessLogEntrySerializer(many=True, help_text="新しい順")


class OutboxEventSerializer(f.Serializer):
    """An event of the stream: every item is described in docs/outbox.md (`juki.change.v1`,
    `juki.restriction.v1`); the items beyond these depend on the schema."""

    position = f.IntegerField(help_text="処理済みとして記録する位置")
    schema = f.CharField(help_text="juki.change.v1 または juki.restriction.v1")


class OutboxReadSerializer(f.Serializer):
    consumer = f.CharField()
    position = f.IntegerField(help_text="このconsumerの処理済みの位置")
    events = OutboxEventSerializer(many=True)


class OutboxPositionSerializer(f.Serializer):
    consumer = f.CharField()
    position = f.IntegerField()


# --- token, master data ---------------------------------------------------------------------------------


class TokenSerializer(f.Serializer):
    token = f.CharField()
    token_type = f.CharField(help_text="Bearer")
    expires_at = f.DateTimeField()
    second_factor = f.BooleanField(help_text="二要素認証のうえで発行された")


class WardSerializer(f.Serializer):
    code = f.CharField()
    name = f.CharField()
    municipality = f.CharField()


class WardListSerializer(f.Serializer):
    wards = WardSerializer(many=True)


class TownSerializer(f.Serializer):
    code = f.CharField()
    ward = f.CharField()
    name = f.CharField()
    kana = f.CharField()
    postal_code = f.CharField()
    elementary_school_district = f.CharField()
    junior_high_school_district = f.CharField()
    voting_district = f.CharField()


class TownListSerializer(f.Serializer):
    towns = TownSerializer(many=True)


class BuildingSerializer(f.Serializer):
    banchi = f.CharField()
    name = f.CharField()
    kana = f.CharField()


class BuildingListSerializer(f.Serializer):
    buildings = BuildingSerializer(many=True)
