"""Log rows that are not a read of personal data: login, logout, settings changes, exports …

They go into the same table and chain as the gate's rows, so one `juki audit verify` covers
every kind of log [1370]. Personal data never goes into `criteria` here either.
"""
from __future__ import annotations

from typing import Iterable

from .gate import Actor, GateSession
from .models import AccessLog


def record(actor: Actor, *, function: str, outcome: str = AccessLog.OK, criteria: dict | None = None,
           person_ids: Iterable[int] = (), category: str = "", flags: Iterable[str] = ()) -> AccessLog:
    session = GateSession(actor=actor, function=function, criteria=dict(criteria or {}), category=category)
    session.record(person_ids)
    session.flags.update(flags)
    if outcome == AccessLog.OK and not session.person_ids:
        outcome = "done"  # an event about no person is not an "empty" search
    return session.write_log(outcome)
