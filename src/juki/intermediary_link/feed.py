"""The 副本's feed (S1-11: "push household information on every change"), under the destination
`intermediary` and its own system actor.

- `run_once`: one batch of the outbox. The persons its events name and every current member of the
  households they name (a 世帯主's change reaches each member's answer) are read as 住民票関係情報
  (`selectors.replica_relations`, one provision row), keyed by their 統一識別番号 (`atena`), and sent;
  the cursor moves only after the platform stored them. The platform keeps a row only from a newer
  position, so a batch sent again after a crash changes nothing: every change lands once.
- `load`: the full load from one consistent read (`extract.replica_full`), page by page under one load
  id; the platform drops rows the load did not carry; the cursor goes to the read's position.
- `reconcile` (C28): the platform's export compared with the register now, item by item; the
  differences named by 統一識別番号 and item, never by value.
"""
from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field

from django.db import transaction

from juki.accounts.permissions import Perm
from juki.atena import services as atena
from juki.audit import gate
from juki.audit.gate import Actor
from juki.network.wire import Client
from juki.register import selectors
from juki.register.services import extract, outbox

from .models import ProvisionRecord

DESTINATION = "intermediary"
PAGE = 2000


def actor() -> Actor:
    return Actor.system_actor(DESTINATION)


class PlatformRefused(Exception):
    def __init__(self, status: int, answer: dict):
        super().__init__(f"{status} {answer.get('code')}")
        self.status, self.code = status, answer.get("code", "")


def post(client: Client, path: str, body: dict) -> dict:
    status, answer = client.call("POST", path, body)
    if status != 200:
        raise PlatformRefused(status, answer)
    return answer


@dataclass
class Batch:
    events: int = 0
    sent: int = 0
    waiting: int = 0  # persons the 宛名 has not numbered yet: the batch waits for atena.sync
    position: int = 0


def _records(me: Actor, relations: dict[int, dict], *, within: bool = False) -> tuple[list[dict], set[int]]:
    """The rows keyed by 統一識別番号, and the persons the 宛名 has not numbered yet. `within`: inside the
    full read's gate session and read-only view (no log row of its own)."""
    numbers = atena.unified_numbers_within(relations) if within else atena.unified_numbers(me, relations)
    records = [{"unified_number": numbers[pid], **record} for pid, record in relations.items() if pid in numbers]
    return records, set(relations) - set(numbers)


def run_once(client: Client, *, limit: int = 200) -> Batch:
    me, batch = actor(), Batch()
    if outbox.outbox_position() <= outbox.outbox_cursor(DESTINATION):
        return batch  # nothing new: no read, no empty row in the access log
    with transaction.atomic():
        events = outbox.outbox_read(actor=me, destination=DESTINATION, limit=limit)["events"]
        if not events:
            return batch
        persons, households = set(), set()
        for event in events:
            persons |= {p["person_id"] for p in event["persons"]}  # a blocked (protected) person too
            for p in event["persons"]:
                households |= {h for h in (p.get("household_before"), p.get("household_after")) if h}
        relations = selectors.replica_relations(actor=me, person_ids=persons, household_ids=households,
                                                criteria={"purpose": "中間サーバーの副本（住民票関係情報）"})
        records, missing = _records(me, relations)
        if missing:
            batch.waiting = len(missing)
            return batch  # nothing sent, nothing acknowledged; the read stays logged
        position = events[-1]["position"]
        for start in range(0, len(records), PAGE):
            post(client, "/replica/changes", {"position": position, "records": records[start:start + PAGE]})
        outbox.outbox_ack(actor=me, destination=DESTINATION, position=position)
        batch.events, batch.sent, batch.position = len(events), len(records), position
    return batch


def load(client: Client) -> dict:
    """The full load; then the cursor at the position the read includes."""
    me, load_id, sent, waiting = actor(), secrets.token_hex(8), 0, 0

    def sink(rows: list[tuple[int, dict]], position: int) -> None:
        nonlocal sent, waiting
        records, missing = _records(me, dict(rows), within=True)
        waiting += len(missing)
        if records:  # at the snapshot's position: a change after it (newer) is not overwritten
            post(client, "/replica/full", {"load_id": load_id, "position": position, "records": records})
            sent += len(records)

    summary = extract.replica_full(actor=me, sink=sink, chunk=PAGE)
    if waiting:
        raise PlatformRefused(409, {"code": "atena_behind"})  # no 統一識別番号 yet: run `juki linkage setup`
    answer = post(client, "/replica/full", {"load_id": load_id, "position": summary.position, "records": [],
                                             "last": True, "count": sent})
    with transaction.atomic():
        if summary.position > outbox.outbox_cursor(DESTINATION):
            outbox.outbox_ack(actor=me, destination=DESTINATION, position=summary.position)
    return {"sent": sent, "removed": answer["removed"], "position": summary.position}


@dataclass
class Reconciliation:
    checked: int = 0
    missing: list[str] = field(default_factory=list)  # in the register, not in the 副本
    extra: list[str] = field(default_factory=list)  # in the 副本, not a resident of the register
    differing: dict[str, list[str]] = field(default_factory=dict)  # 統一識別番号 → items that differ

    @property
    def differences(self) -> int:
        return len(self.missing) + len(self.extra) + len(self.differing)


_COMPARED = ("status", "is_head", "head_name", "relationship", "no_auto")


def reconcile(client: Client) -> Reconciliation:
    """C28: the 副本 as the platform exports it against the register now (residents)."""
    me, expected = actor(), {}

    def sink(rows: list[tuple[int, dict]], position: int) -> None:
        records, _ = _records(me, dict(rows), within=True)
        expected.update((r["unified_number"], r) for r in records if r["status"] == "resident")

    summary = extract.replica_full(actor=me, sink=sink, chunk=PAGE)
    result, after = Reconciliation(), ""
    while True:
        status, page = client.call("POST", "/replica/export", {"after": after, "limit": 5000})
        if status != 200:
            raise PlatformRefused(status, page)
        if not page["rows"]:
            break
        for row in page["rows"]:
            result.checked += 1
            mine = expected.pop(row["unified_number"], None)
            if mine is None:
                if row["status"] == "resident":
                    result.extra.append(row["unified_number"])
                continue
            if differing := [k for k in _COMPARED if row[k] != mine[k]]:
                result.differing[row["unified_number"]] = differing
        after = page["rows"][-1]["unified_number"]
    result.missing = sorted(expected)
    post(client, "/replica/reconciled", {"differences": result.differences, "position": summary.position})
    return result


def sweep(client: Client) -> dict:
    """支援措置・抑止 begun or ended without a 異動 (no outbox event): the persons whose 自動応答不可フラグ
    must change are sent again with it. The candidates are the platform's flagged persons and the
    register's protected ones (and their households); each is compared by its own rule
    (`selectors.replica_record`), so the city keeps no list of protected persons of its own."""
    me = actor()
    status, answer = client.call("GET", "/replica/flagged")
    if status != 200:
        raise PlatformRefused(status, answer)
    had = set(answer["unified_numbers"])
    with gate.open(me, function="intermediary.protect", perm=Perm.LINKAGE_READ):
        candidates = selectors.replica_flagged() | set(atena.persons_of(me, had).values())
    relations = selectors.replica_relations(actor=me, person_ids=candidates,
                                            criteria={"purpose": "自動応答不可フラグの確認"})
    records, _ = _records(me, relations)
    changed = [r for r in records if r["no_auto"] != (r["unified_number"] in had)]
    if changed:
        # The cursor's position: these rows reflect the register at least as of it (a later change wins).
        post(client, "/replica/changes", {"position": outbox.outbox_cursor(DESTINATION), "records": changed})
    return {"flagged": sum(1 for r in changed if r["no_auto"]), "cleared": sum(1 for r in changed if not r["no_auto"])}


def copied_up_to() -> int:
    """The platform's record number the city's copy has reached (read once, at the loop's start)."""
    with gate.open(actor(), function="intermediary.records_copy", perm=Perm.ATENA_QUERY):
        return ProvisionRecord.objects.order_by("-platform_id").values_list("platform_id", flat=True).first() or 0


def pull_records(client: Client, *, after: int | None = None, limit: int = 1000) -> int:
    """The platform's new 情報提供等記録 into the city's copy (`ProvisionRecord`), each tied to its register
    person through the 宛名; returns the record number reached. The platform is asked first, outside the
    gate (its answer is the platform's, not the register's): an idle turn writes no log row. Only
    settled rows (a few seconds old) are taken, so none committed late behind a higher number is
    skipped; the platform's number is unique here, so a row taken twice is stored once."""
    me = actor()
    after = copied_up_to() if after is None else after
    while True:
        status, page = client.call("POST", "/records", {"after": after, "limit": limit, "settled": True})
        if status != 200:
            raise PlatformRefused(status, page)
        rows = page["records"]
        if not rows:
            return after
        with gate.open(me, function="intermediary.records_copy", perm=Perm.ATENA_QUERY) as session:
            persons = atena.persons_of(me, {r["unified_number"] for r in rows if r["unified_number"]})
            with transaction.atomic():
                ProvisionRecord.objects.bulk_create([ProvisionRecord(
                    platform_id=r["id"], inquiry_id=r["inquiry_id"], at=r["at"], event=r["event"],
                    requester=r["requester"], provision=r["provision"], affair=r["affair"], items=r["items"],
                    unified_number=r["unified_number"] or "", person_id=persons.get(r["unified_number"]),
                    reason=r["reason"], staff=r["staff"], keep_until=r["keep_until"]) for r in rows],
                    ignore_conflicts=True)
            session.record(set(persons.values()))
        after = rows[-1]["id"]


def purge_copy(*, today: dt.date, execute: bool) -> int:
    """The city's copy of the 情報提供等記録 past its 保存期限 (`keep_until`, 7 years: 番号法施行令29条), removed
    (`juki retention purge`); returns how many were due. The log row carries the count, not the persons."""
    with gate.open(actor(), function="intermediary.records_purge", perm=Perm.ATENA_QUERY,
                   criteria={"before": today.isoformat(), "execute": execute}) as session:
        due = ProvisionRecord.objects.filter(keep_until__lt=today)
        count = due.count()
        if execute and count:
            with transaction.atomic():
                due.delete()
        session.tally(count)
        return count
