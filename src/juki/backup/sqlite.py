"""SQLite backups: `sqlite3.Connection.backup()` (online: the register stays in use) into the backup
directory, one file per backup, 0600, named by UTC time, each with a JSON manifest.

SQLite has no WAL archive, so a "point in time" is a backup: `--to-time T` restores the newest
backup taken at or before T, `--to-mark NAME` the backup `juki backup mark NAME` took. `--type` is
accepted and recorded as full (every SQLite backup is a whole copy).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.db import connections

from juki.audit import chain

from . import conf
from .errors import VERIFY_FAILED, BackupError
from .fingerprint import Fingerprint, differences, take
from .inspect import inspect_copy

STAMP = "%Y%m%dT%H%M%S%fZ"


@dataclass
class Backup:
    path: Path
    manifest: dict

    @property
    def at(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.manifest["at"])

    @property
    def label(self) -> str | None:
        return self.manifest.get("label")

    @property
    def fingerprint(self) -> Fingerprint:
        return Fingerprint.from_json(self.manifest)


def live_path() -> Path:
    return Path(connections["default"].settings_dict["NAME"])


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _private_file(path: Path) -> None:
    os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def _copy(source: Path, target: Path) -> None:
    """An online, consistent copy into a new 0600 file, in rollback-journal mode so the file is one
    self-contained, unchanging file (a WAL-mode copy would grow -wal/-shm files when opened)."""
    _private_file(target)
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()
        src.close()
    os.chmod(target, 0o600)


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def backups() -> list[Backup]:
    """Every backup with a readable manifest, oldest first."""
    found = []
    directory = conf.backup_dir()
    for manifest in sorted(directory.glob("juki-*.json")) if directory.is_dir() else []:
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if data.get("engine") == "sqlite":
            found.append(Backup(manifest.with_suffix(".sqlite3"), data))
    return sorted(found, key=lambda b: b.at)


def run(*, label: str | None = None) -> Backup:
    if label is not None:
        conf.check_mark_name(label)
        if any(b.label == label for b in backups()):
            raise BackupError("mark_exists", f"復元点「{label}」は既にあります。日付を付けるなど別の名前にしてください。")
    directory = conf.backup_dir()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    chain.head()  # creates the chain's head row if missing, so the copy carries it
    at = dt.datetime.now(dt.UTC)
    stem = "juki-" + at.strftime(STAMP) + (f"-{label}" if label else "")
    path = directory / f"{stem}.sqlite3"
    _copy(live_path(), path)
    # Recorded from the copy itself: exactly what a restore of this file gives back.
    db = _read_only(path)
    try:
        fp = take(db.cursor(), "sqlite")
    finally:
        db.close()
    manifest = {"format": 1, "engine": "sqlite", "at": at.isoformat(), "type": "full", "label": label,
                "file": path.name, "sha256": _sha256(path), **fp.to_json()}
    manifest_path = path.with_suffix(".json")
    _private_file(manifest_path)
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return Backup(path, manifest)


def prune(*, keep: int, replaced_days: int, now: dt.datetime, execute: bool) -> dict:
    """The SQLite backups beyond the newest `keep`, and files a restore set aside (`replaced-*`) older than
    `replaced_days`: overwritten and removed (C25; `juki retention purge`). Returns the counts."""
    old = backups()[:-keep] if keep > 0 else backups()
    directory = conf.backup_dir()
    cutoff = now - dt.timedelta(days=replaced_days)
    replaced = [p for p in sorted(directory.glob("replaced-*.sqlite3")) if directory.is_dir()
                and dt.datetime.fromtimestamp(p.stat().st_mtime, dt.UTC) < cutoff]
    if execute:
        from juki.core.files import shred

        for backup in old:
            shred(backup.path)
            shred(backup.path.with_suffix(".json"))
        for path in replaced:
            shred(path)
    return {"backups": len(old), "replaced": len(replaced)}


def choose(*, latest: bool = False, to_time: dt.datetime | None = None, to_mark: str | None = None) -> Backup:
    found = backups()
    if to_mark is not None:
        conf.check_mark_name(to_mark)
        found = [b for b in found if b.label == to_mark]
        if not found:
            raise BackupError("mark_not_found", f"復元点「{to_mark}」のバックアップがありません。")
    elif to_time is not None:
        found = [b for b in found if b.at <= to_time]
        if not found:
            raise BackupError("no_backup_before", "指定の時刻より前のバックアップがありません。")
    if not found:
        raise BackupError("no_backup", "バックアップがありません（juki backup run で取得してください）。")
    return found[-1]


@dataclass
class VerifyReport:
    backup: Backup
    problems: list[str]
    chain_summary: str

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(backup: Backup | None = None) -> VerifyReport:
    """Restore `backup` (default: the newest) into a scratch file and compare it with its manifest."""
    backup = backup or choose(latest=True)
    problems = []
    if not backup.path.exists():
        raise BackupError("backup_missing", f"バックアップファイル {backup.path.name} がありません。", status=VERIFY_FAILED)
    if _sha256(backup.path) != backup.manifest.get("sha256"):
        problems.append("ファイルのハッシュ値が記録と一致しません（取得後に変更または破損しています）")
    with tempfile.TemporaryDirectory(prefix="juki-verify-") as scratch:
        copy = Path(scratch) / "scratch.sqlite3"
        shutil.copyfile(backup.path, copy)
        os.chmod(copy, 0o600)
        report = inspect_copy(f"sqlite:///{copy}")
    problems += differences(backup.fingerprint, report.fingerprint)
    if not report.chain_ok:
        problems.append(report.chain_summary)
    return VerifyReport(backup, problems, report.chain_summary)


@dataclass
class RestoreReport:
    backup: Backup
    replaced: Path


def restore(backup: Backup) -> RestoreReport:
    """Write `backup` over the live database, keeping the replaced database aside first.

    Through the backup API, not a file swap: other connections see the new content (no stale
    -wal/-shm beside a swapped file) and the live file keeps its mode and WAL setting."""
    if not backup.path.exists() or _sha256(backup.path) != backup.manifest.get("sha256"):
        raise BackupError("backup_corrupted", f"バックアップ {backup.path.name} が記録と一致しません（破損）。復元を中止しました。",
                          status=VERIFY_FAILED)
    connections.close_all()
    live = live_path()
    directory = conf.backup_dir()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    replaced = directory / f"replaced-{dt.datetime.now(dt.UTC).strftime(STAMP)}.sqlite3"
    _copy(live, replaced)
    src = _read_only(backup.path)
    dst = sqlite3.connect(live, timeout=30)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    return RestoreReport(backup, replaced)
