"""Where 抑止 and 支援措置 take effect: small hooks the register calls inside its open gate.

- `check_change`: a change touching a person (or household) under 抑止(異動) is refused. There is no
  抑止 by a 住民異動不受理申請: the standard says not to build it ([450] 実装しない).
- `guard_change`: a change that loads or writes a protected person (or joins a household with one)
  is refused without `support.manage`, flagged with it.
- `search_mask`: a protected person is a masked hit for a user without `support.manage`; a person
  under 抑止(照会) is one for a user without `restriction.manage`. One marker per reason, and the
  address typed never decides whether it appears. Hits are flagged in the log.
- `guard_read`: reading a protected person is refused without `support.manage`, flagged with it.
- `hidden_persons` / `masked_member`: a household shows its other members, not the protected one.
- `outbox_events`: a protected or linkage-restricted person goes downstream as a block marker, and
  so does a household only such persons belong to.
- `conceal_place`: the policy on what is shown, not on which record is asked for (ADR 0013). Every
  person dict the register hands out passes through it: where a protected person lives now (their
  current household and their current address) is not shown to a user without `support.manage`,
  whoever's record carries it. A document whose entitlement check has passed reads inside
  `document_reads()` and prints the address.
- `hidden_persons` also hides a member under an error-level 抑止(照会) from a user without
  `restriction.manage`, wherever the household is shown.

A 支援措置 protects while it is 仮支援措置 or 支援措置中, also after its end date if nobody has
extended or ended it: like a restriction [410] it does not lapse by itself, and the alert list
says it is overdue. All functions here query guarded tables: call them inside `gate.open`.
"""
from __future__ import annotations

import contextvars
import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import F, Q
from django.utils import timezone

from juki.accounts.permissions import Perm
from juki.audit import gate
from juki.audit.gate import GateSession
from juki.core.errors import AccessDenied, DomainError, ErrorCode
from juki.register.models import Person, PersonVersion, Status
from juki.core import clock

from . import terms
from .models import (
    Level,
    Process,
    Restriction,
    SupportMeasure,
    SupportMeasureMember,
)

FLAG = "support_measure"
RESTRICTION_FLAG = "restriction"
SUPPORT_MARKER = "支援措置対象者（閲覧できません。担当課に確認してください。）"
INQUIRY_MARKER = "照会抑止の対象者（閲覧できません。担当課に確認してください。）"
PROTECTED = (SupportMeasure.State.PROVISIONAL, SupportMeasure.State.ACTIVE)


class ProtectedPerson(AccessDenied):
    def __init__(self):
        super().__init__("この方は支援措置の対象者のため、表示できません。支援措置の担当課に確認してください。")
        self.code = ErrorCode.SUPPORT_MEASURE_PROTECTED


class Restricted(DomainError):
    def __init__(self, message: str, *, status: int = 400):
        super().__init__(ErrorCode.RESTRICTED, message)
        self.status = status


def today() -> dt.date:
    return clock.today()


# --- who is protected / restricted -------------------------------------------------------------------


def measures_for(person_ids: Iterable[int]) -> dict[int, list[SupportMeasure]]:
    """person id → the 仮/本 支援措置 protecting them, as 申出者 or as 併せて支援を求める者."""
    ids = list({int(i) for i in person_ids})
    out: dict[int, list[SupportMeasure]] = defaultdict(list)
    if not ids:
        return out
    for m in SupportMeasure.objects.filter(person_id__in=ids, state__in=PROTECTED):
        out[m.person_id].append(m)
    for row in SupportMeasureMember.objects.select_related("measure").filter(
            person_id__in=ids, measure__state__in=PROTECTED):
        out[row.person_id].append(row.measure)
    return out


def _placeholders(values: list) -> str:
    return ", ".join(["%s"] * len(values))


def protected_ids(person_ids: Iterable[int]) -> set[int]:
    """Who of these a 仮/本 支援措置 protects. Every write asks (`guard_change`), and almost always
    finds nobody: one plain statement, no ORM compilation or model instances (BENCHMARKS.md)."""
    ids = sorted({int(i) for i in person_ids})
    if not ids:
        return set()
    gate.require("SupportMeasure")  # plain SQL passes no guarded manager: the gate rule, checked here
    sm, smm = SupportMeasure._meta.db_table, SupportMeasureMember._meta.db_table
    states = [str(x) for x in PROTECTED]
    sql = (f"SELECT person_id FROM {sm} WHERE state IN ({_placeholders(states)}) AND person_id IN ({_placeholders(ids)}) "
           f"UNION SELECT m.person_id FROM {smm} m JOIN {sm} s ON s.id = m.measure_id "
           f"WHERE s.state IN ({_placeholders(states)}) AND m.person_id IN ({_placeholders(ids)})")
    with connection.cursor() as cur:
        cur.execute(sql, [*states, *ids, *states, *ids])
        return {row[0] for row in cur.fetchall()}


def _any_restriction(person_ids: list[int], household_ids: set[int], on: dt.date) -> bool:
    """Is any 抑止 not yet released, from `on` or before, on these persons, their current
    households or these households? The usual answer is no, in one plain statement; only a yes
    costs the full reading below."""
    gate.require("Restriction")
    r, person = Restriction._meta.db_table, Person._meta.db_table
    where, params = [], []
    if person_ids:
        where.append(f"person_id IN ({_placeholders(person_ids)})")
        where.append(f"household_id IN (SELECT household_id FROM {person} WHERE id IN ({_placeholders(person_ids)}))")
        params += [*person_ids, *person_ids]
    if household_ids:
        where.append(f"household_id IN ({_placeholders(list(household_ids))})")
        params += list(household_ids)
    sql = f"SELECT 1 FROM {r} WHERE ended_at IS NULL AND start <= %s AND ({' OR '.join(where)}) LIMIT 1"
    with connection.cursor() as cur:
        cur.execute(sql, [on, *params])
        return cur.fetchone() is not None


def change_look(person_ids: Iterable[int]) -> tuple[set[int], bool]:
    """(who of these a 支援措置 protects, may any 抑止 concern them or their households) for a change
    loading these persons: `protected_ids` and `_any_restriction` in one statement (issue 19)."""
    ids = sorted({int(i) for i in person_ids})
    if not ids:
        return set(), False
    gate.require("SupportMeasure")
    sm, smm, r, person = (SupportMeasure._meta.db_table, SupportMeasureMember._meta.db_table,
                          Restriction._meta.db_table, Person._meta.db_table)
    states, marks = [str(x) for x in PROTECTED], _placeholders(ids)
    sql = (f"SELECT 0, person_id FROM {sm} WHERE state IN ({_placeholders(states)}) AND person_id IN ({marks}) "
           f"UNION ALL SELECT 0, m.person_id FROM {smm} m JOIN {sm} s ON s.id = m.measure_id "
           f"WHERE s.state IN ({_placeholders(states)}) AND m.person_id IN ({marks}) "
           f"UNION ALL SELECT * FROM (SELECT 1, 0 FROM {r} WHERE ended_at IS NULL AND start <= %s AND "
           f"(person_id IN ({marks}) OR household_id IN (SELECT household_id FROM {person} WHERE id IN ({marks}))) "
           "LIMIT 1) AS any_restriction")
    with connection.cursor() as cur:
        cur.execute(sql, [*states, *ids, *states, *ids, timezone.localdate(), *ids, *ids])
        rows = cur.fetchall()
    return {pid for kind, pid in rows if kind == 0}, any(kind == 1 for kind, _ in rows)


_EVERYONE = "_protection_everyone"


def look(session: GateSession, person_ids: Iterable[int]) -> tuple[set[int], bool]:
    """(who of these a 支援措置 protects, is any 抑止 on them or their households) for a read, in one
    statement: every protected person of the city (a few hundred at most; kept on the session for
    its place checks, `places`) and whether any restriction may concern these persons. A read
    almost always finds nobody, and then this is its only protection query (issue 19)."""
    ids = sorted({int(i) for i in person_ids})
    gate.require("SupportMeasure")
    sm, smm, r, person = (SupportMeasure._meta.db_table, SupportMeasureMember._meta.db_table,
                          Restriction._meta.db_table, Person._meta.db_table)
    states = [str(x) for x in PROTECTED]
    everyone = session.__dict__.get(_EVERYONE)
    parts, params = [], []
    if everyone is None:
        parts += [f"SELECT 0, person_id FROM {sm} WHERE state IN ({_placeholders(states)})",
                  f"SELECT 0, m.person_id FROM {smm} m JOIN {sm} s ON s.id = m.measure_id "
                  f"WHERE s.state IN ({_placeholders(states)})"]
        params += [*states, *states]
    if ids:
        marks = _placeholders(ids)
        parts.append(f"SELECT 1, 0 FROM (SELECT 1 FROM {r} WHERE ended_at IS NULL AND start <= %s AND "
                     f"(person_id IN ({marks}) OR household_id IN (SELECT household_id FROM {person} WHERE id IN ({marks}))) "
                     "LIMIT 1) AS any_restriction")
        params += [timezone.localdate(), *ids, *ids]
    if not parts:
        return set(), False
    with connection.cursor() as cur:
        # UNION ALL of subqueries (SQLite takes no LIMIT inside a bare compound member)
        cur.execute(" UNION ALL ".join(f"SELECT * FROM ({p}) AS part{i}" for i, p in enumerate(parts)), params)
        rows = cur.fetchall()
    if everyone is None:
        everyone = session.__dict__[_EVERYONE] = {pid for kind, pid in rows if kind == 0}
    return everyone & set(ids), any(kind == 1 for kind, _ in rows)


def _everyone(session: GateSession | None) -> set[int]:
    cached = session.__dict__.get(_EVERYONE) if session is not None else None
    if cached is None:
        cached = everyone_protected()
        if session is not None:
            session.__dict__[_EVERYONE] = cached
    return cached


def restrictions_for(person_ids: Iterable[int], process: Process, *, household_ids: Iterable[int] = (),
                     now: dt.datetime | None = None, unattended: bool = False) -> dict[int, list[Restriction]]:
    """person id → the 抑止 of `process` in force on them (their own, or their household's).

    Persons of a restricted household are found by their current household; a household id given
    in `household_ids` (a destination) is reported under the key `-household_id`. `unattended`:
    for a channel no clerk watches (the kiosk, like コンビニ交付), to which a 一時解除 does not
    apply [410]: it is meant for the counter that released it.
    """
    ids = list({int(i) for i in person_ids})
    now = now or timezone.now()
    destinations = {int(h) for h in household_ids}
    if not ids and not destinations:
        return {}
    if not _any_restriction(sorted(ids), destinations, timezone.localdate(now)):
        return {}
    homes: dict[int, int] = {}
    if ids:
        homes = {pid: hid for pid, hid in Person.objects.filter(pk__in=ids).values_list("id", "household_id") if hid}
    hids = set(homes.values()) | destinations
    rows = Restriction.objects.filter(ended_at__isnull=True, start__lte=timezone.localdate(now)).filter(
        Q(person_id__in=ids) | Q(household_id__in=hids))
    out: dict[int, list[Restriction]] = defaultdict(list)
    for r in rows:
        if not _in_force(r, process, now, unattended=unattended):
            continue
        if r.person_id:
            out[r.person_id].append(r)
        else:
            for pid, hid in homes.items():
                if hid == r.household_id:
                    out[pid].append(r)
            if r.household_id in destinations:
                out[-r.household_id].append(r)
    return out


def _in_force(r: Restriction, process: Process, now: dt.datetime, *, unattended: bool = False) -> bool:
    # A 一時解除 is never passed on to other systems [410]: linkage stays blocked, and so does a
    # channel no clerk watches.
    released = (process != Process.LINKAGE and not unattended
                and r.temporary_release_until and r.temporary_release_until > now)
    return process in r.processes and not released


def everyone_protected() -> set[int]:
    """Every person a 仮/本 支援措置 protects now (a few hundred in a city at most)."""
    # One query (a read path runs this once per gate session, usually finding nobody).
    return set(SupportMeasure.objects.filter(state__in=PROTECTED).values_list("person_id", flat=True).union(
        SupportMeasureMember.objects.filter(measure__state__in=PROTECTED).values_list("person_id", flat=True)))


def everyone_linkage_withheld(session: GateSession | None = None) -> dict[int, str]:
    """`linkage_withheld` for the whole register at once (a full file): every person a 支援措置 protects
    and every one an error-level 抑止(他システム連携) covers, their own or their household's. Two small
    reads instead of two per chunk of a million persons."""
    now = timezone.now()
    persons, households = set(), set()
    for r in Restriction.objects.filter(ended_at__isnull=True, start__lte=timezone.localdate(now), level=Level.ERROR):
        if _in_force(r, Process.LINKAGE, now):
            (persons.add(r.person_id) if r.person_id else households.add(r.household_id))
    if households:
        persons |= set(Person.objects.filter(household_id__in=households).values_list("id", flat=True))
    protected = everyone_protected()
    # No flag on the reading row: the persons are left out of it, not read (their refusal rows carry it).
    return {**dict.fromkeys(persons, RESTRICTION_FLAG), **dict.fromkeys(protected, FLAG)}


def everyone_inquiry_restricted() -> set[int]:
    """Every person an error-level 抑止(照会) hides now, their own or their household's."""
    now = timezone.now()
    persons, households = set(), set()
    for r in Restriction.objects.filter(ended_at__isnull=True, start__lte=timezone.localdate(now), level=Level.ERROR):
        if not _in_force(r, Process.INQUIRY, now):
            continue
        if r.person_id:
            persons.add(r.person_id)
        else:
            households.add(r.household_id)
    if households:
        persons |= set(Person.objects.filter(household_id__in=households).values_list("id", flat=True))
    return persons


def _errors_and_alerts(found: dict[int, list[Restriction]]) -> tuple[bool, bool]:
    levels = {r.level for rs in found.values() for r in rs}
    return Level.ERROR in levels, Level.ALERT in levels


# --- changes ------------------------------------------------------------------------------------------


def check_change(person_ids: Iterable[int], operation: str = "", *, household_ids: Iterable[int] = ()) -> list[str]:
    """Refuse a 異動 of a person or household under 抑止(異動); return alert-level warnings."""
    error, alert = _errors_and_alerts(restrictions_for(person_ids, Process.CHANGE, household_ids=household_ids))
    if error:
        raise Restricted("この方（世帯）には異動の抑止が設定されているため、処理できません。"
                         "係長または担当課に確認してください。")
    return ["この方（世帯）には異動のアラートが設定されています。内容を担当課に確認してから処理してください。"] if alert else []


def guard_change(session: GateSession, person_ids: Iterable[int], *, protected: set[int] | None = None) -> None:
    """A change that loads or writes a protected person: refused without `support.manage`, flagged
    with it. The record of such a person is processed by the support section only (ADR 0009).
    The protected persons are subjects of the log row either way (their 開示請求 shows the attempt).
    `protected`: the answer of `change_look` for these persons, when the caller has it."""
    if protected is None:
        protected = protected_ids(person_ids)
    if protected:
        session.record(protected)
        session.flag(FLAG)
        if not session.actor.can(Perm.SUPPORT_MEASURE_MANAGE):
            raise ProtectedPerson()


# --- search --------------------------------------------------------------------------------------------


@dataclass
class SearchMask:
    """What a search may show this user: rows tagged or left out, and the markers instead."""

    protected: set[int] = field(default_factory=set)  # found persons under a 支援措置
    restricted: set[int] = field(default_factory=set)  # found persons under a 抑止(照会)
    hidden: set[int] = field(default_factory=set)  # found persons this user may not see
    markers: list[dict] = field(default_factory=list)

    def tag(self, row: dict) -> dict:
        row["support_measure"] = row["person_id"] in self.protected
        row["restricted"] = row["person_id"] in self.restricted  # [410]: visible as such
        return row


def search_mask(session: GateSession, found: Iterable[int], *,
                beyond_address: Callable[[set[int]], set[int]] | None = None) -> SearchMask:
    """Which found persons a search hides from this user, with one marker per reason.

    `beyond_address` is given for a search with address terms: it tells which of the persons
    given meet the other criteria (name, birth date, sex). A user without the right gets the
    marker whenever a protected person meets those, whatever 町字・番地・方書 were typed, so trying
    番地 after 番地 tells nothing about where the person lives (ADR 0009). The candidates are
    subjects of the log row, and the row is flagged.
    """
    found = set(found)
    protected, restricted = look(session, found)
    inquiry = restrictions_for(found, Process.INQUIRY) if restricted else {}
    blocking = {pid for pid, rs in inquiry.items() if any(r.level == Level.ERROR for r in rs)}
    may_support = session.actor.can(Perm.SUPPORT_MEASURE_MANAGE)
    may_restrict = session.actor.can(Perm.RESTRICTION_MANAGE)
    hide_support = set() if may_support else set(protected)
    hide_inquiry = set() if may_restrict else blocking
    if beyond_address is not None:
        if not may_support:
            # Those living where a protected person lives too: a hit by address would confirm the
            # place (ADR 0013); they get the marker whenever the other criteria meet them.
            hide_support |= beyond_address(_everyone(session) | everyone_at_protected_places(session))
        if not may_restrict:
            hide_inquiry |= beyond_address(everyone_inquiry_restricted())
    hide_inquiry -= hide_support
    if protected or hide_support:
        session.flag(FLAG)
    if inquiry or hide_inquiry:
        session.flag(RESTRICTION_FLAG)
    session.record(hide_support | hide_inquiry)
    markers = ([{"masked": True, "reason": FLAG, "marker": SUPPORT_MARKER}] if hide_support else []) + (
        [{"masked": True, "reason": RESTRICTION_FLAG, "marker": INQUIRY_MARKER}] if hide_inquiry else [])
    return SearchMask(protected=protected, restricted=set(inquiry), hidden=(hide_support | hide_inquiry) & found,
                      markers=markers)


# --- reads ---------------------------------------------------------------------------------------------


def guard_read(session: GateSession, person_ids: Iterable[int]) -> dict:
    """Refuse a read of a protected (or inquiry-restricted) person; flag it for those allowed.

    Returns what the screen shows about protection ([160][380]: the 住民票 says the person is
    protected, with the alerts of [440]).
    """
    person_ids = list(person_ids)
    # Every read asks, and almost always finds nobody: one plain statement for both kinds of
    # protection (`look`), and the full reading only for a yes (issue 19: the read's fixed cost).
    protected, restricted = look(session, person_ids)
    measures = measures_for(person_ids) if protected else {}
    if measures:
        session.flag(FLAG)
        if not session.actor.can(Perm.SUPPORT_MEASURE_MANAGE):
            raise ProtectedPerson()
    inquiry = restrictions_for(person_ids, Process.INQUIRY) if restricted else {}
    if inquiry:
        session.flag(RESTRICTION_FLAG)
        error, _ = _errors_and_alerts(inquiry)
        if error and not session.actor.can(Perm.RESTRICTION_MANAGE):
            raise Restricted("この方には照会の抑止が設定されているため、表示できません。担当課に確認してください。", status=403)
    out = notice(measures, inquiry)
    if restricted and certificate_alert(person_ids):  # [410]: on the record before any issue, not after it
        out["alerts"].append(CERTIFICATE_ALERT)
        out["certificate_alert"] = True
    return out


CERTIFICATE_ALERT = "この方には証明書交付のアラートが設定されています。内容を確認してから交付してください。"


def certificate_alert(person_ids) -> bool:
    """Is an alert-level 抑止(証明書交付) in force on any of these persons (their own or their
    household's)? Inside the gate. The record and the certificate form show it before any issue."""
    found = restrictions_for(person_ids, Process.CERTIFICATE)
    return any(r.level == Level.ALERT for rs in found.values() for r in rs)


def notice(measures: dict[int, list[SupportMeasure]], restrictions: dict[int, list[Restriction]]) -> dict:
    on = today()
    out = {"support_measures": [], "restricted": bool(restrictions), "alerts": []}
    for m in {m.id: m for ms in measures.values() for m in ms}.values():
        out["support_measures"].append({"id": m.id, "state": m.state, "state_label": m.get_state_display(),
                                        "end": m.end.isoformat() if m.end else None})
        if m.end and m.end < on:
            out["alerts"].append("支援措置の期間が終了しています。延長または終了の処理をしてください。")
        elif m.end and terms.ending_within_month(m.end, on):
            out["alerts"].append("支援措置の期間が1か月以内に終了します。")
    if restrictions:
        out["alerts"].append("この方には照会の抑止が設定されています。")
    return out


def hidden_persons(session: GateSession, person_ids: Iterable[int]) -> dict[int, str]:
    """Members of a household view that this user may not see → the marker shown instead: a
    protected member (without `support.manage`) and a member under an error-level 抑止(照会)
    (without `restriction.manage`), as a read of that person would be refused. Flagged either way."""
    person_ids = list(person_ids)
    protected, restricted = look(session, person_ids)
    if protected:
        session.flag(FLAG)
    inquiry = {pid for pid, rs in restrictions_for(person_ids, Process.INQUIRY).items()
               if any(r.level == Level.ERROR for r in rs)} if restricted else set()
    if inquiry:
        session.flag(RESTRICTION_FLAG)
    hidden = {} if session.actor.can(Perm.RESTRICTION_MANAGE) else {pid: INQUIRY_MARKER for pid in inquiry}
    if not session.actor.can(Perm.SUPPORT_MEASURE_MANAGE):
        hidden.update({pid: SUPPORT_MARKER for pid in protected})
    return hidden


def masked_member(person_id: int, marker: str = SUPPORT_MARKER) -> dict:
    """A member this user may not see in a household view: a marker where the name is, and no other item."""
    return {"person_id": person_id, "masked": True, "marker": marker, "relationship": "",
            "name": {"family_name": marker, "given_name": "", "family_name_kana": "", "given_name_kana": ""},
            "birth_date": None, "sex": None, "sex_label": "", "status": "", "status_label": "", "address": None,
            "hidden_items": []}


# --- places: what is shown, whoever's record carries it (ADR 0013) ---------------------------------------

PLACE_MARKER = "支援措置の対象者と同じ住所・世帯のため表示できません（担当課に確認してください）"
_document = contextvars.ContextVar("juki_protection_document", default=False)


@dataclass(frozen=True)
class Places:
    """Where the persons a 支援措置 protects live now: their households and addresses."""

    households: dict[int, set[int]]  # household id → protected persons in it
    addresses: dict[tuple[int, str, str], set[int]]  # (town id, 番地, 方書) → protected persons there

    def protecting(self, *, household_id: int | None, town_id: int | None, banchi: str, katagaki: str) -> set[int]:
        return self.households.get(household_id, set()) | self.addresses.get((town_id, banchi, katagaki), set())


def places(everyone: set[int] | None = None) -> Places:
    """Inside the gate. A few hundred protected persons in a city at most: two small queries, and
    none more when there are none (`everyone`: the protected persons, when already known)."""
    ids = everyone_protected() if everyone is None else everyone
    households: dict[int, set[int]] = defaultdict(set)
    addresses: dict[tuple[int, str, str], set[int]] = defaultdict(set)
    if ids:
        on = today()
        for pid, hid, town, banchi, katagaki in (
                PersonVersion.objects.filter(person_id__in=ids, person__current_id=F("id"))
                .filter(Q(person__status=Status.RESIDENT) | Q(person__removed_on__gt=on))
                .values_list("person_id", "person__household_id", "town_id", "banchi", "katagaki")):
            households[hid].add(pid)
            addresses[(town, banchi, katagaki)].add(pid)
    return Places(dict(households), dict(addresses))


def _places_for(session: GateSession) -> Places:
    cached = session.__dict__.get("_protection_places")
    if cached is None:
        cached = session.__dict__["_protection_places"] = places(_everyone(session))
    return cached


def everyone_at_protected_places(session: GateSession) -> set[int]:
    """Every resident living in a protected person's current household or at her current address."""
    where = _places_for(session)
    if not where.households:
        return set()
    on = today()
    found = set(Person.objects.filter(household_id__in=list(where.households)).values_list("id", flat=True))
    towns = {t for t, _, _ in where.addresses}
    for pid, town, banchi, katagaki in (
            PersonVersion.objects.filter(person__current_id=F("id"), town_id__in=towns)
            .filter(Q(person__status=Status.RESIDENT) | Q(person__removed_on__gt=on))
            .values_list("person_id", "town_id", "banchi", "katagaki")):
        if (town, banchi, katagaki) in where.addresses:
            found.add(pid)
    return found


def place_protected(session: GateSession, *, person_id: int, household_id: int | None, town_id: int | None,
                    banchi: str, katagaki: str) -> bool:
    """Is this place (a household, an address) where a protected person other than `person_id`
    lives now, and may this user not see it? Flags the row when it hides something."""
    if _document.get() or session.actor.can(Perm.SUPPORT_MEASURE_MANAGE):
        return False
    found = _places_for(session).protecting(household_id=household_id, town_id=town_id, banchi=banchi,
                                            katagaki=katagaki) - {person_id}
    if found:
        session.flag(FLAG)
    return bool(found)


def conceal_place(session: GateSession, item: dict, *, household_id: int | None, town_id: int | None,
                  banchi: str, katagaki: str) -> dict:
    """A person dict with the protected place taken out: no address, no 世帯番号 (the household's
    own id stays: the household view masks it the same way)."""
    if place_protected(session, person_id=item["person_id"], household_id=household_id, town_id=town_id,
                       banchi=banchi, katagaki=katagaki):
        item.update(address=None, household_number=None, place_hidden=True, place_marker=PLACE_MARKER)
    return item


@contextmanager
def document_reads() -> Iterator[None]:
    """Reads that build a document (a certificate, a notice) after its entitlement check
    (`certificates.certificate_request_check`) has passed for this requester: the document prints
    the address, which the check has decided this requester may have."""
    token = _document.set(True)
    try:
        yield
    finally:
        _document.reset(token)


def place_requests(session: GateSession, subjects: Iterable[int]) -> dict[int, list[SupportMeasure]]:
    """subject → the 支援措置 of the protected persons living in the subject's household or at the
    subject's address (the subject not being protected), for the certificate check."""
    subjects = list(subjects)
    where = _places_for(session)
    out: dict[int, list[SupportMeasure]] = {}
    rows = (PersonVersion.objects.filter(person_id__in=subjects, person__current_id=F("id"))
            .values_list("person_id", "person__household_id", "town_id", "banchi", "katagaki"))
    for pid, hid, town, banchi, katagaki in rows:
        others = where.protecting(household_id=hid, town_id=town, banchi=banchi, katagaki=katagaki) - {pid}
        if others:
            out[pid] = [m for ms in measures_for(others).values() for m in ms]
    return out


# --- linkage -------------------------------------------------------------------------------------------


def linkage_withheld(session: GateSession, person_ids: Iterable[int]) -> dict[int, str]:
    """Who of these the 庁内連携 must not receive, and why (the outbox's rule, `outbox_events`): a 仮/本
    支援措置 (FLAG) or an error-level 抑止(他システム連携) (RESTRICTION_FLAG) [440][410]."""
    ids = set(person_ids)
    protected = protected_ids(ids)
    restricted = {pid for pid, rs in restrictions_for(ids, Process.LINKAGE).items()
                  if any(r.level == Level.ERROR for r in rs)}
    if protected:
        session.flag(FLAG)
    if restricted - protected:
        session.flag(RESTRICTION_FLAG)
    return {**dict.fromkeys(restricted, RESTRICTION_FLAG), **dict.fromkeys(protected, FLAG)}


def outbox_events(session: GateSession, events: list[dict]) -> list[dict]:
    """Outbox events with protected or linkage-restricted persons replaced by a block marker."""
    ids = {p["person_id"] for e in events for p in e["persons"]}
    protected = protected_ids(ids)
    restricted = {pid for pid, rs in restrictions_for(ids, Process.LINKAGE).items()
                  if any(r.level == Level.ERROR for r in rs)}
    if protected:
        session.flag(FLAG)
    if restricted - protected:
        session.flag(RESTRICTION_FLAG)
    if not (protected or restricted):
        return events
    out = []
    for e in events:
        persons = []
        reasons: dict[int, set[str | None]] = defaultdict(set)  # household id → why each of its persons goes out
        for p in e["persons"]:
            pid = p["person_id"]
            why = FLAG if pid in protected else RESTRICTION_FLAG if pid in restricted else None
            persons.append({"person_id": pid, "blocked": why} if why else p)
            for hid in {p.get("household_before"), p.get("household_after")} - {None}:
                reasons[hid].add(why)
        # A household only blocked persons belong to is blocked too: its id and 世帯番号 would
        # tie their later events (or a newcomer's) to it.
        households = []
        for h in e.get("households", []):
            why = reasons.get(h["household_id"], {None})
            households.append({"blocked": FLAG if FLAG in why else RESTRICTION_FLAG} if None not in why else h)
        out.append({**e, "persons": persons, "households": households})
    return out
