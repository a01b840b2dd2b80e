"""The SQLite database is created owner-only (0600), with its WAL files (issue 11: it was created
world-readable under the usual umask 022)."""
import os
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import django
django.setup()
from django.db import connection
with connection.cursor() as cur:
    cur.execute("CREATE TABLE t (x integer)")
    cur.execute("INSERT INTO t VALUES (1)")
"""


def _run(var_dir):
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="juki.conf.dev", JUKI_VAR_DIR=str(var_dir))
    env.pop("DATABASE_URL", None)
    subprocess.run([sys.executable, "-c", SCRIPT], env=env, cwd=ROOT, check=True, timeout=120,
                   preexec_fn=lambda: os.umask(0o022))


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_new_sqlite_database_and_its_wal_are_owner_only(tmp_path):
    _run(tmp_path)
    db = tmp_path / "juki.sqlite3"
    assert _mode(db) == 0o600
    for extra in ("juki.sqlite3-wal", "juki.sqlite3-shm"):
        if (tmp_path / extra).exists():
            assert _mode(tmp_path / extra) == 0o600, extra


def test_a_world_readable_database_is_narrowed_when_opened(tmp_path):
    db = tmp_path / "juki.sqlite3"
    db.touch(mode=0o644)
    os.chmod(db, 0o644)
    _run(tmp_path)
    assert _mode(db) == 0o600
