"""支援措置 [440] and 抑止 [410]: registration and their life cycle.

No HTTP here. Every function opens the access gate (`support.*` with `support.manage`,
`restriction.*` with `restriction.manage`, or `restriction.release` / `restriction.temporary_release`
for those two steps [410]), and every write is one transaction that also holds its log row and,
for a 抑止 set or released, its 抑止連携 event (`linkage`). Log rows about a protected person are flagged `support_measure`.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from juki.accounts.permissions import RESTRICTION_RIGHTS, Perm
from juki.audit import gate
from juki.audit.gate import Actor, GateSession
from juki.audit.models import Category
from juki.core.errors import DomainError, ErrorCode, NotFoundError, required_text
from juki.core.wareki import display_date
from juki.register import textnorm
from juki.register.services import people
from juki.register.models import Household, Person, PersonVersion, Status
from juki.core import clock

from . import enforcement, linkage, terms
from .models import (
    Level,
    Process,
    Restriction,
    SupportMeasure,
    SupportMeasureMember,
)

State = SupportMeasure.State


def today() -> dt.date:
    return clock.today()


@contextmanager
def _writing(actor: Actor, *, function: str, perm: str, criteria: dict | None = None) -> Iterator[GateSession]:
    """Gate + one transaction; the log row commits with the write (a refusal is logged after the rollback)."""
    with gate.open(actor, function=function, perm=perm, criteria=criteria, category=Category.OPERATION) as session:
        with transaction.atomic():
            yield session
            session.write_log()


def _state_error(message: str) -> DomainError:
    return DomainError(ErrorCode.PROTECTION_STATE, message)


def _date(value: dt.date | None) -> dict | None:
    return {"date": value.isoformat(), "display": display_date(value)} if value else None


def _names(person_ids: Iterable[int]) -> dict[int, dict]:
    """id → {name, kana, atena_number, birth_date} from the current versions (inside the gate)."""
    rows = PersonVersion.objects.select_related("person").filter(person_id__in=list(person_ids),
                                                                 person__current_id=F("id"))
    return {v.person_id: {"person_id": v.person_id, "atena_number": v.person.atena_number,
                          "name": f"{v.family_name}　{v.given_name}".strip(),
                          "kana": f"{v.family_name_kana}　{v.given_name_kana}".strip(),
                          "birth_date": _date(v.birth_date), "household_id": v.household_id} for v in rows}


def _require_persons(person_ids: Iterable[int]) -> None:
    ids = {int(i) for i in person_ids}
    if Person.objects.filter(pk__in=ids).count() != len(ids):
        raise NotFoundError("指定された住民が見つかりません。")


def _person_by_number(number: str, *, field: str = "atena_number") -> int:
    """A person named by a typed 宛名番号 (full width or without its leading zeros), inside the caller's gate."""
    pid = Person.objects.filter(atena_number=textnorm.register_number(number)).values_list("id", flat=True).first()
    if pid is None:
        raise NotFoundError(f"宛名番号 {textnorm.digits(number)[:12]} の住民はいません。番号を確認してください。",
                            field=field)
    return pid


def person_by_atena(*, actor: Actor, atena_number: str) -> int:
    """The internal id of a person named by 宛名番号 (the screens go through `support_preview`)."""
    with gate.open(actor, function="support.lookup", perm=Perm.SUPPORT_MEASURE_MANAGE,
                   criteria={"atena_number": atena_number}) as session:
        pid = _person_by_number(atena_number)
        session.record([pid])
        return pid


def support_preview(*, actor: Actor, person_id: int, member_numbers: Iterable[str] = (),
                    offender_number: str = "") -> dict:
    """Who a 支援措置 being registered names, for its confirmation step (issue 12): the 申出者 with
    name, birth date and address; each 宛名番号 typed for 併せて支援を求める者 and for a resident
    相手方 turned into that person's name and birth date, so a mistyped number is seen, not saved."""
    with gate.open(actor, function="support.lookup", perm=Perm.SUPPORT_MEASURE_MANAGE,
                   criteria={"person_id": person_id}) as session:
        members = [_person_by_number(n, field="member_atena_numbers") for n in member_numbers if n.strip()]
        offender = _person_by_number(offender_number, field="offender_atena_number") if offender_number.strip() else None
        ids = [person_id, *members, *([offender] if offender else [])]
        session.record(ids)
        names = _names(ids)
        if person_id not in names:
            raise NotFoundError("指定された住民が見つかりません。")
        current = PersonVersion.objects.select_related("town__ward__municipality").get(
            person_id=person_id, person__current_id=F("id"))
        person = names[person_id] | {"address": people.address_text(current.town, current.banchi, current.katagaki,
                                                                     prefecture=False)}
        return {"person": person, "members": [names[m] for m in members if m in names],
                "offender": names.get(offender) if offender else None}


# --- 支援措置 [440] --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Offender:
    """相手方 (加害者): free text, since the 相手方 need not live in the city."""

    name: str = ""
    kana: str = ""
    birth_date: dt.date | None = None
    person_id: int | None = None
    note: str = ""


def _measure_dict(m: SupportMeasure, names: dict[int, dict], members: list[SupportMeasureMember], on: dt.date) -> dict:
    opens = terms.extension_opens(m.end) if m.end else None
    alerts = []
    if m.state == State.ACTIVE and m.end and m.end < on:
        alerts.append("支援措置の期間が終了しています。延長または終了の処理をしてください。")
    elif m.state == State.ACTIVE and m.end and terms.ending_within_month(m.end, on):
        alerts.append("支援措置の期間が1か月以内に終了します。延長の申出を確認してください。")
    if m.state == State.PROVISIONAL:
        alerts.append("仮支援措置です。支援の必要性を確認して、支援措置を開始してください。")
    return {
        "id": m.id, "person": names.get(m.person_id, {"person_id": m.person_id}),
        "kind": m.kind, "kind_label": m.get_kind_display(), "state": m.state, "state_label": m.get_state_display(),
        "applied_on": _date(m.applied_on), "provisional_since": _date(m.provisional_since),
        "start": _date(m.start), "end": _date(m.end), "extensions": m.extensions,
        "extension_opens": _date(opens), "can_extend": bool(m.state == State.ACTIVE and opens and on >= opens),
        "offender": {"name": m.offender_name, "kana": m.offender_kana, "birth_date": _date(m.offender_birth_date),
                     "person_id": m.offender_person_id, "note": m.offender_note},
        "members": [{**names.get(x.person_id, {"person_id": x.person_id}), "relationship": x.relationship}
                    for x in members],
        "registered_by": m.registered_by.username if m.registered_by_id else "",
        "ended_on": _date(m.ended_on), "end_reason": m.end_reason,
        "end_notice_issued_on": _date(m.end_notice_issued_on), "alerts": alerts,
    }


def _measure_out(m: SupportMeasure, session: GateSession) -> dict:
    members = list(SupportMeasureMember.objects.filter(measure=m).order_by("id"))
    ids = {m.person_id, *(x.person_id for x in members)}
    session.record(ids)
    session.flag(enforcement.FLAG)
    return _measure_dict(m, _names(ids), members, today())


def _load(measure_id: int, *, lock: bool = False) -> SupportMeasure:
    qs = SupportMeasure.objects.select_related("registered_by")
    if lock:
        qs = qs.select_for_update(of=("self",))
    m = qs.filter(pk=measure_id).first()
    if m is None:
        raise NotFoundError("指定された支援措置が見つかりません。")
    return m


def _check_term(start: dt.date, end: dt.date | None) -> dt.date:
    end = end or terms.term_end(start)
    if end < start:
        raise DomainError(ErrorCode.INVALID_DATE, "終了年月日は開始年月日以後の日付にしてください。", field="end")
    return end


def support_register(*, actor: Actor, person_id: int, kind: str, applied_on: dt.date, offender: Offender,
                     provisional: bool = True, start: dt.date | None = None, end: dt.date | None = None,
                     members: Iterable[tuple[int, str]] = ()) -> dict:
    """登録: as 仮支援措置 while the need is being confirmed (default), or 支援措置中 at once.

    The end is start + 1 year − 1 day unless given (the standard lets it be corrected).
    """
    members = [(int(pid), rel or "") for pid, rel in members]
    criteria = {"person_id": person_id, "kind": kind, "provisional": provisional, "members": [m[0] for m in members]}
    with _writing(actor, function="support.register", perm=Perm.SUPPORT_MEASURE_MANAGE, criteria=criteria) as session:
        session.flag(enforcement.FLAG)
        if kind not in SupportMeasure.Kind.values:
            raise DomainError(ErrorCode.INVALID_INPUT, "支援措置の種別を選んでください。", field="kind")
        if applied_on > today():
            raise DomainError(ErrorCode.INVALID_DATE, "申出日には本日以前の日付を入力してください。", field="applied_on")
        member_ids = {pid for pid, _ in members}
        if person_id in member_ids:
            raise DomainError(ErrorCode.INVALID_INPUT, "申出者を「併せて支援を求める者」に含めないでください。", field="members")
        _require_persons({person_id, *member_ids, *([offender.person_id] if offender.person_id else [])})
        # The 相手方's フリガナ is kept like every other: full-width katakana, whatever was typed.
        name, kana, birth = offender.name.strip(), people.kana(offender.kana), offender.birth_date
        if offender.person_id:
            if offender.person_id == person_id or offender.person_id in member_ids:
                raise DomainError(ErrorCode.INVALID_INPUT, "相手方に支援対象者を指定することはできません。", field="offender")
            found = _names([offender.person_id]).get(offender.person_id)
            if found and not name:
                v = PersonVersion.objects.get(person_id=offender.person_id, person__current_id=F("id"))
                name, kana, birth = found["name"], found["kana"], birth or v.birth_date
        if not name:
            raise DomainError(ErrorCode.INVALID_INPUT, "相手方の氏名を入力してください。", field="offender_name")
        m = SupportMeasure(
            person_id=person_id, kind=kind, applied_on=applied_on, registered_by=actor.user,
            offender_name=name, offender_kana=kana, offender_birth_date=birth, offender_person_id=offender.person_id,
            offender_note=offender.note.strip(), offender_name_key=textnorm.name_key(name),
            offender_kana_key=textnorm.kana_key(kana) if kana else "",
        )
        if provisional:
            m.state, m.provisional_since = State.PROVISIONAL, applied_on
        else:
            m.state, m.start = State.ACTIVE, start or applied_on
            m.end = _check_term(m.start, end)
        m.save()
        SupportMeasureMember.objects.bulk_create(
            [SupportMeasureMember(measure=m, person_id=pid, relationship=rel) for pid, rel in members])
        return _measure_out(m, session)


def support_confirm(*, actor: Actor, measure_id: int, start: dt.date | None = None, end: dt.date | None = None) -> dict:
    """仮支援措置 → 支援措置中, once the need is confirmed; the term starts on `start` (default today)."""
    with _writing(actor, function="support.confirm", perm=Perm.SUPPORT_MEASURE_MANAGE,
                  criteria={"measure_id": measure_id}) as session:
        m = _load(measure_id, lock=True)
        if m.state != State.PROVISIONAL:
            raise _state_error("仮支援措置ではないため、開始の処理はできません。")
        m.start = start or today()
        m.end = _check_term(m.start, end)
        m.state = State.ACTIVE
        m.save(update_fields=["start", "end", "state"])
        return _measure_out(m, session)


def support_extend(*, actor: Actor, measure_id: int, on: dt.date | None = None) -> dict:
    """延長: one more year from the day after the end, entered from one month before the end [440]."""
    on = on or today()
    with _writing(actor, function="support.extend", perm=Perm.SUPPORT_MEASURE_MANAGE,
                  criteria={"measure_id": measure_id}) as session:
        m = _load(measure_id, lock=True)
        if m.state != State.ACTIVE:
            raise _state_error("支援措置中ではないため、延長できません。")
        opens = terms.extension_opens(m.end)
        if on < opens:
            raise _state_error(f"延長は、期間の終了日の1か月前（{display_date(opens)}）から処理できます。")
        m.end = terms.extended_end(m.end)
        m.extensions += 1
        m.end_notice_issued_on = None  # the new term gets its own notice
        m.save(update_fields=["end", "extensions", "end_notice_issued_on"])
        return _measure_out(m, session)


def support_end(*, actor: Actor, measure_id: int, reason: str, on: dt.date | None = None) -> dict:
    """終了: at the person's request, when the term passed without extension, or when no longer needed."""
    reason = (reason or "").strip()
    with _writing(actor, function="support.end", perm=Perm.SUPPORT_MEASURE_MANAGE,
                  criteria={"measure_id": measure_id}) as session:
        if not reason:
            raise DomainError(ErrorCode.INVALID_INPUT, "終了の理由を入力してください。", field="reason")
        m = _load(measure_id, lock=True)
        if m.state == State.ENDED:
            raise _state_error("この支援措置は既に終了しています。")
        m.state, m.ended_on, m.end_reason, m.ended_by = State.ENDED, on or today(), reason[:200], actor.user
        m.save(update_fields=["state", "ended_on", "end_reason", "ended_by"])
        return _measure_out(m, session)


def support_end_notice(*, actor: Actor, measure_id: int) -> dict:
    """支援措置期間終了通知: printable from one month before the end, and after the measure ended."""
    with gate.open(actor, function="print.support_end_notice", perm=Perm.SUPPORT_MEASURE_MANAGE,
                   criteria={"measure_id": measure_id}) as session:
        with transaction.atomic():
            m = _load(measure_id, lock=True)
            on = today()
            if m.state == State.PROVISIONAL or (m.state == State.ACTIVE and on < terms.extension_opens(m.end)):
                raise _state_error("終了通知は、支援措置の期間の終了日の1か月前から出力できます。")
            if m.end_notice_issued_on is None:
                m.end_notice_issued_on = on
                m.save(update_fields=["end_notice_issued_on"])
            out = _measure_out(m, session)
            session.write_log()
            return out


def support_get(*, actor: Actor, measure_id: int) -> dict:
    with gate.open(actor, function="support.view", perm=Perm.SUPPORT_MEASURE_MANAGE,
                   criteria={"measure_id": measure_id}) as session:
        return _measure_out(_load(measure_id), session)


def support_list(*, actor: Actor, include_ended: bool = False, person_id: int | None = None) -> list[dict]:
    with gate.open(actor, function="support.list", perm=Perm.SUPPORT_MEASURE_MANAGE,
                   criteria={"include_ended": include_ended, "person_id": person_id}) as session:
        qs = SupportMeasure.objects.select_related("registered_by").order_by("end", "id")
        if not include_ended:
            qs = qs.filter(state__in=enforcement.PROTECTED)
        if person_id is not None:
            qs = qs.filter(Q(person_id=person_id) | Q(members__person_id=person_id)).distinct()
        measures = list(qs[:500])
        members: dict[int, list] = {m.id: [] for m in measures}
        for x in SupportMeasureMember.objects.filter(measure__in=measures).order_by("id"):
            members[x.measure_id].append(x)
        ids = {m.person_id for m in measures} | {x.person_id for xs in members.values() for x in xs}
        session.record(ids)
        if measures:
            session.flag(enforcement.FLAG)
        names, on = _names(ids), today()
        return [_measure_dict(m, names, members[m.id], on) for m in measures]


def alerts(*, actor: Actor, on: dt.date | None = None) -> dict:
    """What needs doing, by internal id only (no names): for the list screen and the daily command.

    - ending_soon: 支援措置中, the end within one month (extension window open)
    - expired: 支援措置中, the end passed without extension or end (still protecting)
    - notice_due: ending soon, expired or ended, and no 支援措置期間終了通知 printed yet
    - provisional: 仮支援措置 waiting for confirmation
    - restrictions_past_end: 抑止 whose planned end passed; they stay in force until released [410]
    """
    on = on or today()
    with gate.open(actor, function="support.alerts", perm=Perm.SUPPORT_MEASURE_MANAGE,
                   criteria={"on": on.isoformat()}) as session:
        ending_soon, expired, notice_due, provisional = [], [], [], []
        for m in SupportMeasure.objects.exclude(state=State.ENDED, end_notice_issued_on__isnull=False).order_by("id"):
            if m.state == State.PROVISIONAL:
                provisional.append(m.id)
                continue
            due = m.state == State.ENDED
            if m.state == State.ACTIVE and m.end < on:
                expired.append(m.id)
                due = True
            elif m.state == State.ACTIVE and terms.ending_within_month(m.end, on):
                ending_soon.append(m.id)
                due = True
            if due and m.end_notice_issued_on is None:
                notice_due.append(m.id)
        past_end = list(Restriction.objects.filter(ended_at__isnull=True, end__lt=on).order_by("id")
                        .values_list("id", flat=True))
        if ending_soon or expired or provisional:
            session.flag(enforcement.FLAG)
        return {"on": on.isoformat(), "ending_soon": ending_soon, "expired": expired, "notice_due": notice_due,
                "provisional": provisional, "restrictions_past_end": past_end}


# --- 抑止 [410] ------------------------------------------------------------------------------------


def _restriction_dict(r: Restriction, now: dt.datetime) -> dict:
    released = bool(r.temporary_release_until and r.temporary_release_until > now)
    return {
        "id": r.id, "person_id": r.person_id, "household_id": r.household_id,
        "processes": r.processes, "process_labels": [Process(p).label for p in r.processes],
        "level": r.level, "level_label": Level(r.level).label, "start": _date(r.start), "end": _date(r.end),
        "reason": r.reason, "set_by": r.set_by.username, "in_force": r.ended_at is None and not released,
        "temporarily_released_until": timezone.localtime(r.temporary_release_until).isoformat() if released else None,
        "past_end": bool(r.ended_at is None and r.end and r.end < timezone.localdate(now)),
        "ended_at": timezone.localtime(r.ended_at).isoformat() if r.ended_at else None,
    }


def restriction_set(*, actor: Actor, processes: Iterable[str], reason: str, person_id: int | None = None,
                    household_id: int | None = None, start: dt.date | None = None, end: dt.date | None = None,
                    level: str = Level.ERROR) -> dict:
    asked = set(processes)
    processes = [p for p in Process.values if p in asked] + sorted(asked - set(Process.values))  # the screen's order
    criteria = {"person_id": person_id, "household_id": household_id, "processes": processes, "level": level}
    with _writing(actor, function="restriction.set", perm=Perm.RESTRICTION_MANAGE, criteria=criteria) as session:
        if (person_id is None) == (household_id is None):
            raise DomainError(ErrorCode.INVALID_INPUT, "抑止の対象（個人または世帯）を1つ指定してください。", field="person_id")
        if not processes or any(p not in Process.values for p in processes):
            raise DomainError(ErrorCode.INVALID_INPUT, "抑止する処理を1つ以上選んでください。", field="processes")
        if level not in Level.values:
            raise DomainError(ErrorCode.INVALID_INPUT, "抑止レベルを選んでください。", field="level")
        reason = required_text(reason, "reason", "抑止の理由", 200)
        start = start or today()
        if end is not None and end < start:
            raise DomainError(ErrorCode.INVALID_DATE, "終了日は開始日以後の日付にしてください。", field="end")
        if person_id is not None:
            _require_persons([person_id])
        elif not Household.objects.filter(pk=household_id).exists():
            raise NotFoundError("指定された世帯が見つかりません。")
        r = Restriction.objects.create(person_id=person_id, household_id=household_id, processes=processes, level=level,
                                       start=start, end=end, reason=reason, set_by=actor.user)
        covered = _covered(r)
        session.record(covered)
        linkage.record(r, linkage.SET, covered)  # to 宛名, コンビニ交付 and the CS [410][420]
        return _restriction_dict(r, timezone.now())


def _covered(r: Restriction) -> list[int]:
    """Whom a restriction covers now: its person, or its household's members (residents only: a
    member who died or moved away keeps the household id on their last version)."""
    if r.person_id:
        return [r.person_id]
    return list(Person.objects.filter(household_id=r.household_id, status=Status.RESIDENT).values_list("id", flat=True))


def _load_restriction(restriction_id: int, session: GateSession) -> Restriction:
    r = Restriction.objects.select_for_update(of=("self",)).select_related("set_by").filter(pk=restriction_id).first()
    if r is None:
        raise NotFoundError("指定された抑止が見つかりません。")
    if r.ended_at is not None:
        raise _state_error("この抑止は既に解除されています。")
    session.record(_covered(r))
    return r


def restriction_roster(*, actor: Actor, ward: str = "", process: str = "", export: bool = False) -> dict:
    """抑止対象者一覧 [1290]: every person a 抑止 in force covers (their own, or their household's), with
    the 抑止's processes, level and period; by 行政区 (a 政令市 splits the list by ward), one ward or all.
    `process` keeps the 抑止 of that process only (e.g. 他システム連携: whom no 庁内連携 receives).
    `export`: the CSV to print, logged as an output (C09), not as a look."""
    if process and process not in Process.values:
        raise DomainError(ErrorCode.INVALID_INPUT, "抑止する処理の指定が正しくありません。", field="process")
    with gate.open(actor, function="export.restriction_roster" if export else "restriction.roster",
                   perm=Perm.RESTRICTION_MANAGE,
                   criteria={"ward": ward, "process": process}) as session:
        now = timezone.now()
        # Every 抑止 not released (a 一時解除 is shown as such: for 他システム連携 it does not apply [410]).
        found = [r for r in Restriction.objects.select_related("set_by").filter(ended_at__isnull=True).order_by("id")
                 if not process or process in r.processes]
        covered = {r.id: _covered(r) for r in found}
        ids = {pid for pids in covered.values() for pid in pids}
        # A 支援措置 person is on it for the 支援措置 staff only; others see how many are left out (ADR 0009).
        protected = enforcement.protected_ids(ids)
        hidden = set() if actor.can(Perm.SUPPORT_MEASURE_MANAGE) else protected
        if protected:
            session.flag(enforcement.FLAG)
        ids -= hidden
        versions = {v.person_id: v for v in PersonVersion.objects.select_related("person", "town__ward").filter(
            person_id__in=ids, person__current_id=F("id"))}
        rows = []
        for r in found:
            for pid in covered[r.id]:
                v = versions.get(pid)
                if v is None or pid in hidden or (ward and v.town.ward.code != ward):
                    continue
                # The covered person last: the 抑止's own person_id is None for a household's.
                rows.append({**_restriction_dict(r, now), "ward": v.town.ward.name, "ward_code": v.town.ward.code,
                             "person_id": pid, "atena_number": v.person.atena_number,
                             "name": f"{v.family_name}　{v.given_name}".strip(),
                             "target": "世帯" if r.household_id else "個人"})
        rows.sort(key=lambda x: (x["ward_code"], x["atena_number"], x["id"]))
        session.record(x["person_id"] for x in rows)
        if rows:
            session.flag(enforcement.RESTRICTION_FLAG)
        return {"rows": rows, "ward": ward, "process": process,
                "hidden": len({pid for pids in covered.values() for pid in pids} & hidden)}


def restriction_release(*, actor: Actor, restriction_id: int) -> dict:
    """解除 (本解除): the restriction ends for good."""
    with _writing(actor, function="restriction.release", perm=Perm.RESTRICTION_RELEASE,
                  criteria={"restriction_id": restriction_id}) as session:
        r = _load_restriction(restriction_id, session)
        r.ended_at, r.ended_by = timezone.now(), actor.user
        r.save(update_fields=["ended_at", "ended_by"])
        linkage.record(r, linkage.RELEASE, _covered(r))
        return _restriction_dict(r, timezone.now())


def restriction_temporary_release(*, actor: Actor, restriction_id: int, minutes: int | None = None) -> dict:
    """一時解除: off for `minutes`, then in force again by itself; never passed on to other systems
    (no `RestrictionEvent`), so none takes it for a 本解除 [410]."""
    minutes = settings.JUKI_RESTRICTION_TEMPORARY_RELEASE_MINUTES if minutes is None else int(minutes)
    with _writing(actor, function="restriction.temporary_release", perm=Perm.RESTRICTION_TEMPORARY_RELEASE,
                  criteria={"restriction_id": restriction_id, "minutes": minutes}) as session:
        if not 1 <= minutes <= 24 * 60:
            raise DomainError(ErrorCode.INVALID_INPUT, "一時解除の時間は1分から1440分の間で指定してください。", field="minutes")
        r = _load_restriction(restriction_id, session)
        now = timezone.now()
        r.temporary_release_until, r.temporary_release_by = now + dt.timedelta(minutes=minutes), actor.user
        r.save(update_fields=["temporary_release_until", "temporary_release_by"])
        return _restriction_dict(r, now)


# --- one person's protection (the person screen's link) ----------------------------------------------


def protection_of(*, actor: Actor, person_id: int) -> dict:
    """Restrictions (own and household's) and — with the right — 支援措置 of one person."""
    # Any one of the three 抑止 rights shows the list (the steps check their own right) [410].
    perm = next((p for p in RESTRICTION_RIGHTS if actor.can(p)), Perm.RESTRICTION_MANAGE)
    with gate.open(actor, function="restriction.view", perm=perm, criteria={"person_id": person_id}) as session:
        person = Person.objects.filter(pk=person_id).first()
        if person is None:
            raise NotFoundError("指定された住民が見つかりません。")
        session.record([person_id])
        enforcement.guard_read(session, [person_id])  # a protected person: support staff only
        now = timezone.now()
        restrictions = Restriction.objects.select_related("set_by").filter(
            Q(person_id=person_id) | Q(household_id=person.household_id) if person.household_id else Q(person_id=person_id)
        ).order_by("-id")
        return {
            "person": _names([person_id]).get(person_id, {"person_id": person_id}),
            "household_id": person.household_id,
            "restrictions": [_restriction_dict(r, now) for r in restrictions],
        }
