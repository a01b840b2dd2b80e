"""Thin HTTP callers of the register's services and selectors."""
from __future__ import annotations

import dataclasses
import datetime as dt

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from juki.accounts import services as account_services
from juki.accounts.models import staff_terminals
from juki.accounts.permissions import Perm
from juki.accounts.serializers import TokenRequestSerializer
from juki.audit import selectors as audit_selectors
from juki.audit.requests import actor_of  # the one factory (issue 13)
from juki.core.api import STAFF_WITH_RIGHT, by_method
from juki.core.errors import DomainError, ErrorCode

from .. import selectors
from ..models import Building, Town, Ward
from ..operations import OPERATIONS
from ..services import outbox, search, verification
from . import responses as r
from . import serializers as s




def _as_of(request) -> dt.date | None:
    raw = request.query_params.get("as_of")
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise DomainError(ErrorCode.INVALID_DATE, "as_of は YYYY-MM-DD の形式で指定してください。", field="as_of") from None


AS_OF = OpenApiParameter("as_of", OpenApiTypes.DATE, description="この日時点の状態（省略時は現在）")


class TokenView(APIView):
    """Lockout, second factor and the auth log are the login service's (`juki.accounts.login`)."""

    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema(request=TokenRequestSerializer, responses={201: r.TokenSerializer}, summary="アクセストークンの発行", operation_id="auth_token",
                   description="トークンは職員と、X-Terminal-Id で指定した端末に結び付けて発行されます。",
                   parameters=[OpenApiParameter("X-Terminal-Id", str, OpenApiParameter.HEADER, required=True)])
    def post(self, request):
        data = TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        code = request.META.get("HTTP_X_TERMINAL_ID", "")
        # A kiosk's terminal is the device's own (ADR 0011): no staff token names it.
        terminal = staff_terminals().filter(code=code).first() if code else None
        key, token = account_services.token_issue(terminal=terminal, **data.validated_data)
        return Response({"token": key, "token_type": "Bearer", "expires_at": token.expires_at.isoformat(),
                         "second_factor": token.second_factor}, status=201)


class TokenRevokeView(APIView):
    """トークンの失効 by its holder: the calling token ends; the user's other tokens stay."""

    @extend_schema(request=None, responses={204: None}, summary="アクセストークンの失効（呼び出したトークン）",
                   parameters=[OpenApiParameter("X-Terminal-Id", str, OpenApiParameter.HEADER, required=True)])
    def post(self, request):
        account_services.token_revoke(actor=actor_of(request), token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PersonView(APIView):
    @extend_schema(parameters=[AS_OF, OpenApiParameter("reveal_my_number", OpenApiTypes.BOOL)],
                   responses=r.PersonRecordSerializer, summary="住民票（個人）の照会")
    def get(self, request, person_id: int):
        reveal = request.query_params.get("reveal_my_number") in ("1", "true")
        return Response(selectors.person_get(actor=actor_of(request), person_id=person_id, as_of=_as_of(request),
                                             reveal_my_number=reveal))


class PersonHistoryView(APIView):
    @extend_schema(responses=r.PersonHistorySerializer, summary="異動履歴")
    def get(self, request, person_id: int):
        return Response({"versions": selectors.person_history(actor=actor_of(request), person_id=person_id)})


class HouseholdView(APIView):
    @extend_schema(parameters=[AS_OF], responses=r.HouseholdSerializer, summary="世帯の照会")
    def get(self, request, household_id: int):
        return Response(selectors.household_get(actor=actor_of(request), household_id=household_id, as_of=_as_of(request)))


class HouseholdsWithoutHeadView(APIView):
    @extend_schema(responses=r.HouseholdsWithoutHeadSerializer, summary="世帯主変更依頼の対象世帯（世帯主不在）")
    def get(self, request):
        return Response({"households": selectors.households_without_head(actor=actor_of(request))})


class LateNotificationsView(APIView):
    @extend_schema(responses=r.LateNotificationsSerializer, summary="届出期間経過の一覧")
    def get(self, request):
        return Response({"changes": selectors.late_notifications(actor=actor_of(request))})


class AccessLogView(APIView):
    permission_classes = STAFF_WITH_RIGHT
    required_rights = Perm.ACCESS_LOG_VIEW
    audit_function = "accesslog.view"

    @extend_schema(parameters=[OpenApiParameter("person", OpenApiTypes.INT, required=True)],
                   responses=r.AccessLogSerializer, summary="住民ごとのアクセスログ")
    def get(self, request):
        try:
            person_id = int(request.query_params["person"])
        except (KeyError, ValueError):
            raise DomainError(ErrorCode.INVALID_INPUT, "person（住民ID）を指定してください。", field="person") from None
        return Response({"entries": audit_selectors.access_log_for_person(actor=actor_of(request), person_id=person_id)})


class OutboxView(APIView):
    """Read a stream after the consumer's cursor; the 抑止連携 stream reuses this view."""

    permission_classes = STAFF_WITH_RIGHT
    required_rights = Perm.OUTBOX_CONSUME
    audit_function = "outbox.read"
    stream = outbox.CHANGES

    @extend_schema(parameters=[OpenApiParameter("consumer", str, required=True), OpenApiParameter("limit", int)],
                   responses=r.OutboxReadSerializer, summary="異動イベントの取得（連携システム用）")
    def get(self, request):
        consumer = request.query_params.get("consumer", "")
        if not consumer or len(consumer) > 40:
            raise DomainError(ErrorCode.INVALID_INPUT, "consumer（40文字以内）を指定してください。", field="consumer")
        try:
            limit = int(request.query_params.get("limit") or 100)
        except ValueError:
            raise DomainError(ErrorCode.INVALID_INPUT, "limit は整数で指定してください。", field="limit") from None
        # `consumer` is a registered destination's code, read only by its own account (ADR 0019).
        return Response(outbox.read(self.stream, actor=actor_of(request), destination=consumer, limit=limit))


class OutboxAckView(GenericAPIView):
    serializer_class = s.OutboxAckSerializer
    permission_classes = STAFF_WITH_RIGHT
    required_rights = Perm.OUTBOX_CONSUME
    audit_function = "outbox.ack"
    stream = outbox.CHANGES

    @extend_schema(responses=r.OutboxPositionSerializer, summary="異動イベントの処理済み位置の記録")
    def post(self, request):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(outbox.ack(self.stream, actor=actor_of(request), destination=data.validated_data["consumer"],
                                   position=data.validated_data["position"]))


# --- master data (not personal: no gate, but authenticated) -------------------------------------


class WardListView(APIView):
    @extend_schema(responses=r.WardListSerializer, summary="行政区の一覧")
    def get(self, request):
        return Response({"wards": [{"code": w.code, "name": w.name, "municipality": w.municipality.name}
                                   for w in Ward.objects.select_related("municipality")]})


class TownListView(APIView):
    @extend_schema(parameters=[OpenApiParameter("ward", str), OpenApiParameter("kana", str, description="カナの先頭"),
                               OpenApiParameter("postal_code", str)],
                   responses=r.TownListSerializer, summary="住所辞書（町字）の検索")
    def get(self, request):
        qs = Town.objects.select_related("ward").filter(is_active=True)
        if ward := request.query_params.get("ward"):
            qs = qs.filter(ward__code=ward)
        if kana := request.query_params.get("kana"):
            from ..services.people import kana as to_kana

            qs = qs.filter(kana__startswith=to_kana(kana))
        if postal := request.query_params.get("postal_code"):
            qs = qs.filter(postal_code=postal.replace("-", ""))
        return Response({"towns": [
            {"code": t.code, "ward": t.ward.name, "name": t.name, "kana": t.kana, "postal_code": t.postal_code,
             "elementary_school_district": t.elementary_school_district,
             "junior_high_school_district": t.junior_high_school_district, "voting_district": t.voting_district}
            for t in qs[:200]]})


class BuildingListView(APIView):
    @extend_schema(parameters=[OpenApiParameter("town", str, required=True), OpenApiParameter("banchi", str)],
                   responses=r.BuildingListSerializer, summary="方書の候補 [520]")
    def get(self, request):
        qs = Building.objects.filter(town__code=request.query_params.get("town", ""))
        if banchi := request.query_params.get("banchi"):
            qs = qs.filter(banchi=banchi)
        return Response({"buildings": [{"banchi": b.banchi, "name": b.name, "kana": b.kana} for b in qs[:200]]})


# --- change operations -------------------------------------------------------------------------

class ChangeView(GenericAPIView):
    """One change operation; its own right change.<operation> is checked before the input (C02)."""

    operation: str
    permission_classes = STAFF_WITH_RIGHT
    service = None
    adapt = None

    def post(self, request):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        kwargs = type(self).adapt(dict(data.validated_data))
        result = verification.change_commit(actor=actor_of(request), operation=type(self).operation, kwargs=kwargs)
        return Response(dataclasses.asdict(result), status=status.HTTP_201_CREATED)


def change_views():
    views = {}
    for op, (serializer, service, adapt, summary) in OPERATIONS.items():

        def post(self, request):  # a function of its own per view, so each gets its own schema
            return ChangeView.post(self, request)

        post = extend_schema(responses={201: r.ChangeResultSerializer}, summary=summary, operation_id=f"change_{op}",
                             tags=["changes"])(post)
        views[op] = type(
            f"{''.join(p.title() for p in op.split('_'))}ChangeView",
            (ChangeView,),
            {"serializer_class": serializer, "operation": op, "service": staticmethod(service),
             "adapt": staticmethod(adapt), "post": post,
             "required_rights": f"change.{op}", "audit_function": f"change.{op}"},
        )
    return views


# --- search [340] -----------------------------------------------------------------------------

class PersonSearchView(GenericAPIView):
    # POST, so that names and numbers never appear in URLs or server logs.
    serializer_class = s.PersonSearchSerializer
    permission_classes = STAFF_WITH_RIGHT
    required_rights = Perm.PERSON_SEARCH
    audit_function = "person.search"

    @extend_schema(responses={200: r.PersonSearchResultSerializer}, summary="住民検索（4情報・番号）", operation_id="person_search", tags=["persons"])
    def post(self, request):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = search.person_search(actor=actor_of(request), criteria=search.Criteria(**data.validated_data))
        return Response(dataclasses.asdict(result))


# --- 仮登録・審査 (C10) ---------------------------------------------------------------------------

def _body(serializer_class, request) -> dict:
    data = serializer_class(data=request.data)
    data.is_valid(raise_exception=True)
    return dict(data.validated_data)


class PendingListView(GenericAPIView):
    serializer_class = s.PendingSubmitSerializer
    permission_classes = STAFF_WITH_RIGHT
    required_rights = Perm.PERSON_CHANGE
    # A submission's first step is the dry run: its refusal is logged under that step's name.
    audit_function = by_method(GET="pending.list", POST="change.preview")

    @extend_schema(
        parameters=[OpenApiParameter("ward", str, description="区コード（省略時は全区）"),
                    OpenApiParameter("state", str, enum=s.PENDING_STATES, description="状態（省略時は審査待ち）")],
        responses=r.PendingListSerializer, summary="仮登録の一覧（審査待ち）", operation_id="pending_list", tags=["pending"],
    )
    def get(self, request):
        state = request.query_params.get("state") or "pending"
        if state not in s.PENDING_STATES:
            raise DomainError(ErrorCode.INVALID_INPUT, "state には pending・approved・rejected・withdrawn のいずれかを指定してください。",
                              field="state")
        rows = verification.pending_list(actor=actor_of(request), ward_code=request.query_params.get("ward", ""),
                                         states=(state,))
        return Response({"pending": rows})

    @extend_schema(responses={201: r.PendingCreatedSerializer}, summary="仮登録（審査待ちとして入力）", operation_id="pending_submit",
                   tags=["pending"])
    def post(self, request):
        body = _body(s.PendingSubmitSerializer, request)
        try:
            pending = verification.pending_submit(actor=actor_of(request), operation=body["operation"],
                                                  payload=body["payload"])
        except DomainError as exc:
            # The payload's items are refused as /changes/<operation> refuses them, under `payload`:
            # `errors` is keyed like the request body, on every endpoint (issue 13).
            raise exc.nested_under("payload") from None
        return Response({"id": pending.id, "state": pending.state, "summary": pending.summary},
                        status=status.HTTP_201_CREATED)


class PendingView(APIView):
    @extend_schema(responses=r.PendingDetailSerializer, summary="仮登録の照会（現在の記録との比較付き）", operation_id="pending_get",
                   tags=["pending"])
    def get(self, request, pending_id: int):
        return Response(verification.pending_get(actor=actor_of(request), pending_id=pending_id))


class PendingApproveView(GenericAPIView):
    serializer_class = s.NoInputSerializer
    permission_classes = STAFF_WITH_RIGHT
    required_rights = Perm.CHANGE_APPROVE
    audit_function = "pending.approve"

    @extend_schema(responses={201: r.ChangeResultSerializer}, summary="本登録（審査して異動を確定）", operation_id="pending_approve",
                   tags=["pending"])
    def post(self, request, pending_id: int):
        _body(s.NoInputSerializer, request)
        result = verification.pending_approve(actor=actor_of(request), pending_id=pending_id)
        return Response(dataclasses.asdict(result), status=status.HTTP_201_CREATED)


class PendingRejectView(GenericAPIView):
    serializer_class = s.PendingRejectSerializer
    permission_classes = STAFF_WITH_RIGHT
    required_rights = Perm.CHANGE_APPROVE
    audit_function = "pending.reject"

    @extend_schema(responses={204: None}, summary="差戻し（理由を付けて入力者へ戻す）", operation_id="pending_reject",
                   tags=["pending"])
    def post(self, request, pending_id: int):
        body = _body(s.PendingRejectSerializer, request)
        verification.pending_reject(actor=actor_of(request), pending_id=pending_id, comment=body["comment"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class PendingWithdrawView(GenericAPIView):
    serializer_class = s.NoInputSerializer
    permission_classes = STAFF_WITH_RIGHT
    required_rights = Perm.PERSON_CHANGE
    audit_function = "pending.withdraw"

    @extend_schema(responses={204: None}, summary="取下げ（入力した職員本人）", operation_id="pending_withdraw",
                   tags=["pending"])
    def post(self, request, pending_id: int):
        _body(s.NoInputSerializer, request)
        verification.pending_withdraw(actor=actor_of(request), pending_id=pending_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
