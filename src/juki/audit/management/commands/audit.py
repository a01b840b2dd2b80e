"""`juki audit …`: check and maintain the tamper-evident access log (ADR 0007).

    juki audit verify [--checkpoints FILE]      # exit 0: chain intact and anchored by a signed checkpoint;
                                                # exit 1: names the first broken record, or says there is no checkpoint
    juki audit checkpoint                       # sign the head of the chain (cron, e.g. hourly)
    juki audit export-checkpoints [--out FILE]  # public key + every checkpoint, as JSON
    juki audit purge --dry-run | --execute      # remove rows past retention (JUKI_AUDIT_RETENTION_YEARS)

Cron (as the application user, with the production settings):

    5 * * * *  juki audit checkpoint
    30 2 * * * juki audit verify || <alert the system administrator>
"""
import json

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from juki.audit import chain, checkpoints


class Command(BaseCommand):
    help = "監査ログ（ハッシュチェーン）の検証・チェックポイント署名・書き出し・保存期間経過分の削除"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="チェーン全体を再計算し、最初の不整合の記録を示します")
        verify.add_argument("--checkpoints", metavar="FILE",
                            help="export-checkpoints で書き出したファイル（別に保管した控え）も照合します")
        verify.add_argument("--chunk-size", type=int, default=2000)
        sub.add_parser("checkpoint", help="チェーンの先頭に署名したチェックポイントを記録します（cron で定期実行）")
        export = sub.add_parser("export-checkpoints", help="公開鍵とすべてのチェックポイントを JSON で書き出します")
        export.add_argument("--out", metavar="FILE", help="書き出し先（省略時は標準出力）")
        purge = sub.add_parser("purge", help="保存期間を過ぎた古い記録を削除します")
        mode = purge.add_mutually_exclusive_group(required=True)
        mode.add_argument("--dry-run", action="store_true", help="削除対象を表示するだけで削除しません")
        mode.add_argument("--execute", action="store_true", help="削除します")

    def handle(self, *args, action, **options):
        try:
            return getattr(self, "_" + action.replace("-", "_"))(**options)
        except ImproperlyConfigured as exc:
            raise CommandError(f"[improperly_configured] {exc}") from None

    def _verify(self, *, checkpoints=None, chunk_size=2000, **_):
        exported = None
        if checkpoints:
            with open(checkpoints, encoding="utf-8") as f:
                exported = json.load(f)
        result = chain.verify(chunk_size=chunk_size, exported=exported)
        if not result.ok:
            raise CommandError(result.summary(), returncode=1)
        if result.unanchored:  # an intact chain nobody signed proves nothing: fail, so cron alerts
            raise CommandError(f"監査ログの検証に失敗しました {result.unanchored.line()}", returncode=1)
        self.stdout.write(result.summary())

    def _checkpoint(self, **_):
        cp = checkpoints.checkpoint()
        self.stdout.write(f"チェックポイントを記録しました: seq {cp.seq}、ハッシュ {cp.row_hash[:16]}…、鍵ID {cp.key_id}")

    def _export_checkpoints(self, *, out=None, **_):
        text = json.dumps(checkpoints.export_checkpoints(), ensure_ascii=False, indent=2) + "\n"
        if out:
            with open(out, "w", encoding="utf-8") as f:
                f.write(text)
            self.stderr.write(f"{out} に書き出しました。")
        else:
            self.stdout.write(text, ending="")

    def _purge(self, *, execute=False, **_):
        try:
            result = checkpoints.purge(execute=execute)
        except chain.ChainBroken as exc:
            raise CommandError(f"{exc.result.summary()} — 検証に失敗したため削除しません。", returncode=1) from None
        self.stdout.write(result.summary())
