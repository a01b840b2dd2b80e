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


UNAVAILABLE_MESSAGE = ("データベースに接続できません（再起動中か、予備のサーバーへの切り替え中です）。"
                       "処理は行われていません。しばらくしてからやり直してください。")

# PostgreSQL: admin_shutdown, crash_shutdown, cannot_connect_now, and the connection_exception class.
_GONE_SQLSTATES = {"57P01", "57P02", "57P03", "08000", "08001", "08003", "08004", "08006"}
# psycopg's words when the server went away mid-query or is not there (no SQLSTATE then).
_GONE_MESSAGES = ("server closed the connection unexpectedly", "connection is closed", "consuming input failed",
                  "connection failed", "connection refused", "terminating connection due to administrator command",
                  "the database system is shutting down", "the database system is starting up",
                  "no connection to the server")


def database_gone(exc: BaseException | None) -> bool:
    """The database restarted, failed over or is not reachable: a 503 to try again, not a defect."""
    from django.db import InterfaceError

    if not isinstance(exc, (DatabaseError, InterfaceError)):
        return False
    if sqlstate(exc) in _GONE_SQLSTATES:
        return True
    text = str(exc).lower()
    return any(m in text for m in _GONE_MESSAGES)


def storage_failure(exc: BaseException | None) -> bool:
    if not isinstance(exc, DatabaseError):
        return False
    if sqlstate(exc) in _SQLSTATES:
        return True
    text = str(exc).lower()
    return any(m in text for m in _SQLITE_MESSAGES)
