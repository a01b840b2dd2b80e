"""The 庁内連携's consumers: one per destination, each reading the register's outbox as its own system
actor and handing over exactly the items its data-use application approves (C16).

Two phases, so that a crash loses and doubles nothing:

1. **collect**: in one transaction, read the events after the destination's cursor, read their
   versions' approved items through the register's selector (the provision row, C07), write a
   `Delivery` (JSON: the records sealed; files: the file in the spool, written before the commit) and
   move the cursor. Killed before the commit: nothing happened. After: the delivery exists.
2. **send**: the pending deliveries in their order. JSON: signed (Ed25519) and posted over mutual TLS
   to the destination's receiving service, which takes each delivery id once; files: moved into the
   destination's folder under a name made of the sequence. Then marked delivered. Killed in between:
   sent again, and the destination answers "duplicate" (or the file is already there).

The rhythm is the registry's: 随時 within seconds; 日次 the day before's changes, once, at the first turn
after `DAILY_HOUR`; 月次 the month's full file, once, at the first turn of the month after `MONTHLY_HOUR`
(the 1st, when the consumer runs every day). The tests give the turn its clock. Without an
approval in force nothing is read: the persons the events name are recorded as refused
(`linkage.refuse`, outcome `approval_ended`), and the events are passed.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone

from juki.accounts import destinations
from juki.accounts.destinations import Delivery as Mode
from juki.accounts.destinations import Frequency
from juki.audit import events as audit_events
from juki.audit.gate import Actor
from juki.accounts.permissions import Perm
from juki.audit import gate
from juki.core import mynumber
from juki.core.errors import DomainError
from juki.protection import enforcement as protection
from juki.network.wire import Unreachable
from juki.register import selectors
from juki.register.services import extract, outbox

from . import approvals, config, files, signing
from .models import Approval, Delivery

DAILY_HOUR = 2  # 日次: the day's changes, after 2 a.m. the next day
MONTHLY_HOUR = 3  # 月次: on the 1st, after 3 a.m.
PAGE = 500  # events per outbox read
JSON_PAGE = 100  # events per JSON delivery: a few hundred records, one POST

# The records' own envelope (every destination gets it): where in the outbox, which change, which
# 異動 for this person. The person's items follow under "items".
_ENVELOPE_COLUMNS = (("position", "異動の位置", 10, "number"), ("change_id", "異動番号", 10, "number"),
                     ("notice", "異動の別", 8, "text"), ("notice_date", "異動の年月日", 8, "date"))
# Fixed-width (中間標準レイアウト風) widths in bytes of CP932, per item.
_WIDTHS = {"atena_number": 10, "name": 40, "name_kana": 60, "alias_name": 40, "birth_date": 8, "sex": 2,
           "postal_code": 7, "address": 120, "town_code": 11, "ward": 12, "household_number": 10,
           "relationship": 20, "head_name": 40, "resident_kind": 12, "status": 4, "reason": 24, "event_date": 8,
           "notified_on": 8, "became_resident_on": 8, "address_set_on": 8, "removed_on": 8,
           "previous_address": 120, "move_out_address": 120, "domicile": 120, "domicile_head": 40,
           "nationality": 40, "residence_status": 40, "stay_expires_on": 8, "article_30_45": 40}
_DATES = {"birth_date", "event_date", "notified_on", "became_resident_on", "address_set_on", "removed_on",
          "stay_expires_on"}
_CODES = {"atena_number", "postal_code", "town_code", "household_number"}


# The envelope's items that are the person's: only for an application that has the item (C16).
_ENVELOPE_NEEDS = {"notice": "reason", "notice_date": "event_date"}


def envelope_keys(items) -> list[str]:
    return [k for k, *_ in _ENVELOPE_COLUMNS if _ENVELOPE_NEEDS.get(k, k) in items or k not in _ENVELOPE_NEEDS]


def columns_of(items, *, envelope: bool) -> list[files.Column]:
    keep = set(envelope_keys(items)) if envelope else set()
    cols = [files.Column(k, label, width, kind) for k, label, width, kind in _ENVELOPE_COLUMNS if k in keep]
    for key in sorted(items):
        kind = "date" if key in _DATES else "code" if key in _CODES else "text"
        cols.append(files.Column(key, destinations.REGISTER_ITEMS[key], _WIDTHS[key], kind))
    return cols


@dataclass
class Outcome:
    collected: list[int] = field(default_factory=list)  # sequences written
    sent: list[int] = field(default_factory=list)
    refused: int = 0  # persons recorded as refused (no approval)
    withheld: int = 0  # persons recorded as withheld (支援措置・抑止)
    error: str = ""


def _actor(code: str) -> Actor:
    return Actor.system_actor(code)


def _next_sequence(code: str) -> int:
    return (Delivery.objects.filter(destination=code).aggregate(n=Max("sequence"))["n"] or 0) + 1


def _refuse(code: str, person_ids, *, outcome: str, items, criteria: dict, flags=()) -> int:
    """The refused provision, per person (C07: refused attempts are kept 7 years too). `flags`: the row is
    about protected persons (a 開示請求 by a 支援措置's 相手方 leaves it out, ADR 0014)."""
    ids = sorted(set(person_ids))
    if ids:
        audit_events.record(_actor(code), function="linkage.refuse", outcome=outcome, person_ids=ids, flags=flags,
                            criteria={"consumer": code, "items": sorted(items), **criteria})
    return len(ids)


def _last_items(code: str, found: destinations.Destination) -> list[str]:
    """The items the destination received last (its latest application's), for a refusal's record."""
    last = Approval.objects.filter(destination=code).order_by("-id").values_list("items", flat=True).first()
    return list(last) if last else sorted(found.register_items)


def _records(events: list[dict], read: selectors.LinkageRead, items, persons: list[int] | None = None) -> list[dict]:
    """The delivery's records; `persons` gets the register's person id of each (kept sealed with the
    delivery, never sent: a delivery that waited is checked again before it goes)."""
    keys = envelope_keys(items)
    out = []
    for e in events:
        for p in e["persons"]:
            if p.get("blocked") or (p["person_id"], p.get("version_after")) not in read.records:
                continue
            values = {"position": e["position"], "change_id": e["change_id"], "notice": p.get("reason_label") or "",
                      "notice_date": e.get("event_date")}
            out.append({**{k: values[k] for k in keys}, "items": read.records[(p["person_id"], p["version_after"])]})
            if persons is not None:
                persons.append(p["person_id"])
    return out


def _read_events(code: str, *, limit: int, after: int | None = None, until: int | None = None) -> list[dict]:
    """Events after the cursor (or `after`), page by page up to `limit` (and up to position `until`)."""
    actor, out = _actor(code), []
    while len(out) < limit:
        page = outbox.outbox_read(actor=actor, destination=code, limit=min(PAGE, limit - len(out)),
                                  after=out[-1]["position"] if out else after)["events"]
        if until is not None:
            page = [e for e in page if e["position"] <= until]
        if not page:
            break
        out.extend(page)
    return out


def _read_items(code: str, approval: Approval, events: list[dict], sequence: int,
                persons: list[int] | None = None) -> tuple[list[dict], int, int]:
    """The approved items of the versions the events name, and the withheld recorded as refused."""
    versions = [(p["person_id"], p["version_after"]) for e in events for p in e["persons"]
                if not p.get("blocked") and p.get("version_after")]
    blocked = {p["person_id"]: p["blocked"] for e in events for p in e["persons"] if p.get("blocked")}
    read = selectors.linkage_records(actor=_actor(code), destination=code, versions=versions, items=approval.items,
                                     criteria={"delivery": sequence, "approval": approval.id})
    withheld = {**blocked, **read.withheld}
    for why in set(withheld.values()):
        _refuse(code, [pid for pid, w in withheld.items() if w == why], outcome="withheld", items=approval.items,
                criteria={"delivery": sequence}, flags=[why])
    return (_records(events, read, approval.items, persons), len({pid for pid, _ in read.records}),
            len(withheld))


def _sealed(records: list[dict], persons: list[int] | None = None) -> tuple[str, bytes]:
    return mynumber.seal_json({"records": records, "persons": persons or []})


def _spool_path(code: str, sequence: int, suffix: str) -> Path:
    return config.spool(code) / f"{sequence:08d}{suffix}"


def _suffix(found: destinations.Destination) -> str:
    return ".dat" if found.delivery == Mode.FIXED else ".csv"


def _write_file(found: destinations.Destination, path: Path, items, rows, *, envelope: bool) -> files.FileSummary:
    config.private_dir(path.parent)
    cols = columns_of(items, envelope=envelope)
    keys = envelope_keys(items)
    flat = ({**{k: r.get(k) for k in keys}, **r["items"]} if envelope else r for r in rows)
    if found.delivery == Mode.FIXED:
        return files.write_fixed(path, cols, flat)
    return files.write_csv(path, cols, flat, encoding="cp932" if found.delivery == Mode.CSV_CP932 else "utf-8")


def _file_name(code: str, delivery: Delivery, suffix: str) -> str:
    stamp = delivery.period.replace("-", "") if delivery.period else timezone.localdate().strftime("%Y%m%d")
    return f"{code}_{delivery.kind}_{stamp}_{delivery.sequence:08d}{suffix}"


def _no_approval(code: str, events: list[dict], approval_items) -> int:
    ids = {p["person_id"] for e in events for p in e["persons"]}
    return _refuse(code, ids, outcome="approval_ended", items=approval_items,
                   criteria={"positions": [events[0]["position"], events[-1]["position"]]})


# --- collect -------------------------------------------------------------------------------------


def collect_changes(code: str, *, limit: int = JSON_PAGE, kind: str = Delivery.Kind.CHANGE, period: str = "",
                    after: int | None = None, until: int | None = None) -> Outcome:
    """随時 (and 日次): the events after the cursor as one delivery, the cursor moved in the same
    transaction. A re-send (`after`, `until`) reads again what the destination had, without moving it."""
    found = approvals.destination(code)
    result = Outcome()
    resend = kind == Delivery.Kind.RESEND
    if not resend and outbox.outbox_position() <= outbox.outbox_cursor(code):
        return result  # nothing new: no read, so no empty row in the access log every turn
    read_events: list[dict] = []
    try:
        return _collect(code, found, result, kind=kind, period=period, after=after, until=until, resend=resend,
                        limit=limit, read_events=read_events)
    except DomainError as exc:  # the register refused the read (items beyond the list …): kept, for the operator
        if read_events:
            _refuse(code, {p["person_id"] for e in read_events for p in e["persons"]}, outcome=str(exc.code),
                    items=_last_items(code, found), criteria={"positions": [read_events[0]["position"],
                                                                            read_events[-1]["position"]]})
        result.error = exc.message
        return result


def _collect(code: str, found, result: Outcome, *, kind: str, period: str, after, until, resend: bool, limit: int,
             read_events: list[dict]) -> Outcome:
    with transaction.atomic():
        events = _read_events(code, limit=limit, after=after, until=until)
        read_events.extend(events)
        if not events:
            return result
        approval = approvals.active(code)
        last = events[-1]["position"]
        if approval is None:
            result.refused = _no_approval(code, events, _last_items(code, found))
            if not resend:
                outbox.outbox_ack(actor=_actor(code), destination=code, position=last)
            return result
        sequence = _next_sequence(code)
        who: list[int] = []
        records, persons, result.withheld = _read_items(code, approval, events, sequence, who)
        delivery = Delivery(destination=code, sequence=sequence, kind=kind, period=period, approval=approval,
                            items=approval.items, first_position=events[0]["position"], last_position=last,
                            persons=persons, withheld=result.withheld)
        if found.delivery == Mode.JSON:
            delivery.body_key_id, delivery.body = _sealed(records, who)
        else:
            summary = _write_file(found, _spool_path(code, sequence, _suffix(found)), approval.items, records,
                                  envelope=True)
            delivery.file_name = _file_name(code, delivery, _suffix(found))
            delivery.file_sha256, delivery.file_bytes = summary.sha256, summary.bytes
            delivery.substituted = summary.substituted
        delivery.save()
        if not resend:
            outbox.outbox_ack(actor=_actor(code), destination=code, position=last)
        result.collected.append(sequence)
    return result


def collect_full(code: str, *, kind: str = Delivery.Kind.MONTHLY, period: str = "",
                 removed_since: dt.date | None = None) -> Outcome:
    """全件: every 住民's approved items (and those removed since `removed_since`) as one file, or, for a
    JSON destination, as deliveries of `FULL_PAGE` records. The initial full (`FULL`) also sets the
    cursor to the position the file includes, so the destination follows the outbox from there."""
    found = approvals.destination(code)
    result = Outcome()
    approval = approvals.active(code)
    if approval is None:
        result.error = "approval_ended"
        audit_events.record(_actor(code), function="linkage.refuse", outcome="approval_ended",
                            criteria={"consumer": code, "items": _last_items(code, found), "full": True,
                                      "period": period})
        return result
    sequence = _next_sequence(code)
    spool = _spool_path(code, sequence, ".jsonl" if found.delivery == Mode.JSON else _suffix(found))
    config.private_dir(spool.parent)
    # The read is one consistent view (read-only on PostgreSQL): the rows go to the spool, the deliveries
    # are written after it, with the cursor.
    if found.delivery == Mode.JSON:
        with os.fdopen(os.open(spool, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as out:
            summary = extract.linkage_full(actor=_actor(code), destination=code, items=approval.items,
                                           removed_since=removed_since,
                                           criteria={"delivery": sequence, "approval": approval.id, "kind": kind},
                                           sink=lambda rows: out.writelines(
                                               json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    else:  # the rows stream into the file writer as the read gives them
        summary, file_summary = _full_to_file(found, code, approval, spool, sequence, kind, removed_since)
    for why in set(summary.withheld.values()):
        result.withheld += _refuse(code, [p for p, w in summary.withheld.items() if w == why], outcome="withheld",
                                   items=approval.items, criteria={"delivery": sequence, "full": True}, flags=[why])
    with transaction.atomic():
        deliveries = []
        base = dict(destination=code, kind=kind, period=period, approval=approval, items=approval.items,
                    first_position=summary.position, last_position=summary.position)
        if found.delivery == Mode.JSON:
            with open(spool, encoding="utf-8") as f:
                lines = f.readlines()
            for i in range(0, max(len(lines), 1), FULL_PAGE):
                records = [{"position": summary.position, "change_id": None, "items": json.loads(line)}
                           for line in lines[i:i + FULL_PAGE]]
                d = Delivery(sequence=sequence + len(deliveries), persons=len(records),
                             withheld=result.withheld if not deliveries else 0, **base)
                d.period = period if not deliveries else ""  # the period's constraint: its first part carries it
                d.body_key_id, d.body = _sealed(records)
                deliveries.append(d)
        else:
            d = Delivery(sequence=sequence, persons=summary.delivered, withheld=result.withheld, **base)
            d.file_name = _file_name(code, d, _suffix(found))
            d.file_sha256, d.file_bytes, d.substituted = file_summary.sha256, file_summary.bytes, file_summary.substituted
            deliveries.append(d)
        try:
            Delivery.objects.bulk_create(deliveries)
        except IntegrityError:  # this period's run was made already (a second runner, or a retry after a crash)
            return result
        if kind == Delivery.Kind.FULL and summary.position > outbox.outbox_cursor(code):
            outbox.outbox_ack(actor=_actor(code), destination=code, position=summary.position)
        result.collected.extend(d.sequence for d in deliveries)
    if found.delivery == Mode.JSON:
        spool.unlink(missing_ok=True)
    return result


FULL_PAGE = 1000  # records per JSON delivery of a full


def _full_to_file(found, code: str, approval: Approval, spool: Path, sequence: int, kind: str,
                  removed_since: dt.date | None):
    """The full read written straight into the file: the writer pulls rows from a queue the read's sink
    fills, in one thread (the sink is called chunk by chunk; the writer takes an iterable)."""
    import queue
    import threading

    q: queue.Queue = queue.Queue(maxsize=4)
    done = object()
    outcome: dict = {}

    def writer():
        def rows():
            while (chunk := q.get()) is not done:
                yield from chunk
        try:
            outcome["file"] = _write_file(found, spool, approval.items, rows(), envelope=False)
        except BaseException as exc:  # noqa: BLE001 - handed to the reading thread
            outcome["error"] = exc
            while q.get() is not done:  # drain, so the reader never blocks
                pass

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        summary = extract.linkage_full(actor=_actor(code), destination=code, items=approval.items,
                                       removed_since=removed_since, sink=q.put,
                                       criteria={"delivery": sequence, "approval": approval.id, "kind": kind})
    finally:
        q.put(done)
        thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return summary, outcome["file"]


# --- send ----------------------------------------------------------------------------------------


class Refused(Exception):
    """The destination refused a delivery for good (wrong destination, bad signature …): a dead letter."""


def _payload(delivery: Delivery, records: list[dict]) -> dict:
    return {"delivery_id": delivery.delivery_id, "destination": delivery.destination, "sequence": delivery.sequence,
            "kind": delivery.kind, "period": delivery.period, "items": delivery.items,
            "positions": [delivery.first_position, delivery.last_position],
            "created_at": delivery.created_at.isoformat(), "records": records}


RECHECK_AFTER = dt.timedelta(seconds=5)  # a delivery that waited longer is checked again before it goes


def _rechecked(delivery: Delivery, records: list[dict], persons: list[int]) -> list[dict]:
    """A delivery that waited (its destination was down): what may still go now. An application that
    ended takes every record out; a person protected since is taken out; both recorded as refused. The
    delivery still goes (perhaps empty), so the destination's sequence has no gap."""
    code = delivery.destination
    if timezone.now() - delivery.created_at < RECHECK_AFTER or not records:
        return records
    active = approvals.active(code)
    if active is None or not set(delivery.items) <= set(active.items):
        _refuse(code, persons, outcome="approval_ended", items=delivery.items, criteria={"delivery": delivery.sequence})
        return []
    if len(persons) != len(records):  # sealed before persons were kept: sent as collected
        return records
    with gate.open(_actor(code), function="linkage.recheck", perm=Perm.OUTBOX_CONSUME,
                   criteria={"consumer": code, "delivery": delivery.sequence}) as session:
        held = protection.linkage_withheld(session, set(persons))
    for why in set(held.values()):
        _refuse(code, [p for p in persons if held.get(p) == why], outcome="withheld", items=delivery.items,
                criteria={"delivery": delivery.sequence}, flags=[why])
    return [r for r, p in zip(records, persons) if p not in held]


def _post(delivery: Delivery, key) -> None:
    body = mynumber.open_json(delivery.body_key_id, bytes(delivery.body))
    records = _rechecked(delivery, body["records"], body.get("persons") or [])
    envelope = signing.sign(key, _payload(delivery, records))
    client = config.client(delivery.destination)
    try:
        # The server's certificate must be the destination's own (C17: no wrong recipient), whatever a
        # port file says.
        if (peer := client.peer_name()) != delivery.destination:
            raise Refused(f"wrong_server:{peer}")
        status, answer = client.call("POST", "/deliveries", envelope)
    finally:
        client.close()
    if status == 200:
        return
    code = answer.get("code") or answer.get("error") or str(status)
    if status >= 500 or code == "unavailable":
        raise Unreachable(f"{delivery.destination}: {status} {code}")
    raise Refused(code)


def _hand_over(delivery: Delivery, found: destinations.Destination) -> None:
    target = config.outbound(delivery.destination) / delivery.file_name
    spool = _spool_path(delivery.destination, delivery.sequence, _suffix(found))
    if spool.exists():
        config.private_dir(target.parent)
        with open(spool, "rb") as f:
            os.fsync(f.fileno())
        os.replace(spool, target)  # one rename: the destination sees the whole file or none
    elif not target.exists():
        raise Refused("spool_missing")
    if hashlib.sha256(target.read_bytes()).hexdigest() != delivery.file_sha256:
        raise Refused("file_changed")


def send_pending(code: str, *, limit: int = 50) -> Outcome:
    """The pending deliveries in order; the first that cannot go stops the rest (the order matters)."""
    found = approvals.destination(code)
    result = Outcome()
    key = config.signing_key() if found.delivery == Mode.JSON else None
    pending = list(Delivery.objects.filter(destination=code, state__in=[Delivery.State.PENDING, Delivery.State.DEAD])
                   .order_by("sequence")[:limit])
    for delivery in pending:
        if delivery.state == Delivery.State.DEAD:
            result.error = f"{delivery.delivery_id}: {delivery.last_error}"
            break
        try:
            if found.delivery == Mode.JSON:
                _post(delivery, key)
            else:
                _hand_over(delivery, found)
        except Unreachable as exc:  # down or refusing for now: kept, and the next turn tries again
            Delivery.objects.filter(id=delivery.id).update(attempts=delivery.attempts + 1,
                                                           last_error=f"送信先に接続できません（{exc}）"[:200])
            result.error = str(exc)
            break
        except Refused as exc:
            Delivery.objects.filter(id=delivery.id).update(attempts=delivery.attempts + 1, state=Delivery.State.DEAD,
                                                           last_error=f"送信先が拒否: {exc}"[:200])
            result.error = str(exc)
            break
        Delivery.objects.filter(id=delivery.id).update(attempts=delivery.attempts + 1, state=Delivery.State.DELIVERED,
                                                       delivered_at=timezone.now(), last_error="", body=None,
                                                       body_key_id="")
        result.sent.append(delivery.sequence)
    return result


# --- the rhythm ----------------------------------------------------------------------------------


def started(code: str) -> bool:
    return Delivery.objects.filter(destination=code).exists() or outbox.outbox_cursor(code) > 0


def due(code: str, now: dt.datetime | None = None) -> tuple[str, str] | None:
    """(kind, period) of the scheduled run due now for a 日次 or 月次 destination, or None."""
    found = approvals.destination(code)
    now = timezone.localtime(now or timezone.now())
    if found.frequency == Frequency.DAILY and now.hour >= DAILY_HOUR:
        period = (now.date() - dt.timedelta(days=1)).isoformat()  # the day before's changes
        if not Delivery.objects.filter(destination=code, kind=Delivery.Kind.DAILY, period=period).exists():
            return Delivery.Kind.DAILY, period
    if found.frequency == Frequency.MONTHLY and now.hour >= MONTHLY_HOUR:
        period = now.strftime("%Y-%m")
        if not Delivery.objects.filter(destination=code, kind=Delivery.Kind.MONTHLY, period=period).exists():
            return Delivery.Kind.MONTHLY, period
    return None


@contextmanager
def exclusive(code: str, *, wait: bool) -> Iterator[bool]:
    """One consumer per destination at a time (a second `juki linkage run`, an operator's re-send): two
    would read the same events after the same cursor and deliver them twice. PostgreSQL: an advisory
    lock of the session; SQLite: a lock file (the processes of one server). Yields whether it is held."""
    if connection.vendor == "postgresql":
        key = int.from_bytes(hashlib.sha256(f"juki.linkage:{code}".encode()).digest()[:8], "big", signed=True)
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)" if wait else "SELECT pg_try_advisory_lock(%s)", [key])
            held = wait or bool(cur.fetchone()[0])
        try:
            yield held
        finally:
            if held:
                with connection.cursor() as cur:
                    cur.execute("SELECT pg_advisory_unlock(%s)", [key])
        return
    path = config.private_dir(config.root() / "locks") / f"{code}.lock"
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run_once(code: str, *, now: dt.datetime | None = None) -> Outcome:
    """One turn of a destination's consumer, if no other holds it: start it (initial full), collect what
    its rhythm says is due, then send what is pending."""
    with exclusive(code, wait=False) as held:
        return _turn(code, now=now) if held else Outcome()


def _turn(code: str, *, now: dt.datetime | None) -> Outcome:
    found = approvals.destination(code)
    result = Outcome()
    if found.frequency != Frequency.MONTHLY and not started(code) and approvals.active(code):
        result = collect_full(code, kind=Delivery.Kind.FULL)
    elif found.frequency == Frequency.ON_CHANGE:
        result = collect_changes(code)
    elif (scheduled := due(code, now)) is not None:
        kind, period = scheduled
        if kind == Delivery.Kind.DAILY:
            result = collect_changes(code, limit=10 ** 9, kind=kind, period=period)
            if not result.collected and not result.refused:  # a day without changes: the run is recorded all the same
                _empty_run(code, kind, period)
        else:
            previous = dt.date.fromisoformat(f"{period}-01") - dt.timedelta(days=1)
            result = collect_full(code, kind=kind, period=period, removed_since=previous.replace(day=1))
    sent = send_pending(code)
    result.sent, result.error = sent.sent, sent.error or result.error
    return result


def _empty_run(code: str, kind: str, period: str) -> None:
    approval = approvals.active(code)
    if approval is None:
        return
    found = approvals.destination(code)
    with transaction.atomic():
        sequence = _next_sequence(code)
        delivery = Delivery(destination=code, sequence=sequence, kind=kind, period=period, approval=approval,
                            items=approval.items)
        summary = _write_file(found, _spool_path(code, sequence, _suffix(found)), approval.items, [], envelope=True)
        delivery.file_name = _file_name(code, delivery, _suffix(found))
        delivery.file_sha256, delivery.file_bytes = summary.sha256, summary.bytes
        try:
            with transaction.atomic():
                delivery.save()
        except IntegrityError:
            return


def run_all(*, now: dt.datetime | None = None, codes=None) -> dict[str, Outcome]:
    out = {}
    for found in destinations.LINKAGE:
        if codes is not None and found.code not in codes:
            continue
        try:
            out[found.code] = run_once(found.code, now=now)
        except Exception as exc:  # one destination's fault never stops the others; it is on the screen
            out[found.code] = Outcome(error=f"{type(exc).__name__}: {exc}"[:200])
    return out


# --- the operator's re-send -----------------------------------------------------------------------


def resend(code: str, *, after: int, until: int | None = None) -> Outcome:
    """再送: the events after position `after` (up to the cursor) again, as new deliveries with their own
    sequences, for a destination that lost what it had. The cursor does not move."""
    with exclusive(code, wait=True):
        return _resend(code, after=after, until=until)


def _resend(code: str, *, after: int, until: int | None) -> Outcome:
    cursor = outbox.outbox_cursor(code)
    until = cursor if until is None else min(until, cursor)
    result = Outcome()
    position = after
    while position < until:
        part = collect_changes(code, limit=JSON_PAGE, kind=Delivery.Kind.RESEND, after=position, until=until)
        if not part.collected and not part.refused:
            break
        result.collected += part.collected
        result.withheld += part.withheld
        result.refused += part.refused
        position = Delivery.objects.get(destination=code, sequence=part.collected[-1]).last_position \
            if part.collected else until
    return result


def status_of(code: str) -> dict:
    """What the destinations screen shows: no personal data."""
    found = approvals.destination(code)
    last = Delivery.objects.filter(destination=code, state=Delivery.State.DELIVERED).order_by("-sequence").first()
    pending = Delivery.objects.filter(destination=code, state=Delivery.State.PENDING)
    oldest = pending.order_by("sequence").first()
    dead = Delivery.objects.filter(destination=code, state=Delivery.State.DEAD).count()
    cursor = outbox.outbox_cursor(code)
    return {"destination": found, "approval": approvals.active(code), "cursor": cursor,
            "lag_events": max(0, outbox.outbox_position() - cursor) if found.frequency != Frequency.MONTHLY else None,
            "last": last, "pending": pending.count(), "oldest_pending": oldest, "dead": dead,
            "error": (oldest.last_error if oldest else "")}
