"""The daily anomaly report (C08): views that deserve a second look, found in one day's log.

(a) a staff member viewing their own record, a member of their own household, someone at their
    own address (via `Staff.resident_person_id`), or a resident who shares their 氏 (via
    `Staff.full_name` or their own record);
(b) bursts: more than JUKI_AUDIT_BURST_PERSONS persons from different households viewed by one
    user within JUKI_AUDIT_BURST_MINUTES — one family's household screen counts once.

Only views count (person.view, household.view, person.history): a search shows a list, not a
住民票. Comparing names and addresses reads the register, so the whole run is one gate session
whose log row names every person read.
"""
from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth import get_user_model

from juki.accounts.permissions import Perm
from juki.register import textnorm
from juki.register.models import Person

from juki.audit import gate
from .analysis import Window, fmt
from juki.audit.gate import Actor
from juki.audit.models import AccessLog, AccessLogSubject

VIEW_FUNCTIONS = ("person.view", "household.view", "person.history")

KIND_LABELS = {
    "own_record": "本人の記録の閲覧",
    "same_household": "本人の世帯の住民の閲覧",
    "same_address": "本人と同じ住所の住民の閲覧",
    "same_surname": "本人と同じ氏の住民の閲覧",
    "burst": "短時間に多数の住民を閲覧",
}

COLUMNS = (("kind", "種別"), ("user", "職員ID"), ("user_name", "職員氏名"), ("person_ids", "住民（内部ID）"),
           ("households", "世帯数"), ("views", "閲覧回数"), ("first_at", "最初の閲覧"), ("last_at", "最後の閲覧"),
           ("log_ids", "ログID"))


@dataclass
class Finding:
    kind: str
    user_id: int
    username: str
    user_name: str
    person_ids: list[int] = field(default_factory=list)
    log_ids: list[int] = field(default_factory=list)
    households: int = 0
    first_at: dt.datetime | None = None
    last_at: dt.datetime | None = None

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]

    def row(self) -> dict:
        return {"kind": self.label, "user": self.username, "user_name": self.user_name,
                "person_ids": " ".join(map(str, self.person_ids)), "households": self.households,
                "views": len(self.log_ids), "first_at": fmt(self.first_at), "last_at": fmt(self.last_at),
                "log_ids": " ".join(map(str, self.log_ids))}


class _View(NamedTuple):
    log_id: int
    user_id: int
    at: dt.datetime
    person_id: int


class _Info(NamedTuple):
    household_id: int | None
    surname: str  # textnorm.name_key of the current 氏
    address: tuple


def _people(ids: set[int]) -> dict[int, _Info]:
    out = {}
    ordered = sorted(ids)
    for i in range(0, len(ordered), 2000):
        for p in Person.objects.select_related("current").filter(pk__in=ordered[i:i + 2000]):
            v = p.current
            if v is None:
                continue
            out[p.id] = _Info(p.household_id, textnorm.name_key(v.family_name),
                              (v.town_id, textnorm.text_key(v.banchi), textnorm.text_key(v.katagaki)))
    return out


@dataclass
class _Staff:
    user: object
    own_id: int | None
    own: _Info | None
    surnames: set[str]
    full_name_key: str  # a full name written without a space: the 氏 is any prefix of it

    def relation(self, person_id: int, info: _Info | None) -> str | None:
        if self.own_id is not None and person_id == self.own_id:
            return "own_record"
        if info is None:
            return None
        if self.own is not None and info.household_id is not None and info.household_id == self.own.household_id:
            return "same_household"
        if self.own is not None and info.address == self.own.address:
            return "same_address"
        if info.surname and (info.surname in self.surnames or (
                len(info.surname) >= 2 and self.full_name_key.startswith(info.surname))):
            return "same_surname"
        return None


def _staff(user, people: dict[int, _Info]) -> _Staff:
    own = people.get(user.resident_person_id) if user.resident_person_id else None
    surnames, full_key = set(), ""
    parts = [p for p in re.split(r"[\s\u3000]+", (user.full_name or "").strip()) if p]
    if len(parts) > 1:
        surnames.add(textnorm.name_key(parts[0]))
    elif parts:
        full_key = textnorm.name_key(parts[0])
    if own is not None and own.surname:
        surnames.add(own.surname)
    surnames.discard("")
    return _Staff(user, user.resident_person_id, own, surnames, full_key)


def _new(kind: str, staff: _Staff) -> Finding:
    return Finding(kind, staff.user.pk, staff.user.username, staff.user.full_name)


def _add(f: Finding, v: _View) -> None:
    if v.person_id not in f.person_ids:
        f.person_ids.append(v.person_id)
    if v.log_id not in f.log_ids:
        f.log_ids.append(v.log_id)
    f.first_at = v.at if f.first_at is None else min(f.first_at, v.at)
    f.last_at = v.at if f.last_at is None else max(f.last_at, v.at)


def _related(views: list[_View], staff: dict[int, _Staff], people: dict[int, _Info]) -> list[Finding]:
    found: dict[tuple, Finding] = {}
    for v in views:
        s = staff[v.user_id]
        kind = s.relation(v.person_id, people.get(v.person_id))
        if kind is None:
            continue
        f = found.setdefault((v.user_id, kind, v.person_id), _new(kind, s))
        f.households = 1
        _add(f, v)
    return list(found.values())


def _bursts(views: list[_View], staff: dict[int, _Staff], people: dict[int, _Info]) -> list[Finding]:
    span = dt.timedelta(minutes=settings.JUKI_AUDIT_BURST_MINUTES)
    threshold = settings.JUKI_AUDIT_BURST_PERSONS

    def household(pid: int):
        info = people.get(pid)
        return info.household_id if info and info.household_id is not None else ("person", pid)

    by_user: dict[int, list[_View]] = defaultdict(list)
    for v in views:
        by_user[v.user_id].append(v)
    findings = []
    for user_id, events in by_user.items():
        # Sliding window over the user's views; overlapping windows above the threshold merge into one burst.
        in_window: Counter = Counter()
        segments: list[list[int]] = []
        left = 0
        for right, v in enumerate(events):
            in_window[household(v.person_id)] += 1
            while v.at - events[left].at > span:
                h = household(events[left].person_id)
                in_window[h] -= 1
                if not in_window[h]:
                    del in_window[h]
                left += 1
            if len(in_window) > threshold:
                if segments and left <= segments[-1][1]:
                    segments[-1][1] = right
                else:
                    segments.append([left, right])
        for start, end in segments:
            f = _new("burst", staff[user_id])
            for v in events[start:end + 1]:
                _add(f, v)
            f.households = len({household(pid) for pid in f.person_ids})
            findings.append(f)
    return findings


def anomalies(actor: Actor, day: dt.date, *, function: str = "accesslog.anomalies") -> list[Finding]:
    """Findings for one JST day, ordered by user and time."""
    w = Window(day, day)
    with gate.open(actor, function=function, perm=Perm.ACCESS_LOG_VIEW,
                   criteria={"report": "anomalies", "day": day.isoformat()}) as session:
        views = [_View(*row) for row in (
            AccessLogSubject.objects
            .filter(log__at__gte=w.start, log__at__lt=w.end, log__function__in=VIEW_FUNCTIONS,
                    log__user__isnull=False, log__outcome=AccessLog.OK)
            .order_by("log__at", "log_id", "person_id")
            .values_list("log_id", "log__user_id", "log__at", "person_id"))]
        users = list(get_user_model().objects.filter(pk__in={v.user_id for v in views}))
        wanted = {v.person_id for v in views} | {u.resident_person_id for u in users if u.resident_person_id}
        people = _people(wanted)
        session.record(people)
        staff = {u.pk: _staff(u, people) for u in users}
        findings = _related(views, staff, people) + _bursts(views, staff, people)
        findings.sort(key=lambda f: (f.username, f.first_at, f.kind))
        session.criteria["findings"] = len(findings)
        if not people:
            session.write_log("done")  # nothing viewed that day: not an "empty" search
    return findings
