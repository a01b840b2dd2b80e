"""The backup tests drive `juki` as the operator does: subprocesses on a database of their own (an
SQLite file, or a PostgreSQL cluster with real pgBackRest), whichever database the suite runs on."""
from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO_TOWNS = ROOT / "src" / "juki" / "register" / "data" / "demo-towns.csv"


class Juki:
    """`juki …` with this environment; returns the finished process (callers assert its outcome)."""

    def __init__(self, env: dict[str, str]):
        self.env = {**os.environ, "DJANGO_SETTINGS_MODULE": "juki.conf.test", **env}

    def __call__(self, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
        done = subprocess.run([sys.executable, "-m", "juki.cli", *map(str, args)], env=self.env, capture_output=True,
                              text=True, timeout=timeout, check=False)
        if check:
            assert done.returncode == 0, f"juki {' '.join(map(str, args))}: {done.returncode}\n{done.stdout}\n{done.stderr}"
        return done


def sqlite_state(path: Path) -> dict[str, str]:
    """Every table's row count and content digest (row order independent), and the audit chain's head."""
    with sqlite3.connect(path) as db:
        names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                           "AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        state = {}
        for name in names:
            rows = sorted(repr(r) for r in db.execute(f'SELECT * FROM "{name}"'))
            state[name] = f"{len(rows)}:" + hashlib.sha256("\n".join(rows).encode()).hexdigest()
        state["chain-head"] = repr(db.execute("SELECT seq, row_hash FROM audit_chainhead").fetchall())
    return state


def _sqlite_juki(directory: Path) -> Juki:
    juki = Juki({"DATABASE_URL": f"sqlite:///{directory / 'juki.sqlite3'}", "JUKI_BACKUP_DIR": str(directory / "backups"),
                 "JUKI_VAR_DIR": str(directory / "var")})
    juki.db = directory / "juki.sqlite3"
    juki.backups = directory / "backups"
    return juki


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite register with 町字 and 30 seeded persons, the audit chain linked: made once."""
    juki = _sqlite_juki(tmp_path_factory.mktemp("backup-template"))
    juki("migrate", "-v0")
    juki("load-towns", DEMO_TOWNS)
    juki("seed", "--persons", "30", "--seed", "1", "--no-progress")
    juki("audit", "chain")
    return juki.db


def _copy_of(template: Path, directory: Path) -> Juki:
    juki = _sqlite_juki(directory)
    with sqlite3.connect(template) as src, sqlite3.connect(juki.db) as dst:
        src.backup(dst)
    src.close()
    dst.close()
    juki.db.chmod(0o600)
    return juki


@pytest.fixture
def sqlite_juki(sqlite_template, tmp_path) -> Juki:
    """A register of the test's own (a copy of the template), its backups in tmp_path/backups."""
    return _copy_of(sqlite_template, tmp_path)


@pytest.fixture(scope="module")
def shared_sqlite_juki(sqlite_template, tmp_path_factory) -> Juki:
    """The same, once per module (for refusals, which change nothing)."""
    return _copy_of(sqlite_template, tmp_path_factory.mktemp("register"))
