"""The access log's signed checkpoints, their export and the purge past retention (ADR 0007).

These runs write log rows of their own (`events.record`), so they sit above the chain and the
gate; `chain` itself (hashing, linking, keys, verification) imports neither. Each run links what
is waiting first (`chain.link`), so it works on the whole log up to its own row.
"""
from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from juki.core import append_only
from juki.core.wareki import years_before

from . import chain, partitions
from .events import record
from .gate import Actor
from .models import AccessLog, AccessLogSubject, Category, Checkpoint

MIN_PROVISION_YEARS = 7  # C07
_PURGE_LOCK_KEY = 0x6A6B7067  # "jkpg"
BATCH = "juki audit"


def sign(*, kind: str, seq: int, row_hash: str) -> Checkpoint:
    key = chain.signing_key()
    at = timezone.now()
    signature = key.sign(chain.message(kind=kind, seq=seq, row_hash=row_hash, at=at))
    return Checkpoint.objects.create(seq=seq, row_hash=row_hash, at=at, kind=kind, key_id=chain.key_id(key.public_key()),
                                     signature=base64.b64encode(signature).decode())


def checkpoint() -> Checkpoint:
    """Sign the head of the chain. The run is logged first, so the checkpoint covers its own row."""
    chain.signing_key()  # refuse before writing anything when no key is configured
    partitions.ensure()  # the hourly run keeps the coming months made (PostgreSQL, ADR 0030)
    record(Actor.system_actor(BATCH), function="batch.audit_checkpoint")
    chain.link()  # our row and everything before it
    with transaction.atomic():
        head = chain.head()
        return sign(kind=Checkpoint.PERIODIC, seq=head[0], row_hash=head[1])


def export_checkpoints() -> dict:
    """Every checkpoint with the public key(s), for an outside party to check a copy later."""
    current = chain.signing_key().public_key()
    rows = list(Checkpoint.objects.order_by("seq", "id"))
    record(Actor.system_actor(BATCH), function="export.audit_checkpoints", criteria={"checkpoints": len(rows)})
    return {
        "format": "juki-audit-checkpoints/1",
        "algorithm": "Ed25519",
        "message": "juki-audit-checkpoint|v1|{kind}|{seq}|{row_hash}|{at}",
        "key_id": chain.key_id(current),
        "public_key": base64.b64encode(chain.public_raw(current)).decode(),
        "public_keys": {kid: base64.b64encode(chain.public_raw(k)).decode() for kid, k in chain.public_keys().items()},
        "exported_at": chain.timestamp(timezone.now()),
        "checkpoints": [
            {"id": c.id, "seq": c.seq, "row_hash": c.row_hash, "at": chain.timestamp(c.at), "kind": c.kind,
             "key_id": c.key_id, "signature": c.signature}
            for c in rows
        ],
    }


def retention_years() -> tuple[int, int]:
    """(all rows, provision rows) in years; provision rows are kept at least 7 years (C07)."""
    years = int(getattr(settings, "JUKI_AUDIT_RETENTION_YEARS", 7))
    provision = int(getattr(settings, "JUKI_AUDIT_PROVISION_RETENTION_YEARS", MIN_PROVISION_YEARS))
    if years < 1:
        raise ImproperlyConfigured("JUKI_AUDIT_RETENTION_YEARS は 1 以上にしてください。")
    if provision < MIN_PROVISION_YEARS:
        raise ImproperlyConfigured(
            f"JUKI_AUDIT_PROVISION_RETENTION_YEARS は {MIN_PROVISION_YEARS} 以上にしてください（提供記録は7年間保存します）。")
    return years, max(years, provision)


@dataclass
class PurgeResult:
    cutoff: dt.datetime
    provision_cutoff: dt.datetime
    first_seq: int | None = None
    through_seq: int | None = None  # the last seq removed (None: nothing to remove)
    rows: int = 0
    subjects: int = 0
    executed: bool = False
    partitions: list[str] = field(default_factory=list)  # months dropped whole (PostgreSQL)

    def summary(self) -> str:
        head = "削除しました" if self.executed else "削除対象（--dry-run、削除していません）"
        if self.through_seq is None:
            return f"保存期間を過ぎた監査ログはありません（基準 {self.cutoff:%Y-%m-%d}、提供記録 {self.provision_cutoff:%Y-%m-%d}）。"
        return (f"監査ログを{head}: seq {self.first_seq}–{self.through_seq}、記録 {self.rows} 件、対象者 {self.subjects} 件"
                f"（基準 {self.cutoff:%Y-%m-%d} より前、提供記録は {self.provision_cutoff:%Y-%m-%d} より前）。")


def purge(*, execute: bool, now: dt.datetime | None = None) -> PurgeResult:
    """Remove the oldest rows past retention: only a prefix of the chain, so it stays one chain.

    The prefix ends before the first row that must be kept (any row younger than the retention
    period, or a provision row younger than its own). The chain is verified first — a purge
    must not erase the evidence of tampering — and a signed `purge` checkpoint anchors the new
    first row. The run is logged as `batch.audit_purge`.
    """
    result = _purge(execute=execute, now=now)
    chain.link()  # the run's own row, so a verify right after sees the anchor followed by it
    return result


def _purge(*, execute: bool, now: dt.datetime | None) -> PurgeResult:
    years, provision_years = retention_years()
    now = now or timezone.now()
    result = PurgeResult(cutoff=years_before(now, years), provision_cutoff=years_before(now, provision_years))
    chain.link()  # only linked rows can be purged, and verified first
    if execute:
        chain.signing_key()
        checked = chain.verify()
        if not checked.ok:
            raise chain.ChainBroken(checked)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", [_PURGE_LOCK_KEY])
        logs = AccessLog.objects.filter(seq__isnull=False).order_by("seq").values_list("seq", flat=True)
        result.first_seq = logs.first()
        kept = logs.filter(Q(at__gte=result.cutoff) | Q(category=Category.PROVISION, at__gte=result.provision_cutoff)).first()
        through = kept - 1 if kept is not None else logs.last()
        if result.first_seq is None or through is None or through < result.first_seq:
            if execute:
                record(Actor.system_actor(BATCH), function="batch.audit_purge", outcome="empty", criteria=_criteria(result, years))
            return result
        result.through_seq = through
        doomed = AccessLog.objects.filter(seq__lte=through)
        result.rows = doomed.count()
        result.subjects = AccessLogSubject.objects.filter(log__seq__lte=through).count()
        if not execute:
            return result
        anchor = AccessLog.objects.filter(seq=through).values_list("row_hash", flat=True).get()
        result.partitions = _delete_through(through, before=result.cutoff)
        sign(kind=Checkpoint.PURGE, seq=through, row_hash=anchor)
        result.executed = True
        record(Actor.system_actor(BATCH), function="batch.audit_purge", criteria=_criteria(result, years))
    return result


def _delete_through(through: int, *, before: dt.datetime) -> list[str]:
    """Remove the chain's prefix up to `through`: whole months by dropping their partition (ADR
    0030), the rest row by row. Returns the partitions dropped."""
    log, subject = AccessLog._meta.db_table, AccessLogSubject._meta.db_table
    dropped: list[str] = []
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":  # the one sanctioned way past the DELETE trigger
            cur.execute(f"SET LOCAL {append_only.PURGE_SETTING} = 'on'")
            if partitions.enabled():
                dropped = partitions.drop_through(through, before=before)[0]
        cur.execute(f"DELETE FROM {subject} WHERE log_id IN (SELECT id FROM {log} WHERE seq <= %s)", [through])
        cur.execute(f"DELETE FROM {log} WHERE seq <= %s", [through])
        if connection.vendor == "postgresql":
            cur.execute(f"SET LOCAL {append_only.PURGE_SETTING} = 'off'")
    return dropped


def _criteria(result: PurgeResult, years: int) -> dict:
    return {"retention_years": years, "cutoff": result.cutoff.isoformat(),
            "provision_cutoff": result.provision_cutoff.isoformat(), "first_seq": result.first_seq,
            "through_seq": result.through_seq, "rows": result.rows, "subjects": result.subjects,
            "partitions_dropped": len(result.partitions)}
