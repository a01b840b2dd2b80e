"""Each bad input is refused with its code and exit status 2, and changes nothing."""
from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from juki.backup import conf, pg
from juki.backup.errors import BackupError

from .conftest import sqlite_state


def test_a_mark_name_outside_the_pattern_is_refused(shared_sqlite_juki):
    juki = shared_sqlite_juki
    message = "[invalid_mark_name] 復元点の名前は英数字・ハイフン・アンダースコアの 1〜60 文字で指定してください。"
    done = juki("backup", "mark", "before batch", check=False)
    assert done.returncode == 2 and message in done.stderr
    done = juki("restore", "--to-mark", "../etc", "--yes", check=False)
    assert done.returncode == 2 and message in done.stderr
    assert not juki.backups.exists() or not list(juki.backups.glob("*.sqlite3"))
    for name in ("前日", "a" * 61, "", "a;DROP", "before-batch\n"):
        with pytest.raises(BackupError) as err:
            conf.check_mark_name(name)
        assert err.value.code == "invalid_mark_name" and err.value.status == 2
    assert conf.check_mark_name("a" * 60) == "a" * 60


def test_restore_without_yes_reused_mark_and_unknown_targets_are_refused(shared_sqlite_juki):
    juki = shared_sqlite_juki
    juki("backup", "mark", "before-batch")
    before = sqlite_state(juki.db)

    done = juki("restore", "--latest", check=False)
    assert done.returncode == 2
    assert "[confirmation_required]" in done.stderr and "--yes を付けて再実行してください" in done.stderr
    done = juki("backup", "mark", "before-batch", check=False)  # recovery to a name stops at its first use
    assert done.returncode == 2 and "[mark_exists] 復元点「before-batch」は既にあります" in done.stderr
    done = juki("restore", "--to-mark", "no-such-mark", "--yes", check=False)
    assert done.returncode == 2 and "[mark_not_found]" in done.stderr
    done = juki("restore", "--to-time", "2000-01-01T00:00:00+09:00", "--yes", check=False)
    assert done.returncode == 2 and "[no_backup_before] 指定の時刻より前のバックアップがありません。" in done.stderr
    done = juki("restore", "--to-time", "2026-11-01 09:00", "--yes", check=False)
    assert done.returncode == 2 and "[invalid_time] --to-time には時差（+09:00 など）を付けてください。" in done.stderr
    assert sqlite_state(juki.db) == before
    assert not list(juki.backups.glob("replaced-*"))


def test_config_without_the_passphrase_is_refused_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv("JUKI_BACKUP_PASSPHRASE", raising=False)
    out = tmp_path / "pgbackrest.conf"
    with pytest.raises(CommandError) as err:
        call_command("backup", "config", "--repo", "/var/lib/pgbackrest", "--pg-data", "/var/lib/postgresql/15/main",
                     "--pg-port", "5432", "--pg-socket", "/var/run/postgresql", "--out", str(out))
    assert err.value.returncode == 2
    assert str(err.value).startswith("[passphrase_missing] 環境変数 JUKI_BACKUP_PASSPHRASE")
    assert not out.exists()


def test_config_encrypts_the_repository_and_names_the_archive_command(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("JUKI_BACKUP_PASSPHRASE", "x" * 40)
    call_command("backup", "config", "--repo", "/var/lib/pgbackrest", "--pg-data", "/var/lib/postgresql/15/main",
                 "--pg-port", "5432", "--pg-socket", "/var/run/postgresql", "--config-path", "/etc/pgbackrest.conf")
    text = capsys.readouterr().out
    for line in ("repo1-cipher-type=aes-256-cbc", f"repo1-cipher-pass={'x' * 40}", "repo1-retention-full=2",
                 "archive-async=n", "start-fast=y", "[juki]", "pg1-path=/var/lib/postgresql/15/main", "pg1-port=5432",
                 "#   archive_command = 'pgbackrest --config=/etc/pgbackrest.conf --stanza=juki archive-push %p'"):
        assert line in text.splitlines(), line


def test_postgresql_restore_needs_the_data_directory_setting(settings, monkeypatch):
    settings.JUKI_PG_DATA = None
    monkeypatch.delenv("JUKI_PG_DATA", raising=False)
    with pytest.raises(BackupError) as err:
        pg.restore(latest=True)
    assert err.value.code == "pg_data_missing" and err.value.status == 2
    assert err.value.message == "設定 JUKI_PG_DATA（PostgreSQL のデータディレクトリ）がありません。"
