"""媒体による提供 (C09): a delivery's file leaves on a medium only under a request form approved by
another person, and every output is recorded (which file, which request, who, when, its digest)."""
from __future__ import annotations

import hashlib

from django.db import transaction
from django.utils import timezone

from juki.accounts.permissions import Perm
from juki.audit import gate
from juki.audit.gate import Actor
from juki.core.errors import AccessDenied, DomainError, ErrorCode, NotFoundError

from . import approvals, config
from .models import Delivery, MediaOutput, MediaRequest


def request(actor: Actor, *, code: str, purpose: str, medium: str) -> MediaRequest:
    with gate.open(actor, function="linkage.media.request", perm=Perm.LINKAGE_MANAGE, criteria={"destination": code}):
        approvals.destination(code)
        if not purpose.strip() or not medium.strip():
            raise DomainError(ErrorCode.INVALID_INPUT, "理由と媒体を記入してください。",
                              field="purpose" if not purpose.strip() else "medium")
        return MediaRequest.objects.create(destination=code, purpose=purpose.strip(), medium=medium.strip(),
                                           requested_by=actor.user)


def approve(actor: Actor, request_id: int, *, code: str | None = None) -> MediaRequest:
    with gate.open(actor, function="linkage.media.approve", perm=Perm.LINKAGE_APPROVE,
                   criteria={"request": request_id}), transaction.atomic():
        found = MediaRequest.objects.select_for_update().filter(id=request_id).first()
        if found is None or (code is not None and found.destination != code):
            raise NotFoundError("媒体出力の申請が見つかりません。")
        if found.approved_at is not None:
            raise DomainError(ErrorCode.APPROVAL_STATE, "この申請は承認済みです。")
        if actor.user is not None and found.requested_by_id == actor.user.id:
            raise DomainError(ErrorCode.SELF_APPROVAL, "自分が申請した媒体出力は承認できません。別の承認者が承認してください。")
        found.approved_by, found.approved_at = actor.user, timezone.now()
        found.save()
        return found


def output(actor: Actor, *, request_id: int, delivery_id: int, code: str | None = None) -> tuple[str, bytes]:
    """The file of a handed-over delivery, for the medium the approved request names."""
    with gate.open(actor, function="linkage.media.output", perm=Perm.MEDIA_EXPORT,
                   criteria={"request": request_id, "delivery": delivery_id}):
        if not actor.can(Perm.LINKAGE_MANAGE):  # the 連携運用担当's step, with the right to write media
            raise AccessDenied("媒体への出力は、庁内連携の運用担当が行います。")
        found = MediaRequest.objects.filter(id=request_id).first()
        if found is None or found.approved_at is None or (code is not None and found.destination != code):
            raise DomainError(ErrorCode.MEDIA_REQUEST_REQUIRED,
                              "承認された媒体出力の申請書がありません。申請書を作成し、承認を受けてください。", field="request")
        if found.outputs.exists():  # one form, one output (C09): the next medium needs its own form
            raise DomainError(ErrorCode.MEDIA_REQUEST_REQUIRED,
                              "この申請書による出力は済んでいます。新しい申請書を作成し、承認を受けてください。", field="request")
        delivery = Delivery.objects.filter(id=delivery_id, destination=found.destination).first()
        if delivery is None:
            raise NotFoundError("配信が見つかりません。")
        if not delivery.file_name or delivery.state != Delivery.State.DELIVERED:
            raise DomainError(ErrorCode.DELIVERY_STATE, "送信済みのファイルの配信だけを媒体に出力できます。")
        data = (config.outbound(delivery.destination) / delivery.file_name).read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest != delivery.file_sha256:
            raise DomainError(ErrorCode.DELIVERY_STATE, "ファイルが送信時の内容と一致しません。管理者に連絡してください。")
        MediaOutput.objects.create(request=found, delivery=delivery, by=actor.user, file_sha256=digest)
        return delivery.file_name, data
