"""北九州市民カード (the city card): カード管理情報 of the PIA's 別添2.

A card belongs to one person, may serve as the 印鑑登録証 of that person's seal registration, and
carries a 4-digit PIN (暗証番号) for the kiosk, stored only as an argon2 hash. Wrong PINs count up
to a lock; a card is never deleted: 一時停止, 廃止 and 再交付 (a new card replacing it) are states
and rows.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models

from juki.audit.gate import GuardedManager


class CardState(models.TextChoices):
    ACTIVE = "active", "利用中"
    SUSPENDED = "suspended", "一時停止"
    LOCKED = "locked", "暗証番号ロック"
    ABOLISHED = "abolished", "廃止"


LIVE_STATES = (CardState.ACTIVE, CardState.SUSPENDED, CardState.LOCKED)


class CardEndReason(models.TextChoices):
    """廃止事由."""

    RETURNED = "returned", "返納（本人の申出）"
    LOST = "lost", "紛失"
    REISSUE = "reissue", "再交付による廃止"
    DEATH = "death", "死亡による職権廃止"
    REMOVAL = "removal", "転出・消除による職権廃止"
    OTHER = "other", "その他"


class Card(models.Model):
    number = models.CharField("カード番号", max_length=16, unique=True)
    person_id = models.BigIntegerField("住民ID", db_index=True)
    seal_registration = models.ForeignKey("seals.SealRegistration", verbose_name="印鑑登録", null=True, blank=True,
                                          on_delete=models.PROTECT, related_name="cards")
    pin_hash = models.CharField("暗証番号（ハッシュ）", max_length=200)
    state = models.CharField("状態", max_length=12, choices=CardState.choices, default=CardState.ACTIVE)
    failed_pins = models.PositiveSmallIntegerField("暗証番号の連続誤り回数", default=0)
    issued_on = models.DateField("交付年月日")
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="交付者", null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    state_changed_at = models.DateTimeField("状態の変更日時", null=True, blank=True)
    ended_on = models.DateField("廃止年月日", null=True, blank=True)
    end_reason = models.CharField("廃止事由", max_length=60, choices=CardEndReason.choices, blank=True)
    collected_on = models.DateField("カード回収年月日", null=True, blank=True)
    reissue_of = models.OneToOneField("self", verbose_name="再交付の元のカード", null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="reissued_as")

    objects = GuardedManager()

    class Meta:
        verbose_name = "北九州市民カード"
        verbose_name_plural = "北九州市民カード"
        base_manager_name = "objects"
        constraints = [
            # One usable card per person: a new one is a reissue of the old, which is then abolished.
            models.UniqueConstraint(fields=["person_id"], condition=models.Q(state__in=["active", "suspended", "locked"]),
                                    name="card_one_live_card_per_person"),
        ]

    def __str__(self) -> str:
        return self.number


class CardEventKind(models.TextChoices):
    """異動事由 of the card's history."""

    ISSUED = "issued", "交付"
    SUSPENDED = "suspended", "一時停止"
    RESUMED = "resumed", "一時停止の解除"
    LOCKED = "locked", "暗証番号ロック"
    UNLOCKED = "unlocked", "ロック解除（暗証番号の再設定）"
    PIN_RESET = "pin_reset", "暗証番号の再設定"
    PIN_CHANGED = "pin_changed", "暗証番号の変更"
    SEAL_LINKED = "seal_linked", "印鑑登録証としての登録"
    REISSUED = "reissued", "再交付"
    ABOLISHED = "abolished", "廃止"


class CardEvent(models.Model):
    """One step of a card's history (履歴連番 = id order within the card; 異動事由・異動年月日)."""

    card = models.ForeignKey(Card, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField("異動事由", max_length=16, choices=CardEventKind.choices)
    on = models.DateField("異動年月日")
    at = models.DateTimeField("処理日時")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="処理者", null=True, blank=True,
                           on_delete=models.PROTECT, related_name="+")
    system = models.CharField("処理した端末・バッチ", max_length=40, blank=True)  # the kiosk or a batch, no user
    document = models.CharField("確認した本人確認書類", max_length=60, blank=True)
    note = models.CharField("備考", max_length=200, blank=True)

    objects = GuardedManager()

    class Meta:
        verbose_name = "市民カードの履歴"
        verbose_name_plural = "市民カードの履歴"
        base_manager_name = "objects"
