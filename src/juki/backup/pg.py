"""PostgreSQL backups through pgBackRest: full/incr/diff backups of the cluster, WAL archived
continuously (archive_command), named restore points, and restore to a moment.

A moment juki can check: `backup run` and `backup mark` record the row counts and the audit chain's
head together with a restore point, taken while every table of the register is locked in SHARE mode
(writers wait a moment; readers go on). No transaction commits between the counting and the restore
point, so recovery to that restore point gives back exactly what was counted. The WAL segment holding
the point is switched out and waited for in the archive, so the point survives a lost server.

`juki restore` stops the cluster itself (pg_ctl stop -m fast on JUKI_PG_DATA), restores with
`--delta`, and starts it again with pg_ctl (postgresql.conf from JUKI_PG_CONF when it lives outside
the data directory, as on Debian) unless --no-start is given: then the operator starts it (e.g.
`systemctl start postgresql@15-main`). It waits for the promotion, then compares the result with what
the mark recorded. Run as root, juki runs pgbackrest and pg_ctl as the `postgres` user.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote as urlquote

from django.db import connection, connections, transaction

from juki.audit import chain

from . import conf
from .errors import TOOL_FAILED, VERIFY_FAILED, BackupError
from .fingerprint import Fingerprint, differences, quote, tables, take
from .inspect import inspect_copy

STAMP = "%Y%m%dT%H%M%SZ"


def as_postgres(argv: list[str]) -> list[str]:
    # pgBackRest and pg_ctl must act as the cluster's owner; root (a test, an operator's sudo) hands over.
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def _run(argv: list[str], *, what: str, timeout: float | None = None) -> str:
    try:
        done = subprocess.run(as_postgres(argv), capture_output=True, text=True, timeout=timeout, check=False)
    except FileNotFoundError:
        raise BackupError("tool_missing", f"{what} が見つかりません（{argv[0]}）。", status=TOOL_FAILED) from None
    if done.returncode:
        tail = " / ".join((done.stderr.strip() or done.stdout.strip()).splitlines()[-3:])
        raise BackupError("tool_failed", f"{what} が失敗しました（終了コード {done.returncode}）: {tail}", status=TOOL_FAILED)
    return done.stdout


def pgbackrest(*args: str, timeout: float | None = None) -> str:
    if shutil.which("pgbackrest") is None:
        raise BackupError("tool_missing", "pgbackrest が見つかりません（apt-get install pgbackrest）。", status=TOOL_FAILED)
    config = conf.pgbackrest_config()
    argv = ["pgbackrest", *([f"--config={config}"] if config else []), f"--stanza={conf.stanza()}", *args]
    return _run(argv, what="pgBackRest", timeout=timeout)


# --- the configuration ---------------------------------------------------------------------------


def config_text(*, repo: str, pg_data: str, pg_port: int, pg_socket: str, passphrase: str | None,
                config_path: str | None = None, log_path: str | None = None, lock_path: str | None = None) -> str:
    if not passphrase:
        raise BackupError("passphrase_missing",
                          "環境変数 JUKI_BACKUP_PASSPHRASE（リポジトリ暗号化の鍵）がありません。暗号化しない設定は作りません。")
    stanza = conf.stanza()
    push = "pgbackrest" + (f" --config={config_path}" if config_path else "") + f" --stanza={stanza} archive-push %p"
    lines = [
        "# pgBackRest configuration for juki (juki backup config). Keep this file 0600, owned by postgres:",
        "# it holds the repository's encryption passphrase. Keep a copy of the passphrase elsewhere too:",
        "# without it no backup can be restored.",
        "#",
        "# postgresql.conf needs (then restart PostgreSQL):",
        "#   wal_level = replica",
        "#   archive_mode = on",
        f"#   archive_command = '{push}'",
        "",
        "[global]",
        f"repo1-path={repo}",
        "repo1-cipher-type=aes-256-cbc",
        f"repo1-cipher-pass={passphrase}",
        "repo1-retention-full=2",
        "archive-async=n",
        "start-fast=y",
        "compress-type=gz",
    ]
    if log_path:
        lines.append(f"log-path={log_path}")
    if lock_path:
        lines.append(f"lock-path={lock_path}")
    lines += ["", f"[{stanza}]", f"pg1-path={pg_data}", f"pg1-port={pg_port}", f"pg1-socket-path={pg_socket}", ""]
    return "\n".join(lines)


def archive_command(config_path: str | None = None) -> str:
    return ("pgbackrest" + (f" --config={config_path}" if config_path else "")
            + f" --stanza={conf.stanza()} archive-push %p")


# --- manifests: what a restore point recorded ----------------------------------------------------


def _manifest_dir() -> Path:
    return conf.backup_dir() / "pg"


def _manifest_path(point: str) -> Path:
    return _manifest_dir() / f"{point}.json"


def manifests() -> list[dict]:
    directory = _manifest_dir()
    found = []
    for path in sorted(directory.glob("*.json")) if directory.is_dir() else []:
        try:
            found.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return sorted(found, key=lambda m: m["at"])


def _write_manifest(data: dict) -> None:
    directory = _manifest_dir()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = _manifest_path(data["point"])
    os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def _restore_point(name: str, *, kind: str, backup_label: str | None = None) -> dict:
    """Count, read the chain's head and create the restore point, all under SHARE locks."""
    chain.head()  # creates a missing head row now, not inside the counted moment
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL lock_timeout = '60s'")
        names = tables(cur, "postgresql")
        cur.execute("LOCK TABLE " + ", ".join(quote(n) for n in names) + " IN SHARE MODE")
        fp = take(cur, "postgresql", names)
        cur.execute("SELECT pg_create_restore_point(%s)::text, clock_timestamp()", [name])
        lsn, at = cur.fetchone()
    with connection.cursor() as cur:
        cur.execute("SELECT pg_walfile_name(pg_switch_wal())")
        segment = cur.fetchone()[0]
    _wait_archived(segment)
    data = {"format": 1, "engine": "postgresql", "kind": kind, "point": name, "lsn": lsn,
            "at": at.astimezone(dt.UTC).isoformat(), "backup_label": backup_label, **fp.to_json()}
    _write_manifest(data)
    return data


def _wait_archived(segment: str) -> None:
    deadline = time.monotonic() + conf.wait_seconds()
    while True:
        with connection.cursor() as cur:
            cur.execute("SELECT last_archived_wal, last_failed_wal FROM pg_stat_archiver")
            archived, failed = cur.fetchone()
        # Same timeline: WAL file names order as their positions do (timelines only grow).
        if archived and archived[:24] >= segment[:24]:
            return
        if time.monotonic() > deadline:
            raise BackupError("archive_timeout",
                              f"WAL {segment} がアーカイブされません（失敗した WAL: {failed or 'なし'}）。archive_command を確認してください。",
                              status=TOOL_FAILED)
        time.sleep(0.2)


# --- commands ------------------------------------------------------------------------------------


def init() -> str:
    pgbackrest("stanza-create", timeout=conf.wait_seconds())
    return pgbackrest("check", timeout=conf.wait_seconds())


def info() -> list[dict]:
    data = json.loads(pgbackrest("info", "--output=json", timeout=120) or "[]")
    return data[0].get("backup", []) if data else []


def run(kind: str) -> dict:
    if kind not in conf.BACKUP_TYPES:
        raise BackupError("invalid_type", "--type は full・incr・diff のいずれかです。")
    pgbackrest(f"--type={kind}", "backup")
    label = info()[-1]["label"]
    point = "juki-backup-" + dt.datetime.now(dt.UTC).strftime(STAMP)
    return _restore_point(point, kind=f"backup-{kind}", backup_label=label)


def mark(name: str) -> dict:
    conf.check_mark_name(name)
    if _manifest_path(name).exists():
        # Recovery to a name stops at its FIRST occurrence: a reused name could restore the wrong day.
        raise BackupError("mark_exists", f"復元点「{name}」は既にあります。日付を付けるなど別の名前にしてください。")
    return _restore_point(name, kind="mark")


def _backup_before(moment: dt.datetime) -> str:
    """The newest backup that had finished by `moment` (recovery starts there and replays WAL to it)."""
    stamp = moment.timestamp()
    done = [b for b in info() if b["timestamp"]["stop"] <= stamp]
    if not done:
        raise BackupError("no_backup_before", "指定の時点より前に完了したバックアップがありません。")
    return done[-1]["label"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_ctl(*args: str, timeout: float | None = None) -> str:
    return _run([str(conf.pgbin() / "pg_ctl"), *args], what="pg_ctl", timeout=timeout)


def _running(data: Path) -> bool:
    done = subprocess.run(as_postgres([str(conf.pgbin() / "pg_ctl"), "-D", str(data), "status"]),
                          capture_output=True, check=False)
    return done.returncode == 0


def _chown_postgres(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")


@dataclass
class VerifyReport:
    manifest: dict
    problems: list[str]
    chain_summary: str

    @property
    def ok(self) -> bool:
        return not self.problems


def verify() -> VerifyReport:
    """Restore the newest backup into a scratch cluster up to its own restore point, start it on a
    free loopback port (archiving off: it must never push into the repository), compare."""
    backups = info()
    if not backups:
        raise BackupError("no_backup", "バックアップがありません（juki backup run で取得してください）。")
    label = backups[-1]["label"]
    recorded = [m for m in manifests() if m.get("backup_label") == label]
    if not recorded:
        raise BackupError("manifest_missing", f"バックアップ {label} の記録（行数・チェーン先頭）がありません。照合できません。",
                          status=VERIFY_FAILED)
    manifest = recorded[-1]
    scratch = Path(tempfile.mkdtemp(prefix="juki-verify-pg-"))
    data = scratch / "data"
    port = _free_port()
    try:
        _chown_postgres(scratch)
        pgbackrest(f"--set={label}", f"--pg1-path={data}", "--type=name", f"--target={manifest['point']}",
                   "--target-action=promote", "--target-timeline=current", "--archive-mode=off", "restore",
                   timeout=conf.wait_seconds() * 4)
        _scratch_config(data)
        _pg_ctl("-D", str(data), "-l", str(scratch / "server.log"), "-w", "-t", str(int(conf.wait_seconds())), "-o",
                f"-p {port} -k {scratch} -c listen_addresses=127.0.0.1 -c archive_mode=off", "start")
        settings = connections["default"].settings_dict
        url = _url(settings, port)
        _wait_promoted(url)
        report = inspect_copy(url)
    finally:
        subprocess.run(as_postgres([str(conf.pgbin() / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                       capture_output=True, check=False)
        shutil.rmtree(scratch, ignore_errors=True)
    problems = differences(Fingerprint.from_json(manifest), report.fingerprint)
    if not report.chain_ok:
        problems.append(report.chain_summary)
    return VerifyReport(manifest, problems, report.chain_summary)


def _scratch_config(data: Path) -> None:
    # Debian keeps postgresql.conf and pg_hba.conf in /etc: not in the backup, so give the copy its own.
    if not (data / "postgresql.conf").exists():
        (data / "postgresql.conf").write_text("")
        _chown_postgres(data / "postgresql.conf")
    if not (data / "pg_hba.conf").exists() and conf.pg_conf():
        target = data / "pg_hba.conf"
        shutil.copyfile(Path(conf.pg_conf()).parent / "pg_hba.conf", target)
        _chown_postgres(target)


def _url(settings: dict, port: int) -> str:
    user = urlquote(settings.get("USER") or "", safe="")
    password = urlquote(settings.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    return f"postgresql://{auth}127.0.0.1:{port}/{urlquote(settings['NAME'], safe='')}"


def _wait_promoted(url: str | None) -> None:
    """Until recovery has reached its target and the server accepts writes."""
    import psycopg

    deadline = time.monotonic() + conf.wait_seconds()
    while True:
        try:
            if url is None:
                connections.close_all()
                with connection.cursor() as cur:
                    cur.execute("SELECT pg_is_in_recovery()")
                    recovering = cur.fetchone()[0]
            else:
                with psycopg.connect(url, connect_timeout=5) as conn:
                    recovering = conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]
            if not recovering:
                return
        except Exception:  # not accepting connections yet
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise BackupError("recovery_timeout", "リカバリが時間内に完了しませんでした。サーバーログを確認してください。",
                              status=TOOL_FAILED)
        time.sleep(0.3)


@dataclass
class RestoreReport:
    target: str
    label: str
    problems: list[str] | None  # None: nothing recorded to compare with (a time, or the latest)
    started: bool


def restore(*, latest: bool = False, to_time: dt.datetime | None = None, to_mark: str | None = None,
            start: bool = True) -> RestoreReport:
    data = conf.pg_data()
    manifest = None
    options = ["--delta"]
    if to_mark is not None:
        conf.check_mark_name(to_mark)
        path = _manifest_path(to_mark)
        if path.exists():
            manifest = json.loads(path.read_text(encoding="utf-8"))
            options.append(f"--set={_backup_before(dt.datetime.fromisoformat(manifest['at']))}")
        options += ["--type=name", f"--target={to_mark}", "--target-action=promote"]
        target = f"復元点「{to_mark}」"
    elif to_time is not None:
        options += [f"--set={_backup_before(to_time)}", "--type=time",
                    f"--target={to_time.astimezone(dt.UTC).strftime('%Y-%m-%d %H:%M:%S.%f+00')}",
                    "--target-action=promote"]
        target = f"時刻 {to_time.isoformat()}"
    else:
        target = "最新（アーカイブ済みの WAL の終わり）"
    label = next((o.split("=", 1)[1] for o in options if o.startswith("--set=")), None) or (info() or [{}])[-1].get("label", "")
    connections.close_all()
    if _running(data):
        _pg_ctl("-D", str(data), "-m", "fast", "-w", "-t", str(int(conf.wait_seconds())), "stop")
    data.mkdir(parents=True, exist_ok=True, mode=0o700)
    _chown_postgres(data)
    pgbackrest(*options, "restore", timeout=conf.wait_seconds() * 4)
    if not start:
        return RestoreReport(target, label, None, False)
    extra = ["-o", f"-c config_file={conf.pg_conf()}"] if conf.pg_conf() else []
    _pg_ctl("-D", str(data), "-l", str(data.parent / "juki-restore-postgresql.log"), "-w", "-t",
            str(int(conf.wait_seconds())), *extra, "start")
    _wait_promoted(None)
    problems = None
    if manifest is not None:
        with connection.cursor() as cur:
            problems = differences(Fingerprint.from_json(manifest), take(cur, "postgresql"))
    return RestoreReport(target, label, problems, True)
