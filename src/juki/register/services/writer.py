"""The one path by which versions are written.

`change_scope(...)` opens the access gate for the operation, starts one transaction and
hands the operation a `ChangeWriter`. When the operation returns, the writer re-derives
household flags, appends the outbox event and writes the access-log row — all before the
commit, so the new versions, the audit record and the outbound message land together or
not at all (and a refusal is still logged, by the gate, after the rollback).
"""
from __future__ import annotations

import contextvars
import datetime as dt
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.dispatch import Signal
from django.utils import timezone

from juki.accounts.permissions import Perm
from juki.audit import gate
from juki.audit.gate import Actor, GateSession
from juki.core import sql
from juki.core.logging import sqlstate
from juki.core.errors import ConflictError, DomainError, ErrorCode, NotFoundError
from juki.protection.enforcement import change_look, check_change, guard_change
from juki.core import clock

from .. import reasons
from ..models import DATA_FIELDS, NAME_FIELDS, Change, Household, OutboxEvent, Person, PersonVersion, Status, Town
from ..relationships import HEAD
from ..versions import version_data
from . import numbers, people, search

OUTBOX_SCHEMA = "juki.change.v1"
# The persons a change starts from, locked, with their current version and its 町字: every change
# reads them, so the statement is built once (core.sql.Joined).
_MOVERS = sql.Joined(Person, "current__town", where="t.id IN ({ids})", lock=True)
_OUTBOX_LOCK_KEY = 0x6A756B69  # "juki": serialises outbox inserts so ids commit in order (PostgreSQL)

# Sent by `finish()` inside the change's gate and transaction with (session, change, person_events,
# renamed): records that end with a person's removal or change of name (印鑑登録's 職権廃止) change in
# the same commit, or the whole change rolls back. `renamed`: the persons whose name items changed,
# so that a receiver can skip a change (a 転居) that concerns none of its records without a query.
change_written = Signal()


# Versions that may be dated before the latest: the 転入通知 completes a removal as of the
# earlier actual date [50], and a cancellation takes the cancelled change's date [980].
_MAY_PRECEDE_LATEST = {
    reasons.Reason.MOVE_OUT_CONFIRMED, reasons.Reason.CANCEL_INCREASE, reasons.Reason.CANCEL_DECREASE,
    reasons.Reason.CANCEL_CORRECTION,
}


@dataclass(frozen=True)
class PersonRef:
    """A person as the clerk saw it: id and the version (履歴番号) on screen."""

    id: int
    version: int


@dataclass(frozen=True)
class HouseholdRef:
    id: int
    version: int


@dataclass
class ChangeResult:
    change_id: int
    operation: str
    persons: list[dict] = field(default_factory=list)
    households: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)


_HEAD_UPDATE = (
    f"UPDATE {Person._meta.db_table} SET latest_seq = %s, current_id = %s, status = %s, removed_on = %s, "
    "household_id = %s WHERE id = %s AND latest_seq = %s"
)


def _advance_head(person: Person, version: PersonVersion) -> bool:
    """Point the head row at the new version, only if nobody else moved it meanwhile."""
    removed_on = connection.ops.adapt_datefield_value(version.removed_on)
    with connection.cursor() as cur:
        cur.execute(_HEAD_UPDATE, [version.seq, version.id, version.status, removed_on, version.household_id,
                                   person.pk, person.latest_seq])
        return cur.rowcount == 1


def _write_version(person: Person, version: PersonVersion, keys: list) -> bool:
    """PostgreSQL: insert the version and its new search keys and move the head, if nobody else
    moved it meanwhile, in one statement (issue 19: a 転居 of a household in a dozen statements).
    A head moved by someone else writes nothing: the whole statement is rolled back by the
    ConflictError the caller raises."""
    insert, params = sql.insert_returning_parts(version)
    parts = [f"v AS ({insert})"]
    if keys:
        key_sql, key_params = sql.insert_parts(keys)
        parts.append(f"k AS ({key_sql})")
        params += key_params
    parts.append(f"p AS (UPDATE {Person._meta.db_table} SET latest_seq = %s, current_id = (SELECT id FROM v), "
                 "status = %s, removed_on = %s, household_id = %s WHERE id = %s AND latest_seq = %s RETURNING 1)")
    params += [version.seq, version.status, connection.ops.adapt_datefield_value(version.removed_on),
               version.household_id, person.pk, person.latest_seq]
    with connection.cursor() as cur:
        cur.execute("WITH " + ", ".join(parts) + " SELECT (SELECT id FROM v), (SELECT count(*) FROM p)", params)
        version.pk, moved = cur.fetchone()
    version._state.adding, version._state.db = False, connection.alias
    return moved == 1


def _household_exists(household_id: int) -> bool:
    return Household.objects.filter(pk=household_id).exists()


@dataclass(frozen=True)
class Approval:
    """本登録 of a 仮登録 (C10): the change is recorded as entered by `entered_by`, approved by
    the acting user, and the pending entry is closed in the change's own transaction."""

    pending_id: int
    entered_by: object
    entered_terminal: object = None


_approval: contextvars.ContextVar[Approval | None] = contextvars.ContextVar("juki_approval", default=None)


@contextmanager
def approving(approval: Approval) -> Iterator[None]:
    token = _approval.set(approval)
    try:
        yield
    finally:
        _approval.reset(token)


@dataclass(frozen=True)
class Notifier:
    """The 届出人 of the change being written (本人, 世帯主, 代理人 …), recorded on its Change."""

    name: str = ""
    relationship: str = ""


_notifier: contextvars.ContextVar[Notifier | None] = contextvars.ContextVar("juki_notifier", default=None)


@contextmanager
def notified_by(notifier: Notifier | None) -> Iterator[None]:
    """Every service takes the same 届出人 items: set once here instead of in 25 signatures."""
    token = _notifier.set(notifier)
    try:
        yield
    finally:
        _notifier.reset(token)


def _changed_fields(old: dict, new: dict) -> set[str]:
    def norm(v):
        return bytes(v) if isinstance(v, memoryview) else v

    return {k for k in DATA_FIELDS if norm(old.get(k)) != norm(new.get(k))}


class ChangeWriter:
    def __init__(self, *, session: GateSession, operation: reasons.Operation, change: Change):
        self.session = session
        self.operation = operation
        self.change = change
        self.warnings: list[dict] = []
        self._touched_households: dict[int, Household] = {}
        self._bumped: set[int] = set()
        self._membership_changed: set[int] = set()  # households whose 世帯主 may have changed
        self._checked_towns: set[int] = set()
        self._members: dict[int, list[tuple[Person, PersonVersion]]] = {}
        self._events: list[dict] = []
        self._guarded: set[int] = set()  # persons already checked for a 支援措置
        self._renamed: set[int] = set()

    @property
    def event_date(self) -> dt.date:
        return self.change.event_date

    def warn(self, code: str, message: str) -> None:
        self.warnings.append({"code": code, "message": message})

    # --- reading what the change starts from -------------------------------------------------

    def person(self, ref: PersonRef, *, require: Status | None = Status.RESIDENT) -> tuple[Person, PersonVersion]:
        return self.persons([ref], require=require)[0]

    def persons(self, refs: list[PersonRef], *, require: Status | None = Status.RESIDENT) -> list[tuple[Person, PersonVersion]]:
        """Lock and load the persons a change starts from (one query), in the order given."""
        found = {
            p.id: p
            for p in _MOVERS.fetch(ids=[r.id for r in refs])
        }
        self.session.record(found)
        # 支援措置 (the support section's alone [440]) and 抑止(異動) [410]: one look for both.
        protected, restricted = change_look(found)
        self._guard(found, protected=protected - self._guarded)
        if restricted:  # almost never: then the full reading, which may refuse or warn
            for message in check_change(found, self.operation):
                self.warn("restriction_alert", message)
        out = []
        for ref in refs:
            person = found.get(ref.id)
            if person is None:
                raise NotFoundError("指定された住民が見つかりません。")
            if person.latest_seq != ref.version:
                raise ConflictError()
            if require is Status.RESIDENT and person.status != Status.RESIDENT:
                raise DomainError(ErrorCode.NOT_RESIDENT, "この方は現在住民ではありません（除票）。", field="persons")
            if require is Status.REMOVED and person.status != Status.REMOVED:
                raise DomainError(ErrorCode.NOT_REMOVED, "この方は消除されていません（現存者）。", field="persons")
            out.append((person, person.current))
        return out

    def household(self, ref: HouseholdRef) -> Household:
        """An existing household the clerk chose as destination; its version must be current."""
        household = self.bump(ref.id, expected=ref.version)
        residents = Person.objects.filter(household=household, status=Status.RESIDENT).values_list("id", flat=True)
        self._guard(residents)  # joining a protected person's household [440]
        for message in check_change((), self.operation, household_ids=[ref.id]):  # 世帯単位の抑止 [410]
            self.warn("restriction_alert", message)
        return household

    def _guard(self, person_ids, *, protected: set[int] | None = None) -> None:
        ids = set(person_ids) - self._guarded
        if ids:
            guard_change(self.session, ids, protected=protected)
            self._guarded |= ids

    def bump(self, household_id: int, *, expected: int | None = None) -> Household:
        """Advance the household's lock version once per change (optimistic concurrency).

        One `UPDATE … RETURNING`: it takes the row lock, checks the version the clerk saw and
        reads the household back, so a stale screen is a conflict and nothing else is read.
        """
        if household_id in self._bumped:
            household = self._touched_households[household_id]
            if expected is not None and household.lock_version != expected + 1:
                raise ConflictError()
            return household
        sql = (f"UPDATE {Household._meta.db_table} SET lock_version = lock_version + 1 WHERE id = %s"
               + (" AND lock_version = %s" if expected is not None else "")
               + " RETURNING number, lock_version, head_absent_since")
        with connection.cursor() as cur:
            cur.execute(sql, [household_id] if expected is None else [household_id, expected])
            row = cur.fetchone()
        if row is None:
            if expected is not None and not _household_exists(household_id):
                raise NotFoundError("指定された世帯が見つかりません。")
            raise ConflictError()
        household = Household(id=household_id, number=row[0], lock_version=row[1], head_absent_since=row[2])
        self._bumped.add(household_id)
        self._touched_households[household_id] = household
        return household

    def current_members(self, household: Household) -> list[tuple[Person, PersonVersion]]:
        """Current residents of a household, read once per change until one of them changes."""
        if household.id not in self._members:
            people = (
                Person.objects.select_related("current")
                .filter(household=household, status=Status.RESIDENT)
                .order_by("id")
            )
            self._members[household.id] = [(p, p.current) for p in people]
            self.session.record(p.id for p, _ in self._members[household.id])
        return list(self._members[household.id])

    def member_ids(self, household: Household) -> set[int]:
        """Ids of the current residents of a household (no personal items read)."""
        with connection.cursor() as cur:  # on every 転居: plain SQL, no ORM compile
            cur.execute(f"SELECT id FROM {Person._meta.db_table} WHERE household_id = %s AND status = %s",
                        [household.id, Status.RESIDENT.value])
            ids = {row[0] for row in cur.fetchall()}
        self.session.record(ids)
        return ids

    def town(self, code: str) -> Town:
        """The 町字 of an address the change writes, from the dictionary (active only); once checked
        here, the version's own check (`people.check_items`) does not look it up again."""
        town = people.resolve_town(code)
        self._checked_towns.add(town.id)
        return town

    def household_address(self, household: Household) -> PersonVersion:
        members = self.current_members(household)
        if not members:
            raise DomainError(ErrorCode.HOUSEHOLD_MISMATCH, "指定された世帯には現在の世帯員がいません。", field="household")
        return members[0][1]

    # --- writing -----------------------------------------------------------------------------

    def new_household(self) -> Household:
        household = Household.objects.create(number=numbers.allocate(numbers.HOUSEHOLD)[0])
        self._membership_changed.add(household.id)
        self._bumped.add(household.id)
        self._touched_households[household.id] = household
        return household

    def new_person(self) -> Person:
        person = Person.objects.create(atena_number=numbers.allocate(numbers.ATENA)[0], status=Status.RESIDENT)
        self.session.record([person.id])
        return person

    def write(
        self,
        person: Person,
        data: dict,
        reason: reasons.Reason,
        *,
        allowed: set[str] | None = None,
        event_date: dt.date | None = None,
    ) -> PersonVersion:
        old = person.current
        event_date = event_date or self.event_date
        if old is not None and event_date < old.event_date and reason not in _MAY_PRECEDE_LATEST:
            # A full-row version dated before the latest one would carry the later state back
            # in time for "as of" reads (ADR 0001): the later change must be cancelled first.
            raise DomainError(
                ErrorCode.EVENT_DATE_BEFORE_LATEST,
                "この方には、入力された異動日より後の日付の異動が記録されています。後の異動を取り消してから処理してください。",
                field="event_date",
            )
        before = version_data(old) if old is not None else None
        people.check_items(data, before=before, checked_towns=self._checked_towns)
        if before is not None and any(before.get(f) != data.get(f) for f in NAME_FIELDS):
            self._renamed.add(person.id)
        if before is not None and allowed is not None:
            extra = _changed_fields(before, data) - allowed
            if extra:
                raise DomainError(
                    ErrorCode.FIELD_NOT_CHANGEABLE,
                    f"{reasons.OPERATION_LABELS[self.operation]}では変更できない項目が含まれています。",
                    details={"fields": sorted(extra)},
                )
        version = PersonVersion(
            person=person, seq=person.latest_seq + 1, change=self.change, reason=reason, event_date=event_date, **data
        )
        if connection.vendor == "postgresql":  # the version, its search keys and the head in one round trip
            moved = _write_version(person, version, search.new_keys(person.id, version.seq, data, before))
        else:
            sql.insert(version)  # built once, not compiled per call: see juki.core.sql
            search.index_version(person.id, version.seq, data, before)
            moved = _advance_head(person, version)
        if not moved:
            raise ConflictError()
        before_household = old.household_id if old else None
        person.latest_seq, person.current, person.status = version.seq, version, version.status
        person.removed_on, person.household_id = version.removed_on, version.household_id
        for hid in {before_household, version.household_id} - {None}:
            self.bump(hid)
            self._members.pop(hid, None)
        if old is None or (old.household_id, old.relationship, old.status) != (
            version.household_id, version.relationship, version.status
        ):
            self._membership_changed.update({before_household, version.household_id} - {None})
        self._events.append(
            {
                "person_id": person.id,
                "atena_number": person.atena_number,
                "reason": str(reason),
                "reason_label": reasons.label(reason),
                "reason_category": str(reasons.category(reason)),
                "event_date": version.event_date.isoformat(),
                "version_before": old.seq if old else None,
                "version_after": version.seq,
                "household_before": before_household,
                "household_after": version.household_id,
                "status_after": version.status,
                "my_number_changed": bool(old is None and version.my_number_digest)
                or bool(old is not None and old.my_number_digest != version.my_number_digest),
                "resident_code_changed": (old.resident_code if old else "") != version.resident_code,
            }
        )
        return version

    # --- closing -----------------------------------------------------------------------------

    def _refresh_head_flags(self) -> None:
        for household in self._touched_households.values():
            if household.id not in self._membership_changed:
                continue  # nobody joined, left or changed 続柄: the flag cannot have changed
            members = list(
                Person.objects.filter(household=household, status=Status.RESIDENT).values_list(
                    "current__relationship", flat=True
                )
            )
            if members.count(HEAD) > 1:
                raise DomainError(ErrorCode.INVALID_RELATIONSHIP, "この異動の結果、世帯主が2人になる世帯があります。",
                                  details={"household_id": household.id})
            absent = bool(members) and HEAD not in members
            if absent and household.head_absent_since is None:
                Household.objects.filter(pk=household.pk).update(head_absent_since=self.event_date)
                household.head_absent_since = self.event_date
                self.warn(
                    "head_absent",
                    "世帯主が不在の世帯があります。世帯主変更の届出を依頼してください（世帯主変更依頼の対象として一覧に載ります）。",
                )
            elif not absent and household.head_absent_since is not None:
                Household.objects.filter(pk=household.pk).update(head_absent_since=None)
                household.head_absent_since = None

    def finish(self) -> ChangeResult:
        if not self._events:
            raise DomainError(ErrorCode.NOTHING_CHANGED, "変更する内容がありません。")
        # Also those written without being chosen: a household's address or 続柄 carried along.
        self._guard(e["person_id"] for e in self._events if e["version_before"] is not None)
        self._refresh_head_flags()
        change_written.send(sender=ChangeWriter, session=self.session, change=self.change, person_events=self._events,
                            renamed=frozenset(self._renamed))
        households = sorted(self._touched_households.values(), key=lambda h: h.id)
        payload = {
            "schema": OUTBOX_SCHEMA,
            "change_id": self.change.id,
            "operation": str(self.operation),
            "processed_at": self.change.processed_at.isoformat(),
            "event_date": self.change.event_date.isoformat(),
            "notified_on": self.change.notified_on.isoformat() if self.change.notified_on else None,
            "late_notification": self.change.late_notification,
            "cancels_change_id": self.change.cancels_id,
            "persons": self._events,
            "households": [
                {"household_id": h.id, "number": h.number, "version": h.lock_version,
                 "head_absent": h.head_absent_since is not None}
                for h in households
            ],
        }
        if connection.vendor == "postgresql":  # the lock first, then the row: ids commit in order
            sql.insert_after_lock(OutboxEvent(change=self.change, payload=payload), _OUTBOX_LOCK_KEY)
        else:
            sql.insert(OutboxEvent(change=self.change, payload=payload))
        if (approval := _approval.get()) is not None:
            _close_pending(approval, self.change)
        # Ties the log row to what it wrote: a 開示請求 lists a change only for those it wrote (ADR 0014).
        self.session.criteria["change_id"] = self.change.id
        self.session.write_log()
        return ChangeResult(
            change_id=self.change.id,
            operation=str(self.operation),
            persons=[
                {"id": e["person_id"], "atena_number": e["atena_number"], "version": e["version_after"],
                 "reason": e["reason"], "reason_label": e["reason_label"]}
                for e in self._events
            ],
            households=[{"id": h.id, "number": h.number, "version": h.lock_version} for h in households],
            warnings=self.warnings,
        )


def _close_pending(approval: Approval, change: Change) -> None:
    """Mark the 仮登録 approved, only if it still is pending: two reviewers cannot both commit it."""
    from ..models import PendingChange, PendingEvent

    done = PendingChange.objects.filter(pk=approval.pending_id, state=PendingChange.State.PENDING).update(
        state=PendingChange.State.APPROVED, change=change, reviewed_by=change.approved_by, reviewed_at=timezone.now())
    if done != 1:
        raise ConflictError("この仮登録は既に審査されています。一覧を更新してください。")
    PendingEvent.objects.create(pending_id=approval.pending_id, kind=PendingEvent.Kind.APPROVED, by=change.approved_by)


def _check_dates(event_date: dt.date, notified_on: dt.date | None, *, allow_future: bool) -> None:
    now = clock.today()
    if event_date > now and not allow_future:
        raise DomainError(
            ErrorCode.EVENT_DATE_IN_FUTURE, "異動日には本日以前の日付を入力してください（転出予定日を除く）。", field="event_date"
        )
    if notified_on is not None and notified_on > now:
        raise DomainError(ErrorCode.NOTIFIED_DATE_IN_FUTURE, "届出日には本日以前の日付を入力してください。", field="notified_on")


@contextmanager
def change_scope(
    *,
    actor: Actor,
    operation: reasons.Operation,
    event_date: dt.date,
    notified_on: dt.date | None = None,
    note: str = "",
    criteria: dict | None = None,
    allow_future: bool = False,
    late_after: dt.date | None = None,
    cancels: Change | None = None,
    perm: Perm | str | None = None,
) -> Iterator[ChangeWriter]:
    """Gate + transaction + writer. The block must call `writer.finish()` as its last step."""
    criteria = {"operation": str(operation), "event_date": event_date.isoformat(), **(criteria or {})}
    # Each operation is its own right (C02): change.<operation>; committing another clerk's
    # 仮登録 needs the review right instead (the entry was checked against the clerk's right).
    if perm is None:
        perm = Perm.CHANGE_APPROVE if _approval.get() is not None else f"change.{operation}"
    with gate.open(actor, function=f"change.{operation}", perm=perm, criteria=criteria) as session:
        _check_dates(event_date, notified_on, allow_future=allow_future)
        if notified_on is not None and notified_on < event_date and operation in reasons.NOTIFIED_OPERATIONS \
                and operation != reasons.Operation.MOVE_OUT:
            # Only a 転出 is notified in advance (法第24条); every other 届出 follows what it reports.
            raise DomainError(ErrorCode.NOTIFIED_BEFORE_EVENT,
                              "届出日が異動日より前です。転出以外の届出は、異動のあった日以後の日付になります。",
                              field="notified_on")
        late = False
        if notified_on is not None and operation in reasons.NOTIFIED_OPERATIONS:
            start = late_after or event_date
            late = (notified_on - start).days > settings.JUKI_NOTIFICATION_PERIOD_DAYS
        try:
            with transaction.atomic():
                approval = _approval.get()
                notifier = _notifier.get() or Notifier()
                change = sql.insert(Change(
                    operation=operation,
                    event_date=event_date,
                    notified_on=notified_on,
                    operator=approval.entered_by if approval else actor.user,
                    approved_by=actor.user if approval else None,
                    system=actor.system,
                    terminal=approval.entered_terminal if approval else actor.terminal,
                    late_notification=late,
                    cancels=cancels,
                    note=note,
                    notifier_name=notifier.name,
                    notifier_relationship=notifier.relationship,
                ))
                writer = ChangeWriter(session=session, operation=operation, change=change)
                if late:
                    writer.warn(
                        "late_notification",
                        f"届出期間（{settings.JUKI_NOTIFICATION_PERIOD_DAYS}日）を経過した届出です。届出期間経過として一覧に載ります。",
                    )
                yield writer
                if not session.logged:
                    raise RuntimeError("change_scope block ended without writer.finish()")
        except OperationalError as exc:  # deadlock / serialization failure between two clerks
            if sqlstate(exc) in ("40P01", "40001"):
                raise ConflictError() from None
            raise
