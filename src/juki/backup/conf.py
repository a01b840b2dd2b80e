"""The backup settings: Django settings first, then the environment (so an operator's cron line or
a test's subprocess can set them without a settings module of its own)."""
from __future__ import annotations

import os
import re
from pathlib import Path

from django.conf import settings
from django.db import connections

from .errors import BackupError

MARK_NAME = re.compile(r"[A-Za-z0-9_-]{1,60}")
BACKUP_TYPES = ("full", "incr", "diff")


def _get(name: str, default=None):
    value = getattr(settings, name, None)
    if value in (None, ""):
        value = os.environ.get(name) or default
    return value


def backup_dir() -> Path:
    return Path(_get("JUKI_BACKUP_DIR", settings.VAR_DIR / "backups"))


def stanza() -> str:
    return _get("JUKI_PGBACKREST_STANZA", "juki")


def pgbackrest_config() -> str | None:
    return _get("JUKI_PGBACKREST_CONFIG")


def pgbin() -> Path:
    return Path(_get("JUKI_PGBIN", "/usr/lib/postgresql/15/bin"))


def pg_data() -> Path:
    value = _get("JUKI_PG_DATA")
    if not value:
        raise BackupError("pg_data_missing", "設定 JUKI_PG_DATA（PostgreSQL のデータディレクトリ）がありません。")
    return Path(value)


def pg_conf() -> str | None:
    """postgresql.conf when it is not in the data directory (Debian's /etc/postgresql/15/main)."""
    return _get("JUKI_PG_CONF")


def wait_seconds() -> float:
    return float(_get("JUKI_BACKUP_WAIT_SECONDS", 300))


def vendor() -> str:
    return connections["default"].vendor


def check_mark_name(name: str) -> str:
    if not MARK_NAME.fullmatch(name or ""):
        raise BackupError("invalid_mark_name",
                          "復元点の名前は英数字・ハイフン・アンダースコアの 1〜60 文字で指定してください。")
    return name
