"""What the 住基ネット sends back into the register (ADR 0023): J-LIS's 個人番号 for a person, and
new 住民票コード for the stock. Only the 住基ネット連携's system actor holds the right
(`jukinet.inbound`); each is a change or a stock entry like any other, in one transaction with its
log row and, for a change, its outbox event. No one types these numbers (C12)."""
from __future__ import annotations

from juki.accounts.permissions import Perm
from juki.audit import gate
from juki.audit.gate import Actor
from juki.core import clock, mynumber
from juki.core.checkdigits import is_valid_resident_code
from juki.core.errors import DomainError, ErrorCode

from ..models import Person, ResidentCodeStock
from .changes import my_number_record
from .writer import ChangeResult, PersonRef

MY_NUMBER_KINDS = ("entry", "change_request")


def my_number_from_jlis(*, actor: Actor, person_id: int, resident_code: str, my_number: str, kind: str) -> ChangeResult:
    """Record J-LIS's answer for the person it was asked for, at their current version. The number
    belongs to the 住民票コード it was generated for: a person whose code has changed since is refused."""
    if kind not in MY_NUMBER_KINDS:
        raise DomainError(ErrorCode.INVALID_INPUT, "個人番号の記載の種類が正しくありません。", field="kind")
    with gate.open(actor, function="jukinet.inbound.person", perm=Perm.JUKINET_INBOUND,
                   criteria={"kind": kind}) as session:
        session.record([person_id])
        row = Person.objects.filter(pk=person_id).values_list(
            "latest_seq", "current__resident_code", "current__my_number_digest").first()
    if row is None:
        raise DomainError(ErrorCode.NOT_FOUND, "対象の住民が見つかりません。")
    latest, code, digest = row
    if digest and digest == mynumber.digest(my_number):
        # A retry after a crash between the change and the request's own row: it is recorded already.
        raise DomainError(ErrorCode.NOTHING_CHANGED, "この個人番号はすでに記載されています。")
    if code != resident_code:
        raise DomainError(ErrorCode.INVALID_RESIDENT_CODE,
                          "個人番号を求めた時の住民票コードと、現在の住民票コードが異なります。", field="resident_code")
    return my_number_record(actor=actor, event_date=clock.today(), person=PersonRef(person_id, latest),
                            my_number=my_number, kind=kind, perm=Perm.JUKINET_INBOUND, criteria={"source": "jlis"})


def add_resident_codes(*, actor: Actor, codes: list[str]) -> int:
    """New 住民票コード from the CS into the stock [870]; a code already held is skipped. Returns how
    many were added."""
    bad = [c for c in codes if not is_valid_resident_code(c)]
    if bad:
        raise DomainError(ErrorCode.INVALID_RESIDENT_CODE, "検査数字の正しくない住民票コードが含まれています。",
                          details={"count": len(bad)})
    with gate.open(actor, function="jukinet.inbound.resident_codes", perm=Perm.JUKINET_INBOUND,
                   criteria={"count": len(codes)}):
        before = ResidentCodeStock.objects.count()
        ResidentCodeStock.objects.bulk_create([ResidentCodeStock(code=c) for c in codes], ignore_conflicts=True)
        return ResidentCodeStock.objects.count() - before
