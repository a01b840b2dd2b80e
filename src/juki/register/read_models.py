"""Typed read models of the register: what a person's version says, as other systems need it.

`PersonRecord` is a person as of a date with the reader's item rights ([1390], `visibility`) and
the place protection of a 支援措置 (ADR 0013) already applied: a hidden item is None, a concealed
place has no address and no 世帯番号. `Identity` is its 本人確認情報 (FILE-2 of SYSTEM.md), the
items the CS and the national network hold. Both are built inside an open gate session, by the
same rules for every reader: the counter's display dicts (`display`) are made from a record, not
the other way round, and a consumer of the register reads these rather than taking apart a dict
made for a screen.
"""
from __future__ import annotations

import datetime as dt
import dataclasses
from dataclasses import dataclass

from juki.audit.gate import GateSession
from juki.core import mynumber
from juki.core.wareki import display_date
from juki.protection import enforcement as protection

from . import reasons, visibility
from .models import PersonVersion, ResidentKind, Sex, Status, Town
from .services.people import address_text

# 本人確認情報 (FILE-2): a correction of these outside a normal 異動 needs the approval of the
# 本人確認情報管理責任者 (C14), whatever the two-person setting says. The names are a version's
# fields (the address by its town's code); the 個人番号 counts too, by its own operation.
IDENTITY_FIELDS = frozenset({
    "family_name", "given_name", "family_name_kana", "given_name_kana", "birth_date", "sex",
    "town_code", "banchi", "katagaki", "resident_code",
    # A foreign resident's 通称 is part of the 氏名 in their 本人確認情報 (令第30条の26).
    "alias_name", "alias_name_kana",
})


@dataclass(frozen=True, slots=True)
class Name:
    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    kana_confirmed: bool
    former_surname: str
    former_surname_kana: str

    @property
    def full(self) -> str:
        return f"{self.family_name}　{self.given_name}".strip()

    @property
    def full_kana(self) -> str:
        return f"{self.family_name_kana}　{self.given_name_kana}".strip()


@dataclass(frozen=True, slots=True)
class Address:
    municipality_code: str
    town_code: str
    ward: str
    town: str
    banchi: str
    katagaki: str
    postal_code: str
    display: str  # without the prefecture, as screens and certificates print it


@dataclass(frozen=True, slots=True)
class MoveOut:
    planned_address: str
    planned_on: dt.date | None
    confirmed_address: str
    confirmed_on: dt.date | None
    notice_on: dt.date | None
    special: bool = False  # 特例転出 [670]: the 転出証明書情報 went to the CS


@dataclass(frozen=True, slots=True)
class Foreign:
    nationality: str
    kanji_name: str
    alias_name: str
    alias_name_kana: str
    # None: hidden from this reader ([1390] 在留資格等).
    article_30_45_category: str | None
    residence_status: str | None
    period_of_stay: str | None
    stay_expires_on: dt.date | None
    residence_card_number: str | None
    became_foreign_resident_on: dt.date | None


@dataclass(frozen=True, slots=True)
class PersonRecord:
    """A person's version as one reader may see it (hidden items None, a concealed place None)."""

    person_id: int
    atena_number: str
    version: int
    change_id: int | None
    reason: str
    event_date: dt.date
    status: str
    status_label: str  # as of the date read
    resident_kind: str
    removal_reason: str
    removed_on: dt.date | None
    name: Name
    birth_date: dt.date
    sex: str
    household_id: int
    household_number: str | None  # None: concealed (支援措置)
    relationship: str
    domicile: str | None  # None: hidden ([1390] 本籍・筆頭者)
    domicile_head: str | None
    address: Address | None  # None: concealed (支援措置)
    became_resident_on: dt.date | None
    address_set_on: dt.date | None
    notified_on: dt.date | None
    previous_address: str
    move_out: MoveOut
    resident_code: str | None  # None: hidden ([1390] 住民票コード)
    previous_municipality_code: str  # the 転出地 (where the 転入通知 went)
    has_my_number: bool  # the number itself is never in a record
    foreign: Foreign | None
    hidden_items: tuple[str, ...]  # the labels of the items hidden from this reader
    place_hidden: bool

    @property
    def is_foreign(self) -> bool:
        return self.resident_kind == ResidentKind.FOREIGN


@dataclass(frozen=True, slots=True)
class Identity:
    """本人確認情報 (FILE-2): the items the 市町村CS keeps of a person, as of a date."""

    person_id: int
    resident_code: str | None
    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    alias_name: str  # 通称 (a foreign resident's), part of the 氏名
    alias_name_kana: str
    birth_date: dt.date
    sex: str
    municipality_code: str | None
    town_code: str | None
    postal_code: str | None
    address: str | None
    became_resident_on: dt.date | None
    address_set_on: dt.date | None
    notified_on: dt.date | None
    previous_address: str  # 転入前住所
    relationship: str
    reason: str  # 異動事由
    event_date: dt.date  # 異動年月日
    status: str
    has_my_number: bool
    version: int  # 更新順番号 of this person


def resides_on(status: str, removed_on: dt.date | None, on: dt.date) -> bool:
    """A 住民 on `on`: resident, or removed from a later date (a 転出届 filed ahead: 転出予定)."""
    return status == Status.RESIDENT or bool(removed_on and removed_on > on)


def status_label(version: PersonVersion, on: dt.date) -> str:
    if version.status == Status.RESIDENT:
        return "住民"
    if resides_on(version.status, version.removed_on, on):
        return "転出予定" if version.reason in (reasons.Reason.DOMESTIC_MOVE_OUT, reasons.Reason.ABROAD_MOVE_OUT) else "消除予定"
    return "消除（除票）"


def record_of(version: PersonVersion, *, session: GateSession, on: dt.date, hidden: list[str] | None = None) -> PersonRecord:
    """The record of `version` for the session's reader. Inside the gate; the version comes with its
    person, household and town (and the town's ward and municipality) selected."""
    town: Town = version.town
    foreign = None
    if version.resident_kind == ResidentKind.FOREIGN:
        foreign = Foreign(
            nationality=version.nationality, kanji_name=version.kanji_name, alias_name=version.alias_name,
            alias_name_kana=version.alias_name_kana, article_30_45_category=version.article_30_45_category,
            residence_status=version.residence_status, period_of_stay=version.period_of_stay,
            stay_expires_on=version.stay_expires_on, residence_card_number=version.residence_card_number,
            became_foreign_resident_on=version.became_foreign_resident_on)
    values = dict(
        domicile=version.domicile, domicile_head=version.domicile_head, resident_code=version.resident_code)
    labels = []
    for perm in visibility.hidden_rights(session) if hidden is None else hidden:
        label, keys, foreign_keys = visibility.ITEM_RIGHTS[perm]
        values.update(dict.fromkeys(keys))
        if foreign_keys and foreign is not None:
            foreign = dataclasses.replace(foreign, **dict.fromkeys(foreign_keys))
        if keys or (foreign_keys and foreign is not None):
            labels.append(label)
    concealed = protection.place_protected(session, person_id=version.person_id, household_id=version.household_id,
                                           town_id=version.town_id, banchi=version.banchi, katagaki=version.katagaki)
    address = None if concealed else Address(
        municipality_code=town.ward.municipality.code, town_code=town.code, ward=town.ward.name, town=town.name,
        banchi=version.banchi, katagaki=version.katagaki, postal_code=town.postal_code,
        display=address_text(town, version.banchi, version.katagaki, prefecture=False))
    return PersonRecord(
        person_id=version.person_id, atena_number=version.person.atena_number, version=version.seq,
        change_id=version.change_id, reason=version.reason, event_date=version.event_date, status=version.status,
        status_label=status_label(version, on), resident_kind=version.resident_kind,
        removal_reason=version.removal_reason, removed_on=version.removed_on,
        name=Name(family_name=version.family_name, given_name=version.given_name,
                  family_name_kana=version.family_name_kana, given_name_kana=version.given_name_kana,
                  kana_confirmed=version.kana_confirmed, former_surname=version.former_surname,
                  former_surname_kana=version.former_surname_kana),
        birth_date=version.birth_date, sex=version.sex, household_id=version.household_id,
        household_number=None if concealed else version.household.number, relationship=version.relationship,
        address=address, became_resident_on=version.became_resident_on, address_set_on=version.address_set_on,
        notified_on=version.notified_on, previous_address=version.previous_address,
        move_out=MoveOut(planned_address=version.move_out_address, planned_on=version.move_out_planned_on,
                         confirmed_address=version.move_out_confirmed_address,
                         confirmed_on=version.move_out_confirmed_on, notice_on=version.move_in_notice_on,
                         special=version.special_move_out),
        previous_municipality_code=version.previous_municipality_code,
        has_my_number=bool(version.my_number_digest), foreign=foreign, hidden_items=tuple(labels),
        place_hidden=concealed, **values)


def identity_of(record: PersonRecord) -> Identity:
    """The 本人確認情報 of a record: what the record hides or conceals stays None here too."""
    address = record.address
    foreign = record.foreign
    return Identity(
        person_id=record.person_id, resident_code=record.resident_code, family_name=record.name.family_name,
        given_name=record.name.given_name, family_name_kana=record.name.family_name_kana,
        given_name_kana=record.name.given_name_kana, alias_name=foreign.alias_name if foreign else "",
        alias_name_kana=foreign.alias_name_kana if foreign else "", birth_date=record.birth_date, sex=record.sex,
        municipality_code=address.municipality_code if address else None,
        town_code=address.town_code if address else None, postal_code=address.postal_code if address else None,
        address=address.display if address else None, became_resident_on=record.became_resident_on,
        address_set_on=record.address_set_on, notified_on=record.notified_on,
        previous_address=record.previous_address, relationship=record.relationship, reason=record.reason,
        event_date=record.event_date, status=record.status, has_my_number=record.has_my_number,
        version=record.version)


# --- what screens and the API show -------------------------------------------------------------


def dated(value: dt.date | None, *, western: bool = False) -> dict | None:
    """A date as the API and screens carry it: ISO and its display."""
    if value is None:
        return None
    # [90]: 和暦 on screen, except a foreign resident's birth date and 満了日 (西暦).
    return {"date": value.isoformat(), "display": display_date(value, western=western)}


def display(record: PersonRecord, *, my_number: str | None = None) -> dict:
    """The person as the API and the counter show it (dates with their 和暦 display, labels)."""
    address = record.address
    out = {
        "person_id": record.person_id,
        "atena_number": record.atena_number,
        "version": record.version,
        "change_id": record.change_id,
        "reason": record.reason,
        "reason_label": reasons.label(record.reason),
        "event_date": dated(record.event_date),
        "status": record.status,
        "status_label": record.status_label,
        "resident_kind": record.resident_kind,
        "removal_reason": record.removal_reason,
        "removed_on": dated(record.removed_on),
        "name": {
            "family_name": record.name.family_name,
            "given_name": record.name.given_name,
            "family_name_kana": record.name.family_name_kana,
            "given_name_kana": record.name.given_name_kana,
            "kana_confirmed": record.name.kana_confirmed,
            "former_surname": record.name.former_surname,
            "former_surname_kana": record.name.former_surname_kana,
        },
        "birth_date": dated(record.birth_date, western=record.is_foreign),
        "sex": record.sex,
        "sex_label": Sex(record.sex).label,
        "household_id": record.household_id,
        "household_number": record.household_number,
        "relationship": record.relationship,
        "domicile": record.domicile,
        "domicile_head": record.domicile_head,
        "address": None if address is None else {
            "town_code": address.town_code,
            "ward": address.ward,
            "town": address.town,
            "banchi": address.banchi,
            "katagaki": address.katagaki,
            "postal_code": address.postal_code,
            "display": address.display,
        },
        "became_resident_on": dated(record.became_resident_on),
        "address_set_on": dated(record.address_set_on),
        "notified_on": dated(record.notified_on),
        "previous_address": record.previous_address,
        "move_out": {
            "planned_address": record.move_out.planned_address,
            "planned_on": dated(record.move_out.planned_on),
            "confirmed_address": record.move_out.confirmed_address,
            "confirmed_on": dated(record.move_out.confirmed_on),
            "notice_on": dated(record.move_out.notice_on),
        },
        "resident_code": record.resident_code,
        "has_my_number": record.has_my_number,
    }
    if my_number is not None:
        out["my_number"] = my_number
    if record.foreign is not None:
        f = record.foreign
        out["foreign"] = {
            "nationality": f.nationality,
            "kanji_name": f.kanji_name,
            "alias_name": f.alias_name,
            "alias_name_kana": f.alias_name_kana,
            "article_30_45_category": f.article_30_45_category,
            "residence_status": f.residence_status,
            "period_of_stay": f.period_of_stay,
            "stay_expires_on": dated(f.stay_expires_on, western=True),
            "residence_card_number": f.residence_card_number,
            "became_foreign_resident_on": dated(f.became_foreign_resident_on),
        }
    out["hidden_items"] = list(record.hidden_items)
    if record.place_hidden:  # where a protected person lives is not shown in anyone's record (ADR 0013)
        out.update(place_hidden=True, place_marker=protection.PLACE_MARKER)
    return out


def entry_items(record: PersonRecord) -> dict:
    """The items a correction form starts from, as the form's fields take them (dates ISO)."""
    foreign = record.foreign
    return {
        "family_name": record.name.family_name, "given_name": record.name.given_name,
        "family_name_kana": record.name.family_name_kana, "given_name_kana": record.name.given_name_kana,
        "former_surname": record.name.former_surname, "former_surname_kana": record.name.former_surname_kana,
        "birth_date": record.birth_date.isoformat(), "sex": str(record.sex), "domicile": record.domicile,
        "domicile_head": record.domicile_head,
        **{k: (getattr(foreign, k) if foreign else "") for k in (
            "nationality", "alias_name", "alias_name_kana", "residence_status", "period_of_stay",
            "residence_card_number")},
        "stay_expires_on": foreign.stay_expires_on.isoformat() if foreign and foreign.stay_expires_on else "",
    }


# --- 庁内連携 (issue 16): a version's items as a destination receives them --------------------------

# The version's columns the 庁内連携 items are made of (plain values: the monthly full file reads a
# million of them; BENCHMARKS.md).
LINKAGE_VALUES = (
    "person_id", "seq", "person__atena_number", "family_name", "given_name", "family_name_kana", "given_name_kana",
    "alias_name", "birth_date", "sex", "town_id", "banchi", "katagaki", "household_id", "household__number",
    "relationship", "resident_kind", "status", "reason", "event_date", "notified_on", "became_resident_on",
    "address_set_on", "removed_on", "previous_address", "move_out_address", "move_out_confirmed_address",
    "domicile", "domicile_head", "nationality", "residence_status", "stay_expires_on", "article_30_45_category",
)


@dataclass(frozen=True, slots=True)
class LinkagePlace:
    """What a 町字 gives every address in it (read once per run)."""

    town_code: str
    ward: str
    postal_code: str
    prefix: str  # 市・区・町字, as screens write an address (without the prefecture)


def linkage_place(town: Town) -> LinkagePlace:
    return LinkagePlace(town_code=town.code, ward=town.ward.name, postal_code=town.postal_code,
                        prefix=address_text(town, "", prefecture=False))


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _full(family: str, given: str) -> str:
    return f"{family}　{given}".strip()


def _address(row: dict, place: LinkagePlace) -> str:
    address = f"{place.prefix}{row['banchi']}"
    return f"{address}　{row['katagaki']}" if row["katagaki"] else address


_SEX = dict(Sex.choices)
_KIND = dict(ResidentKind.choices)
_STATUS = dict(Status.choices)
# item key → its value from (the version's values, its 町字, the households' heads); one function per
# item, built once, so a million rows pay for the items asked only.
_LINKAGE_GETTERS = {
    "atena_number": lambda r, p, h: r["person__atena_number"],
    "name": lambda r, p, h: _full(r["family_name"], r["given_name"]),
    "name_kana": lambda r, p, h: _full(r["family_name_kana"], r["given_name_kana"]),
    "alias_name": lambda r, p, h: r["alias_name"],
    "birth_date": lambda r, p, h: _iso(r["birth_date"]),
    "sex": lambda r, p, h: _SEX.get(r["sex"], str(r["sex"])),
    "postal_code": lambda r, p, h: p.postal_code,
    "address": lambda r, p, h: _address(r, p),
    "town_code": lambda r, p, h: p.town_code,
    "ward": lambda r, p, h: p.ward,
    "household_number": lambda r, p, h: r["household__number"],
    "relationship": lambda r, p, h: r["relationship"],
    "head_name": lambda r, p, h: h.get(r["household_id"], ""),
    "resident_kind": lambda r, p, h: _KIND.get(r["resident_kind"], r["resident_kind"]),
    "status": lambda r, p, h: _STATUS.get(r["status"], r["status"]),
    "reason": lambda r, p, h: reasons.label(r["reason"]),
    "event_date": lambda r, p, h: _iso(r["event_date"]),
    "notified_on": lambda r, p, h: _iso(r["notified_on"]),
    "became_resident_on": lambda r, p, h: _iso(r["became_resident_on"]),
    "address_set_on": lambda r, p, h: _iso(r["address_set_on"]),
    "removed_on": lambda r, p, h: _iso(r["removed_on"]),
    "previous_address": lambda r, p, h: r["previous_address"],
    "move_out_address": lambda r, p, h: r["move_out_confirmed_address"] or r["move_out_address"],
    "domicile": lambda r, p, h: r["domicile"],
    "domicile_head": lambda r, p, h: r["domicile_head"],
    "nationality": lambda r, p, h: r["nationality"],
    "residence_status": lambda r, p, h: r["residence_status"],
    "stay_expires_on": lambda r, p, h: _iso(r["stay_expires_on"]),
    "article_30_45": lambda r, p, h: r["article_30_45_category"],
    # Read only by a reader that passed `GateSession.reveal_my_number` (the caller's duty), from the
    # columns `MY_NUMBER_VALUES` adds.
    "my_number": lambda r, p, h: mynumber.unseal(r["my_number_key_id"], bytes(r["my_number_cipher"]))
    if r["my_number_cipher"] else None,
}
MY_NUMBER_VALUES = ("my_number_key_id", "my_number_cipher")


def linkage_values(items) -> tuple[str, ...]:
    """The version's columns `items` need: the 個人番号's sealed columns only when it is asked."""
    return LINKAGE_VALUES + (MY_NUMBER_VALUES if "my_number" in items else ())


def linkage_getters(items) -> list[tuple[str, object]]:
    """The getters of `items` (keys of `destinations.REGISTER_ITEMS`), in key order; an unknown key raises."""
    return [(key, _LINKAGE_GETTERS[key]) for key in sorted(items)]


def linkage_items(row: dict, *, places: dict[int, LinkagePlace], heads: dict[int, str], getters) -> dict:
    """One version's items, exactly the getters' keys and no other (C16)."""
    place = places[row["town_id"]]
    return {key: get(row, place, heads) for key, get in getters}
