"""記載: 転入, 出生, 職権記載, 法第30条の46・47 ([460]–[540], [750], [910][920])."""
from __future__ import annotations

import datetime as dt

from django.conf import settings

from juki.audit.gate import Actor
from juki.core.checkdigits import is_valid_local_government_code
from juki.core.municipalities import of_domicile
from juki.core.errors import DomainError, ErrorCode

from ...models import ResidentKind, TransferCertificate
from ...reasons import Operation, Reason
from ..people import Address
from ..writer import ChangeResult, change_scope
from .common import _check_entering_heads, _enter, _entry_household

# --- 転入・職権記載・30条46/47 -------------------------------------------------------------------


def move_in(
    *,
    actor: Actor,
    event_date: dt.date,
    notified_on: dt.date | None,
    origin: str,
    persons: list[dict],
    destination,
    address: Address | None,
    previous_address: str,
    previous_postal_code: str = "",
    previous_municipality_code: str = "",
    confirmed_new_person: bool = False,
    operation: Operation = Operation.MOVE_IN,
    note: str = "",
) -> ChangeResult:
    """転入 (国内: with the 転出証明書 data; 国外), 再転入, and the entries that follow its rules.

    `persons` items carry the person's items, `relationship` to the destination head and,
    for a returning resident, `returning_person` (a PersonRef to their 除票); for a 特例転入 [610],
    `transfer_certificate` (the id of the 転出証明書情報 received for them), whose 住民票コード and
    個人番号 are recorded as received. `previous_municipality_code` is the 転出地, where the 転入通知 goes.
    """
    reason = {
        Operation.MOVE_IN: Reason.DOMESTIC_MOVE_IN if origin == "domestic" else Reason.ABROAD_MOVE_IN,
        Operation.FOREIGN_MOVE_IN: Reason.ABROAD_MOVE_IN,
        Operation.FOREIGN_REGISTRATION: Reason.ABROAD_MOVE_IN,
        Operation.EX_OFFICIO_ENTRY: Reason.EX_OFFICIO_ENTRY,
    }[operation]
    if operation == Operation.MOVE_IN and origin == "domestic" and not previous_address:
        raise DomainError(ErrorCode.INVALID_INPUT, "転入前住所（転出証明書の住所）を入力してください。", field="previous_address")
    if operation in (Operation.FOREIGN_MOVE_IN, Operation.FOREIGN_REGISTRATION):
        for p in persons:
            if p.get("resident_kind") != ResidentKind.FOREIGN:
                raise DomainError(ErrorCode.NOT_FOREIGN_RESIDENT, "この届出は外国人住民の方のみです。", field="resident_kind")
    if not persons:
        raise DomainError(ErrorCode.INVALID_INPUT, "異動者を入力してください。", field="persons")
    if not previous_municipality_code and operation == Operation.MOVE_IN and origin == "domestic":
        # The 転出地 read from the 転入前住所 (the 転入通知 goes there, 住基法第9条第1項); one the directory
        # does not know (or this city itself) stays blank, and the clerk sends that notice on paper.
        found = of_domicile(previous_address) or ""
        previous_municipality_code = "" if found == settings.JUKI_MUNICIPALITY else found
    if previous_municipality_code and (origin != "domestic" or not is_valid_local_government_code(
            previous_municipality_code) or previous_municipality_code == settings.JUKI_MUNICIPALITY):
        raise DomainError(ErrorCode.INVALID_INPUT, "転出地の市町村コードが正しくありません。",
                          field="previous_municipality_code")
    with change_scope(
        actor=actor,
        operation=operation,
        event_date=event_date,
        notified_on=notified_on,
        note=note,
        criteria={"origin": origin, "persons": len(persons)},
    ) as w:
        household, addr, is_new = _entry_household(w, destination, address)
        _check_entering_heads(persons, is_new, household, w)
        extra = {
            "became_resident_on": event_date,
            "address_set_on": event_date,
            "notified_on": notified_on,
            "previous_address": previous_address,
            "previous_postal_code": previous_postal_code,
            "previous_municipality_code": previous_municipality_code,
        }
        persons = [_with_certificate(inp, previous_municipality_code) for inp in persons]
        for inp in persons:
            fields = dict(extra)
            if inp.get("resident_kind") == ResidentKind.FOREIGN and not inp.get("became_foreign_resident_on"):
                fields["became_foreign_resident_on"] = event_date
            _enter(w, inp, reason=reason, household=household, addr=addr, extra=fields,
                   confirmed_new_person=confirmed_new_person)
        return w.finish()


def _with_certificate(inp: dict, municipality: str) -> dict:
    """A person entering from a 転出証明書情報: the certificate itself (unused, from the 転出地 named), and
    its 住民票コード, by which a returning resident's 除票 is found [600]."""
    if not inp.get("transfer_certificate"):
        return inp
    certificate = TransferCertificate.objects.select_for_update().filter(pk=inp["transfer_certificate"]).first()
    if certificate is None or certificate.from_municipality != municipality:
        raise DomainError(ErrorCode.NOT_FOUND, "転出証明書情報が見つかりません。", field="transfer_certificate")
    if certificate.used_by_id is not None:
        raise DomainError(ErrorCode.TRANSFER_CERTIFICATE_USED, "この転出証明書情報による転入はすでに記録されています。",
                          field="transfer_certificate")
    return {**inp, "transfer_certificate": certificate, "resident_code": certificate.resident_code}


def birth(
    *,
    actor: Actor,
    event_date: dt.date,
    notified_on: dt.date | None,
    child: dict,
    destination,
    address: Address | None = None,
) -> ChangeResult:
    """出生 [810]: the child enters a household (usually a parent's) on the day of birth."""
    if child.get("my_number"):
        raise DomainError(
            ErrorCode.MY_NUMBER_AT_BIRTH,
            "出生者の個人番号は、J-LISから通知された後に「個人番号の記載」で記載します。",
            field="my_number",
        )
    child = dict(child, birth_date=child.get("birth_date") or event_date)
    if child["birth_date"] != event_date:
        raise DomainError(ErrorCode.INVALID_DATE, "出生の異動日は生年月日と同じ日です。", field="event_date")
    with change_scope(actor=actor, operation=Operation.BIRTH, event_date=event_date, notified_on=notified_on) as w:
        household, addr, is_new = _entry_household(w, destination, address)
        _check_entering_heads([child], is_new, household, w)
        if not child.get("domicile") and not is_new:
            # 戸籍の表示 is quoted from a household member [770] when the clerk leaves it empty.
            head = next((v for _, v in w.current_members(household) if v.domicile), None)
            if head is not None:
                child.setdefault("domicile", head.domicile)
                child["domicile"] = child["domicile"] or head.domicile
                child["domicile_head"] = child.get("domicile_head") or head.domicile_head
        extra = {"became_resident_on": event_date, "address_set_on": event_date, "notified_on": notified_on,
                 "previous_address": "", "previous_postal_code": ""}
        if child.get("resident_kind") == ResidentKind.FOREIGN:
            extra["became_foreign_resident_on"] = event_date
        _enter(w, child, reason=Reason.BIRTH, household=household, addr=addr, extra=extra, confirmed_new_person=True)
        return w.finish()



def ex_officio_entry(**kwargs) -> ChangeResult:
    """職権記載 [750][800]: an entry without a notification; 転入前住所 may be 「不明」."""
    kwargs.setdefault("origin", "ex_officio")
    return move_in(operation=Operation.EX_OFFICIO_ENTRY, **kwargs)


def foreign_move_in(**kwargs) -> ChangeResult:
    """法第30条の46転入 [910]: a foreign resident's first address in Japan; 転入前住所 may be blank."""
    kwargs.setdefault("origin", "abroad")
    return move_in(operation=Operation.FOREIGN_MOVE_IN, **kwargs)


def foreign_registration(**kwargs) -> ChangeResult:
    """法第30条の47届出 [920]: a person living here becomes a 中長期在留者 etc."""
    kwargs.setdefault("origin", "abroad")
    return move_in(operation=Operation.FOREIGN_REGISTRATION, **kwargs)
