"""`juki backup …`: take, list and verify backups of the register (juki.backup).

    juki backup init                           # PostgreSQL: pgbackrest stanza-create + check (once)
    juki backup run [--type full|incr|diff]    # SQLite: a file in JUKI_BACKUP_DIR; PostgreSQL: pgbackrest backup
    juki backup mark NAME                      # a named moment to restore to (e.g. just before a batch)
    juki backup list
    juki backup verify                         # exit 0: the newest backup restores to what was recorded; 1: it does not
    juki backup config --repo PATH --pg-data PATH --pg-port N --pg-socket DIR [--out FILE]

Exit statuses: 0 done, 1 verification failed, 2 refused (bad input), 3 pgBackRest / pg_ctl failed.
"""
import datetime as dt
import json
import os
import shutil
import sys

from django.core.management.base import BaseCommand, CommandError

from juki.backup import conf, pg, sqlite
from juki.backup.errors import BackupError
from juki.backup.inspect import inspect_current


class Command(BaseCommand):
    help = "バックアップの取得・復元点の記録・一覧・検証、pgBackRest 設定の生成"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("init", help="PostgreSQL: pgBackRest のスタンザを作成し、WAL アーカイブを確認します（初回のみ）")
        run = sub.add_parser("run", help="バックアップを取得します")
        run.add_argument("--type", choices=conf.BACKUP_TYPES, default="full",
                         help="full（完全）・diff（差分）・incr（増分）。SQLite は常に完全バックアップです")
        mark = sub.add_parser("mark", help="この時点を名前付きの復元点として記録します（バッチ処理の直前など）")
        mark.add_argument("name", help="英数字・ハイフン・アンダースコア 1〜60 文字")
        sub.add_parser("list", help="取得済みのバックアップと復元点を表示します")
        sub.add_parser("verify", help="最新のバックアップを一時領域に復元し、取得時の記録と照合します")
        sub.add_parser("inspect", help="（内部用）接続先データベースの行数・チェーン先頭・チェーン検証結果を JSON で出力します")
        config = sub.add_parser("config", help="pgBackRest の設定ファイル（暗号化リポジトリ）を出力します")
        config.add_argument("--repo", required=True, help="リポジトリのパス")
        config.add_argument("--pg-data", required=True, help="PostgreSQL のデータディレクトリ")
        config.add_argument("--pg-port", required=True, type=int)
        config.add_argument("--pg-socket", required=True, help="Unix ソケットのディレクトリ")
        config.add_argument("--config-path", help="設定ファイルを置くパス（archive_command に書き込みます）")
        config.add_argument("--log-path", help="pgBackRest のログディレクトリ（既定 /var/log/pgbackrest）")
        config.add_argument("--lock-path", help="pgBackRest のロックディレクトリ（既定 /tmp/pgbackrest）")
        config.add_argument("--out", help="書き出し先（0600 で作成。省略時は標準出力）")

    def handle(self, *args, action, **options):
        try:
            return getattr(self, "_" + action)(**options)
        except BackupError as exc:
            raise CommandError(str(exc), returncode=exc.status) from None

    def _postgres(self) -> bool:
        return conf.vendor() == "postgresql"

    def _init(self, **_):
        if self._postgres():
            pg.init()
            self.stdout.write(f"スタンザ「{conf.stanza()}」を作成し、WAL アーカイブを確認しました。")
        else:
            conf.backup_dir().mkdir(parents=True, exist_ok=True, mode=0o700)
            self.stdout.write(f"バックアップの保存先を用意しました: {conf.backup_dir()}")

    def _run(self, *, type="full", **_):
        if self._postgres():
            data = pg.run(type)
            self.stdout.write(f"バックアップ {data['backup_label']}（{type}）を取得し、復元点 {data['point']} を記録しました"
                              f"（表 {len(data['counts'])}、監査ログ seq {data['chain']['seq']}）。")
            return
        if type != "full":
            self.stdout.write("SQLite では常に完全バックアップを取得します。")
        backup = sqlite.run()
        self._sqlite_done(backup)

    def _sqlite_done(self, backup):
        m = backup.manifest
        self.stdout.write(f"バックアップ {backup.path.name} を取得しました（表 {len(m['counts'])}、監査ログ seq {m['chain']['seq']}）。")

    def _mark(self, *, name, **_):
        conf.check_mark_name(name)
        if self._postgres():
            data = pg.mark(name)
            self.stdout.write(f"復元点「{name}」を記録しました（{data['at']}、LSN {data['lsn']}、監査ログ seq {data['chain']['seq']}）。")
            return
        backup = sqlite.run(label=name)
        self.stdout.write(f"復元点「{name}」として")
        self._sqlite_done(backup)

    def _list(self, **_):
        if self._postgres():
            for b in pg.info():
                stop = dt.datetime.fromtimestamp(b["timestamp"]["stop"], dt.UTC).isoformat()
                self.stdout.write(f"バックアップ {b['label']}  種別 {b['type']}  完了 {stop}")
            for m in pg.manifests():
                kind = "復元点" if m["kind"] == "mark" else "取得時点"
                self.stdout.write(f"{kind} {m['point']}  {m['at']}  監査ログ seq {m['chain']['seq']}")
            return
        found = sqlite.backups()
        if not found:
            self.stdout.write("バックアップはありません。")
        for b in found:
            label = f"  復元点「{b.label}」" if b.label else ""
            self.stdout.write(f"{b.path.name}  {b.at.isoformat()}{label}  監査ログ seq {b.manifest['chain']['seq']}")

    def _verify(self, **_):
        report = pg.verify() if self._postgres() else sqlite.verify()
        name = report.manifest["point"] if self._postgres() else report.backup.path.name
        if not report.ok:
            raise CommandError("バックアップの検証に失敗しました（" + name + "）:\n  " + "\n  ".join(report.problems),
                               returncode=1)
        self.stdout.write(f"バックアップの検証に成功しました（{name}）: 全表の行数と監査ログのチェーン先頭が記録と一致しました。"
                          f"{report.chain_summary}")

    def _inspect(self, **_):
        self.stdout.write(json.dumps(inspect_current(), ensure_ascii=False))

    def _config(self, *, repo, pg_data, pg_port, pg_socket, config_path=None, log_path=None, lock_path=None,
                out=None, **_):
        text = pg.config_text(repo=repo, pg_data=pg_data, pg_port=pg_port, pg_socket=pg_socket,
                              passphrase=os.environ.get("JUKI_BACKUP_PASSPHRASE"), config_path=config_path or out,
                              log_path=log_path, lock_path=lock_path)
        if out is None:
            self.stdout.write(text)
            return
        fd = os.open(out, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(out, 0o600)
        if os.geteuid() == 0:  # pgBackRest runs as postgres and must read it
            shutil.chown(out, "postgres", "postgres")
        self.stdout.write(f"{out} に書き出しました。postgresql.conf に次を設定して再起動してください:\n"
                          f"  wal_level = replica\n  archive_mode = on\n  archive_command = '{pg.archive_command(config_path or out)}'")
        sys.stdout.flush()
