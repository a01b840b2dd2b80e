"""Logging filter: database errors never carry row contents into application logs.

PostgreSQL's messages quote the failing row ("DETAIL: Failing row contains (…)"), which would
put names, addresses and identifiers into the log. The filter replaces such an exception with
its type and SQLSTATE; the traceback's frames are kept, the message is not.
"""
import logging
import traceback

from django.db import DatabaseError


def sqlstate(exc: BaseException) -> str:
    cause = exc.__cause__ or exc
    return getattr(cause, "sqlstate", None) or getattr(getattr(cause, "diag", None), "sqlstate", None) or ""


class RedactDatabaseErrors(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], DatabaseError):
            exc = record.exc_info[1]
            frames = "".join(traceback.format_tb(record.exc_info[2]))
            record.msg = f"{record.getMessage()} [{type(exc).__name__} sqlstate={sqlstate(exc)}]\n{frames}"
            record.args = ()
            record.exc_info = None
            record.exc_text = None
        return True
