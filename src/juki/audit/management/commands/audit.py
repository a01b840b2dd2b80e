"""`juki audit …`: check and maintain the tamper-evident access log (ADR 0007).

    juki audit chain --follow                   # the chainer: links new rows into the chain (a service; ADR 0007)
    juki audit chain                            # link what is waiting now, once
    juki audit verify [--checkpoints FILE]      # exit 0: chain intact and anchored by a signed checkpoint;
                                                # exit 1: names the first broken record, says there is no checkpoint,
                                                # or that rows waited longer than JUKI_AUDIT_LINK_MAX_AGE to be linked
    juki audit verify --incremental             # from the newest signed checkpoint only (frequent runs; the full
                                                # walk still runs weekly)
    juki audit checkpoint                       # sign the head of the chain (cron, e.g. hourly)
    juki audit export-checkpoints [--out FILE]  # public key + every checkpoint, as JSON
    juki audit purge --dry-run | --execute      # remove rows past retention (JUKI_AUDIT_RETENTION_YEARS)
    juki audit partitions [--ahead N]           # PostgreSQL: make the coming months' partitions now, list them
                                                # (every checkpoint run does it too; ADR 0030)

Cron (as the application user, with the production settings):

    5 * * * *  juki audit checkpoint
    30 2 * * * juki audit verify || <alert the system administrator>
"""
import json
import logging
import time

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection

from juki.audit import chain, checkpoints, partitions
from juki.core import processes

log = logging.getLogger("juki.audit.chainer")


class Command(BaseCommand):
    help = "監査ログ（ハッシュチェーン）の検証・チェックポイント署名・書き出し・保存期間経過分の削除"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="チェーン全体を再計算し、最初の不整合の記録を示します")
        verify.add_argument("--checkpoints", metavar="FILE",
                            help="export-checkpoints で書き出したファイル（別に保管した控え）も照合します")
        verify.add_argument("--chunk-size", type=int, default=2000)
        verify.add_argument("--incremental", action="store_true",
                            help="最新の署名済みチェックポイントから後だけを検証します（大きなログの頻繁な確認用。全体の検証も定期的に行ってください）")
        follow = sub.add_parser("chain", help="書き込まれた記録をハッシュチェーンに連結します（--follow で常駐）")
        follow.add_argument("--follow", action="store_true", help="常駐して、新しい記録を随時連結します")
        follow.add_argument("--interval", type=float, default=0.2, help="連結の間隔（秒、既定 0.2）")
        follow.add_argument("--report-every", type=float, default=60.0, help="連結状況を出力する間隔（秒）")
        follow.add_argument("--while-pid", type=int, help="このプロセスが終了したら停止します（デモ用）")
        sub.add_parser("checkpoint", help="チェーンの先頭に署名したチェックポイントを記録します（cron で定期実行）")
        export = sub.add_parser("export-checkpoints", help="公開鍵とすべてのチェックポイントを JSON で書き出します")
        export.add_argument("--out", metavar="FILE", help="書き出し先（省略時は標準出力）")
        parts = sub.add_parser("partitions", help="月別パーティションを先の月まで作成し、一覧を表示します（PostgreSQL）")
        parts.add_argument("--ahead", type=int, default=partitions.AHEAD, help="何か月先まで作るか（既定 3）")
        purge = sub.add_parser("purge", help="保存期間を過ぎた古い記録を削除します")
        mode = purge.add_mutually_exclusive_group(required=True)
        mode.add_argument("--dry-run", action="store_true", help="削除対象を表示するだけで削除しません")
        mode.add_argument("--execute", action="store_true", help="削除します")

    def handle(self, *args, action, **options):
        try:
            return getattr(self, "_" + action.replace("-", "_"))(**options)
        except ImproperlyConfigured as exc:
            raise CommandError(f"[improperly_configured] {exc}") from None

    def _verify(self, *, checkpoints=None, chunk_size=2000, incremental=False, **_):
        exported = None
        if checkpoints:
            with open(checkpoints, encoding="utf-8") as f:
                exported = json.load(f)
        waiting = chain.pending()  # before linking: were rows left unlinked too long (the chainer down)?
        chain.link()
        result = chain.verify(chunk_size=chunk_size, exported=exported, incremental=incremental)
        if not result.ok:
            raise CommandError(result.summary(), returncode=1)
        if result.unanchored:  # an intact chain nobody signed proves nothing: fail, so cron alerts
            raise CommandError(f"監査ログの検証に失敗しました {result.unanchored.line()}", returncode=1)
        if waiting.age() > chain.max_link_age():  # unlinked rows can be removed unnoticed: alert
            raise CommandError(
                f"監査ログの検証に失敗しました [link_delayed] 連結されていない記録が {waiting.rows} 件あり、最も古いものは "
                f"{waiting.age():.0f} 秒前の記録でした（上限 {chain.max_link_age():.0f} 秒）。連結処理（juki audit chain --follow）"
                "が動いているか確認してください。今回の検証では連結してから確認しました: " + result.summary(), returncode=1)
        self.stdout.write(result.summary())

    def _chain(self, *, follow=False, interval=0.2, report_every=60.0, while_pid=None, **_):
        if not follow:
            done = chain.link()
            self.stdout.write(f"連結しました: {done.rows} 件" + (f"（seq {done.first_seq}–{done.last_seq}、最大遅延 "
                                                                 f"{done.max_lag * 1000:.0f} ms）" if done.rows else ""))
            return
        rows, worst, since = 0, 0.0, time.monotonic()
        while while_pid is None or processes.alive(while_pid):
            try:
                done = chain.link()
            except DatabaseError:  # the database restarted or failed over: reconnect and go on
                log.exception("audit chain: linking failed; retrying")
                connection.close()
                time.sleep(1.0)
                continue
            rows, worst = rows + done.rows, max(worst, done.max_lag)
            if done.max_lag > 1.0:  # the goal is linked within a second of the commit (issue 19)
                log.warning("audit chain: rows waited %.2f s to be linked", done.max_lag)
            if time.monotonic() - since >= report_every:
                # Counts and times only: no personal data in application logs.
                log.info("audit chain: %d rows linked in %.0f s, max lag %.0f ms", rows, time.monotonic() - since, worst * 1000)
                rows, worst, since = 0, 0.0, time.monotonic()
            time.sleep(interval)

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

    def _partitions(self, *, ahead=partitions.AHEAD, **_):
        if not partitions.enabled():
            self.stdout.write("このデータベースでは監査ログを月別に分割していません（PostgreSQL のみ）。")
            return
        made = partitions.ensure(ahead=max(ahead, 0))
        parts = partitions.listing()
        months = [p for p in parts if p.start is not None]
        self.stdout.write(f"月別パーティション {len(months)} 個（{months[0].start:%Y年%m月}–{months[-1].start:%Y年%m月}）"
                          + (f"、今回作成 {len(made)} 個" if made else "") + "。")
        waiting = partitions.default_rows()
        if waiting:  # rows whose month was missing: a month made now has taken its own
            raise CommandError(f"[partition_missing] 月別パーティションのない記録が {waiting} 件、既定パーティションにあります。"
                               "--ahead を広げて再実行してください。", returncode=1)
