from django.conf import settings
from django.db import models
from django.utils import timezone


class Category(models.TextChoices):
    """The kinds of log [1370] names; one table, so that one hash chain covers them all."""

    ACCESS = "access", "アクセス（照会・検索）"
    OPERATION = "operation", "操作（異動・審査）"
    PROVISION = "provision", "提供・移転（他システム連携）"
    PRINT = "print", "印刷"
    EXPORT = "export", "媒体出力"
    SETTINGS = "settings", "設定変更（権限・マスタ等）"
    AUTH = "auth", "認証（ログイン・ログアウト）"
    ERROR = "error", "エラー"
    BATCH = "batch", "バッチ処理"


_CATEGORY_PREFIXES = (
    ("change.", Category.OPERATION), ("pending.", Category.OPERATION), ("outbox.", Category.PROVISION),
    # S2's read of FILE-2 is what goes to the 市町村CS (C07: provisions kept seven years).
    ("jukinet.identities", Category.PROVISION), ("jukinet.fugo", Category.PROVISION),
    ("jukinet.numbers", Category.PROVISION),
    # Issue 15: what S2 sends other cities (転出証明書情報, 転入通知, 附票通知) and what it receives from them.
    ("jukinet.send.", Category.PROVISION), ("jukinet.receive.", Category.PROVISION),
    ("jukinet.transfer_request", Category.PROVISION), ("jukinet.wide_area_request", Category.PROVISION),
    # Issue 16: the 庁内連携's applications are settings; its deliveries and refusals are provisions (C07).
    ("linkage.approval.", Category.SETTINGS), ("linkage.operate.", Category.SETTINGS), ("linkage.media.", Category.EXPORT), ("linkage.", Category.PROVISION),
    ("atena.provide", Category.PROVISION),
    # Issue 17: a held inquiry released by the staff is a provision through the 中間サーバー (C07, C18).
    ("intermediary.review", Category.PROVISION),
    ("batch.", Category.BATCH), ("auth.", Category.AUTH), ("rights.", Category.SETTINGS),
    ("master.", Category.SETTINGS), ("export.", Category.EXPORT), ("print.", Category.PRINT),
    ("error.", Category.ERROR),
)


def category_of(function: str) -> str:
    for prefix, category in _CATEGORY_PREFIXES:
        if function.startswith(prefix):
            return category
    return Category.ACCESS


class AccessLog(models.Model):
    """One row per use of personal data (C06, [1370] 操作ログ), written by the gate only.

    Rows are never updated or deleted by the application. `criteria` holds what was asked
    (search terms, operation parameters) with 個人番号 replaced by a marker.

    `seq`, `prev_hash` and `row_hash` make the rows a hash chain (ADR 0007, `chain.py`): `seq`
    counts without gaps, `row_hash` covers the row, its subjects and `prev_hash`. A row is written
    without them (`seq` NULL) and linked within a second by the chainer (`chain.link`), the one
    UPDATE the append-only trigger allows: so no writer waits on another for its place in the chain.
    """

    OK = "ok"
    DENIED = "denied"
    EMPTY = "empty"

    # Set before the insert (not auto_now_add), because the row's hash covers it.
    at = models.DateTimeField("日時", default=timezone.now, db_index=True, editable=False)
    # No index of its own: the (user, at) index below serves every look-up by user (ADR 0030).
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="操作者", null=True, on_delete=models.PROTECT,
                             db_index=False)
    system = models.CharField("バッチ・システム名", max_length=40, blank=True)
    terminal = models.ForeignKey("accounts.Terminal", verbose_name="端末", null=True, on_delete=models.PROTECT)
    function = models.CharField("機能", max_length=60)
    category = models.CharField("種別", max_length=12, choices=Category.choices, default=Category.ACCESS)
    work_application = models.CharField("作業申請番号", max_length=40, blank=True)
    flags = models.JSONField("確認フラグ", default=list, blank=True)
    outcome = models.CharField("結果", max_length=40)
    person_count = models.IntegerField("対象者数", default=0)
    my_number_accessed = models.BooleanField("個人番号へのアクセス", default=False)
    criteria = models.JSONField("条件", default=dict, blank=True)
    seq = models.BigIntegerField("連番", unique=True, null=True)
    prev_hash = models.CharField("前の記録のハッシュ", max_length=64, blank=True, default="")
    row_hash = models.CharField("ハッシュ", max_length=64, blank=True, default="")

    class Meta:
        verbose_name = "アクセスログ"
        verbose_name_plural = "アクセスログ"
        indexes = [models.Index(fields=["user", "at"]), models.Index(fields=["category", "at"]),
                   # the chainer's queue: only the rows not yet linked (a handful at any time)
                   models.Index(fields=["id"], condition=models.Q(seq__isnull=True), name="audit_log_unlinked")]


class AccessLogSubject(models.Model):
    """Which persons a log row touched; kept apart so 'every access to person X' is an index scan.

    `log_at` repeats the row's `at`: on PostgreSQL the log is partitioned by it (ADR 0030), and a
    person's history is looked up by (id, at), so in each row's own month instead of every month
    (`selectors.log_rows_for_person`). `verify` checks that it still matches its row.
    """

    # No foreign key in the database: on PostgreSQL a key into the partitioned log may only name
    # (id, at). The gate writes a row and its subjects in one statement, the append-only triggers
    # keep both, and the purge removes the subjects first.
    log = models.ForeignKey(AccessLog, on_delete=models.PROTECT, related_name="subjects", db_constraint=False)
    log_at = models.DateTimeField("記録の日時")
    person_id = models.BigIntegerField()

    class Meta:
        # A person's history newest first, read from the index alone (`selectors.log_rows_for_person`).
        indexes = [models.Index(fields=["person_id", "log_at", "log"], name="audit_subject_person_at")]


class ChainHead(models.Model):
    """The newest link of the chain (one row): the chainer locks it while it links a batch."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    row_hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = "ハッシュチェーンの先頭"


class Checkpoint(models.Model):
    """A signed statement "the chain at `seq` has hash `row_hash`" (Ed25519, append-only).

    `periodic` ones are written from cron; a `purge` one anchors the chain's new first row
    after old rows were removed under the retention rules.
    """

    PERIODIC = "periodic"
    PURGE = "purge"

    seq = models.BigIntegerField("連番", db_index=True)
    row_hash = models.CharField("ハッシュ", max_length=64)
    at = models.DateTimeField("日時", default=timezone.now)
    kind = models.CharField("種類", max_length=10, choices=[(PERIODIC, "定期"), (PURGE, "保存期間経過による削除")],
                            default=PERIODIC)
    key_id = models.CharField("鍵ID", max_length=16)
    signature = models.CharField("署名", max_length=88)

    class Meta:
        verbose_name = "監査ログのチェックポイント"
        verbose_name_plural = "監査ログのチェックポイント"
