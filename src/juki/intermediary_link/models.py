from django.db import models

from juki.audit.gate import GuardedManager


class ProvisionRecord(models.Model):
    """The city's copy of the 中間サーバー's 情報提供等記録 (the platform keeps the original 7 years): for
    the city's auditors and the 開示請求 report without the platform being asked at that moment. Pulled
    by the feed (`feed.pull_records`), in the platform's order; never changed."""

    platform_id = models.BigIntegerField("中間サーバーの記録番号", unique=True)
    inquiry_id = models.BigIntegerField("照会番号")
    at = models.DateTimeField("日時")
    event = models.CharField("記録の種類", max_length=20)  # inquiry / answer / refusal / hold / release / decline
    requester = models.CharField("情報照会者", max_length=80)
    provision = models.PositiveIntegerField("別表第二の項番")
    affair = models.CharField("事務", max_length=20)
    items = models.JSONField("項目", default=list)
    unified_number = models.CharField("統一識別番号", max_length=12, blank=True)
    person_id = models.BigIntegerField("住民記録の個人", null=True, db_index=True)  # none for a 住登外者
    reason = models.CharField("理由", max_length=40, blank=True)
    staff = models.CharField("確認した職員", max_length=150, blank=True)
    keep_until = models.DateField("保存期限")

    objects = GuardedManager()  # personal data: read and written inside a gate session only

    class Meta:
        ordering = ["platform_id"]
        verbose_name = verbose_name_plural = "情報提供等記録（写し）"
