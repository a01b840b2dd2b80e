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
    errors = models.JSONField("エラー")
    state = models.CharField("状態", max_length=8, choices=State.choices, default=State.OPEN)
    created_at = models.DateTimeField("発生日時", auto_now_add=True)
    resolved_at = models.DateTimeField("処理日時", null=True)

    class Meta:
        indexes = [models.Index(fields=["state", "id"])]
