"""What the change operations share: the household and head rules, entering and removing a
person, the fields each kind of change may touch."""
from __future__ import annotations

import datetime as dt

from juki.core.errors import DomainError, ErrorCode

from ... import relationships
from ...models import DATA_FIELDS, Household, Person, PersonVersion, Status
from ...reasons import Reason, label
from .. import numbers, people
from ..people import Address
from ...versions import version_data
from ..writer import ChangeWriter, PersonRef

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
    "removed_on", "household_id", "resident_kind", "special_move_out",
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
        return w.new_household(), people.address_fields(address, w.town(address.town_code)), True
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
    certificate = inp.get("transfer_certificate")
    if certificate is not None:  # 特例転入: the 住民票コード and 個人番号 come from the 転出証明書情報 (C12)
        inp = {**inp, "resident_code": certificate.resident_code}
        data.update(_from_certificate(w, certificate, person))
    data["resident_code"] = _resident_code_for(w, inp, exclude=person.id) if (inp.get("resident_code") or not data.get("resident_code")) else data["resident_code"]
    if inp.get("my_number"):
        w.session.my_number_accessed = True
        data.update(people.seal_my_number(inp["my_number"], exclude_person=person.id))
    w.write(person, data, reason)
    return person


def _from_certificate(w: ChangeWriter, certificate, person: Person) -> dict:
    """The sealed 個人番号 of a 転出証明書情報 as the new version's, checked like a typed one (not held by
    another person); the certificate is marked used by this change, in its transaction."""
    out = {}
    if certificate.my_number_digest:
        w.session.my_number_accessed = True
        people.lock_identifier("my_number", certificate.my_number_digest)
        clash = Person.objects.filter(current__my_number_digest=certificate.my_number_digest).exclude(pk=person.id)
        if clash.exists():
            raise DomainError(ErrorCode.DUPLICATE_MY_NUMBER, "この個人番号は他の方に記載されています。", field="my_number")
        out = {"my_number_key_id": certificate.my_number_key_id, "my_number_cipher": certificate.my_number_cipher,
               "my_number_digest": certificate.my_number_digest}
    certificate.used_by = w.change
    certificate.save(update_fields=["used_by"])
    return out


def _remove(w: ChangeWriter, person: Person, version: PersonVersion, reason: Reason, *, removed_on: dt.date, extra=None):
    data = version_data(version) | {"status": Status.REMOVED, "removal_reason": label(reason), "removed_on": removed_on}
    data.update(extra or {})
    w.write(person, data, reason, event_date=removed_on)
