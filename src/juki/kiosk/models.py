"""証明書自動交付機 (the kiosk, S6): the devices allowed to act as one.

A kiosk is not a staff login: it holds a device credential (a code and a random secret, stored only
as a SHA-256 hash, like API tokens: the secret is long and random, so a slow hash adds nothing) and
has an `accounts.Terminal` of the same code, so issue records and the 日計表 name the device.
No personal data here.
"""
from __future__ import annotations

from django.db import models


class KioskDevice(models.Model):
    code = models.CharField("端末ID", max_length=32, unique=True)
    name = models.CharField("名称", max_length=60)
    location = models.CharField("設置場所", max_length=60)
    secret_hash = models.CharField("秘密鍵のハッシュ（SHA-256）", max_length=64)
    is_active = models.BooleanField("利用中", default=True)
    terminal = models.OneToOneField("accounts.Terminal", verbose_name="端末", on_delete=models.PROTECT,
                                    related_name="kiosk_device")
    created_at = models.DateTimeField("登録日時", auto_now_add=True)
    secret_set_at = models.DateTimeField("秘密鍵の発行日時")
    stopped_at = models.DateTimeField("停止日時", null=True, blank=True)

    class Meta:
        verbose_name = "証明書自動交付機"
        verbose_name_plural = "証明書自動交付機"

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class KioskPayment(models.Model):
    """One payment at a kiosk, claimed by the one issue it pays for.

    The confirmation screen gives the resident's choice a random token; the issue inserts it here
    first (unique), so a second 「発行する」 sent at the same moment — a double tap, a resend —
    finds it taken and prints nothing. It is also the kiosk's record of money taken in.
    """

    token = models.CharField("支払いの識別子", max_length=32, unique=True)
    device = models.ForeignKey(KioskDevice, verbose_name="自動交付機", on_delete=models.PROTECT, related_name="payments")
    amount = models.PositiveIntegerField("投入金額（円）")
    fee = models.PositiveIntegerField("手数料（円）")
    claimed_at = models.DateTimeField("発行処理の開始日時", auto_now_add=True)
    issue_number = models.CharField("発行番号", max_length=16, blank=True)  # the first copy's
    copies = models.PositiveSmallIntegerField("通数", default=1)

    class Meta:
        verbose_name = "自動交付機の支払い"
        verbose_name_plural = "自動交付機の支払い"
