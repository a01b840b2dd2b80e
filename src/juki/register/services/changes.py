"""The change operations (異動, standard [460]–[990]).

Each public function is one operation: keyword-only arguments, the acting `Actor` first,
one `change_scope` (gate + transaction + writer). Input shape is checked by the caller
(API serializer, form, CLI); every rule of the register is checked here.
"""
from __future__ import annotations

import datetime as dt

from juki.audit import gate
from juki.audit.gate import Actor
from juki.accounts.permissions import Perm
from juki.core.errors import DomainError, ErrorCode, NotFoundError

from .. import relationships
from ..models import DATA_FIELDS, Change, Household, Person, PersonVersion, ResidentKind, Status
from ..reasons import Category, Operation, Reason, category, label
from . import numbers, people
from .people import Address
from ..versions import version_data
from .writer import ChangeResult, ChangeWriter, HouseholdRef, PersonRef, change_scope

NEW = "new"  # destination household: a new one
# 除票 from which a person may come back by 転入 (再転入 [600]); a 死亡・失踪 is undone by 取消し only.
RETURNABLE_REMOVALS = {
    Reason.DOMESTIC_MOVE_OUT, Reason.ABROAD_MOVE_OUT, Reason.MOVE_OUT_CONFIRMED, Reason.EX_OFFICIO_REMOVAL,
}

ADDRESS_FIELDS = {"town_id", "banchi", "katagaki"}
HOUSEHOLD_FIELDS = {"household_id", "relationship"}
MINOR_CORRECTION_FIELDS = {
    "family_name", "given_name", "family_name_kana", "given_name_kana", "kanji_name", "alias_name", *ADDRESS_FIELDS,
}
CORRECTABLE_FIELDS = set(DATA_FIELDS) - {
    "my_number_key_id", "my_number_cipher", "my_number_digest", "resident_code", "status", "removal_reason",
    "removed_on", "household_id", "resident_kind",
}


# --- helpers ---------------------------------------------------------------------------------


def _distinct_people(refs: list[PersonRef]) -> list[PersonRef]:
    if not refs:
        raise DomainError(ErrorCode.INVALID_INPUT, "異動者を選んでください。", field="persons")
    if len({r.id for r in refs}) != len(refs):
        raise DomainError(ErrorCode.INVALID_INPUT, "同じ方が重複して選ばれています。", field="persons")
    return refs


def _load_movers(w: ChangeWriter, refs: list[PersonRef]) -> tuple[Household, list[tuple[Person, PersonVersion]]]:
    """Movers must be current residents of one household."""
    movers = w.persons(_distinct_people(refs))
    households = {v.household_id for _, v in movers}
    if len(households) != 1:
        raise DomainError(ErrorCode.HOUSEHOLD_MISMATCH, "異動者は同じ世帯の方から選んでください。", field="persons")
    source = w.bump(households.pop())  # lock the source household before its members are counted
    return source, movers


def _relationship_map(values: dict[int, str] | None) -> dict[int, str]:
    return {int(k): relationships.validate(v) for k, v in (values or {}).items()}


def _one_head_at_most(rels: list[str]) -> None:
    if rels.count(relationships.HEAD) > 1:
        raise DomainError(ErrorCode.INVALID_RELATIONSHIP, "世帯主は1世帯に1人です。", field="relationship")


def _require_relationships(person_ids: list[int], rels: dict[int, str]) -> None:
    missing = [pid for pid in person_ids if pid not in rels]
    if missing:
        raise DomainError(
            ErrorCode.RELATIONSHIP_REQUIRED,
            "異動先の世帯での続柄が入力されていない方がいます。",
            details={"person_ids": missing},
        )


def _same_place(a: PersonVersion, b: PersonVersion) -> bool:
    return a.town_id == b.town_id and a.banchi == b.banchi


def _apply_head_change(
    w: ChangeWriter,
    household: Household,
    new_head_id: int,
    overrides: dict[int, str],
    departed: list[PersonVersion] = (),
) -> None:
    """Make `new_head_id` the 世帯主 of `household` and re-derive the others' 続柄 [730].

    `departed` are the pre-change versions of members leaving in the same change (a dying or
    departing head): they are not written, only used to know whom the old 続柄 referred to.
    """
    members = w.current_members(household)
    if new_head_id not in {p.id for p, _ in members}:
        raise DomainError(ErrorCode.HEAD_REQUIRED, "新しい世帯主は、この世帯に残る世帯員から選んでください。", field="new_head")
    old_head = next((v for v in [*(v for _, v in members), *departed] if v.relationship == relationships.HEAD), None)
    as_members = [relationships.Member(p.id, v.relationship, v.sex, v.birth_date) for p, v in members]
    old = None
    if old_head is not None:
        old = relationships.Member(old_head.person_id, old_head.relationship, old_head.sex, old_head.birth_date)
        if old.person_id not in {m.person_id for m in as_members}:
            as_members.append(old)
    derived = relationships.derive_for_new_head(as_members, old, new_head_id)
    member_ids = [p.id for p, _ in members]
    final = {pid: overrides.get(pid) or derived.get(pid) for pid in member_ids}
    final[new_head_id] = relationships.HEAD
    _require_relationships(member_ids, {k: v for k, v in final.items() if v})
    _one_head_at_most(list(final.values()))
    for person, version in members:
        if final[person.id] != version.relationship:
            data = version_data(version) | {"relationship": final[person.id]}
            w.write(person, data, Reason.HEAD_CHANGE, allowed={"relationship"})


def _maybe_new_head(w: ChangeWriter, household: Household, new_head_id: int | None, rels: dict | None, movers):
    if new_head_id is not None:
        _apply_head_change(w, household, new_head_id, _relationship_map(rels), departed=[v for _, v in movers])


def _entry_household(w: ChangeWriter, destination, address: Address | None) -> tuple[Household, dict, bool]:
    """Destination of persons entering: a new household at `address`, or an existing one."""
    if destination == NEW:
        if address is None:
            raise DomainError(ErrorCode.INVALID_INPUT, "住所を入力してください。", field="address")
        return w.new_household(), people.address_fields(address), True
    household = w.household(destination)
    at = w.household_address(household)
    if address is not None:
        wanted = people.address_fields(address)
        if (wanted["town_id"], wanted["banchi"]) != (at.town_id, at.banchi):
            raise DomainError(
                ErrorCode.HOUSEHOLD_MISMATCH, "異動先の世帯の住所と、入力された住所が一致しません。", field="address"
            )
    return household, {"town_id": at.town_id, "banchi": at.banchi, "katagaki": at.katagaki}, False


def _check_entering_heads(persons: list[dict], new_household: bool, household: Household, w: ChangeWriter):
    rels = [relationships.validate(p.get("relationship", "")) for p in persons]
    _one_head_at_most(rels)
    if not new_household and relationships.HEAD in rels:
        if any(v.relationship == relationships.HEAD for _, v in w.current_members(household)):
            raise DomainError(ErrorCode.INVALID_RELATIONSHIP, "異動先の世帯にはすでに世帯主がいます。", field="relationship")


def _resident_code_for(w: ChangeWriter, inp: dict, exclude: int | None = None) -> str:
    if inp.get("resident_code"):
        return people.check_resident_code(inp["resident_code"], exclude_person=exclude)
    code, warnings = numbers.take_resident_code()
    w.warnings.extend(warnings)
    return code


def _enter(
    w: ChangeWriter,
    inp: dict,
    *,
    reason: Reason,
    household: Household,
    addr: dict,
    extra: dict,
    confirmed_new_person: bool,
) -> Person:
    """Write the first version of an entering person, or the re-entry version of a returning one."""
    returning: PersonRef | None = inp.get("returning_person")
    if returning is not None:
        person, last = w.person(returning, require=Status.REMOVED)
        if last.reason not in RETURNABLE_REMOVALS or last.removal_reason == "失踪宣告":
            raise DomainError(
                ErrorCode.NOT_REMOVED,
                "この除票の方は再転入として記載できません（死亡・失踪等による消除）。誤りの場合は異動の取消しを行ってください。",
                field="returning_person",
            )
        base = version_data(last)
    else:
        found, by = people.identify_existing(inp)
        if found is not None:
            w.session.record([found.id])
            # Who holds a given 個人番号 is not disclosed through this path; other identifiers
            # point the clerk to the record to use.
            details = {} if by == "個人番号" else {"person_id": found.id}
            if found.status == Status.RESIDENT:
                raise DomainError(
                    ErrorCode.ALREADY_RESIDENT,
                    f"同じ{by}の方がすでに住民として記録されています。転入として記載することはできません。",
                    details=details,
                )
            raise DomainError(
                ErrorCode.RETURNING_RESIDENT_FOUND,
                f"同じ{by}の除票があります。再転入として、その方の除票を検索して選んでください。",
                details=details,
            )
        if not confirmed_new_person:
            matches = people.three_info_matches(inp)
            if matches:
                w.session.record(p.id for p in matches)
                raise DomainError(
                    ErrorCode.POSSIBLE_RETURNING_RESIDENT,
                    "氏名・性別・生年月日が一致する方が記録されています。同一人でないことを確認のうえ、確認済みとして再度処理してください。",
                    details={"person_ids": [p.id for p in matches]},
                )
        person, base = w.new_person(), None
    data = people.build_new(inp, base=base)
    data.update(addr)
    data.update(extra)
    data["household_id"] = household.id
    data["resident_code"] = _resident_code_for(w, inp, exclude=person.id) if (inp.get("resident_code") or not data.get("resident_code")) else data["resident_code"]
    if inp.get("my_number"):
        w.session.my_number_accessed = True
        data.update(people.seal_my_number(inp["my_number"], exclude_person=person.id))
    w.write(person, data, reason)
    return person


def _remove(w: ChangeWriter, person: Person, version: PersonVersion, reason: Reason, *, removed_on: dt.date, extra=None):
    data = version_data(version) | {"status": Status.REMOVED, "removal_reason": label(reason), "removed_on": removed_on}
    data.update(extra or {})
    w.write(person, data, reason, event_date=removed_on)


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
    confirmed_new_person: bool = False,
    operation: Operation = Operation.MOVE_IN,
    note: str = "",
) -> ChangeResult:
    """転入 (国内: with the 転出証明書 data; 国外), 再転入, and the entries that follow its rules.

    `persons` items carry the person's items, `relationship` to the destination head and,
    for a returning resident, `returning_person` (a PersonRef to their 除票).
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
        }
        for inp in persons:
            fields = dict(extra)
            if inp.get("resident_kind") == ResidentKind.FOREIGN and not inp.get("became_foreign_resident_on"):
                fields["became_foreign_resident_on"] = event_date
            _enter(w, inp, reason=reason, household=household, addr=addr, extra=fields,
                   confirmed_new_person=confirmed_new_person)
        return w.finish()


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
        new_town = people.resolve_town(address.town_code)
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
    new_head: int | None = None,
    new_head_relationships: dict[int, str] | None = None,
) -> ChangeResult:
    """転出 (予定) [640]–[660]: removes the persons as of the planned date (which may be ahead)."""
    if not destination_address:
        raise DomainError(ErrorCode.INVALID_INPUT, "転出先住所（予定）を入力してください。", field="destination_address")
    reason = Reason.ABROAD_MOVE_OUT if abroad else Reason.DOMESTIC_MOVE_OUT
    with change_scope(actor=actor, operation=Operation.MOVE_OUT, event_date=event_date, notified_on=notified_on,
                      allow_future=True, criteria={"persons": len(persons), "abroad": abroad}) as w:
        source, movers = _load_movers(w, persons)
        for person, version in movers:
            _remove(w, person, version, reason, removed_on=event_date, extra={
                "move_out_address": destination_address, "move_out_planned_on": event_date, "notified_on": notified_on})
        _maybe_new_head(w, source, new_head, new_head_relationships, movers)
        return w.finish()


def move_out_confirm(
    *,
    actor: Actor,
    person: PersonRef,
    notice_on: dt.date,
    moved_on: dt.date,
    confirmed_address: str,
) -> ChangeResult:
    """転入通知の受理 [680]: records the 確定 address and date without overwriting the planned ones."""
    with change_scope(actor=actor, operation=Operation.MOVE_OUT_CONFIRM, event_date=moved_on, notified_on=notice_on) as w:
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


# --- 修正 --------------------------------------------------------------------------------------


def _correction(operation: Operation, reason: Reason, allowed: set[str]):
    def correct(
        *,
        actor: Actor,
        event_date: dt.date,
        notified_on: dt.date | None = None,
        person: PersonRef,
        changes: dict,
        note: str = "",
    ) -> ChangeResult:
        with change_scope(actor=actor, operation=operation, event_date=event_date, notified_on=notified_on,
                          note=note, criteria={"fields": sorted(changes)}) as w:
            p, version = w.person(person, require=None)
            values = dict(changes)
            if "town_id" in values:
                raise DomainError(ErrorCode.FIELD_NOT_CHANGEABLE, "住所は町字コード（town_code）で指定してください。",
                                  details={"fields": ["town_id"]})
            if "town_code" in values or "banchi" in values or "katagaki" in values:
                values.update(people.address_fields(Address(
                    values.pop("town_code", None) or version.town.code,
                    values.pop("banchi", version.banchi), values.pop("katagaki", version.katagaki))))
            if "relationship" in values:
                values["relationship"] = relationships.validate(values["relationship"])
            for name in ("family_name_kana", "given_name_kana", "former_surname_kana", "alias_name_kana"):
                if name in values:
                    values[name] = people.kana(values[name])
            unknown = set(values) - set(DATA_FIELDS)
            not_allowed = (set(values) - allowed) | unknown
            if not_allowed:
                code = ErrorCode.MINOR_CORRECTION_FIELDS if operation == Operation.MINOR_CORRECTION else ErrorCode.FIELD_NOT_CHANGEABLE
                raise DomainError(code, f"{label(reason)}では変更できない項目が含まれています。", details={"fields": sorted(not_allowed)})
            data = version_data(version) | values
            if data["resident_kind"] == ResidentKind.FOREIGN:
                people.check_foreign(data)
            if data == version_data(version):
                raise DomainError(ErrorCode.NOTHING_CHANGED, "修正前と同じ内容です。", field="changes")
            w.write(p, data, reason, allowed=allowed)
            moved = {k: data[k] for k in ADDRESS_FIELDS if data[k] != getattr(version, k)}
            if moved and version.status == Status.RESIDENT:
                # A household has one address: the correction (住居表示の実施, 方書の変更 …) is made
                # for every member living there, in the same change.
                for member, member_version in w.current_members(Household(id=version.household_id)):
                    if member.id != p.id:
                        w.write(member, version_data(member_version) | moved, reason, allowed=ADDRESS_FIELDS)
            return w.finish()

    correct.__name__ = str(operation)
    return correct


ex_officio_correction = _correction(Operation.EX_OFFICIO_CORRECTION, Reason.EX_OFFICIO_CORRECTION, CORRECTABLE_FIELDS)
erratum_correction = _correction(Operation.ERRATUM_CORRECTION, Reason.ERRATUM_CORRECTION, CORRECTABLE_FIELDS)
minor_correction = _correction(Operation.MINOR_CORRECTION, Reason.MINOR_CORRECTION, MINOR_CORRECTION_FIELDS)


# --- 住民票コード・個人番号 -----------------------------------------------------------------------


def resident_code_assign(*, actor: Actor, event_date: dt.date, person: PersonRef, change_request: bool = False) -> ChangeResult:
    """住民票コードの付番 [870] (未付番者) or 変更請求 [880]: a new code drawn at random from stock."""
    operation = Operation.RESIDENT_CODE_CHANGE if change_request else Operation.RESIDENT_CODE_ASSIGN
    reason = Reason.RESIDENT_CODE_CHANGE_REQUEST if change_request else Reason.RESIDENT_CODE_EX_OFFICIO_ENTRY
    with change_scope(actor=actor, operation=operation, event_date=event_date, notified_on=event_date if change_request else None) as w:
        p, version = w.person(person)
        if not change_request and version.resident_code:
            raise DomainError(ErrorCode.INVALID_INPUT, "この方にはすでに住民票コードが記載されています。変更請求として処理してください。")
        code, warnings = numbers.take_resident_code()
        w.warnings.extend(warnings)
        w.write(p, version_data(version) | {"resident_code": code}, reason, allowed={"resident_code"})
        return w.finish()


MY_NUMBER_REASONS = {
    "entry": Reason.MY_NUMBER_EX_OFFICIO_ENTRY,
    "change_request": Reason.MY_NUMBER_CHANGE_REQUEST,
    "correction": Reason.MY_NUMBER_EX_OFFICIO_CORRECTION,
}


def my_number_record(*, actor: Actor, event_date: dt.date, person: PersonRef, my_number: str, kind: str) -> ChangeResult:
    """個人番号の記載・変更・修正 [900]; the number is sealed before it reaches the database."""
    if kind not in MY_NUMBER_REASONS:
        raise DomainError(ErrorCode.INVALID_INPUT, "個人番号の異動の種類（記載・変更請求・修正）を選んでください。", field="kind")
    with change_scope(actor=actor, operation=Operation.MY_NUMBER, event_date=event_date, criteria={"kind": kind}) as w:
        p, version = w.person(person)
        w.session.my_number_accessed = True
        if kind == "entry" and version.my_number_digest:
            raise DomainError(ErrorCode.INVALID_INPUT, "この方にはすでに個人番号が記載されています。変更または修正として処理してください。")
        sealed = people.seal_my_number(my_number, exclude_person=p.id)
        if sealed["my_number_digest"] == version.my_number_digest:
            raise DomainError(ErrorCode.NOTHING_CHANGED, "記載されている個人番号と同じです。", field="my_number")
        w.write(p, version_data(version) | sealed, MY_NUMBER_REASONS[kind],
                allowed={"my_number_key_id", "my_number_cipher", "my_number_digest"})
        return w.finish()


# --- 帰化・国籍取得・国籍喪失 -------------------------------------------------------------------


def _change_of_nationality(operation: Operation, to_japanese: bool):
    removal = Reason.EX_OFFICIO_REMOVAL_NATURALIZATION if to_japanese else Reason.EX_OFFICIO_REMOVAL_NATIONALITY_LOSS
    entry = Reason.EX_OFFICIO_ENTRY_NATURALIZATION if to_japanese else Reason.EX_OFFICIO_ENTRY_NATIONALITY_LOSS
    removal_text = {Operation.NATURALIZATION: "帰化", Operation.NATIONALITY_ACQUISITION: "国籍取得",
                    Operation.NATIONALITY_LOSS: "国籍喪失"}[operation]

    def run(*, actor: Actor, event_date: dt.date, notified_on: dt.date | None, person: PersonRef, new_data: dict) -> ChangeResult:
        with change_scope(actor=actor, operation=operation, event_date=event_date, notified_on=notified_on) as w:
            p, version = w.person(person)
            expected = ResidentKind.FOREIGN if to_japanese else ResidentKind.JAPANESE
            if version.resident_kind != expected:
                code = ErrorCode.NOT_FOREIGN_RESIDENT if to_japanese else ErrorCode.NOT_JAPANESE_RESIDENT
                raise DomainError(code, "この方の住民種別ではこの異動は処理できません。", field="person")
            carried = version_data(version)  # 住所・生年月日・性別・続柄・住民票コード・宛名番号・個人番号… [930]–[950]
            _remove(w, p, version, removal, removed_on=event_date, extra={"removal_reason": removal_text})
            inp = dict(new_data)
            if to_japanese:
                inp["resident_kind"] = ResidentKind.JAPANESE
                became = version.became_foreign_resident_on or version.became_resident_on
            else:
                inp["resident_kind"] = ResidentKind.FOREIGN
                became = version.became_resident_on
                inp.setdefault("became_foreign_resident_on", max(event_date, version.became_resident_on))
            base = {k: v for k, v in carried.items()}
            if to_japanese:
                for name in people.FOREIGN_FIELDS:
                    base[name] = None
            data = people.build_new(inp, base=base)
            data["became_resident_on"] = became
            w.write(p, data, entry)
            return w.finish()

    run.__name__ = str(operation)
    run.__doc__ = f"{removal_text}: the record of one kind is removed and the other written, keeping the 宛名番号."
    return run


naturalization = _change_of_nationality(Operation.NATURALIZATION, to_japanese=True)
nationality_acquisition = _change_of_nationality(Operation.NATIONALITY_ACQUISITION, to_japanese=True)
nationality_loss = _change_of_nationality(Operation.NATIONALITY_LOSS, to_japanese=False)


# --- 異動の取消し -----------------------------------------------------------------------------


def cancel(
    *,
    actor: Actor,
    event_date: dt.date,
    notified_on: dt.date | None = None,
    change_id: int,
    persons: list[PersonRef],
    note: str = "",
) -> ChangeResult:
    """異動の取消し [980][990]: a new version that restores each person's state before the change.

    Nothing is deleted: the cancelled change and the cancellation both stay in the history.
    The restoring versions take the cancelled change's 異動日, so "as of" any date after it the
    register reads as if the cancelled change had never been made.
    """
    with gate.open(actor, function="change.cancel_lookup", perm=Perm.PERSON_CHANGE, criteria={"change_id": change_id}):
        target = Change.objects.filter(pk=change_id).first()
        if target is None:
            raise NotFoundError("取り消す異動が見つかりません。")
    with change_scope(actor=actor, operation=Operation.CANCEL, event_date=event_date, notified_on=notified_on,
                      note=note, cancels=target, criteria={"change_id": change_id}) as w:
        refs = _distinct_people(persons)
        for ref in refs:
            person, latest = w.person(ref, require=None)
            ours = list(PersonVersion.objects.filter(person=person, change=target).order_by("seq"))
            if not ours:
                raise DomainError(ErrorCode.CANNOT_CANCEL, "選ばれた方はこの異動の異動者ではありません。", field="persons")
            if latest.change_id != target.id:
                raise DomainError(
                    ErrorCode.CANNOT_CANCEL,
                    "この異動の後に別の異動があります。後の異動から順に取り消してください。",
                    field="change_id",
                )
            prior = PersonVersion.objects.filter(person=person, seq__lt=ours[0].seq).order_by("-seq").first()
            if prior is not None:
                data = version_data(prior)
                if prior.status == Status.RESIDENT and latest.status != Status.RESIDENT:
                    reason = Reason.CANCEL_INCREASE
                else:
                    reason = Reason.CANCEL_CORRECTION if prior.status == latest.status else Reason.CANCEL_DECREASE
            else:
                data = version_data(latest) | {"status": Status.REMOVED, "removal_reason": label(Reason.CANCEL_DECREASE),
                                               "removed_on": ours[0].event_date}
                reason = Reason.CANCEL_DECREASE
            if category(reason) == Category.ENTRY and data["resident_code"]:
                clash = Person.objects.filter(current__resident_code=data["resident_code"]).exclude(pk=person.pk)
                if clash.exists():
                    raise DomainError(ErrorCode.DUPLICATE_RESIDENT_CODE, "復元する住民票コードが他の方に記載されています。")
            if data["status"] == Status.RESIDENT:
                _check_restored_address(w, data, restoring={r.id for r in refs})
            if prior is not None and ours[0].event_date < prior.event_date:
                # The cancelled version was dated before the one it followed (a 転入通知 completing a
                # planned 転出 earlier [50]): restore the state before that one from the cancelled
                # date, then that one again from its own date, so every "as of" reads right.
                before_prior = PersonVersion.objects.filter(person=person, seq__lt=prior.seq).order_by("-seq").first()
                if before_prior is not None:
                    w.write(person, version_data(before_prior), Reason.CANCEL_CORRECTION, event_date=ours[0].event_date)
                w.write(person, data, reason, event_date=prior.event_date)
                continue
            w.write(person, data, reason, event_date=ours[0].event_date)
        return w.finish()


def _check_restored_address(w: ChangeWriter, data: dict, restoring: set[int]) -> None:
    """A person restored into a household must find it at the address they are restored to (F1)."""
    others = [v for p, v in w.current_members(Household(id=data["household_id"])) if p.id not in restoring]
    if others and any((v.town_id, v.banchi, v.katagaki) != (data["town_id"], data["banchi"], data["katagaki"]) for v in others):
        raise DomainError(
            ErrorCode.CANNOT_CANCEL,
            "元の世帯はその後住所が変わっています。世帯の異動を先に取り消すか、転入・転居として処理してください。",
            field="change_id",
        )
