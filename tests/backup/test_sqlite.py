"""SQLite: `juki backup run` / `mark`, `juki restore` and `juki backup verify` on a register file."""
from __future__ import annotations

import json
import sqlite3

from .conftest import sqlite_state


def _mistaken_batch(juki) -> None:
    juki("seed", "--persons", "45", "--seed", "1", "--resume", "--no-progress")
    juki("audit", "chain")
    with sqlite3.connect(juki.db) as db:
        db.execute("UPDATE register_person SET removed_on = '2026-11-01' WHERE id IN "
                   "(SELECT id FROM register_person ORDER BY id LIMIT 5)")
        db.execute("DELETE FROM register_searchkey WHERE id IN (SELECT id FROM register_searchkey ORDER BY id LIMIT 10)")


def test_restore_gives_back_the_persons_and_the_audit_log_of_the_backup(sqlite_juki):
    juki = sqlite_juki
    backed_up = sqlite_state(juki.db)
    assert "を取得しました（表 " in juki("backup", "run", "--type", "incr").stdout
    [backup] = sorted(juki.backups.glob("juki-*.sqlite3"))
    manifest = json.loads(backup.with_suffix(".json").read_text())
    assert (backup.stat().st_mode & 0o777) == 0o600
    assert (backup.with_suffix(".json").stat().st_mode & 0o777) == 0o600
    assert manifest["type"] == "full" and manifest["chain"]["seq"] >= 1
    assert manifest["counts"]["register_person"] == int(backed_up["register_person"].split(":")[0]) >= 30
    assert repr([(manifest["chain"]["seq"], manifest["chain"]["row_hash"])]) == backed_up["chain-head"]

    _mistaken_batch(juki)
    changed = sqlite_state(juki.db)
    assert changed["register_person"] != backed_up["register_person"]
    assert changed["audit_accesslog"] != backed_up["audit_accesslog"]
    assert changed["chain-head"] != backed_up["chain-head"]

    out = juki("restore", "--latest", "--yes").stdout
    assert f"バックアップ {backup.name}" in out and "から復元しました" in out
    assert "復元後の照合: 全表の行数と監査ログのチェーン先頭が記録と一致しました。" in out
    assert sqlite_state(juki.db) == backed_up  # persons, versions, the access log and the chain head
    [replaced] = juki.backups.glob("replaced-*.sqlite3")
    assert (replaced.stat().st_mode & 0o777) == 0o600
    assert sqlite_state(replaced) == changed  # the replaced database kept aside, as it was


def test_restore_to_a_mark_and_to_a_time_pick_their_backup(sqlite_juki):
    juki = sqlite_juki
    juki("backup", "run")
    at_first = sqlite_state(juki.db)
    juki("seed", "--persons", "35", "--seed", "1", "--resume", "--no-progress")
    juki("audit", "chain")
    at_mark = sqlite_state(juki.db)
    assert "復元点「before-batch」として" in juki("backup", "mark", "before-batch").stdout
    _mistaken_batch(juki)
    juki("backup", "run")  # a later backup must not be the one a mark or an earlier time restores

    juki("restore", "--to-mark", "before-batch", "--yes")
    assert sqlite_state(juki.db) == at_mark
    first, marked, _ = sorted(juki.backups.glob("juki-*.json"))
    assert "before-batch" in marked.name
    moment = json.loads(first.read_text())["at"]  # the newest backup at or before it is the first one
    out = juki("restore", "--to-time", moment, "--yes").stdout
    assert f"バックアップ {first.with_suffix('.sqlite3').name}" in out
    assert sqlite_state(juki.db) == at_first
    listing = juki("backup", "list").stdout
    assert "復元点「before-batch」" in listing and listing.count("juki-") == 3


def test_verify_passes_an_intact_backup_and_names_a_changed_one(sqlite_juki):
    juki = sqlite_juki
    juki("backup", "run")
    out = juki("backup", "verify").stdout
    assert "バックアップの検証に成功しました" in out and "全表の行数と監査ログのチェーン先頭が記録と一致しました" in out
    assert "監査ログの検証に成功しました" in out  # chain.verify() ran against the scratch copy

    [backup] = juki.backups.glob("juki-*.sqlite3")
    with sqlite3.connect(backup) as db:  # a backup changed after it was taken
        db.execute("DELETE FROM register_searchkey WHERE id IN (SELECT id FROM register_searchkey LIMIT 3)")
    db.close()
    done = juki("backup", "verify", check=False)
    assert done.returncode == 1
    assert "バックアップの検証に失敗しました" in done.stderr
    assert "ファイルのハッシュ値が記録と一致しません" in done.stderr
    assert "表 register_searchkey: 行数が一致しません" in done.stderr

    # …and a restore from it is refused, the register untouched.
    before = sqlite_state(juki.db)
    done = juki("restore", "--latest", "--yes", check=False)
    assert done.returncode == 1 and "[backup_corrupted]" in done.stderr
    assert sqlite_state(juki.db) == before

    backup.write_bytes(backup.read_bytes()[:4096])  # truncated: not a readable database any more
    done = juki("backup", "verify", check=False)
    assert done.returncode == 1 and "[copy_unreadable]" in done.stderr
