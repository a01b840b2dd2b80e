"""抑止 [410] and 支援措置 [440][160].

These tables name persons under protection and, for a 支援措置, the person they are protected
from: every manager is guarded, so they are read only inside the access gate, like the register.
Rows are never deleted: ending a measure or releasing a restriction is a state on the row.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models

from juki.audit.gate import GuardedManager


class Process(models.TextChoices):
    """The processes a 抑止 can stop [410].

    住民異動不受理申請による抑止 is deliberately not built: the standard lists it under
    実装しない機能 [450].
    """

    CHANGE = "change", "異動"
    CERTIFICATE = "certificate", "証明書交付"
    INQUIRY = "inquiry", "照会"
    LINKAGE = "linkage", "他システム連携"


class Level(models.TextChoices):
    """[410] 抑止レベル: an error refuses; an alert lets the process go on with a warning."""

    ERROR = "error", "エラー（処理不可）"
    ALERT = "alert", "アラート（処理可）"


class Restriction(models.Model):
    """抑止: one person or one household, one or more processes, from `start`.

    The end date is only the planned end: [410] says a restriction does not end by itself when
    it passes; it ends when someone releases it (`ended_at`). A 一時解除 sets
    `temporary_release_until`; once that moment passes the restriction is in force again
    without anybody acting.
    """

    person = models.ForeignKey("register.Person", verbose_name="対象者", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey("register.Household", verbose_name="対象世帯", null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    processes = models.JSONField("抑止する処理", default=list)
    level = models.CharField("抑止レベル", max_length=5, choices=Level.choices, default=Level.ERROR)
    start = models.DateField("開始日")
    end = models.DateField("終了日（予定）", null=True, blank=True)
    reason = models.CharField("理由", max_length=200)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField("設定日時", auto_now_add=True)
    temporary_release_until = models.DateTimeField("一時解除の期限", null=True, blank=True)
    temporary_release_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                             on_delete=models.PROTECT, related_name="+")
    ended_at = models.DateTimeField("解除日時", null=True, blank=True)
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")

    objects = GuardedManager()

    class Meta:
        verbose_name = verbose_name_plural = "抑止"
        base_manager_name = "objects"
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(person__isnull=False, household__isnull=True)
                           | models.Q(person__isnull=True, household__isnull=False)),
                name="restriction_person_xor_household",
            ),
        ]
        indexes = [models.Index(fields=["person"], name="restr_person"),
                   models.Index(fields=["household"], name="restr_household")]


class SupportMeasure(models.Model):
    """支援措置 for DV, stalking, child abuse and similar victims [440][160].

    `person` is the 申出者 (支援対象者); `SupportMeasureMember` rows are the 併せて支援を求める者.
    The 相手方 (加害者) need not be a resident: name, kana and birth date are free text, and
    `offender_person` is set only when the 相手方 is in the register. The normalised keys are
    what a certificate request is compared with (juki.register.textnorm).
    """

    class Kind(models.TextChoices):
        DV = "dv", "DV"
        STALKER = "stalker", "ストーカー"
        CHILD_ABUSE = "child_abuse", "児童虐待"
        OTHER = "other", "その他"

    class State(models.TextChoices):
        PROVISIONAL = "provisional", "仮支援措置"
        ACTIVE = "active", "支援措置中"
        ENDED = "ended", "終了"

    person = models.ForeignKey("register.Person", verbose_name="支援対象者（申出者）", on_delete=models.PROTECT,
                               related_name="+")
    kind = models.CharField("種別", max_length=12, choices=Kind.choices)
    state = models.CharField("状態", max_length=12, choices=State.choices, db_index=True)
    applied_on = models.DateField("申出日")
    provisional_since = models.DateField("仮支援措置の開始年月日", null=True, blank=True)
    start = models.DateField("支援措置の開始年月日", null=True, blank=True)
    end = models.DateField("支援措置の終了年月日", null=True, blank=True)
    extensions = models.IntegerField("延長回数", default=0)

    offender_name = models.CharField("相手方の氏名", max_length=120)
    offender_kana = models.CharField("相手方のフリガナ", max_length=240, blank=True)
    offender_birth_date = models.DateField("相手方の生年月日", null=True, blank=True)
    offender_person = models.ForeignKey("register.Person", verbose_name="相手方（住民の場合）", null=True, blank=True,
                                        on_delete=models.PROTECT, related_name="+")
    offender_note = models.CharField("相手方について（住所・その他）", max_length=400, blank=True)
    offender_name_key = models.CharField(max_length=120, blank=True)
    offender_kana_key = models.CharField(max_length=240, blank=True)

    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    registered_at = models.DateTimeField("登録日時", auto_now_add=True)
    ended_on = models.DateField("終了日", null=True, blank=True)
    end_reason = models.CharField("終了の理由", max_length=200, blank=True)
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    end_notice_issued_on = models.DateField("支援措置期間終了通知の出力日", null=True, blank=True)

    objects = GuardedManager()

    class Meta:
        verbose_name = verbose_name_plural = "支援措置"
        base_manager_name = "objects"
        indexes = [models.Index(fields=["person", "state"], name="support_person_state")]


class SupportMeasureMember(models.Model):
    """併せて支援を求める者 [440]: a household member protected by the same measure."""

    measure = models.ForeignKey(SupportMeasure, on_delete=models.PROTECT, related_name="members")
    person = models.ForeignKey("register.Person", verbose_name="併せて支援を求める者", on_delete=models.PROTECT,
                               related_name="+")
    relationship = models.CharField("申出者との関係", max_length=40, blank=True)

    objects = GuardedManager()

    class Meta:
        verbose_name = verbose_name_plural = "併せて支援を求める者"
        base_manager_name = "objects"
        constraints = [models.UniqueConstraint(fields=["measure", "person"], name="support_member_unique")]
        indexes = [models.Index(fields=["person"], name="support_member_person")]


class RestrictionEvent(models.Model):
    """抑止連携 [410][420]: a 抑止 set or released, for the systems downstream (宛名, コンビニ交付,
    住基ネットCS). Written in the same transaction as the restriction and its log row; a 一時解除
    is never written, so no system takes it for a 本解除. The shape (`juki.restriction.v1`) is in
    docs/outbox.md. Append-only."""

    restriction = models.ForeignKey(Restriction, on_delete=models.PROTECT, related_name="events")
    created_at = models.DateTimeField(auto_now_add=True)
    payload = models.JSONField()

    objects = GuardedManager()

    class Meta:
        verbose_name = verbose_name_plural = "抑止連携イベント"
        base_manager_name = "objects"


class RestrictionCursor(models.Model):
    """How far a consumer has read the 抑止連携 events (the change outbox keeps its own cursors)."""

    consumer = models.CharField(max_length=40, primary_key=True)
    position = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)
