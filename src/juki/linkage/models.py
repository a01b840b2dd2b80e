"""庁内連携's own records: the data-use applications (利用申請) and the deliveries made under them.

What each destination may ever receive is the registry's (`accounts.destinations`, a reviewed commit);
an application chooses among those items for a period, is approved by another person and only then
activated (C16). A delivery is written in the transaction that moves the destination's outbox cursor, so
a crash either leaves both undone or leaves a delivery to send: nothing is lost and, since the
destination takes each delivery id once, nothing is doubled.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models


class Approval(models.Model):
    class State(models.TextChoices):
        APPLIED = "applied", "申請中"
        APPROVED = "approved", "承認済み（開始前）"
        ACTIVE = "active", "利用中"
        REJECTED = "rejected", "却下"
        ENDED = "ended", "終了"

    destination = models.CharField("連携先", max_length=40, db_index=True)
    items = models.JSONField("利用する項目")
    purpose = models.TextField("利用目的")
    legal_basis = models.TextField("根拠法令")
    starts_on = models.DateField("利用開始日")
    ends_on = models.DateField("利用終了日")
    state = models.CharField("状態", max_length=10, choices=State.choices, default=State.APPLIED)
    applied_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    applied_system = models.CharField("申請（システム）", max_length=40, blank=True)  # the demo's initial load
    applied_at = models.DateTimeField("申請日時", auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField("承認・却下日時", null=True)
    activated_at = models.DateTimeField("開始日時", null=True)
    ended_at = models.DateTimeField("終了日時", null=True)
    note = models.TextField("備考", blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            # One application in use per destination at a time.
            models.UniqueConstraint(fields=["destination"], condition=models.Q(state="active"),
                                    name="linkage_one_active_approval"),
        ]

    @property
    def number(self) -> str:
        return f"連携-{self.id:05d}"


class Delivery(models.Model):
    class Kind(models.TextChoices):
        CHANGE = "change", "随時（異動分）"
        DAILY = "daily", "日次（異動分）"
        MONTHLY = "monthly", "月次（全件）"
        FULL = "full", "初回（全件）"
        RESEND = "resend", "再送（位置を指定）"

    class State(models.TextChoices):
        PENDING = "pending", "送信待ち"
        DELIVERED = "delivered", "送信済み"
        DEAD = "dead", "送信不能（要対応）"

    destination = models.CharField("連携先", max_length=40)
    sequence = models.PositiveIntegerField("通番")
    kind = models.CharField("種別", max_length=10, choices=Kind.choices)
    period = models.CharField("対象期間", max_length=10, blank=True)  # 2026-12-05 (daily), 2026-12 (monthly)
    approval = models.ForeignKey(Approval, null=True, on_delete=models.PROTECT, related_name="deliveries")
    items = models.JSONField("項目")
    first_position = models.BigIntegerField("異動の位置（から）", default=0)
    last_position = models.BigIntegerField("異動の位置（まで）", default=0)
    persons = models.PositiveIntegerField("人数", default=0)
    withheld = models.PositiveIntegerField("提供しなかった人数", default=0)
    # JSON deliveries: the records sealed like the 個人番号 (core.mynumber.seal_json), never in clear here.
    body_key_id = models.CharField(max_length=40, blank=True)
    body = models.BinaryField(null=True)
    # File deliveries: written to the spool before the commit, handed over into the destination's folder.
    file_name = models.CharField("ファイル名", max_length=120, blank=True)
    file_sha256 = models.CharField(max_length=64, blank=True)
    file_bytes = models.BigIntegerField(default=0)
    substituted = models.PositiveIntegerField("外字の置換", default=0)
    state = models.CharField("状態", max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField("送信回数", default=0)
    last_error = models.CharField("最後のエラー", max_length=200, blank=True)
    created_at = models.DateTimeField("作成日時", auto_now_add=True)
    delivered_at = models.DateTimeField("送信日時", null=True)

    class Meta:
        ordering = ["destination", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["destination", "sequence"], name="linkage_delivery_sequence"),
            # A day's or a month's run happens once.
            models.UniqueConstraint(fields=["destination", "kind", "period"], condition=~models.Q(period=""),
                                    name="linkage_delivery_period"),
        ]

    @property
    def delivery_id(self) -> str:
        return f"{self.destination}-{self.sequence:08d}"


class MediaRequest(models.Model):
    """媒体による提供の申請書 (C09): no file leaves on a medium without one, approved by another person."""

    destination = models.CharField("連携先", max_length=40)
    purpose = models.TextField("理由")
    medium = models.CharField("媒体", max_length=40)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField("申請日時", auto_now_add=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField("承認日時", null=True)

    class Meta:
        ordering = ["-id"]

    @property
    def number(self) -> str:
        return f"媒体-{self.id:05d}"


class MediaOutput(models.Model):
    """媒体への出力の記録 (C09): which file, under which request, by whom, when."""

    request = models.ForeignKey(MediaRequest, on_delete=models.PROTECT, related_name="outputs")
    delivery = models.ForeignKey(Delivery, on_delete=models.PROTECT, related_name="media_outputs")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField("出力日時", auto_now_add=True)
    file_sha256 = models.CharField(max_length=64)
