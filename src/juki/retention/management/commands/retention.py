"""`juki retention purge [--dry-run]` (daily, systemd timer) and `juki retention report` (the auditors')."""
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from juki.retention import services


class Command(BaseCommand):
    help = "保存期間表に従って期限を過ぎた記録を削除し（purge）、実行状況を報告します（report）。"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        purge = sub.add_parser("purge", help="期限を過ぎた記録を削除する（毎日）")
        purge.add_argument("--dry-run", action="store_true", help="数えるだけで削除しない")
        report = sub.add_parser("report", help="保存期間表と実行状況（監査担当向け）")
        report.add_argument("--runs", type=int, default=30)

    def handle(self, *args, action, **opts):
        if action == "report":
            self.stdout.write(services.report_text(runs=opts["runs"]))
            return
        try:
            run = services.purge(execute=not opts["dry_run"])
        except ImproperlyConfigured as exc:
            raise CommandError(f"improperly_configured: {exc}") from None
        except services.AlreadyRunning:
            raise CommandError("retention_running: 別の削除処理が実行中です。終わってからやり直してください。", returncode=2) from None
        self.stdout.write(services.summary(run))
        if not run.ok:
            raise CommandError("retention_incomplete: 削除の一部が終わっていないか、監査ログの検証に失敗しました。上の結果を確認してください。",
                               returncode=1)
