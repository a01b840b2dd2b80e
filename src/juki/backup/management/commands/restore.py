"""`juki restore`: put the register back to a backup, a moment or a named mark (juki.backup).

    juki restore --latest --yes
    juki restore --to-time "2026-11-01T09:00:00+09:00" --yes
    juki restore --to-mark before-batch --yes [--no-start]

Without --yes nothing is changed (exit 2). SQLite: the newest backup at or before the moment, the
replaced database kept aside in the backup directory. PostgreSQL: see juki.backup.pg (the cluster is
stopped, restored with pgbackrest --delta, started and compared with what the mark recorded).
"""
import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from juki.backup import conf, pg, sqlite
from juki.backup.errors import REFUSED, VERIFY_FAILED, BackupError
from juki.backup.fingerprint import differences, take


def _moment(text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise BackupError("invalid_time", "--to-time は ISO 8601 の日時で指定してください（例 2026-11-01T09:00:00+09:00）。") from None
    if moment.tzinfo is None:
        raise BackupError("invalid_time", "--to-time には時差（+09:00 など）を付けてください。")
    return moment


class Command(BaseCommand):
    help = "バックアップから住民基本台帳のデータベースを復元します（指定時刻・復元点まで）"

    def add_arguments(self, parser):
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--latest", action="store_true", help="最新の状態まで復元します")
        target.add_argument("--to-time", metavar="ISO時刻", help="この時刻の状態に復元します（時差付き）")
        target.add_argument("--to-mark", metavar="NAME", help="juki backup mark で記録した復元点に復元します")
        parser.add_argument("--yes", action="store_true", help="現在のデータベースを置き換えることに同意します")
        parser.add_argument("--no-start", action="store_true",
                            help="PostgreSQL: 復元後に起動しません（systemctl などで起動する場合）")

    def handle(self, *args, latest=False, to_time=None, to_mark=None, yes=False, no_start=False, **_):
        try:
            self._restore(latest=latest, to_time=_moment(to_time) if to_time else None, to_mark=to_mark, yes=yes,
                          start=not no_start)
        except BackupError as exc:
            raise CommandError(str(exc), returncode=exc.status) from None

    def _refuse_without_yes(self, yes: bool, what: str) -> None:
        if not yes:
            raise BackupError("confirmation_required",
                              f"{what}で現在のデータベースを置き換えます。確認のうえ --yes を付けて再実行してください。",
                              status=REFUSED)

    def _restore(self, *, latest, to_time, to_mark, yes, start):
        if to_mark is not None:
            conf.check_mark_name(to_mark)
        if conf.vendor() == "postgresql":
            self._refuse_without_yes(yes, "PostgreSQL を停止し、バックアップ")
            report = pg.restore(latest=latest, to_time=to_time, to_mark=to_mark, start=start)
            self.stdout.write(f"{report.target}へ復元しました（基にしたバックアップ {report.label}）。")
            if not report.started:
                self.stdout.write("PostgreSQL は停止したままです。起動するとリカバリが行われ、完了後に昇格します。")
            self._report(report.problems)
            return
        backup = sqlite.choose(latest=latest, to_time=to_time, to_mark=to_mark)
        self._refuse_without_yes(yes, f"バックアップ {backup.path.name}（{backup.at.isoformat()} 取得）")
        report = sqlite.restore(backup)
        self.stdout.write(f"バックアップ {backup.path.name}（{backup.at.isoformat()} 取得）から復元しました。"
                          f"置き換える前のデータベースは {report.replaced} に保存しました。")
        with connection.cursor() as cur:
            self._report(differences(backup.fingerprint, take(cur, "sqlite")))

    def _report(self, problems):
        if problems is None:
            return
        if problems:
            raise CommandError("復元後の照合で記録との不一致がありました:\n  " + "\n  ".join(problems),
                               returncode=VERIFY_FAILED)
        self.stdout.write("復元後の照合: 全表の行数と監査ログのチェーン先頭が記録と一致しました。")
