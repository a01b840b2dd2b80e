"""Issue records of certificates [300][360] (交付履歴).

A record is written once and never changed (append-only at the database): the issue itself
(`CertificateIssue`: number, form, options, whose data, the PDF's hash and its signature), the
request it answered (`CertificateRequest`: who asked, the documents checked, purpose and legal
basis) and, if it comes to that, its voiding (`CertificateVoid`). The request holds the
requester's name and free text, so its manager is guarded like the register's; the issue row
holds ids, codes and hashes only, which lets the public verification read it without a gate.
The PDF itself is not kept: it is personal data, and a reissue renders it again — from the register
as it reads now (住民票の写し等), or, for the forms whose reissue must show the first state (転出証明書
[660], 住民票コード通知票), from the content kept with the first issue (`CertificateSnapshot`, guarded).
"""
from __future__ import annotations

from django.conf import settings
from django.db import models

from juki.audit.gate import GuardedManager

# Every form an issue record can name. content.FORMS is the 住民票 family among them; the others are
# built by their own modules (転出証明書, 住民票コード通知票, 印鑑登録証明書). Here so that the models
# import nothing from the rendering side.
FORM_CHOICES = [
    ("copy", "住民票の写し"),
    ("removed_copy", "住民票の除票の写し"),
    ("entry_cert", "住民票記載事項証明書"),
    ("removed_entry_cert", "住民票の除票の記載事項証明書"),
    ("move_out_cert", "転出証明書"),
    ("resident_code_notice", "住民票コード通知票"),
    ("seal_cert", "印鑑登録証明書"),
]
FORM_LABELS = dict(FORM_CHOICES)


class RequesterKind(models.TextChoices):
    """Who asks (住基法12条・12条の2・12条の3)."""

    SELF = "self", "本人"
    HOUSEHOLD = "household", "同一世帯の方"
    AGENT = "agent", "代理人"
    GOVERNMENT = "government", "国・地方公共団体"
    THIRD_PARTY = "third_party", "第三者"
    # Not requests for a 住民票の写し (entitlement refuses them there): the 転出証明書 goes to whoever
    # made the 転出届, checked when the 転出 was entered (住基法24条); a 住民票コード通知票 is the
    # city's own notice to the person, with nobody asking (住基法30条の3第3項).
    NOTIFIER = "notifier", "届出人"
    EX_OFFICIO = "ex_officio", "職権"


class Channel(models.TextChoices):
    COUNTER = "counter", "窓口"
    KIOSK = "kiosk", "自動交付機"


class Certifier(models.Model):
    """認証者 [310]: the 市長 and the 職務代理者 — in a 指定都市 also each 区長 and theirs — by 職名 and
    氏名, each for a period. On a given day a 職務代理者 in their period certifies, else the 長; the
    switch follows the registered periods by itself. The standard forbids a certificate certified by
    title alone with the name left blank, so without a certifier for the day nothing is issued."""

    class Kind(models.TextChoices):
        HEAD = "head", "市区町村長・区長"
        DEPUTY = "deputy", "職務代理者"

    kind = models.CharField("区分", max_length=8, choices=Kind.choices, default=Kind.HEAD)
    ward = models.ForeignKey("register.Ward", verbose_name="区（区長の場合）", null=True, blank=True,
                             on_delete=models.PROTECT, help_text="市長・その職務代理者は空欄")
    title = models.CharField("職名", max_length=60, help_text="印字するとおり（例: 北九州市長、北九州市長職務代理者　北九州市副市長）")
    name = models.CharField("氏名", max_length=60)
    valid_from = models.DateField("開始日")
    valid_until = models.DateField("終了日", null=True, blank=True, help_text="空欄は定めなし")

    class Meta:
        verbose_name = verbose_name_plural = "認証者（市長・職務代理者）"
        ordering = ("ward", "kind", "-valid_from")

    def __str__(self):
        return f"{self.title}　{self.name}"


class CertificateCounter(models.Model):
    """The last issue number of a year; locked only while a number is taken (`numbering.reserve`)."""

    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "発行番号の採番"


class CertificateNumber(models.Model):
    """発行番号の払出し (ADR 0021): one row per number taken, committed before the PDF renders.

    A number ends issued (a `CertificateIssue` carries it) or 欠番 (a `CertificateNumberVoid`
    says why); one with neither, older than the timeout, is a 欠番 too (the process stopped).
    Both tables are append-only: the state is read from which rows exist, never written over."""

    year = models.PositiveIntegerField("年")
    serial = models.PositiveIntegerField("年内の連番")
    number = models.CharField("発行番号", max_length=16, unique=True)
    reserved_at = models.DateTimeField("払出し日時（交付日時）")
    form = models.CharField("様式", max_length=24, choices=FORM_CHOICES)
    channel = models.CharField("交付の方法", max_length=8, choices=Channel.choices, default=Channel.COUNTER)
    operator = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="交付者", null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    terminal = models.ForeignKey("accounts.Terminal", verbose_name="端末", null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = verbose_name_plural = "発行番号の払出し"
        constraints = [models.UniqueConstraint(fields=["year", "serial"], name="certificate_number_year_serial")]

    def __str__(self) -> str:
        return self.number


class CertificateNumberVoid(models.Model):
    """欠番: a number taken whose certificate was not issued (the rendering or the recording failed,
    or the issue was refused after the number was taken). No certificate carries it."""

    number = models.OneToOneField(CertificateNumber, on_delete=models.PROTECT, related_name="void")
    code = models.CharField("結果コード", max_length=40)
    reason = models.CharField("理由", max_length=200)
    at = models.DateTimeField("日時")

    class Meta:
        verbose_name = verbose_name_plural = "欠番"


class CertificateIssue(models.Model):
    number = models.CharField("発行番号", max_length=16, unique=True)
    year = models.PositiveIntegerField("年")
    serial = models.PositiveIntegerField("年内の連番")
    form = models.CharField("様式", max_length=24, choices=FORM_CHOICES)
    options = models.JSONField("出力項目の指定", default=dict)
    person_ids = models.JSONField("対象者の住民ID", default=list)
    household_id = models.BigIntegerField("世帯ID", null=True, blank=True)
    requester_kind = models.CharField("請求者の区分", max_length=12, choices=RequesterKind.choices)
    fee = models.PositiveIntegerField("手数料（円）", default=0)
    operator = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="交付者", null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    terminal = models.ForeignKey("accounts.Terminal", verbose_name="端末", null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    channel = models.CharField("交付の方法", max_length=8, choices=Channel.choices, default=Channel.COUNTER)
    issued_at = models.DateTimeField("交付日時", db_index=True)
    sha256 = models.CharField("PDFのSHA-256", max_length=64)
    key_id = models.CharField("署名鍵ID", max_length=16)
    signature = models.CharField("署名（Ed25519）", max_length=88)
    reissue_of = models.ForeignKey("self", verbose_name="再交付の元", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="reissues")

    class Meta:
        verbose_name = "証明書の交付記録"
        verbose_name_plural = "証明書の交付記録"
        constraints = [models.UniqueConstraint(fields=["year", "serial"], name="certificate_issue_year_serial")]

    def __str__(self) -> str:
        return self.number

    @property
    def voided(self) -> bool:
        return hasattr(self, "void")


class CertificateSubject(models.Model):
    """Whose data a certificate printed: one row per person, so "every issue for person X" is an index scan."""

    issue = models.ForeignKey(CertificateIssue, on_delete=models.PROTECT, related_name="subjects")
    person_id = models.BigIntegerField("住民ID", db_index=True)

    class Meta:
        verbose_name = "証明書の対象者"
        verbose_name_plural = "証明書の対象者"


class CertificateRequest(models.Model):
    """The request an issue answered: who asked and on what grounds. Personal data: guarded."""

    issue = models.OneToOneField(CertificateIssue, on_delete=models.PROTECT, related_name="request")
    requester_person_id = models.BigIntegerField("請求者の住民ID", null=True, blank=True)
    requester_name = models.CharField("請求者の氏名・名称", max_length=120, blank=True)
    documents = models.JSONField("確認した本人確認書類", default=list)
    power_of_attorney = models.BooleanField("委任状", default=False)
    purpose = models.CharField("請求の目的・正当な理由", max_length=400, blank=True)
    legal_basis = models.CharField("法令上の根拠", max_length=200, blank=True)

    objects = GuardedManager()

    class Meta:
        verbose_name = "証明書の請求"
        verbose_name_plural = "証明書の請求"
        base_manager_name = "objects"


class CertificateSnapshot(models.Model):
    """What a 転出証明書 or a 住民票コード通知票 printed when it was first issued [660].

    A reissue (紛失等) prints the state as first issued, not the register as it reads now, so the
    built content is kept with the first issue. Personal data: guarded, append-only like the
    issue it belongs to. A 個人番号 on it is kept only encrypted (``sealed``: person id →
    [key id, base64 of the ciphertext]); the content holds an empty value in its place.
    """

    issue = models.OneToOneField(CertificateIssue, on_delete=models.PROTECT, related_name="snapshot")
    content = models.JSONField("印字した内容")
    sealed = models.JSONField("個人番号（暗号化）", default=dict)

    objects = GuardedManager()

    class Meta:
        verbose_name = "証明書の当初の印字内容"
        verbose_name_plural = "証明書の当初の印字内容"
        base_manager_name = "objects"


class CertificateVoid(models.Model):
    """A voiding (無効): the certificate was spoiled or taken back. At most one per issue."""

    issue = models.OneToOneField(CertificateIssue, on_delete=models.PROTECT, related_name="void")
    reason = models.CharField("理由", max_length=200)
    voided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="処理者", null=True,
                                  on_delete=models.PROTECT, related_name="+")
    voided_at = models.DateTimeField("日時")

    class Meta:
        verbose_name = "証明書の無効"
        verbose_name_plural = "証明書の無効"
