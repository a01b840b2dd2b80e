"""The confirmation [540]: the change run for real and rolled back, each person's items before
and after (`COMPARED`), and the persons a refused attempt named recorded in the log."""
from __future__ import annotations

from django.db import transaction

from juki.accounts.permissions import Perm
from juki.audit import gate
from juki.audit.gate import Actor
from juki.core.errors import DomainError, NotFoundError
from juki.core.municipalities import name_of
from juki.core.wareki import display_date
from juki.protection import enforcement as protection

from ... import read_models, selectors
from ...models import Household, Person, ResidentKind, Sex, Status
from ...reasons import OPERATION_LABELS, Operation
from .. import entry
from ..writer import ChangeResult, HouseholdRef, PersonRef
from .common import operation_spec, run

# Items compared on the confirmation screen, in the order of the 住民票 [1010 is the household order].
# Every item a change can write is here (issue 12: a reviewer approves only what they saw).
COMPARED = [
    ("resident_kind", "住民種別"), ("name", "氏名"), ("kana", "フリガナ"), ("former_surname", "旧氏"), ("former_surname_kana", "旧氏フリガナ"),
    ("birth_date", "生年月日"), ("sex", "性別"),
    ("relationship", "続柄"), ("household_number", "世帯番号"), ("address", "住所"),
    ("became_resident_on", "住民となった年月日"), ("address_set_on", "住所を定めた年月日"), ("notified_on", "届出日"),
    ("previous_address", "転入前住所"), ("previous_municipality_code", "転出地（転入通知の送付先）"),
    ("domicile", "本籍"), ("domicile_head", "筆頭者"), ("status_label", "状態"), ("removed_on", "消除日"),
    ("resident_code", "住民票コード"), ("my_number", "個人番号"), ("nationality", "国籍・地域"),
    ("kanji_name", "漢字氏名"), ("alias_name", "通称"), ("alias_name_kana", "通称フリガナ"),
    ("article_30_45_category", "第30条の45に規定する区分"), ("residence_status", "在留資格"),
    ("period_of_stay", "在留期間"), ("stay_expires_on", "在留期間の満了の日"),
    ("residence_card_number", "在留カード等番号"),
    ("move_out_address", "転出先"), ("move_out_planned_on", "転出予定日"), ("special_move_out", "特例転出"),
    ("move_out_confirmed_address", "転出先（確定）"), ("move_out_confirmed_on", "転出年月日（確定）"),
    ("move_in_notice_on", "転入通知を受けた日"),
]


class _Rollback(Exception):
    pass


def _flat(record: read_models.PersonRecord | None) -> dict[str, str]:
    """The compared items of a person's record as display strings (None: hidden from this user)."""
    if record is None:
        return {}
    name, foreign, move_out, address = record.name, record.foreign, record.move_out, record.address

    def d(value, *, western: bool = False) -> str:
        return display_date(value, western=western) if value else ""

    return {
        "resident_kind": ResidentKind(record.resident_kind).label,
        "name": name.full,
        "kana": name.full_kana,
        "birth_date": d(record.birth_date, western=record.is_foreign),
        "sex": Sex(record.sex).label,
        "relationship": record.relationship,
        "household_number": record.household_number,
        "address": address.display if address else None,
        "former_surname": name.former_surname,
        "former_surname_kana": name.former_surname_kana,
        "became_resident_on": d(record.became_resident_on),
        "address_set_on": d(record.address_set_on),
        "notified_on": d(record.notified_on),
        "previous_address": record.previous_address,
        "previous_municipality_code": (f"{name_of(record.previous_municipality_code) or ''}（{record.previous_municipality_code}）"
                                       if record.previous_municipality_code else ""),
        "domicile": record.domicile,
        "domicile_head": record.domicile_head,
        "status_label": record.status_label,
        "removed_on": d(record.removed_on),
        "resident_code": record.resident_code,
        # Never the number itself on a comparison screen: only whether one is recorded.
        "my_number": "記載あり" if record.has_my_number else "",
        **{k: (getattr(foreign, k) if foreign else "") for k in (
            "nationality", "kanji_name", "alias_name", "alias_name_kana", "article_30_45_category",
            "residence_status", "period_of_stay", "residence_card_number")},
        "stay_expires_on": d(foreign.stay_expires_on, western=True) if foreign else "",
        "move_out_address": move_out.planned_address,
        "move_out_planned_on": d(move_out.planned_on),
        "special_move_out": "特例転出（転出証明書情報をCSへ送信）" if move_out.special else "",
        "move_out_confirmed_address": move_out.confirmed_address,
        "move_out_confirmed_on": d(move_out.confirmed_on),
        "move_in_notice_on": d(move_out.notice_on),
    }


def _person_now(actor: Actor, person_id: int) -> read_models.PersonRecord | None:
    try:
        return selectors.person_read(actor=actor, person_id=person_id).record
    except NotFoundError:
        return None


def change_preview(*, actor: Actor, operation: str, payload: dict) -> dict:
    """Run the change, read the result, roll it all back: before/after for the confirmation."""
    spec = operation_spec(operation)
    kwargs = spec.kwargs(payload)
    captured: dict = {}
    with gate.open(actor, function="change.preview", perm=Perm.PERSON_CHANGE,
                   criteria={"operation": operation}) as session:
        try:
            with transaction.atomic():
                result: ChangeResult = run(spec, actor=actor, kwargs=kwargs)
                captured["result"] = result
                captured["after"] = {p["id"]: _person_now(actor, p["id"]) for p in result.persons}
                raise _Rollback
        except _Rollback:
            pass
        except DomainError:
            # The service's own log row went with the rollback: this row names whom the refused
            # attempt was about, so it is part of their record of use (開示請求, analysis).
            _record_named(session, kwargs)
            raise
        result = captured["result"]
        existing = set(Person.objects.filter(pk__in=[p["id"] for p in result.persons]).values_list("id", flat=True))
        households = [v["id"] for v in (payload.get("destination"), payload.get("target"))
                      if isinstance(v, dict) and v.get("id") is not None]
        numbers = dict(Household.objects.filter(pk__in=households).values_list("id", "number")) if households else {}
        session.record(existing)
        if protection.protected_ids(existing):
            session.flag(protection.FLAG)
    people = []
    for p in result.persons:
        before = _person_now(actor, p["id"]) if p["id"] in existing else None
        after = captured["after"].get(p["id"])
        b, a = _flat(before), _flat(after)
        rows = [{"label": label, "before": b.get(key, ""), "after": a.get(key, ""),
                 "changed": b.get(key, "") != a.get(key, "")} for key, label in COMPARED
                if b.get(key) or a.get(key)]
        people.append({
            "person_id": p["id"] if before else None,
            "name": (a or b).get("name", ""),
            "reason_label": p["reason_label"],
            "is_new": before is None,
            "rows": rows,
        })
    names = {p["person_id"]: p["name"] for p in people if p["person_id"]}
    return {
        "operation": operation,
        "operation_label": OPERATION_LABELS.get(Operation(operation), operation),
        "entry": entry.rows(operation, payload, names=names, household_numbers=numbers),
        "people": people,
        "warnings": result.warnings,
        "person_ids": sorted(existing),
    }


def _record_named(session: gate.GateSession, kwargs: dict) -> None:
    """Record the persons a change names, and the protected residents of the households it names."""
    persons, households = set(), set()

    def walk(value):
        if isinstance(value, PersonRef):
            persons.add(value.id)
        elif isinstance(value, HouseholdRef):
            households.add(value.id)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, (list, tuple, set)):
            for v in value:
                walk(v)

    walk(kwargs)
    residents = set(Person.objects.filter(household_id__in=households, status=Status.RESIDENT)
                    .values_list("id", flat=True)) if households else set()
    protected = protection.protected_ids(persons | residents)
    session.record(persons | protected)
    if protected:
        session.flag(protection.FLAG)
