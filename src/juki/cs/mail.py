"""The CS's messages to and from other cities and the 法務省, through the network's exchange (issue 15).

Out: S2 queues a message here (`queue`), idempotent by its id; the sender thread posts the queue to
the exchange in order, the head backing off while the exchange is away (`send_pending`). In: a thread
long-polls the exchange (`receive`) and keeps each message with the exchange's number, in one
transaction with the cursor, so a kill -9 loses and doubles nothing. S2 reads them (`inbox`).

The CS answers one kind itself, as the real CS does: a 転入地's request for the 転出証明書情報 of a
特例転出 it holds (`TransferHold`), whatever the register is doing at the time.
"""
from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone

from juki.core import mynumber
from juki.network.wire import Client, Unreachable

from .models import Counter, Mail, TransferHold
from .services import _backoff, _db

log = logging.getLogger("juki.cs")
BATCH = 50
# What S2 reads from the inbox: every kind but the request this CS answers by itself.
FOR_REGISTER = ("transfer_certificate", "move_in_notice", "family_register_notice", "wide_area_request",
                "wide_area_answer", "immigration_notice")
# What S2 may send through this CS (the exchange checks the roles again).
FROM_REGISTER = ("transfer_certificate_request", "move_in_notice", "family_register_notice", "wide_area_request",
                 "wide_area_answer", "municipal_notice")


def _seal(body: dict) -> tuple[str, bytes]:
    return mynumber.seal_json(body)


def _open(row) -> dict:
    return mynumber.open_json(row.key_id, bytes(row.cipher))


def _out(peer: str, kind: str, message_id: str, body: dict, now) -> bool:
    """Queue one message once; False when it was queued before."""
    if Mail.objects.filter(direction=Mail.Direction.OUT, peer=peer, message_id=message_id).exists():
        return False
    key_id, cipher = _seal(body)
    Mail.objects.create(direction=Mail.Direction.OUT, peer=peer, kind=kind, message_id=message_id, key_id=key_id,
                        cipher=cipher, state=Mail.State.PENDING, created_at=now, next_attempt_at=now)
    return True


def queue(messages: list[dict]) -> list[dict]:
    """S2's messages for other cities or the 法務省: {message_id, to, kind, body}. Each answered
    `queued` (or `repeated`), or `rejected` with the reason; in one transaction."""
    answers = []
    now = timezone.now()
    with transaction.atomic(using=_db()):
        for m in messages:
            message_id, to, kind = str(m.get("message_id") or "")[:64], str(m.get("to") or ""), m.get("kind")
            if not message_id or kind not in FROM_REGISTER or not to or not isinstance(m.get("body"), dict):
                answers.append({"message_id": message_id, "outcome": "rejected", "code": "invalid_message"})
                continue
            new = _out(to, kind, message_id, m["body"], now)
            answers.append({"message_id": message_id, "outcome": "queued" if new else "repeated"})
    return answers


def hold_transfers(message: dict) -> dict:
    """A 特例転出's 転出証明書情報 from S2: {message_id, group, certificates: [{resident_code, …}]}."""
    group, certificates = str(message.get("group") or "")[:64], message.get("certificates")
    if not group or not isinstance(certificates, list) or not certificates:
        return {"outcome": "rejected", "code": "invalid_message"}
    now = timezone.now()
    with transaction.atomic(using=_db()):
        held = 0
        for c in certificates:
            code = str(c.get("resident_code") or "")
            if TransferHold.objects.filter(group=group, resident_code=code).exists():
                continue
            key_id, cipher = _seal(c)
            TransferHold.objects.create(group=group, resident_code=code, key_id=key_id, cipher=cipher, created_at=now)
            held += 1
    return {"outcome": "accepted", "held": held}


def send_pending(exchange: Client, *, limit: int = BATCH) -> dict:
    """Post the head of the outgoing queue to the exchange in one call (in order); a message refused for
    good is kept visible (REFUSED) and the rest go on; an exchange away backs the head off."""
    now = timezone.now()
    rows = list(Mail.objects.filter(direction=Mail.Direction.OUT, state=Mail.State.PENDING).order_by("id")[:limit])
    if not rows:
        return {"sent": 0, "waiting": 0}
    if rows[0].next_attempt_at and rows[0].next_attempt_at > now:
        return {"sent": 0, "waiting": len(rows)}
    messages = [{"to": r.peer, "kind": r.kind, "message_id": r.message_id, "body": _open(r)} for r in rows]
    try:
        status, answer = exchange.call("POST", "/mail/batch", {"messages": messages})
    except Unreachable as exc:
        _later(rows[0], str(exc))
        return {"sent": 0, "waiting": len(rows), "error": "unreachable"}
    if status != 200:
        _later(rows[0], f"HTTP {status}: {answer.get('code', '')}")
        return {"sent": 0, "waiting": len(rows), "error": f"http_{status}"}
    sent = [r.pk for r, a in zip(rows, answer["answers"]) if "id" in a]
    with transaction.atomic(using=_db()):
        Mail.objects.filter(pk__in=sent).update(state=Mail.State.SENT, sent_at=timezone.now(), last_error="")
        for row, a in zip(rows, answer["answers"]):
            if "id" not in a:  # refused for good (a wrong address or kind, a reused id): listed, 再送 by hand
                Mail.objects.filter(pk=row.pk).update(state=Mail.State.REFUSED, attempts=row.attempts + 1,
                                                      last_error=f"HTTP {a.get('status')}: {a.get('code', '')}"[:200])
    return {"sent": len(sent), "waiting": 0, "refused": len(rows) - len(sent)}


def _later(row: Mail, why: str) -> None:
    attempts = row.attempts + 1
    Mail.objects.filter(pk=row.pk).update(attempts=attempts, last_error=why[:200],
                                          next_attempt_at=timezone.now() + dt.timedelta(seconds=_backoff(attempts)))
    log.warning("exchange: %s (attempt %d)", why, attempts)


def receive(exchange: Client, *, wait: float = 20.0) -> int:
    """Read the exchange from where this CS stopped (long poll) and keep what came; answer the
    requests for 転出証明書情報. Returns how many messages were new."""
    cursor = Counter.objects.filter(name="mail_cursor").values_list("value", flat=True).first() or 0
    status, answer = exchange.call("GET", f"/mail?after={cursor}&wait={wait:g}")
    if status != 200:
        raise Unreachable(f"exchange answered HTTP {status} {answer.get('code', '')}")
    messages = answer.get("messages", [])
    if not messages:
        return 0
    now = timezone.now()
    new = 0
    with transaction.atomic(using=_db()):
        for m in messages:
            if Mail.objects.filter(exchange_id=m["id"]).exists():
                continue
            key_id, cipher = _seal(m["body"])
            Mail.objects.create(direction=Mail.Direction.IN, peer=m["sender"], kind=m["kind"],
                                message_id=m["message_id"], exchange_id=m["id"], key_id=key_id, cipher=cipher,
                                state=Mail.State.RECEIVED, created_at=now)
            new += 1
            if m["kind"] == "transfer_certificate_request":
                _answer_transfer(m, now)
        last = max(m["id"] for m in messages)
        Counter.objects.update_or_create(name="mail_cursor", defaults={"value": last})
    return new


def _answer_transfer(message: dict, now) -> None:
    """[610]: the 転出証明書情報 of the 転出 the requested person was part of, to the 転入地 that asked
    (and to no other: a group answered to one city is not given to another). A request from a paper
    転出証明書 names the 生年月日 too, and must match it; one from a card (checked by the card management
    system) needs nothing more, and only a 特例転出's information answers it."""
    requester, body = message["sender"], message["body"]
    code = str(body.get("resident_code") or "")
    hold = TransferHold.objects.filter(resident_code=code).order_by("-id").first()
    reply = {"request_id": body.get("request_id"), "found": False}
    if hold is not None:
        held = _open(hold)
        paper = "birth_date" in body
        if paper and (hold.wrong_birth_dates >= PAPER_TRIES or held.get("birth_date") != body["birth_date"]):
            if hold.wrong_birth_dates < PAPER_TRIES:
                TransferHold.objects.filter(pk=hold.pk).update(wrong_birth_dates=hold.wrong_birth_dates + 1)
            hold = None  # not this person's paper (or guessed at too often)
        elif not paper and not held.get("special", True):
            hold = None  # a card, where the 転出 was not 特例
    if hold is not None and hold.answered_to in ("", requester):
        group = list(TransferHold.objects.filter(group=hold.group).order_by("id"))
        reply = {"request_id": body.get("request_id"), "found": True, "certificates": [_open(h) for h in group]}
        TransferHold.objects.filter(group=hold.group).update(answered_to=requester, answered_at=now)
    elif hold is not None:
        reply["reason"] = "answered_elsewhere"
    _out(requester, "transfer_certificate", f"answer-{message['id']}", reply, now)


def inbox(after: int, *, limit: int = 200) -> list[dict]:
    """What came for the register, after its cursor (the CS's own numbers), opened."""
    rows = Mail.objects.filter(direction=Mail.Direction.IN, kind__in=FOR_REGISTER, id__gt=after).order_by("id")[:limit]
    return [{"id": r.id, "sender": r.peer, "kind": r.kind, "message_id": r.message_id, "body": _open(r),
             "received_at": r.created_at.isoformat()} for r in rows]


def status() -> dict:
    """For the operator: how many of each kind went and came, the head of the queue and the messages
    the exchange refused (kind, address, error: never their contents)."""
    out = {}
    for direction, kind, state in Mail.objects.values_list("direction", "kind", "state"):
        key = f"{direction}:{kind}:{state}"
        out[key] = out.get(key, 0) + 1
    head = Mail.objects.filter(direction=Mail.Direction.OUT, state=Mail.State.PENDING).order_by("id").first()
    refused = Mail.objects.filter(direction=Mail.Direction.OUT, state=Mail.State.REFUSED).order_by("-id")[:100]
    return {"counts": out, "head": None if head is None else {
        "kind": head.kind, "peer": head.peer, "attempts": head.attempts, "error": head.last_error},
        "refused": [{"id": m.id, "kind": m.kind, "peer": m.peer, "error": m.last_error,
                     "created_at": m.created_at.isoformat()} for m in refused],
        "held_transfers": TransferHold.objects.count()}


def resend(mail_id: int) -> bool:
    """An operator sends a refused (or waiting) message again, at once; False when there is none such."""
    return bool(Mail.objects.filter(pk=mail_id, direction=Mail.Direction.OUT,
                                    state__in=(Mail.State.REFUSED, Mail.State.PENDING)).update(
        state=Mail.State.PENDING, next_attempt_at=timezone.now(), last_error=""))


PAPER_TRIES = 3
TRANSFER_HOLD_DAYS = 90  # a 転入 comes within 14 days of moving, or 30 after the planned date; then some


def purge_transfers(*, now=None) -> int:
    """The 転出証明書情報 held longer than any 転入 could ask for it: erased (daily, `juki cs purge`)."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=TRANSFER_HOLD_DAYS)
    with transaction.atomic(using=_db()):
        count, _ = TransferHold.objects.filter(created_at__lt=cutoff).delete()
    return count
