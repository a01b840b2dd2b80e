"""Bulk reads of the register: a statistics run, and the snapshot hand-over of a new destination.

A bulk read walks the persons in chunks by person id (keyset: `id > last ORDER BY id LIMIT n`, never
the whole register at once) inside ONE gate session, so it writes ONE access-log row with its
criteria, purpose and count (ADR 0020):

- `statistics_read`: an internal run (統計) by the `statistics` job. The sink receives typed
  `PersonRecord`s with the reader's item rights and the place protection applied. Nothing leaves the
  city's own use, so C07 asks for no per-person proof: the row carries the count only (`tally`).
- `snapshot_hand_over`: a destination's initial load (初期データ). The sink receives one entry per
  person in the outbox's vocabulary (`version_after`, `household_after`, `status_after` …), each with
  only the destination's approved items (C16); the row is a 提供 (category provision) and records
  every person delivered as a subject, like an outbox read, so the provision is provable per person
  for seven years (C07). The read runs in one consistent snapshot (PostgreSQL REPEATABLE READ), which
  also gives the outbox position it includes; the destination's cursor is then set to that position
  so it follows the outbox from exactly there: nothing missed, nothing twice.

支援措置・抑止 by the same rules as today: a statistics run withholds whom a person read of this
actor would refuse (`hidden_persons`); a hand-over delivers a protected or linkage-restricted person
as the outbox's block marker (`outbox_events`). Either way the person is counted as withheld.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Max, Q

from juki.accounts.destinations import CHANGES
from juki.accounts.permissions import Perm
from juki.audit import gate
from juki.audit.gate import Actor, GateSession
from juki.core import clock
from juki.core.errors import AccessDenied, DomainError, ErrorCode
from juki.protection import enforcement as protection

from .. import read_models, reasons, selectors, visibility
from ..models import OutboxCursor, OutboxEvent, Person, PersonVersion, Status, Town
from . import outbox

CHUNK = 2000  # persons per statement; also the gate's batch of subjects


@dataclass(frozen=True)
class Criteria:
    """Which persons a bulk read takes. `as_of` None: each person's newest version (履歴番号), the
    register's current state; a date: the version as of that date (ADR 0001)."""

    as_of: dt.date | None = None
    ward: str | None = None  # 行政区の地方公共団体コード
    status: str | None = None  # Status: resident / removed (of the version read)

    def logged(self) -> dict:
        return {"as_of": self.as_of.isoformat() if self.as_of else None, "ward": self.ward, "status": self.status}


@dataclass(frozen=True)
class Summary:
    function: str
    delivered: int
    withheld: int  # 支援措置・抑止: counted, never delivered
    position: int | None = None  # the hand-over's outbox position (its cursor afterwards)

    @property
    def count(self) -> int:
        """Persons read: delivered and withheld."""
        return self.delivered + self.withheld


def _check(criteria: Criteria) -> None:
    if criteria.status is not None and criteria.status not in Status.values:
        raise DomainError(ErrorCode.INVALID_INPUT, "住民・除票の別の指定が正しくありません。", field="status")


def _status_filter(criteria: Criteria, on: dt.date) -> Q:
    """住民 / 除票 as the register counts them on `on` (`read_models.resides_on`): a person whose
    転出 is dated ahead is still a 住民 (転出予定)."""
    ahead = Q(current__removed_on__gt=on)
    resident = Q(current__status=Status.RESIDENT) | ahead
    return resident if criteria.status == Status.RESIDENT else ~resident


def _chunks(criteria: Criteria, size: int) -> Iterator[list[PersonVersion]]:
    """The versions read, chunk by chunk in person id order (inside the gate), each with its person,
    household and town (the 町字 with its ward and municipality, from one dictionary read once: a
    city has a few thousand, and building them per person was half of the model instances built)."""
    towns = {t.id: t for t in Town.objects.select_related("ward__municipality")}
    last = 0
    on = criteria.as_of or clock.today()
    while True:
        if criteria.as_of is None:
            rows = Person.objects.filter(id__gt=last, current__isnull=False)
            if criteria.status:
                rows = rows.filter(_status_filter(criteria, on))
            if criteria.ward:
                rows = rows.filter(current__town__ward__code=criteria.ward)
            persons = list(rows.select_related("current__household").order_by("id")[:size])
            if not persons:
                return
            last = persons[-1].id
            versions = []
            for p in persons:
                v = p.current
                v.person, v.town = p, towns[v.town_id]  # at hand: no query per version
                versions.append(v)
            yield versions
            continue
        ids = list(Person.objects.filter(id__gt=last).order_by("id").values_list("id", flat=True)[:size])
        if not ids:
            return
        last = ids[-1]
        best: dict[int, PersonVersion] = {}
        for v in PersonVersion.objects.select_related("person", "household").filter(
                person_id__in=ids, event_date__lte=criteria.as_of):
            v.town = towns[v.town_id]
            if v.person_id not in best or v.seq > best[v.person_id].seq:
                best[v.person_id] = v
        yield [v for pid in ids if (v := best.get(pid)) is not None
               and (not criteria.status
                    or read_models.resides_on(v.status, v.removed_on, on) == (criteria.status == Status.RESIDENT))
               and (not criteria.ward or v.town.ward.code == criteria.ward)]


@contextmanager
def _consistent_view(*, strict: bool) -> Iterator[None]:
    """One read transaction: every chunk sees the same committed state.

    PostgreSQL: REPEATABLE READ, READ ONLY, set as the transaction's first statement (the snapshot
    is taken at the next one). Nothing is written in it: the log row and the cursor are written
    after it, in a transaction of their own (the log's hash chain locks its head row, which a
    REPEATABLE READ transaction could not update once another writer moved it). SQLite: one
    transaction (juki's are BEGIN IMMEDIATE), which writers wait for. Inside a caller's transaction
    that one is the view; `strict` (the hand-over) refuses one on PostgreSQL that is not at least
    REPEATABLE READ, since its position would not be tied to what it read.
    """
    if connection.in_atomic_block:
        if strict and connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SELECT current_setting('transaction_isolation')")
                level = cur.fetchone()[0]
            if level not in ("repeatable read", "serializable"):
                raise RuntimeError("the snapshot hand-over takes its own transaction: call it outside transaction.atomic()")
        with transaction.atomic():
            yield
        return
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def _progress(session: GateSession, delivered: int, withheld: int) -> None:
    # In the row's criteria as the run goes, so a run that fails half-way logs how far it got.
    session.criteria.update(delivered=delivered, withheld=withheld)


# --- statistics ----------------------------------------------------------------------------------


STATISTICS_JOB = "statistics"  # accounts.system_actors: its one job allowed a statistics read


def statistics_read(*, actor: Actor, purpose: str, sink: Callable[[list[read_models.PersonRecord]], None],
                    criteria: Criteria = Criteria(), chunk: int = CHUNK) -> Summary:
    """統計のための全件読み取り: records to `sink`, chunk by chunk; one log row with the count only."""
    function = "batch.statistics"
    with gate.open(actor, function=function, perm=Perm.BATCH_RUN,
                   criteria={"purpose": purpose, **criteria.logged()}) as session:
        _check(criteria)
        # Only the listed job (ADR 0020): a staff user holding `batch.run` would read the whole register
        # under one row with a count and no subjects, which no 開示請求 could then show.
        if actor.user is not None or actor.system != STATISTICS_JOB:
            raise AccessDenied("統計のための一括読み取りは、統計の処理（システム）だけが行えます。")
        on = criteria.as_of or clock.today()
        hidden_items = visibility.hidden_rights(session)
        delivered = withheld = 0
        with _consistent_view(strict=False):
            for versions in _chunks(criteria, chunk):
                hidden = protection.hidden_persons(session, [v.person_id for v in versions])
                records = [read_models.record_of(v, session=session, on=on, hidden=hidden_items)
                           for v in versions if v.person_id not in hidden]
                session.tally(len(versions))
                sink(records)
                delivered, withheld = delivered + len(records), withheld + len(hidden)
                _progress(session, delivered, withheld)  # after the sink: a failed chunk is not counted
        return Summary(function=function, delivered=delivered, withheld=withheld)


# --- the snapshot hand-over ----------------------------------------------------------------------


_STATE = ("id", "atena_number", "current__reason", "current__event_date", "current__seq", "current__household_id",
          "current__status")


def _states(size: int) -> Iterator[list[dict]]:
    """Every person's current state in the outbox's words (what applying all its events so far gives),
    chunk by chunk in person id order: plain rows, no model instances (BENCHMARKS.md)."""
    last = 0
    while True:
        rows = list(Person.objects.filter(id__gt=last, current__isnull=False).order_by("id").values_list(*_STATE)[:size])
        if not rows:
            return
        last = rows[-1][0]
        yield [{"person_id": pid, "atena_number": atena, "reason": reason, "reason_label": reasons.label(reason),
                "reason_category": str(reasons.category(reason)), "event_date": on.isoformat(), "version_after": seq,
                "household_after": household, "status_after": status}
               for pid, atena, reason, on, seq, household, status in rows]


def snapshot_hand_over(*, actor: Actor, destination: str, sink: Callable[[list[dict]], None],
                       purpose: str = "初期データの提供", chunk: int = CHUNK) -> Summary:
    """A destination starts from zero: every person's current state to `sink`, then its cursor on the
    outbox set to the position the state includes. Call outside a transaction (PostgreSQL)."""
    function = "outbox.snapshot"
    with gate.open(actor, function=function, perm=Perm.OUTBOX_CONSUME,
                   criteria={"consumer": destination, "purpose": purpose, **Criteria().logged()}) as session:
        allowed = outbox._destination(outbox.CHANGES, actor, destination).allowed(CHANGES)
        delivered = withheld = 0
        with _consistent_view(strict=True):
            # The first read of the snapshot. Event ids commit in id order (writer.finish takes an
            # advisory lock before drawing one), so every event up to this one is in the snapshot,
            # and every later one belongs to a change the snapshot does not contain.
            position = OutboxEvent.objects.aggregate(last=Max("id"))["last"] or 0
            session.criteria["position"] = position
            for states in _states(chunk):
                session.record(e["person_id"] for e in states)
                (masked,) = protection.outbox_events(session, [{"persons": states}])
                entries = [outbox._approved_items(e, allowed) for e in masked["persons"]]
                blocked = sum(1 for e in entries if e.get("blocked"))
                sink(entries)
                delivered, withheld = delivered + len(entries) - blocked, withheld + blocked
                _progress(session, delivered, withheld)  # after the sink: a failed chunk is not counted
        with transaction.atomic():  # the cursor and the log row together
            OutboxCursor.objects.update_or_create(consumer=destination, defaults={"position": position})
            session.write_log()
        return Summary(function=function, delivered=delivered, withheld=withheld,
                       position=position)


# --- 庁内連携: a destination's full file (issue 16) ------------------------------------------------


@dataclass(frozen=True)
class LinkageSummary:
    delivered: int
    withheld: dict[int, str]  # person id → why (支援措置, 抑止(他システム連携)): for the caller's refusal record
    position: int  # the outbox position the file includes


def _current_rows(size: int, removed_since: dt.date | None, values: tuple[str, ...]) -> Iterator[list[dict]]:
    """Every person's newest version, chunk by chunk in person id order, as plain values: the 住民 (a
    転出 dated ahead included) and, with `removed_since`, those removed on or after that day."""
    today = clock.today()
    keep = Q(status=Status.RESIDENT) | Q(removed_on__gt=today)
    if removed_since is not None:
        keep |= Q(removed_on__gte=removed_since)
    # From the person (keyset on its primary key) to its current version (one index look-up each): a
    # filter on the version's side lets PostgreSQL scan every version for each chunk (BENCHMARKS.md).
    names = {v: ("id" if v == "person_id" else "atena_number" if v == "person__atena_number" else f"current__{v}")
             for v in values}
    last = 0
    while True:
        raw = list(Person.objects.filter(id__gt=last, current__isnull=False).order_by("id")
                   .values_list(*names.values())[:size])
        if not raw:
            return
        rows = [dict(zip(names, r)) for r in raw]
        last = rows[-1]["person_id"]
        yield [r for r in rows if r["status"] == Status.RESIDENT or (r["removed_on"] and (
            r["removed_on"] > today or (removed_since is not None and r["removed_on"] >= removed_since)))]


def linkage_full(*, actor: Actor, destination: str, items, sink: Callable[[list[dict]], None],
                 removed_since: dt.date | None = None, criteria: dict | None = None, keyed: bool = False,
                 chunk: int = CHUNK) -> LinkageSummary:
    """全件: every 住民's items (and those removed since `removed_since`) for one 庁内連携 destination,
    read by its own system actor in one consistent view, chunk by chunk to `sink`; one provision row
    (`linkage.deliver`) with every person delivered as a subject (C07). Persons under a 支援措置 or an
    抑止(他システム連携) are not read: counted and returned for the caller's refusal record. `keyed`: the
    sink gets (person id, items) pairs, for the 団体内統合宛名 that ties its number to the register's person."""
    items = frozenset(items)
    with gate.open(actor, function="linkage.deliver", perm=Perm.LINKAGE_READ,
                   criteria={"consumer": destination, "items": sorted(items), "full": True,
                             "removed_since": removed_since.isoformat() if removed_since else None,
                             **(criteria or {})}) as session:
        selectors.linkage_check(session, destination, items)
        if "my_number" in items:
            session.reveal_my_number()
        getters = read_models.linkage_getters(items)
        places = {t.id: read_models.linkage_place(t) for t in Town.objects.select_related("ward__municipality")}
        delivered, withheld = 0, {}
        with _consistent_view(strict=False):
            position = OutboxEvent.objects.aggregate(last=Max("id"))["last"] or 0
            session.criteria["position"] = position
            # Read once for the whole register (a few hundred protected, 437,000 heads at 1 M persons).
            withheld_all = protection.everyone_linkage_withheld(session)
            heads = selectors.linkage_heads(withheld=withheld_all) if "head_name" in items else {}
            for rows in _current_rows(chunk, removed_since, read_models.linkage_values(items)):
                held = {r["person_id"]: withheld_all[r["person_id"]] for r in rows if r["person_id"] in withheld_all}
                rows = [r for r in rows if r["person_id"] not in held]
                session.record(r["person_id"] for r in rows)
                built = [read_models.linkage_items(r, places=places, heads=heads, getters=getters) for r in rows]
                sink(list(zip((r["person_id"] for r in rows), built)) if keyed else built)
                delivered += len(rows)
                withheld.update(held)
                _progress(session, delivered, len(withheld))
        return LinkageSummary(delivered=delivered, withheld=withheld, position=position)


def replica_full(*, actor: Actor, sink: Callable[[list[tuple[int, dict]], int], None],
                 chunk: int = CHUNK) -> LinkageSummary:
    """The 中間サーバー's full load: every 住民's 住民票関係情報 (`selectors.replica_record`) from one
    consistent view, chunk by chunk to `sink` as (person id, record) pairs with the outbox position the
    view includes (the same for every chunk).
    One provision row with every person a subject (C07); protected persons go flagged `no_auto`."""
    with gate.open(actor, function="linkage.deliver", perm=Perm.LINKAGE_READ,
                   criteria={"consumer": "intermediary", "items": sorted(selectors.REPLICA_ITEMS),
                             "full": True}) as session:
        selectors.linkage_check(session, "intermediary", selectors.REPLICA_ITEMS)
        delivered = 0
        with _consistent_view(strict=False):
            position = OutboxEvent.objects.aggregate(last=Max("id"))["last"] or 0
            session.criteria["position"] = position
            withheld = protection.everyone_linkage_withheld(session)
            heads = selectors.replica_heads()
            for rows in _current_rows(chunk, None, ("person_id", "household_id", "relationship", "status",
                                                     "removed_on")):
                session.record(r["person_id"] for r in rows)
                sink([(r["person_id"], selectors.replica_record(r, heads, withheld)) for r in rows], position)
                delivered += len(rows)
                _progress(session, delivered, 0)
        session.criteria["no_auto"] = len(withheld)
        return LinkageSummary(delivered=delivered, withheld={}, position=position)
