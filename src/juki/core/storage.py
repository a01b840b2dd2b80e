"""Recognising a database that cannot store anything (disk full, read-only, I/O error).

Such a failure is not a defect in the request: every write fails until an administrator frees
space or remounts the disk. The user is told 「保存できません」 (503 `storage_unavailable`) instead
of a bare system error; nothing was written, since the transaction failed as a whole.
"""
from __future__ import annotations

from django.db import DatabaseError

from .logging import sqlstate

STORAGE_MESSAGE = ("保存できません。記録用のディスクの空きがないか、データベースが書き込みできない状態です。"
                   "処理は行われていません。システム担当へ連絡してください。")

# PostgreSQL: disk_full, insufficient_resources, out_of_memory, io_error, read_only_sql_transaction.
_SQLSTATES = {"53100", "53000", "53200", "58030", "25006"}
# SQLite says it only in words (sqlite3 has no SQLSTATE).
_SQLITE_MESSAGES = ("database or disk is full", "readonly database", "disk i/o error", "unable to open database file")


def storage_failure(exc: BaseException | None) -> bool:
    if not isinstance(exc, DatabaseError):
        return False
    if sqlstate(exc) in _SQLSTATES:
        return True
    text = str(exc).lower()
    return any(m in text for m in _SQLITE_MESSAGES)
