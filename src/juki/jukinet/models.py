from __future__ import annotations

from django.db import models


class UpdateError(models.Model):
    """本人確認情報の更新エラー: an update the CS refused (C13), until a clerk has worked it off. It holds
    the codes and the items' names, never their values."""

    class State(models.TextChoices):
        OPEN = "open", "未処理"
        RESOLVED = "resolved", "処理済み"

    message_id = models.CharField("通知ID", max_length=64, unique=True)
    position = models.BigIntegerField("連携位置")
    change_id = models.BigIntegerField("異動")
    person_id = models.BigIntegerField("住民")
    version = models.IntegerField("履歴番号")
    kind = models.CharField("種別", max_length=8)
    reason = models.CharField("異動事由", max_length=48)
    reason_label = models.CharField("異動事由（名称）", max_length=48, blank=True)
    errors = models.JSONField("エラー")
    state = models.CharField("状態", max_length=8, choices=State.choices, default=State.OPEN)
    created_at = models.DateTimeField("発生日時", auto_now_add=True)
    resolved_at = models.DateTimeField("処理日時", null=True)
    # C14: who worked it off (the 本人確認情報管理責任者), how (resent: 直接修正 sent to the CS; closed:
    # nothing sent) and why.
    resolved_by = models.ForeignKey("accounts.Staff", null=True, on_delete=models.PROTECT, related_name="+")
    resolution = models.CharField("処理", max_length=8, blank=True)
    note = models.CharField("理由", max_length=200, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "id"])]


class NumberRequest(models.Model):
    """個人番号の生成要求 (P1): a person recorded without a 個人番号 (a 出生, a 国外転入 …) or a 変更請求,
    asked of J-LIS through the CS; the answer is recorded as a change (`change_id`). One that gets no
    answer stays `pending` and is listed for the clerk."""

    class State(models.TextChoices):
        PENDING = "pending", "回答待ち"
        ANSWERED = "answered", "記載済み"
        FAILED = "failed", "記載できず"

    person_id = models.BigIntegerField("住民")
    resident_code = models.CharField("住民票コード", max_length=11)
    kind = models.CharField("種別", max_length=16)  # entry | change_request (register.services.inbound)
    note = models.CharField("変更請求の理由", max_length=200, blank=True)
    source = models.CharField("契機", max_length=64, unique=True)  # the message or request it came from
    state = models.CharField("状態", max_length=8, choices=State.choices, default=State.PENDING)
    attempts = models.IntegerField("試行回数", default=0)
    last_error = models.CharField("最後のエラー", max_length=200, blank=True)
    change_id = models.BigIntegerField("記載した異動", null=True)
    requested_at = models.DateTimeField("要求日時", auto_now_add=True)
    answered_at = models.DateTimeField("記載日時", null=True)

    class Meta:
        indexes = [models.Index(fields=["state", "id"])]
