"""The CS's store: FILE-2 with its history, the updates it took (idempotency) and its send queue."""
from __future__ import annotations

from django.db import models


class Kind(models.TextChoices):
    ENTRY = "entry", "記載"
    UPDATE = "update", "修正"
    REMOVE = "remove", "消除"


class IdentityVersion(models.Model):
    """One version of a person's 本人確認情報 (FILE-2). The current one has no `superseded_at`; the
    earlier ones, and a removed person's last one, are kept five years and then erased (C23)."""

    resident_code = models.CharField("住民票コード", max_length=11)
    seq = models.BigIntegerField("更新順番号")
    kind = models.CharField("異動の種別", max_length=8, choices=Kind.choices)
    items = models.JSONField("本人確認情報")  # FILE-2's items except the 個人番号, which is sealed below
    my_number_key_id = models.CharField(max_length=16, blank=True)
    my_number_cipher = models.BinaryField(null=True)
    my_number_digest = models.CharField(max_length=64, blank=True, db_index=True)
    received_at = models.DateTimeField("受信日時")
    superseded_at = models.DateTimeField("次の更新の日時", null=True)
    # The record as the prefecture holds it, digested when written: 整合性確認 reads only these.
    digest = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["resident_code"], condition=models.Q(superseded_at__isnull=True),
                                               name="cs_one_current_identity")]
        indexes = [models.Index(fields=["resident_code", "seq"])]


class Inbound(models.Model):
    """An update from S2, by its message id: the same message again is answered, not applied again."""

    message_id = models.CharField(max_length=64, unique=True)
    outcome = models.CharField(max_length=16)  # accepted, rejected
    seq = models.BigIntegerField(null=True)
    errors = models.JSONField(default=list)
    received_at = models.DateTimeField()


class Counter(models.Model):
    """The last 更新順番号 given: one row, taken under its lock so that numbers have no gaps."""

    name = models.CharField(max_length=32, primary_key=True)
    value = models.BigIntegerField(default=0)


class Outbound(models.Model):
    """The send queue to the prefecture server, in 更新順番号 order."""

    class State(models.TextChoices):
        PENDING = "pending", "送信待ち"
        SENT = "sent", "送信済み"
        DEAD = "dead", "送信不能"

    seq = models.BigIntegerField("更新順番号", unique=True)
    resident_code = models.CharField(max_length=11)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    version = models.ForeignKey(IdentityVersion, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    attempts = models.IntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True)
    last_error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True)

    class Meta:
        indexes = [models.Index(fields=["state", "seq"])]


class Recipient(models.Model):
    """One 送付先情報 record (FILE-3), sealed whole (it holds the 個人番号), until its file is purged."""

    resident_code = models.CharField(max_length=11)
    seq = models.BigIntegerField("更新順番号")  # the update that recorded the number
    key_id = models.CharField(max_length=16)
    cipher = models.BinaryField()
    created_at = models.DateTimeField()
    file = models.ForeignKey("RecipientFile", null=True, on_delete=models.CASCADE, related_name="records")


class RecipientFile(models.Model):
    """A file of 送付先情報 sent to J-LIS's card management system; deleted with its records one
    business day after it was sent (C24), leaving a `Purge` row."""

    file_id = models.CharField(max_length=32, unique=True)
    count = models.IntegerField()
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True)
    attempts = models.IntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True)


class Purge(models.Model):
    """What a purge erased and when (C23, C24): no personal data, the counts and the digest of the
    erased content, so an auditor can tell what went and that it went on time."""

    kind = models.CharField(max_length=16)  # recipients | history
    reference = models.CharField(max_length=64)  # the file id, or the purge run's date
    count = models.IntegerField()
    content_sha256 = models.CharField(max_length=64, blank=True)
    due_on = models.DateField()
    purged_at = models.DateTimeField()
    detail = models.JSONField(default=dict)


class ConsistencyRun(models.Model):
    """整合性確認 (P8, [1100]): one comparison with a peer's copy, and every difference it found
    (by 住民票コード and item; a 個人番号 that differs is shown as such, never its value)."""

    peer = models.CharField(max_length=16)  # prefecture | national
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True)
    records = models.IntegerField(default=0)
    differing = models.IntegerField(default=0)
    in_flight = models.IntegerField(default=0)  # differing codes whose update is still queued: not a difference
    differences = models.JSONField(default=list)
    stats = models.JSONField(default=dict)
    error = models.CharField(max_length=200, blank=True)


class Suppression(models.Model):
    """証明書発行の抑止 [410] as the register set it, by 住民票コード: the CS answers no 写し for such a
    person to another city (広域交付) while it is in force."""

    restriction_id = models.BigIntegerField()
    resident_code = models.CharField(max_length=11)
    start = models.DateField()
    end = models.DateField(null=True)
    set_at = models.DateTimeField()
    released_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["restriction_id", "resident_code"], name="cs_one_suppression")]


class MediaExport(models.Model):
    """A file of 送付先情報 written to media (C09, FILE-3: 「媒体は暗号化」): encrypted, and recorded."""

    file_id = models.CharField(max_length=32)
    count = models.IntegerField()
    content_sha256 = models.CharField(max_length=64)  # of the encrypted file as written
    exported_at = models.DateTimeField()


class Mail(models.Model):
    """A message between this city and another city or the 法務省, through the network's exchange
    (issue 15): 転出証明書情報 and its request, 転入通知, 戸籍の附票記載事項通知, 広域交付, 法務省通知 and
    市町村通知. The body is sealed whole (it may carry a 個人番号). Outgoing ones are queued and sent in
    order with back-off; incoming ones are kept in the order the exchange numbered them, for S2 to read."""

    class Direction(models.TextChoices):
        OUT = "out", "送信"
        IN = "in", "受信"

    class State(models.TextChoices):
        PENDING = "pending", "送信待ち"
        SENT = "sent", "送信済み"
        REFUSED = "refused", "送信不能"  # the exchange refused it for good (address, kind, a reused id)
        RECEIVED = "received", "受信"

    direction = models.CharField(max_length=3, choices=Direction.choices)
    peer = models.CharField("相手方", max_length=6)  # a 地方公共団体コード, or "moj"
    kind = models.CharField("種別", max_length=32)
    message_id = models.CharField(max_length=64)
    exchange_id = models.BigIntegerField(null=True, unique=True)  # incoming: the exchange's number
    key_id = models.CharField(max_length=16)
    cipher = models.BinaryField()
    state = models.CharField(max_length=8, choices=State.choices)
    attempts = models.IntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True)
    last_error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["direction", "peer", "message_id"], name="cs_one_mail")]
        indexes = [models.Index(fields=["direction", "state", "id"])]


class TransferHold(models.Model):
    """転出証明書情報 of a 特例転出 [670], held for the 転入地 to ask for (住基法第24条の2): one row per
    person, grouped by the 転出 that made them, sealed. A request by any one person's 住民票コード
    is answered with the whole group (the household moving together); each answer is recorded."""

    group = models.CharField(max_length=64)
    resident_code = models.CharField(max_length=11, db_index=True)
    key_id = models.CharField(max_length=16)
    cipher = models.BinaryField()
    created_at = models.DateTimeField()
    answered_to = models.CharField(max_length=6, blank=True)
    answered_at = models.DateTimeField(null=True)
    # A paper request names the 生年月日: three wrong ones and the person's information is answered to no
    # paper request any more (a 住民票コード alone must not open it to guessing).
    wrong_birth_dates = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "resident_code"], name="cs_one_transfer_hold")]
