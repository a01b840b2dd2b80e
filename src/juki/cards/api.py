"""Thin HTTP callers of the card services: issue, the cards of a person, and the counter's steps.

A PIN may be sent (issue, unlock, reissue, change) but is never returned, logged or echoed in an
error (every response is no-store: `core.middleware.NoStoreMiddleware`)."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from juki.accounts.permissions import Perm
from juki.core.api import STAFF_WITH_RIGHT, StrictSerializer
from juki.core.schema import HistoryEventSerializer
from juki.audit.requests import actor_of

from . import services

TAGS = ["cards"]


def _pin(help_text: str) -> serializers.CharField:
    # Shape only; the service's rules (4 digits, not trivial) answer with their own message.
    return serializers.CharField(max_length=8, trim_whitespace=False, write_only=True, help_text=help_text)


def _document(required: bool) -> serializers.CharField:
    return serializers.CharField(max_length=60, required=required, allow_blank=not required, default="" if not required
                                 else serializers.empty, help_text="確認した本人確認書類（例: 運転免許証）")


class CardIssueSerializer(StrictSerializer):
    person_id = serializers.IntegerField(help_text="交付する方の住民ID")
    pin = _pin("本人が決めた暗証番号（数字4桁）")
    document = _document(False)


class SuspendSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=200, help_text="一時停止の理由（例: 紛失の届出）")


class ResumeSerializer(StrictSerializer):
    document = _document(False)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="", help_text="備考")


class UnlockSerializer(StrictSerializer):
    pin = _pin("新しい暗証番号（数字4桁）")
    document = _document(True)


class ChangePinSerializer(StrictSerializer):
    old_pin = _pin("現在の暗証番号")
    new_pin = _pin("新しい暗証番号（数字4桁）")


class ReissueSerializer(StrictSerializer):
    reason = serializers.ChoiceField(choices=list(services.REISSUE_REASONS.items()), help_text="再交付の理由")
    pin = _pin("新しいカードの暗証番号（数字4桁）")
    document = _document(True)
    collected_on = serializers.DateField(required=False, allow_null=True, default=None,
                                         help_text="元のカードの回収年月日")


class AbolishSerializer(StrictSerializer):
    reason = serializers.ChoiceField(choices=[(c.value, c.label) for c in services.COUNTER_END_REASONS],
                                     help_text="廃止の理由")
    collected_on = serializers.DateField(required=False, allow_null=True, default=None, help_text="カード回収年月日")
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="", help_text="備考")


# --- output shapes (issue 13): `services.card_dict` and `cards_for_person`; never a PIN ------------------


class CardEventSerializer(HistoryEventSerializer):
    """A card's 経過, with the document it was done on."""

    document = serializers.CharField()


class CardSerializer(serializers.Serializer):
    card_id = serializers.IntegerField()
    number = serializers.CharField(help_text="カード番号")
    person_id = serializers.IntegerField()
    state = serializers.CharField()
    state_label = serializers.CharField()
    usable = serializers.BooleanField()
    failed_pins = serializers.IntegerField(help_text="暗証番号の連続誤り回数")
    issued_on = serializers.DateField()
    issued_by = serializers.CharField()
    ended_on = serializers.DateField(allow_null=True)
    end_reason = serializers.CharField()
    end_reason_label = serializers.CharField()
    collected_on = serializers.DateField(allow_null=True)
    seal_registration_id = serializers.IntegerField(allow_null=True, help_text="印鑑登録証として結び付いた印鑑登録")
    seal_number = serializers.CharField()
    seal_state = serializers.CharField()
    reissue_of = serializers.CharField(allow_null=True, help_text="再交付の元のカード番号")
    history = CardEventSerializer(many=True, required=False)


class CardEndedSerializer(CardSerializer):
    seal_ended_id = serializers.IntegerField(allow_null=True, help_text="紛失によって亡失とした印鑑登録")


class PersonCardsSerializer(serializers.Serializer):
    person_id = serializers.IntegerField()
    resident = serializers.BooleanField()
    live_card_id = serializers.IntegerField(allow_null=True)
    max_attempts = serializers.IntegerField(help_text="ロックまでの暗証番号の誤り回数")
    cards = CardSerializer(many=True)


class CardsView(GenericAPIView):
    serializer_class = CardIssueSerializer
    permission_classes = STAFF_WITH_RIGHT
    required_rights = Perm.CARD_MANAGE
    audit_function = "card.issue"

    @extend_schema(responses={201: CardSerializer}, summary="市民カードの交付", operation_id="card_issue", tags=TAGS)
    def post(self, request):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(services.card_issue(actor=actor_of(request), **data.validated_data), status=status.HTTP_201_CREATED)


class PersonCardsView(GenericAPIView):
    permission_classes = STAFF_WITH_RIGHT
    required_rights = Perm.CARD_MANAGE
    audit_function = "card.list"

    @extend_schema(responses=PersonCardsSerializer, summary="住民の市民カード（状態と履歴）", operation_id="card_list",
                   tags=TAGS)
    def get(self, request, person_id: int):
        return Response(services.cards_for_person(actor=actor_of(request), person_id=person_id))


class _CardStep(GenericAPIView):
    """POST /api/v1/cards/<card_id>/<step>: the step's service (`call`) with the body's fields."""

    permission_classes = STAFF_WITH_RIGHT
    required_rights = Perm.CARD_MANAGE

    def step(self, request, card_id: int) -> Response:
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(self.call(actor=actor_of(request), card_id=card_id, **data.validated_data))


def _schema(function: str, summary: str, response=CardSerializer):
    return extend_schema(responses=response, summary=summary, operation_id=function.replace(".", "_"),
                         tags=TAGS)


class CardSuspendView(_CardStep):
    serializer_class = SuspendSerializer
    audit_function = "card.suspend"
    call = staticmethod(services.card_suspend)

    @_schema(audit_function, "一時停止（紛失の届出など）")
    def post(self, request, card_id: int):
        return self.step(request, card_id)


class CardResumeView(_CardStep):
    serializer_class = ResumeSerializer
    audit_function = "card.resume"
    call = staticmethod(services.card_resume)

    @_schema(audit_function, "一時停止の解除")
    def post(self, request, card_id: int):
        return self.step(request, card_id)


class CardUnlockView(_CardStep):
    serializer_class = UnlockSerializer
    audit_function = "card.unlock"
    call = staticmethod(services.card_unlock)

    @_schema(audit_function, "ロック解除・暗証番号の再設定（本人確認のうえ）")
    def post(self, request, card_id: int):
        return self.step(request, card_id)


class CardChangePinView(_CardStep):
    serializer_class = ChangePinSerializer
    audit_function = "card.pin_change"
    call = staticmethod(services.card_change_pin)

    @_schema(audit_function, "暗証番号の変更（現在の暗証番号を確認）")
    def post(self, request, card_id: int):
        return self.step(request, card_id)


class CardReissueView(_CardStep):
    serializer_class = ReissueSerializer
    audit_function = "card.reissue"
    call = staticmethod(services.card_reissue)

    @_schema(audit_function, "再交付（新しいカード番号、元のカードは廃止）", CardEndedSerializer)
    def post(self, request, card_id: int):
        return self.step(request, card_id)


class CardAbolishView(_CardStep):
    serializer_class = AbolishSerializer
    audit_function = "card.abolish"
    call = staticmethod(services.card_abolish)

    @_schema(audit_function, "廃止（返納・紛失・職権など）", CardEndedSerializer)
    def post(self, request, card_id: int):
        return self.step(request, card_id)
