"""団体内統合宛名 (S5): the 統一識別番号 of every person a business system of the city knows.

Residents and former residents come from the register's outbox (destination `atena`); persons the
register never held (住登外者: an out-of-city taxpayer, a former resident from before the register)
are registered by the business system that knows them, with the items it holds. Each person's number
is tied to the 個人番号 (sealed, and a keyed digest to find it) and to each business system's own
宛名番号. Numbers are random (a business system cannot walk them), never reused and never deleted: a
merged number stays, pointing to the one it was merged into.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models


class AtenaPerson(models.Model):
    class Kind(models.TextChoices):
        RESIDENT = "resident", "住民記録"
        NON_RESIDENT = "non_resident", "住登外"

    number = models.CharField("統一識別番号", max_length=12, unique=True)
    kind = models.CharField("区分", max_length=12, choices=Kind.choices)
    # The register's person (residents only): its 宛名番号 for others, its id for the protection checks.
    person_id = models.BigIntegerField(null=True, unique=True)
    register_atena_number = models.CharField("住民記録の宛名番号", max_length=10, blank=True, db_index=True)
    # 宛名情報 (S5): the register's items for a resident, the business system's for a 住登外者.
    name = models.CharField("氏名", max_length=120, blank=True)
    name_kana = models.CharField("氏名（カナ）", max_length=160, blank=True, db_index=True)
    birth_date = models.DateField("生年月日", null=True)
    sex = models.CharField("性別", max_length=4, blank=True)
    postal_code = models.CharField("郵便番号", max_length=7, blank=True)
    address = models.CharField("住所", max_length=240, blank=True)
    status = models.CharField("住民・除票の別", max_length=10, blank=True)  # 住民 / 消除 / "" (住登外)
    household_number = models.CharField("世帯番号", max_length=10, blank=True)
    withheld = models.BooleanField("支援措置等（宛名情報を持たない）", default=False)
    my_number_digest = models.CharField(max_length=64, blank=True, db_index=True)
    my_number_key_id = models.CharField(max_length=40, blank=True)
    my_number_cipher = models.BinaryField(null=True)
    merged_into = models.ForeignKey("self", null=True, on_delete=models.PROTECT, related_name="merged")
    registered_by = models.CharField("登録した業務システム", max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["number"]


class SystemNumber(models.Model):
    """A business system's own 宛名番号 for a person."""

    person = models.ForeignKey(AtenaPerson, on_delete=models.PROTECT, related_name="system_numbers")
    system = models.CharField("業務システム", max_length=40)
    number = models.CharField("業務システムの宛名番号", max_length=40)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["system", "number"], name="atena_system_number")]


class Merge(models.Model):
    """名寄せ: two numbers found to be one person. Undone by a supervisor, with everything it moved."""

    survivor = models.ForeignKey(AtenaPerson, on_delete=models.PROTECT, related_name="+")
    absorbed = models.ForeignKey(AtenaPerson, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField("理由")
    moved = models.JSONField("移した業務システムの宛名番号", default=list)  # SystemNumber ids
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    undone_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    undone_at = models.DateTimeField(null=True)
    undo_reason = models.TextField("取消しの理由", blank=True)

    class Meta:
        ordering = ["-id"]
