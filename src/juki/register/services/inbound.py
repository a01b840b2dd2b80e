"""What the 住基ネット sends back into the register (ADR 0023): J-LIS's 個人番号 for a person, and
new 住民票コード for the stock. Only the 住基ネット連携's system actor holds the right
(`jukinet.inbound`); each is a change or a stock entry like any other, in one transaction with its
log row and, for a change, its outbox event. No one types these numbers (C12)."""
from __future__ import annotations

import datetime as dt

from django.db import transaction

from juki.accounts.permissions import Perm
from juki.audit import gate
from juki.audit.gate import Actor
from juki.core import clock, mynumber
from juki.core.checkdigits import is_valid_local_government_code, is_valid_resident_code
from juki.core.errors import DomainError, ErrorCode

from ..models import Person, ResidentCodeStock, Status, TransferCertificate
from ..reasons import Reason
from .changes import move_out_confirm, my_number_record
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


# --- 住基ネット II (issue 15): 転出証明書情報 and 転入通知 from other cities -----------------------------

TRANSFER_ITEMS = ("name", "name_kana", "family_name", "given_name", "family_name_kana", "given_name_kana",
                  "birth_date", "sex", "relationship", "head_name", "domicile", "domicile_head", "address",
                  "move_out_address", "move_out_planned_on", "resident_kind", "nationality")


def transfer_certificates_received(*, actor: Actor, group: str, from_municipality: str,
                                   certificates: list[dict]) -> int:
    """The 転出証明書情報 the 転出地 answered for a 特例転入 [610], kept for the clerk's 転入 (sealed where
    it holds the 個人番号). The same answer again changes nothing. Returns how many were new."""
    if not is_valid_local_government_code(from_municipality):
        raise DomainError(ErrorCode.INVALID_LOCAL_GOVERNMENT_CODE, "転出地の市町村コードが正しくありません。")
    for c in certificates:
        if not is_valid_resident_code(str(c.get("resident_code", ""))):
            raise DomainError(ErrorCode.INVALID_RESIDENT_CODE, "転出証明書情報の住民票コードが正しくありません。")
    with gate.open(actor, function="jukinet.receive.transfer_certificate", perm=Perm.JUKINET_INBOUND,
                   criteria={"group": group, "count": len(certificates)}) as session, transaction.atomic():
        session.my_number_accessed = any(c.get("my_number") for c in certificates)
        created = 0
        for c in certificates:
            sealed = mynumber.seal(c["my_number"]) if c.get("my_number") else None
            _, new = TransferCertificate.objects.get_or_create(group=group, resident_code=c["resident_code"], defaults=dict(
                from_municipality=from_municipality, items={k: c.get(k) for k in TRANSFER_ITEMS if k in c},
                my_number_key_id=sealed.key_id if sealed else "", my_number_cipher=sealed.ciphertext if sealed else None,
                my_number_digest=sealed.digest if sealed else ""))
            created += new
        return created


# What a 転入通知 may confirm: a 転出, or a 職権消除 after an inquiry [680]; a confirmed one again (a
# resent notice is applied again: [690] 「既に取り込んだ通知について再送信された場合、修正ができること」).
CONFIRMABLE = (Reason.DOMESTIC_MOVE_OUT, Reason.EX_OFFICIO_REMOVAL, Reason.MOVE_OUT_CONFIRMED)


def move_in_notice(*, actor: Actor, resident_code: str, moved_on: dt.date, notice_on: dt.date,
                   address: str) -> ChangeResult:
    """転入通知 received from the CS [690]: the 転出 is confirmed (転出確定) without a clerk, with the
    転入地's address and date, as [680] records them. A notice that names no removed person of this
    register is refused (`notice_unmatched`) and listed for the clerk."""
    with gate.open(actor, function="jukinet.receive.move_in_notice", perm=Perm.JUKINET_INBOUND,
                   criteria={"items": ["resident_code"]}) as session:
        row = (Person.objects.filter(current__resident_code=resident_code, status=Status.REMOVED)
               .values_list("id", "latest_seq", "current__reason").first())
        if row is not None:
            session.record([row[0]])
    if row is None or row[2] not in CONFIRMABLE:
        raise DomainError(ErrorCode.NOTICE_UNMATCHED, "転入通知の住民票コードに該当する転出者（除票）がありません。",
                          field="resident_code")
    try:
        return move_out_confirm(actor=actor, person=PersonRef(row[0], row[1]), notice_on=notice_on, moved_on=moved_on,
                                confirmed_address=address, perm=Perm.JUKINET_INBOUND)
    except DomainError as exc:  # matched, but not taken (a 支援措置, an address too long …): whom it names
        exc.details.setdefault("person_id", row[0])
        raise


# --- 法務大臣からの通知 (住基法第30条の50), applied after a clerk's check [960] ------------------------------

# What a 法務省通知 may change, as the register names the items.
IMMIGRATION_ITEMS = ("family_name", "given_name", "nationality", "residence_status", "period_of_stay",
                     "stay_expires_on", "residence_card_number")


def immigration_changes(items: dict, current: dict) -> dict:
    """The register items a 法務省通知 changes: its values that differ from the person's (`current`, the
    record's entry items); a new 在留カード等番号 under `new_residence_card_number`."""
    wanted = {k: items.get(k) for k in IMMIGRATION_ITEMS if k != "residence_card_number" and items.get(k)}
    if items.get("new_residence_card_number"):
        wanted["residence_card_number"] = items["new_residence_card_number"]
    return {k: str(v) for k, v in wanted.items() if str(v) != str(current.get(k) or "")}


def immigration_notice_apply(*, actor: Actor, person_id: int, version: int, items: dict, current: dict,
                             event_date: dt.date) -> ChangeResult:
    """The clerk checked a 法務省通知 against the person and applies it: a 変更 as a 職権修正 of the items it
    changes, a 消除すべき事由 as a 職権消除 — each the clerk's own change, under their rights, with the
    notice named in the change's 職権記録."""
    from .changes import ex_officio_correction, ex_officio_removal

    note = "法務大臣からの通知（住民基本台帳法第30条の50）による"
    person = PersonRef(person_id, version)
    if items.get("kind") == "removal":
        return ex_officio_removal(actor=actor, event_date=event_date, notified_on=None, persons=[person], note=note)
    changes = immigration_changes(items, current)
    if not changes:
        raise DomainError(ErrorCode.NOTHING_CHANGED, "通知の内容は住民票の記載と同じです。反映する項目はありません。")
    return ex_officio_correction(actor=actor, event_date=event_date, person=person, changes=changes, note=note)

