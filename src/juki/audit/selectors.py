from __future__ import annotations

from juki.accounts.permissions import Perm

from . import gate
from .gate import Actor
from .models import AccessLog, AccessLogSubject

_CHUNK = 1000  # keys per query: SQLite's limit on parameters, and a short IN list


def log_rows_for_person(person_id: int, *, newest_first: bool = True, limit: int | None = None) -> list[AccessLog]:
    """The log rows that name a person, with their 操作者 and 端末 (no gate: callers hold a session).

    In two steps, so that on PostgreSQL each row is looked for in its own month (ADR 0030): the
    (id, at) pairs from the subjects' index, then the rows by id and `at` — a join on the id alone
    would plan and probe every month of the log for every row."""
    order = ("-log_at", "-log_id") if newest_first else ("log_at", "log_id")
    keys = AccessLogSubject.objects.filter(person_id=person_id).order_by(*order).values_list("log_id", "log_at")
    keys = list(keys[:limit] if limit is not None else keys)
    rows: list[AccessLog] = []
    for i in range(0, len(keys), _CHUNK):  # the keys are in order, so the chunks follow each other
        chunk = keys[i:i + _CHUNK]
        # prefetch, not select_related: a join over the partitioned log costs more to plan than two
        # look-ups by primary key cost to run.
        rows += (AccessLog.objects.prefetch_related("user", "terminal")
                 .filter(id__in=[k[0] for k in chunk], at__in={k[1] for k in chunk})
                 .order_by(*(("-at", "-id") if newest_first else ("at", "id"))))
    return rows


def access_log_for_person(*, actor: Actor, person_id: int, limit: int = 500) -> list[dict]:
    """Every recorded access to one person, newest first (for review and disclosure requests)."""
    with gate.open(actor, function="accesslog.view", perm=Perm.ACCESS_LOG_VIEW, criteria={"person_id": person_id}):
        rows = log_rows_for_person(person_id, limit=limit)
        return [
            {
                "id": r.id,
                "at": r.at.isoformat(),
                "user": r.user.username if r.user else None,
                "system": r.system,
                "terminal": r.terminal.code if r.terminal else None,
                "function": r.function,
                "outcome": r.outcome,
                "person_count": r.person_count,
                "my_number_accessed": r.my_number_accessed,
            }
            for r in rows
        ]
