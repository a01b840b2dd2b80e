"""転居 and 消除: 転出, 転出の確定, 死亡, 失踪宣告, 職権消除 ([550]–[700])."""
from __future__ import annotations

import datetime as dt

from juki.audit.gate import Actor
from juki.core.errors import DomainError, ErrorCode

from ... import relationships
from ...models import Status
from ...reasons import Operation, Reason, label
from .. import people
from ..people import Address
from ...versions import version_data
from ..writer import ChangeResult, PersonRef, change_scope
from .common import ADDRESS_FIELDS, HOUSEHOLD_FIELDS, NEW, _load_movers, _maybe_new_head, _one_head_at_most, _relationship_map, _remove, _require_relationships

# --- 転居 -----------------------------------------------------------------------------------


def move_within_city(
    *,
    actor: Actor,
    event_date: dt.date,
    notified_on: dt.date | None,
    persons: list[PersonRef],
    address: Address,
    destination=None,
    relationships_in_destination: dict[int, str] | None = None,
    new_head: int | None = None,
    new_head_relationships: dict[int, str] | None = None,
) -> ChangeResult:
    """転居 [630]: only the address changes — and, for part of a household, the household.

    The whole household moves: it keeps its 世帯番号. Part of it moves: `destination` is NEW
    (a new household at the new address) or an existing household there.
    Into another ward of a 指定都市 (区間異動 [130][470]): each mover gets a 除票 in the old
    ward and an entry in the new one, keeping the 宛名番号; a whole household gets a new
    世帯番号.
    """
    with change_scope(actor=actor, operation=Operation.MOVE_WITHIN_CITY, event_date=event_date,
                      notified_on=notified_on, criteria={"persons": len(persons)}) as w:
        source, movers = _load_movers(w, persons)
        whole = {p.id for p, _ in movers} == w.member_ids(source)
        new_town = w.town(address.town_code)
        addr = people.address_fields(address, new_town)
        first = movers[0][1]
        if (first.town_id, first.banchi, first.katagaki) == (addr["town_id"], addr["banchi"], addr["katagaki"]):
            raise DomainError(ErrorCode.ADDRESS_UNCHANGED, "転居先の住所が現在の住所と同じです。", field="address")
        common = addr | {"address_set_on": event_date, "notified_on": notified_on}
        allowed = ADDRESS_FIELDS | {"address_set_on", "notified_on"}
        cross_ward = first.town.ward_id != new_town.ward_id

        def move(person, version, data, allowed_fields):
            if not cross_ward:
                w.write(person, data, Reason.MOVE_WITHIN_CITY, allowed=allowed_fields)
                return
            old_town = version.town
            w.write(person, version_data(version) | {
                "status": Status.REMOVED, "removal_reason": label(Reason.WARD_MOVE_OUT), "removed_on": event_date,
                "move_out_address": people.address_text(new_town, addr["banchi"], addr["katagaki"]),
                "move_out_planned_on": event_date, "notified_on": notified_on,
            }, Reason.WARD_MOVE_OUT)
            w.write(person, data | {
                "previous_address": people.address_text(old_town, version.banchi, version.katagaki),
                "previous_postal_code": old_town.postal_code,
            }, Reason.WARD_MOVE_IN)

        if whole and destination is None:
            if cross_ward:
                target = w.new_household()
                for person, version in movers:
                    move(person, version, version_data(version) | common | {"household_id": target.id}, None)
            else:
                for person, version in movers:
                    move(person, version, version_data(version) | common, allowed)
            return w.finish()
        if destination is None:
            raise DomainError(
                ErrorCode.HOUSEHOLD_MISMATCH,
                "世帯の一部の方が転居する場合は、転居先の世帯（新しい世帯または転居先の既存の世帯）を指定してください。",
                field="destination",
            )
        rels = _relationship_map(relationships_in_destination)
        _require_relationships([p.id for p, _ in movers], rels)
        _one_head_at_most([rels[p.id] for p, _ in movers])
        if destination == NEW:
            target = w.new_household()
        else:
            if destination.id == source.id:
                raise DomainError(ErrorCode.HOUSEHOLD_MISMATCH, "転居先は別の世帯を指定してください。", field="destination")
            target = w.household(destination)
            at = w.household_address(target)
            if (at.town_id, at.banchi) != (addr["town_id"], addr["banchi"]):
                raise DomainError(ErrorCode.HOUSEHOLD_MISMATCH, "転居先の世帯の住所と入力された住所が一致しません。", field="address")
            common["katagaki"] = at.katagaki  # one household, one address
            if relationships.HEAD in rels.values() and any(v.relationship == relationships.HEAD for _, v in w.current_members(target)):
                raise DomainError(ErrorCode.INVALID_RELATIONSHIP, "転居先の世帯にはすでに世帯主がいます。", field="relationship")
        for person, version in movers:
            data = version_data(version) | common | {"household_id": target.id, "relationship": rels[person.id]}
            move(person, version, data, allowed | HOUSEHOLD_FIELDS)
        _maybe_new_head(w, source, new_head, new_head_relationships, movers)
        return w.finish()


# --- 転出・死亡・失踪・職権消除 ---------------------------------------------------------------------


def move_out(
    *,
    actor: Actor,
    event_date: dt.date,
    notified_on: dt.date | None,
    persons: list[PersonRef],
    destination_address: str,
    abroad: bool = False,
    special: bool = False,
    new_head: int | None = None,
    new_head_relationships: dict[int, str] | None = None,
) -> ChangeResult:
    """転出 (予定) [640]–[660]: removes the persons as of the planned date (which may be ahead).
    `special`: 特例転出 [670], the 転出証明書情報 goes to the CS for the 転入地 to fetch instead of a
    paper 転出証明書 (the 住基ネット連携 sends it from the outbox)."""
    if special and abroad:
        raise DomainError(ErrorCode.INVALID_INPUT, "国外への転出は特例転出の対象になりません。", field="special")
    if not destination_address:
        raise DomainError(ErrorCode.INVALID_INPUT, "転出先住所（予定）を入力してください。", field="destination_address")
    reason = Reason.ABROAD_MOVE_OUT if abroad else Reason.DOMESTIC_MOVE_OUT
    with change_scope(actor=actor, operation=Operation.MOVE_OUT, event_date=event_date, notified_on=notified_on,
                      allow_future=True, criteria={"persons": len(persons), "abroad": abroad, "special": special}) as w:
        source, movers = _load_movers(w, persons)
        for person, version in movers:
            _remove(w, person, version, reason, removed_on=event_date, extra={
                "move_out_address": destination_address, "move_out_planned_on": event_date, "notified_on": notified_on,
                "special_move_out": special})
        _maybe_new_head(w, source, new_head, new_head_relationships, movers)
        return w.finish()


def move_out_confirm(
    *,
    actor: Actor,
    person: PersonRef,
    notice_on: dt.date,
    moved_on: dt.date,
    confirmed_address: str,
    perm: str | None = None,
) -> ChangeResult:
    """転入通知の受理 [680]: records the 確定 address and date without overwriting the planned ones.
    `perm`: a notice received from the CS is confirmed under the 住基ネット連携's right [690]."""
    if not confirmed_address:
        raise DomainError(ErrorCode.INVALID_INPUT, "転出先住所（確定）を入力してください。", field="confirmed_address")
    with change_scope(actor=actor, operation=Operation.MOVE_OUT_CONFIRM, event_date=moved_on, notified_on=notice_on,
                      perm=perm) as w:
        p, version = w.person(person, require=Status.REMOVED)
        if version.reason not in (Reason.DOMESTIC_MOVE_OUT, Reason.EX_OFFICIO_REMOVAL, Reason.MOVE_OUT_CONFIRMED):
            raise DomainError(ErrorCode.NOT_REMOVED, "転出または職権消除された方ではありません。", field="person")
        removed_on = min(d for d in (version.move_out_planned_on, moved_on) if d)  # the earlier date [50]
        data = version_data(version) | {
            "move_out_confirmed_address": confirmed_address,
            "move_out_confirmed_on": moved_on,
            "move_in_notice_on": notice_on,
            "removed_on": removed_on,
        }
        w.write(p, data, Reason.MOVE_OUT_CONFIRMED, event_date=removed_on,
                allowed={"move_out_confirmed_address", "move_out_confirmed_on", "move_in_notice_on", "removed_on"})
        return w.finish()


def _removal(operation: Operation, reason: Reason, removal_label: str | None = None):
    def remove(
        *,
        actor: Actor,
        event_date: dt.date,
        notified_on: dt.date | None,
        persons: list[PersonRef],
        new_head: int | None = None,
        new_head_relationships: dict[int, str] | None = None,
        note: str = "",
    ) -> ChangeResult:
        with change_scope(actor=actor, operation=operation, event_date=event_date, notified_on=notified_on,
                          note=note, criteria={"persons": len(persons)}) as w:
            source, movers = _load_movers(w, persons)
            for person, version in movers:
                extra = {"removal_reason": removal_label} if removal_label else None
                _remove(w, person, version, reason, removed_on=event_date, extra=extra)
            _maybe_new_head(w, source, new_head, new_head_relationships, movers)
            return w.finish()

    remove.__name__ = str(operation)
    remove.__doc__ = f"{removal_label or label(reason)}: removes the persons; the records stay as 除票."
    return remove


death = _removal(Operation.DEATH, Reason.DEATH)
disappearance = _removal(Operation.DISAPPEARANCE, Reason.EX_OFFICIO_REMOVAL, "失踪宣告")
ex_officio_removal = _removal(Operation.EX_OFFICIO_REMOVAL, Reason.EX_OFFICIO_REMOVAL)
