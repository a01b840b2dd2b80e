from django.db import models


class PurgeRun(models.Model):
    """One run of `juki retention purge` (C22–C25): what each entry of the 保存期間表 had due and what went,
    counts only (no personal data), the chain's checkpoint before and its verification after. Written
    once at the end of the run, never changed; the run's own access-log row carries the same counts."""

    started_at = models.DateTimeField("開始日時")
    finished_at = models.DateTimeField("終了日時")
    today = models.DateField("基準日")
    executed = models.BooleanField("削除を実行", default=False)  # False: a dry run (counts only)
    results = models.JSONField("結果", default=list)  # [{code, due, deleted, cutoff, outcome, detail}]
    checkpoint_seq = models.BigIntegerField("削除前のチェックポイント（seq）", null=True)
    verified = models.BooleanField("削除後の検証", default=False)
    verify_summary = models.CharField("検証の結果", max_length=300, blank=True)
    ok = models.BooleanField("正常終了", default=False)

    class Meta:
        ordering = ["-id"]
        verbose_name = verbose_name_plural = "保存期間経過による削除の実行記録"
