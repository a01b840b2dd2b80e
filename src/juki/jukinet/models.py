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


class TransferRequest(models.Model):
    """特例転入 [610]: a request, from this city's counter, for the 転出証明書情報 the 転出地 holds for the
    holder of a 個人番号カード (its PIN checked by the card management system). Its `group` names the
    answer (register.TransferCertificate.group): opaque, so the screens may carry it in a URL."""

    class State(models.TextChoices):
        REQUESTED = "requested", "照会中"
        ANSWERED = "answered", "受信済み"
        NOT_FOUND = "not_found", "転出証明書情報なし"

    group = models.CharField("照会番号", max_length=32, unique=True)
    resident_code = models.CharField("住民票コード", max_length=11)
    from_municipality = models.CharField("転出地", max_length=6)
    state = models.CharField("状態", max_length=10, choices=State.choices, default=State.REQUESTED)
    reason = models.CharField("理由", max_length=32, blank=True)
    requested_by = models.ForeignKey("accounts.Staff", null=True, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField("照会日時", auto_now_add=True)
    answered_at = models.DateTimeField("回答日時", null=True)


class Received(models.Model):
    """A message from another city or the 法務省, as this city's CS passed it on (issue 15): 転入通知,
    戸籍の附票記載事項通知, 転出証明書情報, 法務省通知. Its content is sealed; screens open it through the
    gate. `state` is what became of it: applied (a change, `change_id`), listed for a clerk, or refused
    by the register with its code (a 転入通知 that names no 転出者: 転入通知取込エラー [690])."""

    class State(models.TextChoices):
        APPLIED = "applied", "反映済み"
        FORWARDED = "forwarded", "連携済み"
        PENDING = "pending", "確認待ち"
        UNMATCHED = "unmatched", "該当者なし"
        FAILED = "failed", "取込エラー"
        CLOSED = "closed", "処理済み"

    cs_id = models.BigIntegerField("CSの受信番号", unique=True)
    kind = models.CharField("種別", max_length=32)
    sender = models.CharField("送信元", max_length=6)
    message_id = models.CharField("電文ID", max_length=64)
    key_id = models.CharField(max_length=16)
    cipher = models.BinaryField()
    state = models.CharField("状態", max_length=10, choices=State.choices)
    error = models.CharField("エラー", max_length=64, blank=True)
    person_id = models.BigIntegerField("住民", null=True)  # the person it was matched to, if any
    change_id = models.BigIntegerField("異動", null=True)
    received_at = models.DateTimeField("受信日時", auto_now_add=True)
    handled_by = models.ForeignKey("accounts.Staff", null=True, on_delete=models.PROTECT, related_name="+")
    handled_at = models.DateTimeField("処理日時", null=True)
    note = models.CharField("処理の記録", max_length=200, blank=True)

    class Meta:
        indexes = [models.Index(fields=["kind", "state", "id"])]


class WideAreaRequest(models.Model):
    """広域交付 (住基法第12条の4): this city's counter asked the 住所地 for the 住民票 of a resident of
    another city, who showed their 個人番号カード; the answer (or the refusal, with its code) comes through
    the CS. `group` names it on the screens (opaque). The answer itself is the `Received` row, sealed."""

    class State(models.TextChoices):
        REQUESTED = "requested", "照会中"
        ANSWERED = "answered", "回答あり"
        REFUSED = "refused", "交付不可"

    group = models.CharField("照会番号", max_length=32, unique=True)
    resident_code = models.CharField("住民票コード", max_length=11)
    to_municipality = models.CharField("住所地", max_length=6)
    household = models.BooleanField("世帯全員", default=False)
    items = models.JSONField("請求した記載事項", default=list)
    state = models.CharField("状態", max_length=10, choices=State.choices, default=State.REQUESTED)
    reason = models.CharField("交付不可の理由", max_length=32, blank=True)
    received = models.ForeignKey(Received, null=True, on_delete=models.PROTECT, related_name="+")
    issue_number = models.CharField("発行番号", max_length=32, blank=True)
    requested_by = models.ForeignKey("accounts.Staff", null=True, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField("照会日時", auto_now_add=True)
    answered_at = models.DateTimeField("回答日時", null=True)
