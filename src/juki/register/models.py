"""The resident register (FILE-1 core).

History model (ADR 0001): a person is a `Person` head row (identity, pointer to the latest
version, optimistic-lock counter) plus append-only `PersonVersion` rows, one per change, each
holding every item of the 住民票 — the full-row-per-point-in-time layout of standard [200].
Household-wide items (世帯番号, 続柄) live on each member's version, as [200] asks, so the
state of a household on any date is the set of its members' versions valid on that date.
"""
from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from juki.audit.gate import GuardedManager
from juki.core.checkdigits import is_valid_local_government_code


def _validate_lg_code(value):
    if not is_valid_local_government_code(value):
        raise ValidationError("地方公共団体コードの検査数字が一致しません。")


# --- master data --------------------------------------------------------------------------


class Municipality(models.Model):
    code = models.CharField("地方公共団体コード", max_length=6, unique=True, validators=[_validate_lg_code])
    prefecture = models.CharField("都道府県", max_length=10)
    name = models.CharField("市区町村名", max_length=30)
    mayor_title = models.CharField("市区町村長の職名", max_length=30, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "市区町村"

    def __str__(self):
        return self.name

    @property
    def mayor(self) -> str:
        """「北九州市長」: the title as configured (it already names the city), else 名称＋長."""
        return self.mayor_title or f"{self.name}長"


class Ward(models.Model):
    municipality = models.ForeignKey(Municipality, on_delete=models.PROTECT, related_name="wards")
    code = models.CharField("地方公共団体コード", max_length=6, unique=True, validators=[_validate_lg_code])
    name = models.CharField("区名", max_length=20)

    class Meta:
        verbose_name = verbose_name_plural = "行政区"
        ordering = ["code"]

    def __str__(self):
        return self.name


class Town(models.Model):
    """町字 in the address dictionary [250]; `code` is the 11-digit 住所コード."""

    code = models.CharField("町字コード", max_length=11, unique=True)
    ward = models.ForeignKey(Ward, verbose_name="区", on_delete=models.PROTECT, related_name="towns")
    name = models.CharField("町字名", max_length=40)
    kana = models.CharField("町字カナ", max_length=80, blank=True)
    postal_code = models.CharField("郵便番号", max_length=7)
    elementary_school_district = models.CharField("小学校区", max_length=40, blank=True)
    junior_high_school_district = models.CharField("中学校区", max_length=40, blank=True)
    voting_district = models.CharField("投票区", max_length=20, blank=True)
    is_active = models.BooleanField("使用中", default=True)

    class Meta:
        verbose_name = verbose_name_plural = "町字"
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["ward", "name"], name="town_unique_name_per_ward")]

    def __str__(self):
        return f"{self.ward.name}{self.name}"


class Building(models.Model):
    """方書 [260]: apartment/dormitory names tied to a 町字 and 番地."""

    town = models.ForeignKey(Town, verbose_name="町字", on_delete=models.PROTECT, related_name="buildings")
    banchi = models.CharField("番地", max_length=40)
    name = models.CharField("方書", max_length=80)
    kana = models.CharField("方書カナ", max_length=120, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "方書"
        constraints = [models.UniqueConstraint(fields=["town", "banchi", "name"], name="building_unique")]

    def __str__(self):
        return f"{self.town} {self.banchi} {self.name}"


class NumberSequence(models.Model):
    """Serial counters for 宛名番号 and 世帯番号 (check digit appended at allocation)."""

    name = models.CharField(max_length=30, primary_key=True)
    next_value = models.BigIntegerField(default=1)


class ResidentCodeStock(models.Model):
    """住民票コード obtained from the CS for new assignment [870]; picked at random when used."""

    code = models.CharField("住民票コード", max_length=11, unique=True)
    used = models.BooleanField(default=False)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # Only the unused codes, by id: the random draw and the low-stock count stay index
        # look-ups however many codes have been used (BENCHMARKS.md).
        indexes = [models.Index(fields=["id"], condition=models.Q(used=False), name="stock_unused")]


class TransferCertificate(models.Model):
    """転出証明書情報 received from the 転出地 through the CS for a 特例転入 [610]: one row per person of
    the 転出, grouped by the request that fetched them. It is what a paper 転出証明書 is to a 転入,
    kept sealed where it carries the 個人番号, and used once: the 転入 that takes it records its
    住民票コード and 個人番号 without anyone typing them (C12)."""

    group = models.CharField("照会番号", max_length=32, db_index=True)  # opaque, safe in a URL
    from_municipality = models.CharField("転出地の市町村コード", max_length=6)
    resident_code = models.CharField("住民票コード", max_length=11)
    items = models.JSONField("転出証明書情報")  # everything but the 個人番号
    my_number_key_id = models.CharField(max_length=16, blank=True)
    my_number_cipher = models.BinaryField(null=True)
    my_number_digest = models.CharField(max_length=64, blank=True)
    received_at = models.DateTimeField("受信日時", auto_now_add=True)
    used_by = models.ForeignKey("Change", null=True, on_delete=models.PROTECT, related_name="+")

    objects = GuardedManager()

    class Meta:
        verbose_name = verbose_name_plural = "転出証明書情報"
        base_manager_name = "objects"
        constraints = [models.UniqueConstraint(fields=["group", "resident_code"], name="transfer_one_per_person")]


# --- the register -------------------------------------------------------------------------


class Sex(models.IntegerChoices):
    MALE = 1, "男"
    FEMALE = 2, "女"


class ResidentKind(models.TextChoices):
    JAPANESE = "J", "日本人住民"
    FOREIGN = "F", "外国人住民"


class Status(models.TextChoices):
    RESIDENT = "resident", "住民"
    REMOVED = "removed", "消除"


class Household(models.Model):
    """世帯 [130]. Its items (head, address, members) are read from members' versions."""

    number = models.CharField("世帯番号", max_length=10, unique=True)
    lock_version = models.IntegerField("版", default=1)
    # Set when the 世帯主 leaves or dies, cleared by 世帯主変更: the 世帯主変更依頼 list [490][500].
    head_absent_since = models.DateField("世帯主不在", null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = GuardedManager()

    class Meta:
        verbose_name = verbose_name_plural = "世帯"
        base_manager_name = "objects"


class Person(models.Model):
    """Identity of one person in the register: never deleted, never renumbered."""

    atena_number = models.CharField("宛名番号", max_length=10, unique=True)
    latest_seq = models.IntegerField("最新履歴番号", default=0)
    # Denormalised from the latest version for fast lists and search; rewritten by services only.
    status = models.CharField("現存区分", max_length=10, choices=Status.choices)
    removed_on = models.DateField("消除日", null=True, blank=True)
    household = models.ForeignKey(Household, null=True, on_delete=models.PROTECT, related_name="people")
    current = models.OneToOneField("PersonVersion", null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = GuardedManager()

    class Meta:
        verbose_name = verbose_name_plural = "住民"
        base_manager_name = "objects"


class Change(models.Model):
    """One 異動 as entered: the transaction that wrote one or more versions."""

    operation = models.CharField("異動処理", max_length=40)
    event_date = models.DateField("異動日")
    notified_on = models.DateField("届出日・通知日・申出日", null=True, blank=True)
    processed_at = models.DateTimeField("処理日時", auto_now_add=True)
    operator = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT)
    system = models.CharField("バッチ名", max_length=40, blank=True)
    terminal = models.ForeignKey("accounts.Terminal", null=True, on_delete=models.PROTECT)
    late_notification = models.BooleanField("届出期間経過", default=False, db_index=True)
    cancels = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="cancelled_by")
    note = models.TextField("留意事項・職権記録", blank=True)
    # The 届出人 as the clerk recorded them (本人, 世帯主, 代理人 …): a third party's name, kept
    # with the change it notified and never sent to the systems around the register.
    notifier_name = models.CharField("届出人", max_length=60, blank=True, default="", db_default="")
    notifier_relationship = models.CharField("届出人と本人との関係", max_length=20, blank=True, default="",
                                             db_default="")
    # Two-person verification (C10): `operator` entered it, `approved_by` made it 本登録.
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")

    objects = GuardedManager()  # joins from here reach persons' versions

    class Meta:
        verbose_name = verbose_name_plural = "異動"
        base_manager_name = "objects"


# The items of a version that make a person's name (氏名, 旧氏, 通称, 漢字併記名, ふりがな).
NAME_FIELDS = ("family_name", "given_name", "former_surname", "alias_name", "kanji_name", "family_name_kana",
               "given_name_kana")


class PersonVersion(models.Model):
    """One row per (宛名番号, 履歴番号): every item of the 住民票 at that point [200]."""

    # No separate indexes on person / household: the (person, seq) constraint and the
    # (household, person) index lead with them, and every index is paid on each version written.
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="versions", db_index=False)
    seq = models.IntegerField("履歴番号")
    change = models.ForeignKey(Change, on_delete=models.PROTECT, related_name="versions")
    reason = models.CharField("異動事由", max_length=40)
    event_date = models.DateField("異動日")

    # 住民状態・住民種別
    status = models.CharField("現存区分", max_length=10, choices=Status.choices)
    resident_kind = models.CharField("住民種別", max_length=1, choices=ResidentKind.choices)
    removal_reason = models.CharField("消除事由", max_length=40, blank=True)
    removed_on = models.DateField("消除日（事由の生じた年月日）", null=True, blank=True)

    # 氏名
    family_name = models.CharField("氏", max_length=60)
    given_name = models.CharField("名", max_length=60, blank=True)
    family_name_kana = models.CharField("氏フリガナ", max_length=120, blank=True)
    given_name_kana = models.CharField("名フリガナ", max_length=120, blank=True)
    kana_confirmed = models.BooleanField("フリガナ確認", default=False)
    former_surname = models.CharField("旧氏", max_length=60, blank=True)
    former_surname_kana = models.CharField("旧氏フリガナ", max_length=120, blank=True)
    birth_date = models.DateField("生年月日")
    sex = models.IntegerField("性別", choices=Sex.choices)

    # 世帯
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="member_versions", db_index=False)
    relationship = models.CharField("続柄", max_length=40)

    # 戸籍の表示 (Japanese residents)
    domicile = models.CharField("本籍", max_length=120, blank=True)
    domicile_head = models.CharField("筆頭者", max_length=60, blank=True)

    # 住所
    town = models.ForeignKey(Town, on_delete=models.PROTECT, related_name="+")
    banchi = models.CharField("番地", max_length=40)
    katagaki = models.CharField("方書", max_length=80, blank=True)

    became_resident_on = models.DateField("住民となった年月日")
    address_set_on = models.DateField("住所を定めた年月日")
    notified_on = models.DateField("届出の年月日", null=True, blank=True)
    previous_address = models.CharField("転入前住所", max_length=160, blank=True)
    previous_postal_code = models.CharField("転入前住所郵便番号", max_length=7, blank=True)
    # The 転出地's 地方公共団体コード: where the 転入通知 goes (住基法第9条第1項). From the 転出証明書情報
    # of a 特例転入, or as the clerk picked it from the paper 転出証明書; blank from abroad or unknown.
    previous_municipality_code = models.CharField("転入前住所の市町村コード", max_length=6, blank=True, default="",
                                                  db_default="")

    # 転出
    move_out_address = models.CharField("転出先住所（予定）", max_length=160, blank=True)
    move_out_planned_on = models.DateField("転出予定年月日", null=True, blank=True)
    move_out_confirmed_address = models.CharField("転出先住所（確定）", max_length=160, blank=True)
    move_out_confirmed_on = models.DateField("転出年月日（確定）", null=True, blank=True)
    move_in_notice_on = models.DateField("転入通知年月日", null=True, blank=True)
    # 特例転出 [670]: the 転出証明書情報 goes to the CS instead of a paper 転出証明書.
    special_move_out = models.BooleanField("特例転出", default=False, db_default=False)

    # 住民票コード・個人番号 (the latter sealed: see juki.core.mynumber)
    resident_code = models.CharField("住民票コード", max_length=11, blank=True)
    my_number_key_id = models.CharField(max_length=16, blank=True)
    my_number_cipher = models.BinaryField(null=True, blank=True)
    my_number_digest = models.CharField(max_length=64, blank=True)

    # 住記拡張 (foreign residents)
    nationality = models.CharField("国籍・地域", max_length=60, blank=True)
    kanji_name = models.CharField("漢字併記名", max_length=60, blank=True)
    alias_name = models.CharField("通称", max_length=60, blank=True)
    alias_name_kana = models.CharField("通称フリガナ", max_length=120, blank=True)
    article_30_45_category = models.CharField("第30条の45区分", max_length=20, blank=True)
    residence_status = models.CharField("在留資格", max_length=40, blank=True)
    period_of_stay = models.CharField("在留期間", max_length=20, blank=True)
    stay_expires_on = models.DateField("在留期間の満了の日", null=True, blank=True)
    residence_card_number = models.CharField("在留カード等番号", max_length=12, blank=True)
    became_foreign_resident_on = models.DateField("外国人住民となった年月日", null=True, blank=True)

    objects = GuardedManager()

    class Meta:
        verbose_name = verbose_name_plural = "住民票（履歴）"
        base_manager_name = "objects"
        constraints = [models.UniqueConstraint(fields=["person", "seq"], name="person_version_unique_seq")]
        indexes = [
            models.Index(fields=["my_number_digest"], name="pv_my_number_digest"),
            models.Index(fields=["resident_code"], name="pv_resident_code"),
            models.Index(fields=["residence_card_number"], name="pv_residence_card"),
            models.Index(fields=["birth_date", "family_name"], name="pv_birth_family"),
            models.Index(fields=["household", "person"], name="pv_household_person"),
        ]


# Items of the 住民票 carried from version to version (everything but the change bookkeeping).
DATA_FIELDS: tuple[str, ...] = tuple(
    f.attname
    for f in PersonVersion._meta.concrete_fields
    if f.name not in {"id", "person", "seq", "change", "reason", "event_date"}
)


class OutboxEvent(models.Model):
    """A committed change, for the systems downstream (Juki-net, 宛名, 中間サーバー, 庁内連携).

    Written in the same transaction as the versions; the shape is documented in
    docs/outbox.md and is stable. It never carries a plain 個人番号.
    """

    change = models.ForeignKey(Change, on_delete=models.PROTECT, related_name="events")
    created_at = models.DateTimeField(auto_now_add=True)
    payload = models.JSONField()

    objects = GuardedManager()

    class Meta:
        base_manager_name = "objects"


class OutboxCursor(models.Model):
    """How far a consumer has read the outbox."""

    consumer = models.CharField(max_length=40, primary_key=True)
    position = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)


# --- search ---------------------------------------------------------------------------------


class KeyField(models.CharField):
    """A normalised search key compared by code point, so `key >= q AND key < q + U+FFFF` is
    a prefix match a plain btree index serves. SQLite compares BINARY by default; PostgreSQL
    needs the "C" collation whatever the database's locale is."""

    def db_parameters(self, connection):
        params = super().db_parameters(connection)
        if connection.vendor == "postgresql":
            params["collation"] = "C"
        return params


class SearchKey(models.Model):
    """Normalised keys of a person's names and addresses, present and past [340].

    One row per distinct (name, address, birth date, sex) a person has had: written by the
    change writer with each version whose keys differ from the previous one, never updated.
    Kana and 異体字 are folded here (juki.register.textnorm); the register keeps the exact
    characters. Rows are found by index and ranked in Python (juki.register.services.search).
    """

    class Kind(models.TextChoices):
        NAME = "N", "氏名"
        GIVEN = "G", "名"
        FORMER = "F", "旧氏"
        ALIAS = "A", "通称"

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+", db_index=False)
    seq = models.IntegerField("履歴番号")
    kind = models.CharField(max_length=1, choices=Kind.choices)
    name_key = KeyField(max_length=120, blank=True)
    kana_key = KeyField(max_length=240, blank=True)
    birth_date = models.DateField()
    sex = models.SmallIntegerField()
    town = models.ForeignKey(Town, on_delete=models.PROTECT, related_name="+", db_index=False)
    banchi_key = KeyField(max_length=80, blank=True)
    katagaki_key = KeyField(max_length=120, blank=True)

    objects = GuardedManager()

    class Meta:
        base_manager_name = "objects"
        indexes = [
            models.Index(fields=["name_key"], name="sk_name"),
            models.Index(fields=["kana_key"], name="sk_kana"),
            # Birth date first, then the key: a common kana prefix + a birth date is one index
            # range, not thousands of rows filtered (BENCHMARKS.md, counter search).
            models.Index(fields=["birth_date", "kana_key"], name="sk_birth_kana"),
            models.Index(fields=["birth_date", "name_key"], name="sk_birth_name"),
            models.Index(fields=["town", "banchi_key"], name="sk_address"),
            models.Index(fields=["katagaki_key"], name="sk_katagaki"),
            models.Index(fields=["person", "seq"], name="sk_person"),
        ]


# --- two-person verification ------------------------------------------------------------------


class PendingChange(models.Model):
    """仮登録 [530] (C10): a change entered and checked by one clerk, waiting for another's 本登録.

    Nothing of it is in the register until approved: the versions, the access log of the write
    and the outbox event are written only then, by the same change service, in one transaction
    that also marks this row approved. Any 個人番号 in the entry is sealed (`sealed`), never
    kept in `payload`.
    """

    class State(models.TextChoices):
        PENDING = "pending", "審査待ち（仮登録）"
        APPROVED = "approved", "本登録済み"
        REJECTED = "rejected", "差戻し"
        WITHDRAWN = "withdrawn", "取下げ"

    operation = models.CharField("異動処理", max_length=40)
    payload = models.JSONField("入力内容")
    sealed_key_id = models.CharField(max_length=16, blank=True)
    sealed = models.BinaryField(null=True, blank=True)
    summary = models.CharField("概要", max_length=200)
    person_ids = models.JSONField("対象住民", default=list)
    ward = models.ForeignKey(Ward, verbose_name="区", null=True, blank=True, on_delete=models.PROTECT)
    state = models.CharField("状態", max_length=10, choices=State.choices, default=State.PENDING, db_index=True)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    entered_terminal = models.ForeignKey("accounts.Terminal", null=True, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField("入力日時", auto_now_add=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    reviewed_at = models.DateTimeField("審査日時", null=True, blank=True)
    review_comment = models.TextField("差戻し理由", blank=True)
    change = models.OneToOneField(Change, null=True, blank=True, on_delete=models.PROTECT, related_name="pending")
    # What the clerk typed on the counter's form (個人番号 sealed with the payload's), so a returned
    # entry opens pre-filled for correction; empty for entries made through the API.
    form_data = models.JSONField("入力画面の内容", default=dict, blank=True)

    objects = GuardedManager()

    class Meta:
        verbose_name = verbose_name_plural = "仮登録"
        base_manager_name = "objects"


class PendingEvent(models.Model):
    """The history of a 仮登録: entered, returned with a reason, resubmitted, approved, withdrawn."""

    class Kind(models.TextChoices):
        ENTERED = "entered", "仮登録"
        RETURNED = "returned", "差戻し"
        RESUBMITTED = "resubmitted", "修正して再提出"
        APPROVED = "approved", "本登録"
        WITHDRAWN = "withdrawn", "取下げ"

    pending = models.ForeignKey(PendingChange, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField("内容", max_length=12, choices=Kind.choices)
    at = models.DateTimeField("日時", auto_now_add=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    comment = models.TextField("理由", blank=True)

    objects = GuardedManager()  # the reason may name the person

    class Meta:
        verbose_name = verbose_name_plural = "仮登録の経過"
        base_manager_name = "objects"
        ordering = ("at", "id")
