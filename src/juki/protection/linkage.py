"""抑止連携 [410][420]: 抑止 set and released, for the systems downstream.

[410] asks that setting and releasing a 証明書発行 抑止 reach コンビニ交付 and the 住基ネットCS
automatically; [420] that every 抑止 setting and release can go to 宛名 and the other systems.
So each `restriction_set` and `restriction_release` writes one `RestrictionEvent`, in the same
transaction as the restriction and its log row. A 一時解除 writes none: [410] says other systems
must not take it for a 本解除, and it ends by itself.

The events are a stream of their own (`juki.restriction.v1`, docs/outbox.md), read and
acknowledged like the change outbox (`register.services.outbox`) by a destination approved for
this stream (`accounts.destinations`: 宛名, the CS and コンビニ交付), through its own account.
Each applies what concerns it: コンビニ交付 and the CS the events whose `certificate` is true,
宛名 all of them.
"""
from __future__ import annotations

from django.db import connection
from django.utils import timezone

from juki.audit.gate import Actor, GateSession
from juki.register.models import Household, Person
from juki.register.services import outbox

from . import enforcement
from .models import Process, Restriction, RestrictionCursor, RestrictionEvent

SCHEMA = "juki.restriction.v1"
SET, RELEASE = "set", "release"
# Serialises the inserts so ids commit in order (PostgreSQL), like the change outbox's own key.
_LOCK_KEY = 0x6A756B6A


def record(restriction: Restriction, action: str, person_ids: list[int]) -> RestrictionEvent:
    """The event of a 抑止 just set or released; call inside the transaction that wrote it.
    `person_ids`: whom it covers now (a household's members at this moment)."""
    atena = dict(Person.objects.filter(pk__in=person_ids).values_list("id", "atena_number"))
    household = (Household.objects.filter(pk=restriction.household_id).values_list("number", flat=True).first()
                 if restriction.household_id else None)
    payload = {
        "schema": SCHEMA,
        "restriction_id": restriction.id,
        "action": action,
        "processed_at": timezone.now().isoformat(),
        "target": "household" if restriction.household_id else "person",
        "household_id": restriction.household_id,
        "household_number": household,
        "persons": [{"person_id": pid, "atena_number": atena.get(pid, "")} for pid in sorted(set(person_ids))],
        "processes": list(restriction.processes),
        "level": restriction.level,
        "start": restriction.start.isoformat(),
        "end": restriction.end.isoformat() if restriction.end else None,
        # コンビニ交付 and the 住基ネットCS act on these [410].
        "certificate": Process.CERTIFICATE in restriction.processes,
    }
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
    return RestrictionEvent.objects.create(restriction=restriction, payload=payload)


def _deliver(session: GateSession, events: list[dict]) -> list[dict]:
    # A 抑止 has to reach the other systems whoever it protects, so nobody is masked here; a row
    # naming a 支援措置 person is flagged for review like any other read of one.
    if enforcement.protected_ids({p["person_id"] for e in events for p in e["persons"]}):
        session.flag(enforcement.FLAG)
    return events


RESTRICTIONS = outbox.Stream("outbox.restrictions", RestrictionEvent, RestrictionCursor, _deliver)


def restriction_events_read(*, actor: Actor, destination: str, limit: int = 100) -> dict:
    return outbox.read(RESTRICTIONS, actor=actor, destination=destination, limit=limit)


def restriction_events_ack(*, actor: Actor, destination: str, position: int) -> dict:
    return outbox.ack(RESTRICTIONS, actor=actor, destination=destination, position=position)
