"""The CS's work: take an update from S2 (checked, numbered, stored with its history and queued in one
transaction), and pass the queue on to the prefecture server in order.

Delivery is at-least-once on both sides and idempotent on both: S2 sends each message with its id
and the CS answers a repeated one with its first answer; the CS sends each update with its 更新順番号
and the prefecture applies a number once. A kill -9 anywhere loses nothing and applies nothing twice.
"""
from __future__ import annotations

import datetime as dt
import logging

import hashlib
import json
import secrets

from django.conf import settings
from django.db import connections, router, transaction
from django.utils import timezone

from juki.core import calendar, mynumber, wareki
from juki.network import consistency
from juki.network.wire import Client, Unreachable

from . import file2, file3
from .models import (ConsistencyRun, Counter, IdentityVersion, Inbound, Kind, MediaExport, Outbound, Purge,
                     Recipient, RecipientFile, Suppression)
from .models import Mail, TransferHold

log = logging.getLogger("juki.cs")
BATCH = 200
MAX_BACKOFF = 30.0  # seconds: a prefecture back from an outage is served within this


def _db() -> str:
    """The CS's database: `default` in its own process; the `cs` alias in the register's tests."""
    return router.db_for_write(IdentityVersion) or "default"


def _next_seq() -> int:
    """The next 更新順番号: one statement, which holds the counter row's lock until the commit, so the
    numbers of concurrent updates never interleave or leave gaps."""
    table = Counter._meta.db_table
    with connections[_db()].cursor() as cur:
        cur.execute(f"INSERT INTO {table} (name, value) VALUES (%s, 1) ON CONFLICT (name) "
                    f"DO UPDATE SET value = {table}.value + 1 RETURNING value", ["update_seq"])
        return cur.fetchone()[0]


def _current(code: str) -> IdentityVersion | None:
    return IdentityVersion.objects.select_for_update().filter(resident_code=code, superseded_at__isnull=True).first()


def receive(message: dict) -> dict:
    """One update from S2: {message_id, kind, items (FILE-2's, 個人番号 included)}. Returns
    {"outcome": "accepted", "seq"} or {"outcome": "rejected", "errors"}; the same message id again
    gets the same answer with `"repeated": true` and changes nothing."""
    message_id = str(message.get("message_id") or "")[:64]
    kind = message.get("kind")
    items = dict(message.get("items") or {})
    # 直接修正 (C14): the register's current record, sent again after a refusal was worked off by the
    # 本人確認情報管理責任者; it replaces the CS's record whatever that says (format checks only).
    correction = kind == "correction"
    if not message_id or (kind not in Kind.values and not correction):
        return {"outcome": "rejected", "errors": [file2.error("invalid_item", "request_number")]}
    now = timezone.now()
    with transaction.atomic(using=_db()):
        seen = Inbound.objects.select_for_update().filter(message_id=message_id).first()
        if seen is not None:
            return {"outcome": seen.outcome, "seq": seen.seq, "errors": seen.errors, "repeated": True}
        code = items.get("resident_code") or ""
        current = _current(code) if code else None
        current_items = None
        if current is not None:
            current_items = {**current.items, "my_number": _unseal(current)}
        if correction:
            kind = Kind.UPDATE if current is not None and current.kind != Kind.REMOVE else Kind.ENTRY
            errors = file2.check(kind, items, None, current_kind=None)
            errors = [e for e in errors if e["code"] != "unknown_resident"]
        else:
            errors = file2.check(kind, items, current_items, current_kind=current.kind if current else None,
                                 initial=bool(message.get("initial")))
        if errors:
            Inbound.objects.create(message_id=message_id, outcome="rejected", errors=errors, received_at=now)
            return {"outcome": "rejected", "errors": errors}
        if kind == Kind.UPDATE and current is not None and current.kind == Kind.REMOVE:
            kind = Kind.REMOVE  # a 除票's 修正 (転出確定 [680], an error corrected) leaves it a 消除 record
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
            digest=consistency.digest_of({**stored, "my_number": number} if number else stored, kind,
                                         settings.JUKI_CONSISTENCY_KEY),
            my_number_key_id=sealed.key_id if sealed else "", my_number_cipher=sealed.ciphertext if sealed else None,
            my_number_digest=mynumber.digest(number) if number else "")
        Outbound.objects.create(seq=seq, resident_code=code, kind=kind, version=version, created_at=now,
                                next_attempt_at=now)
        previous = (current_items or {}).get("my_number")
        if number and number != previous and items.get("reason") in NUMBER_REASONS and not message.get("initial"):
            _recipient(stored, number, seq, now)
        Inbound.objects.create(message_id=message_id, outcome="accepted", seq=seq, received_at=now)
    return {"outcome": "accepted", "seq": seq}


# A newly recorded 個人番号 (J-LIS's, at a 出生 or a 変更請求): its 通知書 goes to the person (FILE-3).
NUMBER_REASONS = frozenset({"my_number_ex_officio_entry", "my_number_change_request"})


def _recipient(items: dict, number: str, seq: int, now) -> None:
    office = getattr(settings, "JUKI_CS_OFFICE", None) or file3.DEMO_OFFICES.get(getattr(settings, "MUNICIPALITY", ""), file3.DEMO_OFFICE)
    record = file3.build(items, my_number=number, recipient_number=f"{seq:012d}", office=office,
                         processed_on=timezone.localdate(now).isoformat())
    key_id, cipher = mynumber.seal_values([json.dumps(record, ensure_ascii=False)])
    Recipient.objects.create(resident_code=items["resident_code"], seq=seq, key_id=key_id, cipher=cipher, created_at=now)


def receive_many(messages: list[dict]) -> list[dict]:
    """S2's batches and its initial load: many updates in one commit, each checked and answered as one."""
    with transaction.atomic(using=_db()):
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
    with transaction.atomic(using=_db()):
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
    with transaction.atomic(using=_db()):
        dead = Outbound.objects.select_for_update().filter(seq=seq, state=Outbound.State.DEAD).first()
        if dead is None:
            return {"outcome": "not_found"}
        current = _current(dead.resident_code)
        if current is None:
            return {"outcome": "not_found"}
        new_seq = _next_seq()
        now = timezone.now()
        current.items = {**current.items, "anomaly_seq": seq}
        number = _unseal(current)
        # The digest is of the record as the prefecture will now hold it (整合性確認).
        current.digest = consistency.digest_of({**current.items, "my_number": number} if number else current.items,
                                               current.kind, settings.JUKI_CONSISTENCY_KEY)
        current.save(update_fields=["items", "digest"])
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
        "suppressions": Suppression.objects.filter(released_at__isnull=True).count(),
    }


# --- 送付先情報 (FILE-3): to J-LIS's card management system, gone one business day after (C24) -------


def send_recipients(cards: Client, *, now: dt.datetime | None = None) -> dict:
    """Gather the records not yet in a file into one, and send every file not yet sent. Returns
    {"sent": files, "records": n} or an `error` when the card management system is away."""
    now = now or timezone.now()
    with transaction.atomic(using=_db()):
        loose = list(Recipient.objects.select_for_update().filter(file__isnull=True).values_list("id", flat=True))
        if loose:
            file = RecipientFile.objects.create(file_id=secrets.token_hex(8), count=len(loose), created_at=now)
            Recipient.objects.filter(id__in=loose).update(file=file)
    sent = records = 0
    for file in RecipientFile.objects.filter(sent_at__isnull=True).order_by("id"):
        body = {"file_id": file.file_id, "records": [json.loads(mynumber.unseal_values(r.key_id, bytes(r.cipher))[0])
                                                     for r in file.records.order_by("seq")]}
        try:
            status, answer = cards.call("POST", "/recipients", body)
        except Unreachable as exc:
            RecipientFile.objects.filter(pk=file.pk).update(attempts=file.attempts + 1, last_error=str(exc)[:200])
            return {"sent": sent, "records": records, "error": "unreachable"}
        if status != 200:
            RecipientFile.objects.filter(pk=file.pk).update(attempts=file.attempts + 1,
                                                            last_error=f"HTTP {status} {answer.get('code', '')}"[:200])
            continue
        RecipientFile.objects.filter(pk=file.pk).update(sent_at=now, last_error="")
        sent, records = sent + 1, records + file.count
    return {"sent": sent, "records": records}


def purge_recipients(*, today: dt.date | None = None) -> list[dict]:
    """Delete every file of 送付先情報 whose next business day after sending has come (C24: 「連携後
    速やか（１営業日後）に削除」), each in one transaction with its `Purge` row. Returns what went."""
    today = today or timezone.localdate()
    done = []
    for file in RecipientFile.objects.filter(sent_at__isnull=False).order_by("id"):
        sent_on = timezone.localdate(file.sent_at)
        due = calendar.next_business_day(sent_on)
        if due > today:
            continue
        with transaction.atomic(using=_db()):
            digest = hashlib.sha256()
            for r in file.records.order_by("id"):
                digest.update(bytes(r.cipher))
            count = file.records.count()
            file.records.all().delete()
            purge = Purge.objects.create(kind="recipients", reference=file.file_id, count=count,
                                         content_sha256=digest.hexdigest(), due_on=due, purged_at=timezone.now(),
                                         detail={"sent_on": sent_on.isoformat()})
            file.delete()
        done.append({"file_id": purge.reference, "count": count, "sent_on": sent_on.isoformat(),
                     "due_on": due.isoformat(), "purged_on": today.isoformat()})
    return done


def recipients_report() -> dict:
    """For the operator and the auditor: the files held (sent and due, or waiting) and the purges."""
    files = [{"file_id": f.file_id, "count": f.count, "created_at": f.created_at.isoformat(),
              "sent_at": f.sent_at.isoformat() if f.sent_at else None,
              "due_on": calendar.next_business_day(timezone.localdate(f.sent_at)).isoformat() if f.sent_at else None,
              "error": f.last_error}
             for f in RecipientFile.objects.order_by("id")]
    purges = [{"file_id": p.reference, "count": p.count, "due_on": p.due_on.isoformat(),
               "purged_at": p.purged_at.isoformat(), "sha256": p.content_sha256, **p.detail}
              for p in Purge.objects.filter(kind="recipients").order_by("-id")[:500]]
    return {"files": files, "purged": purges, "overdue": [f for f in files if f["due_on"]
                                                          and f["due_on"] < timezone.localdate().isoformat()]}


def rekey_stores():
    """The CS's sealed columns, for `juki cs rekey` (its key rotation: juki.core.rekey)."""
    from juki.core.rekey import Store

    return [Store(IdentityVersion._meta.db_table, "my_number_key_id", "my_number_cipher", "number"),
            Store(Recipient._meta.db_table, "key_id", "cipher", "values"),
            Store(Mail._meta.db_table, "key_id", "cipher", "values"),
            Store(TransferHold._meta.db_table, "key_id", "cipher", "values")]


# --- 本人確認情報の保存期間 (C23): five years after a version stopped being current ---------------------

RETENTION_YEARS = 5  # 告示第334号 第6-8(1)


def purge_history(*, today: dt.date | None = None) -> dict:
    """Erase FILE-2 versions superseded five years ago or more, and the last record of a person removed
    (消除) five years ago or more, with their sent queue rows; one `Purge` row with the counts. A version
    whose update has not yet reached the prefecture is kept whatever its age."""
    today = today or timezone.localdate()
    cutoff = wareki.years_before(today, RETENTION_YEARS)
    start = dt.datetime.combine(cutoff, dt.time.min, tzinfo=timezone.get_current_timezone())
    with transaction.atomic(using=_db()):
        unsent = Outbound.objects.exclude(state=Outbound.State.SENT).values("version_id")
        old = IdentityVersion.objects.filter(superseded_at__lt=start).exclude(id__in=unsent)
        removed = IdentityVersion.objects.filter(superseded_at__isnull=True, kind=Kind.REMOVE,
                                                 received_at__lt=start).exclude(id__in=unsent)
        ids = [*old.values_list("id", flat=True), *removed.values_list("id", flat=True)]
        versions, records = old.count(), removed.count()
        digest = hashlib.sha256(",".join(map(str, sorted(ids))).encode()).hexdigest()
        Outbound.objects.filter(version_id__in=ids).delete()
        IdentityVersion.objects.filter(id__in=ids).delete()
        purge = Purge.objects.create(kind="history", reference=today.isoformat(), count=len(ids), content_sha256=digest,
                                     due_on=cutoff, purged_at=timezone.now(),
                                     detail={"superseded_versions": versions, "removed_records": records,
                                             "before": cutoff.isoformat()})
    return {"purged_on": today.isoformat(), "before": cutoff.isoformat(), "superseded_versions": versions,
            "removed_records": records, "purge_id": purge.id}


def history_report() -> list[dict]:
    return [{"purged_on": p.reference, "count": p.count, "purged_at": p.purged_at.isoformat(), **p.detail}
            for p in Purge.objects.filter(kind="history").order_by("-id")[:500]]


# --- 整合性確認 (P8, [1100]) --------------------------------------------------------------------

MASKED = "（相違あり・表示しない）"


def _shown(row: dict) -> dict:
    """A difference as it may be shown: the 個人番号 only as "differs", a missing record as absent."""
    if row["item"] == "my_number":
        return {**row, "local": MASKED if row["local"] else None, "remote": MASKED if row["remote"] else None}
    if row["item"] == "(record)":
        return {**row, "local": "あり" if row["local"] else "なし", "remote": "あり" if row["remote"] else "なし"}
    return row


def _full(codes: list[str]) -> dict[str, dict]:
    out = {}
    for v in IdentityVersion.objects.filter(resident_code__in=codes, superseded_at__isnull=True):
        number = _unseal(v)
        out[v.resident_code] = consistency.record_view({**v.items, "my_number": number} if number else v.items, v.kind)
    return out


def consistency_check(remote: Client, *, peer: str) -> ConsistencyRun:
    """Compare the current FILE-2 with a peer's copy of this city's records and keep the result."""
    run = ConsistencyRun.objects.create(peer=peer, started_at=timezone.now())
    pairs = IdentityVersion.objects.filter(superseded_at__isnull=True).values_list("resident_code", "digest")
    try:
        result = consistency.compare(pairs.iterator(chunk_size=20000), _full, remote)
    except Unreachable as exc:
        run.error, run.finished_at = str(exc)[:200], timezone.now()
        run.save(update_fields=["error", "finished_at"])
        return run
    queued = set(Outbound.objects.filter(state=Outbound.State.PENDING, resident_code__in=result["codes"])
                 .values_list("resident_code", flat=True))
    run.records, run.stats, run.finished_at = result["records"], result["stats"], timezone.now()
    run.differences = [_shown(d) for d in result["differences"] if d["resident_code"] not in queued]
    run.differing = len(set(result["codes"]) - queued)
    run.in_flight = len(queued)
    run.save()
    return run


def consistency_runs(limit: int = 20) -> list[dict]:
    return [{"id": r.id, "peer": r.peer, "started_at": r.started_at.isoformat(),
             "finished_at": r.finished_at.isoformat() if r.finished_at else None, "records": r.records,
             "differing": r.differing, "in_flight": r.in_flight, "differences": r.differences[:200],
             "stats": r.stats, "error": r.error}
            for r in ConsistencyRun.objects.order_by("-id")[:limit]]


# --- 証明書発行の抑止 [410] ----------------------------------------------------------------------------


def suppress(message: dict) -> dict:
    """A 抑止 set or released in the register, for the 住民票コード it covers; idempotent by message id."""
    message_id = str(message.get("message_id") or "")[:64]
    action, codes = message.get("action"), [str(c) for c in message.get("resident_codes") or []]
    if not message_id or action not in ("set", "release"):
        return {"outcome": "rejected", "errors": [file2.error("invalid_item", "request_number")]}
    now = timezone.now()
    with transaction.atomic(using=_db()):
        if Inbound.objects.filter(message_id=message_id).exists():
            return {"outcome": "accepted", "repeated": True}
        rid = int(message["restriction_id"])
        if action == "set":
            for code in codes:
                Suppression.objects.update_or_create(
                    restriction_id=rid, resident_code=code,
                    defaults={"start": dt.date.fromisoformat(message["start"]), "released_at": None, "set_at": now,
                              "end": dt.date.fromisoformat(message["end"]) if message.get("end") else None})
        else:
            Suppression.objects.filter(restriction_id=rid, released_at__isnull=True).update(released_at=now)
        Inbound.objects.create(message_id=message_id, outcome="accepted", received_at=now)
    return {"outcome": "accepted"}


def suppressed(code: str, on: dt.date | None = None) -> bool:
    on = on or timezone.localdate()
    return Suppression.objects.filter(resident_code=code, released_at__isnull=True, start__lte=on).exclude(
        end__lt=on).exists()


# --- 媒体への出力 (C09): the 送付先情報 on media, encrypted ---------------------------------------------

MEDIA_MAGIC = b"JUKI-FILE3-1\n"


def export_recipients(file_id: str, passphrase: str) -> bytes:
    """One file of 送付先情報 as the bytes to write to media: AES-256-GCM under a key derived from the
    passphrase (scrypt, random salt), never in clear. Recorded (MediaExport) with the digest of what
    was written; the file's deletion the next business day does not reach the medium, so the operator
    erases it as the city's media rule says."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    if len(passphrase) < 12:
        raise ValueError("媒体の暗号化のパスフレーズは12文字以上にしてください。")
    file = RecipientFile.objects.filter(file_id=file_id).first()
    if file is None:
        raise LookupError("指定された送付先情報のファイルはありません（削除済みの可能性があります）。")
    records = [json.loads(mynumber.unseal_values(r.key_id, bytes(r.cipher))[0]) for r in file.records.order_by("seq")]
    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    key = Scrypt(salt=salt, length=32, n=2**15, r=8, p=1).derive(passphrase.encode())
    plain = json.dumps({"file_id": file_id, "records": records}, ensure_ascii=False).encode()
    data = MEDIA_MAGIC + salt + nonce + AESGCM(key).encrypt(nonce, plain, MEDIA_MAGIC)
    MediaExport.objects.create(file_id=file_id, count=len(records), content_sha256=hashlib.sha256(data).hexdigest(),
                               exported_at=timezone.now())
    return data


def read_media(data: bytes, passphrase: str) -> dict:
    """The other end (J-LIS, or a check): the records back from the medium."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    if not data.startswith(MEDIA_MAGIC):
        raise ValueError("送付先情報の媒体ではありません。")
    body = data[len(MEDIA_MAGIC):]
    salt, nonce, sealed = body[:16], body[16:28], body[28:]
    key = Scrypt(salt=salt, length=32, n=2**15, r=8, p=1).derive(passphrase.encode())
    return json.loads(AESGCM(key).decrypt(nonce, sealed, MEDIA_MAGIC))
