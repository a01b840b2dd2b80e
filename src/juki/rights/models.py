"""Rights with a period (C02–C04, [1380]).

A right is held only through a `Grant`: to a user, or to a section (所属) and so to whoever is
posted there. A grant comes from an approved `RightApplication` (or, for the first accounts, from
初期設定), is valid from one date to another (both inclusive, dates in Asia/Tokyo) and ends early
when the user is transferred or retires (`ended_on`). Nothing deletes a grant: the rights table
and the audit can always show who held what, when, and who approved it.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from juki.accounts.permissions import ROLES, label


class Section(models.Model):
    """所属: a section (課・係) staff are posted to; grants may name a section."""

    code = models.CharField("所属コード", max_length=20, unique=True)
    name = models.CharField("所属名", max_length=60)
    ward = models.ForeignKey("register.Ward", verbose_name="区", null=True, blank=True, on_delete=models.PROTECT)
    is_system_owner = models.BooleanField("システム所管課", default=False)

    class Meta:
        verbose_name = "所属"
        verbose_name_plural = "所属"
        ordering = ["code"]

    def __str__(self):
        return self.name


class Posting(models.Model):
    """所属・在職状況: one row per period; the open row (until is null) is the current one."""

    class Status(models.TextChoices):
        ACTIVE = "active", "在職"
        SUSPENDED = "suspended", "休職"
        RETIRED = "retired", "退職"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="職員", on_delete=models.PROTECT, related_name="postings")
    section = models.ForeignKey(Section, verbose_name="所属", null=True, blank=True, on_delete=models.PROTECT)
    status = models.CharField("在職状況", max_length=10, choices=Status.choices, default=Status.ACTIVE)
    since = models.DateField("発令日")
    until = models.DateField("終了日", null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="登録者", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField("登録日時", auto_now_add=True)

    class Meta:
        verbose_name = "所属・在職状況"
        verbose_name_plural = "所属・在職状況"
        ordering = ["user_id", "since"]
        constraints = [models.UniqueConstraint(fields=["user"], condition=Q(until__isnull=True), name="one_open_posting")]


class ContractorCompany(models.Model):
    """委託先 (C04)."""

    name = models.CharField("委託先名", max_length=100, unique=True)

    class Meta:
        verbose_name = "委託先"
        verbose_name_plural = "委託先"

    def __str__(self):
        return self.name


class ContractorStaff(models.Model):
    """委託先職員の事前登録 (C04): only a registered contractor can be granted rights, within the period."""

    company = models.ForeignKey(ContractorCompany, verbose_name="委託先", on_delete=models.PROTECT)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="利用者ID", on_delete=models.PROTECT,
                             related_name="contractor_registrations")
    full_name = models.CharField("氏名", max_length=60)
    valid_from = models.DateField("登録期間（開始）")
    valid_until = models.DateField("登録期間（終了）")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="承認者", on_delete=models.PROTECT, related_name="+")
    registered_at = models.DateTimeField("登録日時", auto_now_add=True)

    class Meta:
        verbose_name = "委託先職員"
        verbose_name_plural = "委託先職員"


class WorkApplication(models.Model):
    """作業申請 (C04): a contractor's session names an approved one; the log stores its number."""

    class State(models.TextChoices):
        PENDING = "pending", "申請中"
        APPROVED = "approved", "承認"
        REJECTED = "rejected", "却下"

    number = models.CharField("作業申請番号", max_length=40, unique=True, null=True, blank=True)
    contractor = models.ForeignKey(ContractorStaff, verbose_name="委託先職員", on_delete=models.PROTECT)
    description = models.TextField("作業内容", max_length=2000)
    valid_from = models.DateField("作業期間（開始）")
    valid_until = models.DateField("作業期間（終了）")
    state = models.CharField("状態", max_length=10, choices=State.choices, default=State.PENDING)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="申請者", on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField("申請日時", auto_now_add=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="承認者", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField("承認日時", null=True, blank=True)

    class Meta:
        verbose_name = "作業申請"
        verbose_name_plural = "作業申請"


class RightApplication(models.Model):
    """権限の申請 (C03): what, for whom, for how long, for which business and on which legal basis."""

    class State(models.TextChoices):
        PENDING = "pending", "申請中"
        APPROVED = "approved", "承認"
        REJECTED = "rejected", "却下"
        WITHDRAWN = "withdrawn", "取下げ"

    number = models.CharField("申請番号", max_length=20, unique=True, null=True, blank=True)
    role = models.CharField("事務分担（権限の組合せ）", max_length=20, blank=True)
    perms = models.JSONField("個別の権限", default=list, blank=True)
    valid_from = models.DateField("利用期間（開始）")
    valid_until = models.DateField("利用期間（終了）")
    business_name = models.CharField("業務名", max_length=100)
    business_outline = models.TextField("業務概要", max_length=2000)
    purpose = models.TextField("利用目的", max_length=2000)
    legal_basis = models.CharField("根拠法令", max_length=200)
    applying_section = models.ForeignKey(Section, verbose_name="申請課", on_delete=models.PROTECT, related_name="+")
    using_section = models.ForeignKey(Section, verbose_name="利用課", on_delete=models.PROTECT, related_name="+")
    target_user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="利用者", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="right_applications_for")
    target_section = models.ForeignKey(Section, verbose_name="利用する所属", null=True, blank=True,
                                       on_delete=models.PROTECT, related_name="right_applications_for")
    state = models.CharField("状態", max_length=10, choices=State.choices, default=State.PENDING)
    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="申請者", on_delete=models.PROTECT, related_name="+")
    applied_at = models.DateTimeField("申請日時", auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="決裁者", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField("決裁日時", null=True, blank=True)
    comment = models.TextField("決裁の意見・却下理由", max_length=2000, blank=True)

    class Meta:
        verbose_name = "権限申請"
        verbose_name_plural = "権限申請"
        constraints = [models.CheckConstraint(
            condition=(Q(target_user__isnull=False) & Q(target_section__isnull=True))
            | (Q(target_user__isnull=True) & Q(target_section__isnull=False)),
            name="application_one_target")]

    @property
    def role_label(self) -> str:
        return ROLES[self.role][0] if self.role in ROLES else self.role

    @property
    def perm_labels(self) -> list[str]:
        return [label(p) for p in self.perms]


class Grant(models.Model):
    """付与: one role or one right, to one user or one section, for a period (both ends inclusive)."""

    class Source(models.TextChoices):
        APPLICATION = "application", "申請"
        INITIAL = "initial", "初期設定"
        MIGRATION = "migration", "既存利用者の移行"

    class EndReason(models.TextChoices):
        TRANSFER = "transfer", "異動"
        RETIREMENT = "retirement", "退職"
        REVOKED = "revoked", "取消し"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="職員", null=True, blank=True,
                             on_delete=models.PROTECT, related_name="grants")
    section = models.ForeignKey(Section, verbose_name="所属", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="grants")
    role = models.CharField("事務分担（権限の組合せ）", max_length=20, blank=True)
    perm = models.CharField("権限", max_length=60, blank=True)
    valid_from = models.DateField("有効期間（開始）")
    valid_until = models.DateField("有効期間（終了）")
    source = models.CharField("根拠", max_length=12, choices=Source.choices, default=Source.APPLICATION)
    application = models.ForeignKey(RightApplication, verbose_name="申請", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="grants")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="承認者", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("登録日時", auto_now_add=True)
    # The last day the grant was valid when it ended before valid_until (期間満了 needs no row change).
    ended_on = models.DateField("終了日", null=True, blank=True)
    end_reason = models.CharField("終了理由", max_length=12, choices=EndReason.choices, blank=True)

    class Meta:
        verbose_name = "権限の付与"
        verbose_name_plural = "権限の付与"
        indexes = [models.Index(fields=["user", "valid_until"]), models.Index(fields=["section", "valid_until"])]
        constraints = [
            models.CheckConstraint(condition=(Q(user__isnull=False) & Q(section__isnull=True))
                                   | (Q(user__isnull=True) & Q(section__isnull=False)), name="grant_one_grantee"),
            models.CheckConstraint(condition=(Q(role="") & ~Q(perm="")) | (~Q(role="") & Q(perm="")), name="grant_role_or_perm"),
            models.CheckConstraint(condition=Q(valid_from__lte=models.F("valid_until")), name="grant_period_order"),
        ]

    @property
    def label(self) -> str:
        if self.role:
            return f"事務分担：{ROLES[self.role][0] if self.role in ROLES else self.role}"
        return label(self.perm)

    @staticmethod
    def valid_on(day) -> Q:
        """Grants in force on `day`: within the period and not ended before it."""
        return (Q(valid_from__lte=day, valid_until__gte=day)
                & (Q(ended_on__isnull=True) | Q(ended_on__gte=day)))
