"""The CS's work: take an update from S2 (checked, numbered, stored with its history and queued in one
transaction), and pass the queue on to the prefecture server in order.

Delivery is at-least-once on both sides and idempotent on both: S2 sends each message with its id
and the CS answers a repeated one with its first answer; the CS sends each update with its 更新順番号
and the prefecture applies a number once. A kill -9 anywhere loses nothing and applies nothing twice.
"""
from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from juki.core import mynumber
from juki.network.wire import Client, Unreachable

from . import file2
from .models import Counter, IdentityVersion, Inbound, Kind, Outbound

log = logging.getLogger("juki.cs")
BATCH = 200
MAX_BACKOFF = 30.0  # seconds: a prefecture back from an outage is served within this


def _next_seq() -> int:
    Counter.objects.get_or_create(name="update_seq")
    Counter.objects.filter(name="update_seq").update(value=F("value") + 1)  # takes the row's lock until commit
    return Counter.objects.get(name="update_seq").value


def _current(code: str) -> IdentityVersion | None:
    return IdentityVersion.objects.select_for_update().filter(resident_code=code, superseded_at__isnull=True).first()


def receive(message: dict) -> dict:
    """One update from S2: {message_id, kind, items (FILE-2's, 個人番号 included)}. Returns
    {"outcome": "accepted", "seq"} or {"outcome": "rejected", "errors"}; the same message id again
    gets the same answer with `"repeated": true` and changes nothing."""
    message_id = str(message.get("message_id") or "")[:64]
    kind = message.get("kind")
    items = dict(message.get("items") or {})
    if not message_id or kind not in Kind.values:
        return {"outcome": "rejected", "errors": [file2.error("invalid_item", "request_number")]}
    now = timezone.now()
    with transaction.atomic():
        seen = Inbound.objects.select_for_update().filter(message_id=message_id).first()
        if seen is not None:
            return {"outcome": seen.outcome, "seq": seen.seq, "errors": seen.errors, "repeated": True}
        code = items.get("resident_code") or ""
        current = _current(code) if code else None
        current_items = None
        if current is not None:
            current_items = {**current.items, "my_number": _unseal(current)}
        errors = file2.check(kind, items, current_items, current_kind=current.kind if current else None,
                             initial=bool(message.get("initial")))
        if errors:
            Inbound.objects.create(message_id=message_id, outcome="rejected", errors=errors, received_at=now)
            return {"outcome": "rejected", "errors": errors}
        seq = _next_seq()
        number = items.pop("my_number", None) or (current_items or {}).get("my_number")
        stored = {**{k: v for k, v in items.items() if k in file2.LABELS}, "seq": seq, "anomaly_seq": None,
                  "update_prohibited": False, "scheduled": kind == "remove" and _ahead(items), "exclusive": False,
                  "gaiji": any(items.get(k) for k in ("name_gaiji", "address_gaiji", "previous_address_gaiji")),
                  "record_status": kind, "timestamp": now.isoformat()}
        if current is not None:
            current.superseded_at = now
            current.save(update_fields=["superseded_at"])
        sealed = mynumber.seal(number) if number else None
        version = IdentityVersion.objects.create(
            resident_code=code, seq=seq, kind=kind, items=stored, received_at=now,
            my_number_key_id=sealed.key_id if sealed else "", my_number_cipher=sealed.ciphertext if sealed else None,
            my_number_digest=mynumber.digest(number) if number else "")
        Outbound.objects.create(seq=seq, resident_code=code, kind=kind, version=version, created_at=now,
                                next_attempt_at=now)
        Inbound.objects.create(message_id=message_id, outcome="accepted", seq=seq, received_at=now)
    return {"outcome": "accepted", "seq": seq}


def receive_many(messages: list[dict]) -> list[dict]:
    """The initial load (S2's snapshot of the register): many updates, one commit, each checked as one."""
    with transaction.atomic():
        return [receive(m) for m in messages]


def _ahead(items: dict) -> bool:
    """予定者: a 転出 entered ahead of its date."""
    try:
        return dt.date.fromisoformat(items.get("event_date") or "") > timezone.localdate()
    except ValueError:
        return False


def _unseal(version: IdentityVersion) -> str | None:
    if not version.my_number_cipher:
        return None
    return mynumber.unseal(version.my_number_key_id, bytes(version.my_number_cipher))


def _message(row: Outbound) -> dict:
    items = dict(row.version.items)
    number = _unseal(row.version)
    if number:
        items["my_number"] = number
    return {"seq": row.seq, "resident_code": row.resident_code, "kind": row.kind, "items": items}


def _backoff(attempts: int) -> float:
    return min(MAX_BACKOFF, 0.5 * 2 ** min(attempts, 8))


def send_batch(prefecture: Client, *, limit: int = BATCH) -> dict:
    """Send the head of the queue (the lowest pending numbers, in order) once. Returns what happened:
    {"sent", "dead", "waiting"} counts and `error` when the prefecture could not be reached."""
    now = timezone.now()
    rows = list(Outbound.objects.select_related("version").filter(state=Outbound.State.PENDING).order_by("seq")[:limit])
    if not rows:
        return {"sent": 0, "dead": 0, "waiting": 0}
    if rows[0].next_attempt_at and rows[0].next_attempt_at > now:
        return {"sent": 0, "dead": 0, "waiting": len(rows)}
    try:
        status, answer = prefecture.call("POST", "/updates", {"messages": [_message(r) for r in rows]})
    except Unreachable as exc:
        _retry_later(rows[0], str(exc))
        return {"sent": 0, "dead": 0, "waiting": len(rows), "error": "unreachable"}
    if status == 409 and answer.get("code") == "sequence_gap":
        # The prefecture expects an earlier number than our head: only a lost acknowledgement of a dead
        # letter can cause that; keep it visible rather than guess.
        _retry_later(rows[0], f"sequence_gap: expected {answer.get('expected')}")
        return {"sent": 0, "dead": 0, "waiting": len(rows), "error": "sequence_gap"}
    if status != 200:
        _retry_later(rows[0], f"HTTP {status}: {answer.get('code', '')}")
        return {"sent": 0, "dead": 0, "waiting": len(rows), "error": f"http_{status}"}
    done = set(answer.get("accepted", [])) | set(answer.get("duplicates", []))
    refused = {r["seq"]: r for r in answer.get("refused", [])}
    with transaction.atomic():
        if done:
            Outbound.objects.filter(seq__in=done).update(state=Outbound.State.SENT, sent_at=now, last_error="")
        for seq, reason in refused.items():
            Outbound.objects.filter(seq=seq).update(
                state=Outbound.State.DEAD, last_error=f"{reason.get('code')}: {','.join(reason.get('items', []))}"[:200])
    return {"sent": len(done), "dead": len(refused), "waiting": len(rows) - len(done) - len(refused)}


def _retry_later(head: Outbound, why: str) -> None:
    attempts = head.attempts + 1
    Outbound.objects.filter(pk=head.pk).update(
        attempts=attempts, last_error=why[:200],
        next_attempt_at=timezone.now() + dt.timedelta(seconds=_backoff(attempts)))
    log.warning("prefecture: %s (attempt %d)", why, attempts)


def retry_dead(seq: int) -> dict:
    """An operator sends a dead letter again, as a new update at the end of the queue (its content
    corrected by a new update from the register first, where that was the reason)."""
    with transaction.atomic():
        dead = Outbound.objects.select_for_update().filter(seq=seq, state=Outbound.State.DEAD).first()
        if dead is None:
            return {"outcome": "not_found"}
        current = _current(dead.resident_code)
        if current is None:
            return {"outcome": "not_found"}
        new_seq = _next_seq()
        now = timezone.now()
        current.items = {**current.items, "anomaly_seq": seq}
        current.save(update_fields=["items"])
        Outbound.objects.create(seq=new_seq, resident_code=dead.resident_code, kind=current.kind, version=current,
                                created_at=now, next_attempt_at=now)
        dead.last_error = f"再送済み（更新順番号 {new_seq}）"
        dead.save(update_fields=["last_error"])
    return {"outcome": "queued", "seq": new_seq}


def status() -> dict:
    pending = Outbound.objects.filter(state=Outbound.State.PENDING)
    head = pending.order_by("seq").first()
    last_sent = Outbound.objects.filter(state=Outbound.State.SENT).order_by("-seq").first()
    return {
        "pending": pending.count(),
        "sent": Outbound.objects.filter(state=Outbound.State.SENT).count(),
        "dead_letters": [{"seq": d.seq, "resident_code": d.resident_code, "kind": d.kind, "error": d.last_error,
                          "created_at": d.created_at.isoformat()}
                         for d in Outbound.objects.filter(state=Outbound.State.DEAD).order_by("seq")[:200]],
        "head": None if head is None else {"seq": head.seq, "attempts": head.attempts, "error": head.last_error,
                                           "next_attempt_at": head.next_attempt_at.isoformat() if head.next_attempt_at else None},
        "last_sent": None if last_sent is None else {"seq": last_sent.seq, "sent_at": last_sent.sent_at.isoformat()},
        "records": IdentityVersion.objects.filter(superseded_at__isnull=True).count(),
    }
