"""発行番号 [1040]: taken in a short transaction of its own, before the PDF renders (ADR 0021).

The year's counter row is locked only while a number is taken and its `CertificateNumber` row
written (two statements), so issues render side by side. Every number taken is accounted for:
it ends issued (a `CertificateIssue` carries it) or 欠番 (`CertificateNumberVoid`, with the reason);
one with neither is in progress, and a 欠番 once older than `timeout()` (the process stopped
between the number and the record). Numbers follow the order they were taken in, which is the
order of their issue times: the issue time is taken with the number.

Nothing here reads personal data: numbers, times, forms, the operator and the terminal.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.utils import timezone

from juki.core.errors import DomainError

from .models import CertificateCounter, CertificateIssue, CertificateNumber, CertificateNumberVoid

ISSUED, VOID, ABANDONED, PENDING = "issued", "void", "abandoned", "pending"
STATE_LABELS = {ISSUED: "交付済み", VOID: "欠番", ABANDONED: "欠番（処理の中断）", PENDING: "交付処理中"}
MISSING = (VOID, ABANDONED)  # 欠番, as the 欠番一覧 lists them
ABANDONED_REASON = "番号の払出し後、交付の記録がないまま処理が終了しました。"
FAILED_REASON = "証明書の作成中に障害が発生したため、交付していません。"


@dataclass(frozen=True)
class Taken:
    """A number taken: ``at`` is the issue's time (the certificate prints its date)."""

    number: str
    year: int
    serial: int
    at: dt.datetime
    row_id: int


def format_number(year: int, serial: int) -> str:
    return f"{year}-{serial:06d}"


def timeout() -> dt.timedelta:
    """How long a number may stay taken without an issue or a 欠番 before it is listed as 欠番: far
    longer than any issue runs (a request is stopped long before), so a slow issue is never listed."""
    return dt.timedelta(seconds=int(getattr(settings, "JUKI_CERTIFICATE_NUMBER_TIMEOUT", 600)))


def reserve(*, at: dt.datetime, form: str, channel: str, operator=None, terminal=None) -> Taken:
    """The next number of ``at``'s year, recorded as taken. Call inside a transaction: the one the
    number commits in (its own, before the render) or the caller's."""
    if not connection.in_atomic_block:
        raise RuntimeError("numbering.reserve must run inside a transaction")
    year = timezone.localdate(at).year
    table = CertificateCounter._meta.db_table
    with connection.cursor() as cur:
        # One statement takes the row lock on both engines and creates the year's row on its first
        # number (SQLite's IMMEDIATE transactions hold the write lock already).
        cur.execute(f"INSERT INTO {table} (year, last) VALUES (%s, 1) "
                    f"ON CONFLICT (year) DO UPDATE SET last = {table}.last + 1 RETURNING last", [year])
        serial = cur.fetchone()[0]
    number = format_number(year, serial)
    row = CertificateNumber.objects.create(year=year, serial=serial, number=number, reserved_at=at, form=form,
                                           channel=channel, operator=operator, terminal=terminal)
    return Taken(number=number, year=year, serial=serial, at=at, row_id=row.pk)


def void(taken: Taken, exc: BaseException) -> CertificateNumberVoid:
    """Record ``taken`` as 欠番 because of ``exc``: a refusal keeps its own message and code, any
    other failure is named by its class only (its text may hold anything)."""
    if isinstance(exc, DomainError):
        code, reason = str(exc.code), str(exc.message)
    else:
        code, reason = "error", f"{FAILED_REASON}（{type(exc).__name__}）"
    return CertificateNumberVoid.objects.create(number_id=taken.row_id, code=code[:40], reason=reason[:200],
                                                at=timezone.now())


def state(*, issued: bool, voided: bool, reserved_at: dt.datetime, now: dt.datetime,
          limit: dt.timedelta | None = None) -> str:
    """The rule of a number's state. Issued wins over a 欠番 record: a certificate that carries the
    number exists, whatever else was written (it cannot happen: one process writes one or the other)."""
    if issued:
        return ISSUED
    if voided:
        return VOID
    return ABANDONED if now - reserved_at > (limit if limit is not None else timeout()) else PENDING


def _row(r: CertificateNumber, s: str) -> dict:
    void_row = r.void if s == VOID else None
    return {
        "number": r.number, "serial": r.serial, "state": s, "state_label": STATE_LABELS[s],
        "reserved_at": r.reserved_at.isoformat(), "form": r.form, "channel": r.channel,
        "operator": r.operator.username if r.operator else "", "terminal": r.terminal.code if r.terminal else "",
        "code": void_row.code if void_row else ("abandoned" if s == ABANDONED else ""),
        "reason": void_row.reason if void_row else (ABANDONED_REASON if s == ABANDONED else ""),
        "voided_at": void_row.at.isoformat() if void_row else None,
    }


def ledger(year: int, *, now: dt.datetime | None = None) -> dict:
    """What an auditor checks for a year: the last number taken; how many are issued, 欠番 or in
    progress; every 欠番 with its reason and every number in progress, in number order; and any
    number up to the last with no row at all (``unrecorded``: none, unless rows were removed)."""
    now = now or timezone.now()
    issued = CertificateIssue.objects.filter(year=year)
    open_rows = (CertificateNumber.objects.filter(year=year).exclude(number__in=issued.values("number"))
                 .select_related("void", "operator", "terminal").order_by("serial"))
    missing, pending = [], []
    for r in open_rows:
        s = state(issued=False, voided=hasattr(r, "void"), reserved_at=r.reserved_at, now=now)
        (pending if s == PENDING else missing).append(_row(r, s))
    last = CertificateCounter.objects.filter(year=year).values_list("last", flat=True).first() or 0
    unrecorded: list[str] = []
    if CertificateNumber.objects.filter(year=year).count() != last:  # only then look for which
        recorded = set(CertificateNumber.objects.filter(year=year).values_list("serial", flat=True))
        unrecorded = [format_number(year, n) for n in range(1, last + 1) if n not in recorded]
    counts = {ISSUED: issued.count(), VOID: sum(m["state"] == VOID for m in missing),
              ABANDONED: sum(m["state"] == ABANDONED for m in missing), PENDING: len(pending)}
    return {"year": year, "last": last, "counts": counts, "missing": missing, "pending": pending,
            "unrecorded": unrecorded}
