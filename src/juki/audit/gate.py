"""The access gate: the one door to personal data.

Every read of a person and every change passes `gate.open(...)`, which
1. checks that the actor holds the permission for the function (refusals are logged too),
2. opens the guarded managers of the register models for the duration of the block, and
3. writes one AccessLog row (+ one AccessLogSubject per person touched) — in the same
   transaction as a change when it succeeds, and after the rollback when it fails, so a
   refused or failed attempt is never lost.

Querying a guarded model outside an open gate raises `UngatedAccess`: a new view or
selector that forgets the gate fails its first test instead of silently reading data.
"""
from __future__ import annotations

import contextvars
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

from django.db import models, transaction

from juki.accounts import system_actors
from juki.accounts.permissions import TWO_FACTOR_PERMS, Perm
from juki.core.errors import AccessDenied, DomainError, ErrorCode

from . import chain  # rows are written unlinked; the chainer links them (ADR 0007)
from .models import AccessLog, category_of


@dataclass(frozen=True)
class Actor:
    """Who acts: a staff user on a terminal, or a named system actor (a job, a destination's
    connector, a device) that holds exactly its listed rights (ADR 0011, 0019)."""

    user: Any = None
    terminal: Any = None
    system: str = ""
    # A contractor's session names the approved work application it works under (C04).
    work_application: str = ""
    # True when this session passed the second factor (TOTP, the IC card's stand-in; C01).
    second_factor: bool = False
    # Without a staff user, the actor holds these rights and no other: nothing holds every right.
    rights: frozenset[str] = frozenset()

    def can(self, perm: Perm | str) -> bool:
        if self.user is None:  # a system actor or a device: its listed rights only
            return perm in self.rights
        # C01: a sensitive right is used only in a session that passed the second factor, even if
        # the user gained the right after logging in (or got an API token) without it.
        return self.holds(perm) and (self.second_factor or perm not in TWO_FACTOR_PERMS)

    def holds(self, perm: Perm | str) -> bool:
        """The actor holds the right today, whatever this session's second factor (see `can`)."""
        if self.user is None:
            return perm in self.rights
        return self.user.has_juki_perm(perm)

    @classmethod
    def system_actor(cls, name: str, terminal=None) -> "Actor":
        """A registered system actor (`accounts.system_actors`: a job, or a destination by its code)
        with its listed rights. An unlisted name raises LookupError."""
        return cls(system=name, rights=system_actors.rights_of(name), terminal=terminal)

    @classmethod
    def device(cls, name: str, rights: frozenset[str], terminal=None) -> "Actor":
        """A device such as a kiosk (「kiosk:KIOSK-01」): no user, a fixed and small set of rights."""
        return cls(system=name, rights=frozenset(rights), terminal=terminal)


class UngatedAccess(DomainError):
    status = 500

    def __init__(self, model: str):
        super().__init__(ErrorCode.UNGATED_ACCESS, f"{model} was queried outside the access gate")


_SENSITIVE_KEYS = {"my_number", "my_numbers", "individual_number"}


def _sanitize(value):
    if isinstance(value, dict):
        return {k: ("***" if k in _SENSITIVE_KEYS and v else _sanitize(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_sanitize(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


@dataclass
class GateSession:
    actor: Actor
    function: str
    criteria: dict = field(default_factory=dict)
    person_ids: set[int] = field(default_factory=set)
    my_number_accessed: bool = False
    logged: bool = False
    category: str = ""
    flags: set[str] = field(default_factory=set)
    # Persons read but not logged one by one: an internal statistics run, which C07 does not ask to
    # prove per person (ADR 0020). The log row carries the count only.
    counted: int = 0

    def record(self, ids: Iterable[int]) -> None:
        self.person_ids.update(int(i) for i in ids)

    def tally(self, n: int) -> None:
        """Count `n` persons read without recording them as subjects (a bulk read with no provision)."""
        self.counted += int(n)

    def flag(self, name: str) -> None:
        """Mark the log row for review, e.g. `support_measure` when a protected person is read."""
        self.flags.add(name)

    def reveal_my_number(self) -> None:
        """Call before putting a plain 個人番号 in a response; refuses without the right."""
        if not self.actor.can(Perm.MY_NUMBER_VIEW):
            if not self.actor.holds(Perm.MY_NUMBER_VIEW):
                raise AccessDenied("個人番号を表示する権限がありません。")
            # Held, but this staff session did not pass the TOTP step (C01): say so.
            refused = AccessDenied("個人番号の表示には、ワンタイムパスワードによる二要素認証でのログインが必要です。")
            refused.code = ErrorCode.SECOND_FACTOR_REQUIRED
            raise refused
        self.my_number_accessed = True

    def write_log(self, outcome: str = AccessLog.OK) -> AccessLog:
        if outcome == AccessLog.OK and not self.person_ids and not self.counted:
            outcome = AccessLog.EMPTY
        if transaction.get_connection().in_atomic_block or chain.single_statement():
            return self._insert(outcome)  # part of the change's own transaction, or one statement
        with transaction.atomic():  # SQLite: one commit for the row and its subjects
            return self._insert(outcome)

    def _insert(self, outcome: str) -> AccessLog:
        entry = AccessLog(
            user=self.actor.user,
            system=self.actor.system,
            terminal=self.actor.terminal,
            function=self.function,
            category=self.category or category_of(self.function),
            work_application=self.actor.work_application,
            flags=sorted(self.flags),
            outcome=outcome,
            person_count=len(self.person_ids) + self.counted,
            my_number_accessed=self.my_number_accessed,
            criteria=_sanitize(self.criteria),
        )
        chain.write(entry, sorted(self.person_ids))  # linked into the chain afterwards, without a lock
        self.logged = True
        return entry


_current: contextvars.ContextVar[GateSession | None] = contextvars.ContextVar("juki_gate", default=None)


def current() -> GateSession | None:
    return _current.get()


def require(what: str) -> GateSession:
    """For a plain SQL read that bypasses the guarded managers: the same rule, an open session."""
    session = _current.get()
    if session is None:
        raise UngatedAccess(what)
    return session


@contextmanager
def open(actor: Actor, *, function: str, perm: Perm | str, criteria: dict | None = None,  # noqa: A001
         category: str = "") -> Iterator[GateSession]:
    session = GateSession(actor=actor, function=function, criteria=dict(criteria or {}), category=category)
    if not actor.can(perm):
        # A refused attempt on a named person is part of that person's record of use (開示請求).
        if isinstance(pid := session.criteria.get("person_id"), int):
            session.record([pid])
        session.write_log(AccessLog.DENIED)
        raise AccessDenied()
    token = _current.set(session)
    try:
        yield session
    except DomainError as exc:
        _current.reset(token)
        token = None
        session.write_log(str(exc.code))
        raise
    except Exception:
        _current.reset(token)
        token = None
        session.write_log("error")
        raise
    else:
        if not session.logged:
            _current.reset(token)
            token = None
            session.write_log()
    finally:
        if token is not None:
            _current.reset(token)


class GuardedManager(models.Manager):
    """Default and base manager of every model holding personal data."""

    use_in_migrations = False

    def get_queryset(self):
        if _current.get() is None:
            raise UngatedAccess(self.model.__name__)
        return super().get_queryset()
