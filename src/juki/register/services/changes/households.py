"""世帯変更等: 世帯主変更, 世帯分離, 世帯合併, 世帯変更 ([710]–[740])."""
from __future__ import annotations

import datetime as dt

from juki.audit.gate import Actor
from juki.core.errors import DomainError, ErrorCode

from ... import relationships
from ...reasons import Operation, Reason
from ...versions import version_data
from ..writer import ChangeResult, HouseholdRef, PersonRef, change_scope
from .common import HOUSEHOLD_FIELDS, _apply_head_change, _load_movers, _maybe_new_head, _one_head_at_most, _relationship_map, _require_relationships, _same_place

# --- 世帯変更等 -------------------------------------------------------------------------------


def head_change(
    *,
    actor: Actor,
    event_date: dt.date,
    notified_on: dt.date | None,
    household: HouseholdRef,
    new_head: int,
    relationships_after: dict[int, str] | None = None,
) -> ChangeResult:
    """世帯主変更 [730]: the others' 続柄 are re-derived where unambiguous, else entered."""
    with change_scope(actor=actor, operation=Operation.HEAD_CHANGE, event_date=event_date, notified_on=notified_on) as w:
        target = w.household(household)
        _apply_head_change(w, target, new_head, _relationship_map(relationships_after))
        return w.finish()


def household_split(
    *,
    actor: Actor,
    event_date: dt.date,
    notified_on: dt.date | None,
    persons: list[PersonRef],
    relationships_in_new: dict[int, str],
    new_head: int | None = None,
    new_head_relationships: dict[int, str] | None = None,
) -> ChangeResult:
    """世帯分離: some members form a new household at the same address (no address change [720])."""
    with change_scope(actor=actor, operation=Operation.HOUSEHOLD_SPLIT, event_date=event_date, notified_on=notified_on) as w:
        source, movers = _load_movers(w, persons)
        if {p.id for p, _ in movers} == {p.id for p, _ in w.current_members(source)}:
            raise DomainError(ErrorCode.HOUSEHOLD_MISMATCH, "世帯全員を分離することはできません。", field="persons")
        rels = _relationship_map(relationships_in_new)
        _require_relationships([p.id for p, _ in movers], rels)
        _one_head_at_most(list(rels.values()))
        target = w.new_household()
        for person, version in movers:
            data = version_data(version) | {"household_id": target.id, "relationship": rels[person.id]}
            w.write(person, data, Reason.HOUSEHOLD_SPLIT, allowed=HOUSEHOLD_FIELDS)
        _maybe_new_head(w, source, new_head, new_head_relationships, movers)
        return w.finish()


def _join(operation: Operation, reason: Reason, whole: bool):
    def join(
        *,
        actor: Actor,
        event_date: dt.date,
        notified_on: dt.date | None,
        persons: list[PersonRef],
        target: HouseholdRef,
        relationships_in_target: dict[int, str],
        new_head: int | None = None,
        new_head_relationships: dict[int, str] | None = None,
    ) -> ChangeResult:
        with change_scope(actor=actor, operation=operation, event_date=event_date, notified_on=notified_on) as w:
            source, movers = _load_movers(w, persons)
            if source.id == target.id:
                raise DomainError(ErrorCode.HOUSEHOLD_MISMATCH, "異動先は別の世帯を指定してください。", field="target")
            moving_all = {p.id for p, _ in movers} == {p.id for p, _ in w.current_members(source)}
            if whole and not moving_all:
                raise DomainError(ErrorCode.HOUSEHOLD_MISMATCH, "世帯合併では世帯全員を選んでください（一部の方は世帯変更）。", field="persons")
            if not whole and moving_all:
                raise DomainError(ErrorCode.HOUSEHOLD_MISMATCH, "世帯全員が移る場合は世帯合併として処理してください。", field="persons")
            destination = w.household(target)
            at = w.household_address(destination)
            if any(not _same_place(v, at) for _, v in movers):
                raise DomainError(
                    ErrorCode.ADDRESS_CHANGE_NOT_ALLOWED,
                    "世帯変更等では住所を変更できません。住所が異なる場合は転居として処理してください。",
                    field="target",
                )
            rels = _relationship_map(relationships_in_target)
            _require_relationships([p.id for p, _ in movers], rels)
            if relationships.HEAD in rels.values():
                raise DomainError(ErrorCode.INVALID_RELATIONSHIP, "異動先の世帯の世帯主はこの処理では変更できません。世帯主変更として別に処理してください。", field="relationship")
            for person, version in movers:
                data = version_data(version) | {"household_id": destination.id, "relationship": rels[person.id]}
                w.write(person, data, reason, allowed=HOUSEHOLD_FIELDS)
            if not whole:
                _maybe_new_head(w, source, new_head, new_head_relationships, movers)
            return w.finish()

    join.__name__ = str(operation)
    return join


household_merge = _join(Operation.HOUSEHOLD_MERGE, Reason.HOUSEHOLD_MERGE, whole=True)
household_change = _join(Operation.HOUSEHOLD_CHANGE, Reason.HOUSEHOLD_CHANGE, whole=False)
