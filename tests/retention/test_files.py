"""Files juki wrote that are due (C25): overwritten with zeros before they are removed — the SQLite
backups beyond the kept generations, what a restore set aside, and 庁内連携 files a destination left."""
import datetime as dt
import json
import os

import pytest
from django.db import connection
from django.utils import timezone

from juki.backup import sqlite as sqlite_backups
from juki.core.files import shred
from juki.linkage.models import Delivery
from juki.retention import services

pytestmark = pytest.mark.django_db
NOW = timezone.now()


def test_shred_overwrites_the_content_before_removing_the_name(tmp_path):
    path, other_name = tmp_path / "f.csv", tmp_path / "same-inode"
    path.write_bytes("青木,太郎,1985-04-01\n".encode() * 1000)
    os.link(path, other_name)  # a second name sees what the overwrite did to the blocks
    size = path.stat().st_size

    assert shred(path) == size
    assert not path.exists() and other_name.read_bytes() == bytes(size)
    assert shred(path) == 0  # already gone


def test_shred_never_follows_a_link_nor_writes_to_anything_but_a_regular_file(tmp_path):
    register = tmp_path / "juki.sqlite3"
    register.write_bytes(b"the register")
    planted = tmp_path / "00000001.csv"
    planted.symlink_to(register)  # a link left where a delivered file was

    assert shred(planted) == 0
    assert not planted.is_symlink() and register.read_bytes() == b"the register"
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="通常のファイルではない"):
        shred(fifo)  # and it did not block waiting for a reader
    assert fifo.exists()


def _backup(directory, at: dt.datetime, label=None):
    stem = "juki-" + at.strftime(sqlite_backups.STAMP) + (f"-{label}" if label else "")
    (directory / f"{stem}.sqlite3").write_bytes(b"SQLite format 3\0" + b"x" * 100)
    (directory / f"{stem}.json").write_text(json.dumps({"engine": "sqlite", "at": at.isoformat(), "label": label}))
    return directory / f"{stem}.sqlite3"


def test_sqlite_backups_beyond_the_kept_generations_and_old_replaced_files_go(settings, tmp_path):
    settings.JUKI_BACKUP_DIR = str(tmp_path)
    files = [_backup(tmp_path, NOW - dt.timedelta(days=d)) for d in (5, 4, 3, 2)]
    old_replaced, new_replaced = tmp_path / "replaced-a.sqlite3", tmp_path / "replaced-b.sqlite3"
    for path, age in ((old_replaced, 31), (new_replaced, 29)):
        path.write_bytes(b"x")
        stamp = (NOW - dt.timedelta(days=age)).timestamp()
        os.utime(path, (stamp, stamp))

    assert sqlite_backups.prune(keep=2, replaced_days=30, now=NOW, execute=False) == {"backups": 2, "replaced": 1}
    assert all(p.exists() for p in files)
    assert sqlite_backups.prune(keep=2, replaced_days=30, now=NOW, execute=True) == {"backups": 2, "replaced": 1}

    assert [p.exists() for p in files] == [False, False, True, True]
    assert not files[0].with_suffix(".json").exists() and files[2].with_suffix(".json").exists()
    assert not old_replaced.exists() and new_replaced.exists()


def test_the_purge_runs_the_sqlite_backups_entry_on_sqlite_only(settings, tmp_path):
    settings.JUKI_BACKUP_DIR, settings.JUKI_BACKUP_KEEP = str(tmp_path), 1
    files = [_backup(tmp_path, NOW - dt.timedelta(days=d)) for d in (2, 1)]
    run = services.purge(execute=True)
    outcome = next(o for o in run.outcomes if o.code == "backups_sqlite")
    if connection.vendor == "sqlite":
        assert (outcome.deleted, outcome.detail) == (1, {"backups": 1, "replaced": 0, "keep": 1})
        assert [p.exists() for p in files] == [False, True]
    else:  # PostgreSQL's backups are pgBackRest's to expire
        assert (outcome.outcome, outcome.detail) == ("empty", {"engine": "postgresql"})
        assert all(p.exists() for p in files)


def _delivery(sequence: int, name: str, *, delivered: dt.datetime | None) -> Delivery:
    return Delivery.objects.create(destination="zeimu", sequence=sequence, kind=Delivery.Kind.DAILY, items=["name"],
                                   file_name=name, state=Delivery.State.DELIVERED if delivered else Delivery.State.PENDING,
                                   delivered_at=delivered)


def test_handed_over_files_left_past_the_window_are_overwritten_and_removed(settings, tmp_path):
    settings.JUKI_LINKAGE_DIR = str(tmp_path)
    folder = tmp_path / "outbound" / "zeimu"
    folder.mkdir(parents=True)
    for name in ("old.csv", "recent.csv", "waiting.csv", "unknown.csv"):
        (folder / name).write_text("data")
    _delivery(1, "old.csv", delivered=NOW - dt.timedelta(days=31))
    _delivery(2, "recent.csv", delivered=NOW - dt.timedelta(days=29))
    _delivery(3, "waiting.csv", delivered=None)

    run = services.purge(execute=True)

    outcome = next(o for o in run.outcomes if o.code == "linkage_files")
    assert (outcome.due, outcome.deleted) == (1, 1)
    assert sorted(p.name for p in folder.iterdir()) == ["recent.csv", "unknown.csv", "waiting.csv"]
