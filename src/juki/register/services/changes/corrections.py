"""修正 (職権・誤記・軽微), 住民票コードと個人番号の記載, 帰化・国籍取得・国籍喪失 ([760]–[900], [930]–[950])."""
from __future__ import annotations

import datetime as dt

from juki.audit.gate import Actor
from juki.core.errors import DomainError, ErrorCode

from ... import relationships
from ...models import DATA_FIELDS, Household, ResidentKind, Status
from ...reasons import Operation, Reason, label
from .. import numbers, people
from ..people import Address
from ...versions import version_data
from ..writer import ChangeResult, PersonRef, change_scope
from .common import ADDRESS_FIELDS, CORRECTABLE_FIELDS, MINOR_CORRECTION_FIELDS, _remove

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


def my_number_record(*, actor: Actor, event_date: dt.date, person: PersonRef, my_number: str, kind: str,
                     perm: str | None = None, criteria: dict | None = None) -> ChangeResult:
    """個人番号の記載・変更・修正 [900]; the number is sealed before it reaches the database. `perm`:
    J-LIS's answer comes in under the 住基ネット連携's own right (services.inbound), not a clerk's."""
    if kind not in MY_NUMBER_REASONS:
        raise DomainError(ErrorCode.INVALID_INPUT, "個人番号の異動の種類（記載・変更請求・修正）を選んでください。", field="kind")
    with change_scope(actor=actor, operation=Operation.MY_NUMBER, event_date=event_date,
                      criteria={"kind": kind, **(criteria or {})}, perm=perm) as w:
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
