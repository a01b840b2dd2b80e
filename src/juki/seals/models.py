"""印鑑登録 (seal registration) and its history: the 印鑑登録情報 of the PIA's 別添2.

One person has at most one live registration (照会中 or 登録). A registration is never deleted:
廃止 (at the person's request), 亡失 (the seal or the 印鑑登録証 lost) and 職権廃止 (death, move-out,
name change) end it, and each step is a `SealEvent` row (履歴連番・異動事由・異動年月日).
The 印影 is stored as a normalised PNG with its SHA-256; personal data, so guarded.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models

from juki.audit.gate import GuardedManager


class SealState(models.TextChoices):
    PENDING = "pending", "照会中"  # 照会書を送付し、回答書を待っている
    REGISTERED = "registered", "登録"
    ABOLISHED = "abolished", "廃止"


# A registration that counts (one per person): applied for by inquiry, or registered.
LIVE_SEAL_STATES = (SealState.PENDING, SealState.REGISTERED)

class RegistrationMethod(models.TextChoices):
    IDENTITY_DOCUMENT = "document", "官公署発行の顔写真付き本人確認書類（即日登録）"
    GUARANTOR = "guarantor", "保証人による保証（即日登録）"
    INQUIRY = "inquiry", "照会書・回答書による確認"


class EndReason(models.TextChoices):
    REQUEST = "request", "廃止の申請"
    LOST = "lost", "亡失（印鑑または登録証）"
    DEATH = "death", "死亡による職権廃止"
    REMOVAL = "removal", "転出・消除による職権廃止"
    NAME_CHANGE = "name_change", "氏名の変更による職権廃止"
    INQUIRY_EXPIRED = "inquiry_expired", "回答期限の経過"


class SealEventKind(models.TextChoices):
    """異動事由 of a `SealEvent`."""

    APPLIED = "applied", "登録申請の受付（照会書を送付）"
    REGISTERED = "registered", "登録"
    ABOLISHED = "abolished", "廃止（本人の申請）"
    LOST = "lost", "亡失による廃止"
    EX_OFFICIO = "ex_officio", "職権による廃止"
    INQUIRY_EXPIRED = "inquiry_expired", "回答期限の経過による廃止"
    NAME_CHANGED = "name_changed", "氏名等の変更（登録は継続）"


class SealRegistration(models.Model):
    number = models.CharField("印鑑番号", max_length=12, unique=True)
    person_id = models.BigIntegerField("住民ID", db_index=True)
    state = models.CharField("状態", max_length=12, choices=SealState.choices)
    method = models.CharField("本人確認の方法", max_length=12, choices=RegistrationMethod.choices)
    image = models.BinaryField("印影（PNG）")
    image_sha256 = models.CharField("印影のSHA-256", max_length=64)
    applied_on = models.DateField("届出年月日")
    registered_on = models.DateField("登録年月日", null=True, blank=True)
    inquiry_sent_on = models.DateField("登録照会年月日", null=True, blank=True)
    answer_due = models.DateField("登録回答期限", null=True, blank=True)
    agent_name = models.CharField("登録代理人氏名", max_length=120, blank=True)
    ended_on = models.DateField("廃止年月日", null=True, blank=True)
    end_reason = models.CharField("廃止事由", max_length=16, choices=EndReason.choices, blank=True)
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="受付者", null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="+")
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="廃止処理者", null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    # Added with the seal services (別添2: 刻印文字, 保証人識別番号・保証人印鑑番号, 登録回答代理人氏名,
    # 亡廃届代理人氏名, 登録拠点コード) and the measured size of the 印影.
    seal_text = models.CharField("刻印文字", max_length=20, blank=True)
    image_width_mm = models.DecimalField("印影の幅（mm）", max_digits=4, decimal_places=1, null=True, blank=True)
    image_height_mm = models.DecimalField("印影の高さ（mm）", max_digits=4, decimal_places=1, null=True, blank=True)
    image_dpi = models.PositiveIntegerField("読み取り解像度（dpi）", null=True, blank=True)
    guarantor_person_id = models.BigIntegerField("保証人の住民ID", null=True, blank=True)
    guarantor_number = models.CharField("保証人の印鑑番号", max_length=12, blank=True)
    answer_agent_name = models.CharField("登録回答代理人氏名", max_length=120, blank=True)
    end_agent_name = models.CharField("廃止届代理人氏名", max_length=120, blank=True)
    terminal = models.ForeignKey("accounts.Terminal", verbose_name="受付端末", null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")

    objects = GuardedManager()

    class Meta:
        verbose_name = "印鑑登録"
        verbose_name_plural = "印鑑登録"
        base_manager_name = "objects"
        constraints = [
            models.UniqueConstraint(fields=["person_id"], condition=models.Q(state__in=["pending", "registered"]),
                                    name="seal_one_live_registration_per_person"),
        ]

    def __str__(self) -> str:
        return self.number


class SealEvent(models.Model):
    """One step of a registration's history (履歴連番 = id order within the registration)."""

    registration = models.ForeignKey(SealRegistration, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField("異動事由", max_length=24, choices=SealEventKind.choices)
    on = models.DateField("異動年月日")
    at = models.DateTimeField("処理日時")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="処理者", null=True, blank=True,
                           on_delete=models.PROTECT, related_name="+")
    note = models.CharField("備考", max_length=200, blank=True)

    objects = GuardedManager()

    class Meta:
        verbose_name = "印鑑登録の履歴"
        verbose_name_plural = "印鑑登録の履歴"
        base_manager_name = "objects"
