"""Reads of the register. Every function opens the access gate: permission check + access log.

"As of date D" (ADR 0001): for each person, the version with the highest 履歴番号 among those
whose 異動日 is on or before D. A household as of D is every person whose version as of D
is a resident of that household.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db import connection
from django.db.models import F, Min

from juki.accounts import destinations, system_actors
from juki.accounts.permissions import Perm
from juki.audit import gate
from juki.audit.gate import Actor, GateSession
from juki.core import clock, mynumber, sql
from juki.core.errors import AccessDenied, DomainError, ErrorCode, NotFoundError
from juki.protection import enforcement as protection
from juki.protection.models import Process

from . import read_models, reasons, relationships
from .models import Change, Household, Person, PersonVersion, ResidentKind, Status, Town, TransferCertificate
from .read_models import dated as _date


# --- presentation of a version ------------------------------------------------------------------


def _revealed(version: PersonVersion, session: GateSession) -> str | None:
    """The 個人番号 in plain text, asked for by name: the session's right is checked and the row flagged."""
    if not version.my_number_cipher:
        return None
    session.reveal_my_number()
    return mynumber.unseal(version.my_number_key_id, version.my_number_cipher)


def version_dict(version: PersonVersion, *, session: GateSession, reveal_my_number: bool = False, on: dt.date | None = None) -> dict:
    """The person as screens and the API show it, made from its typed record (`read_models`)."""
    my_number = _revealed(version, session) if reveal_my_number else None
    return read_models.display(read_models.record_of(version, session=session, on=on or clock.today()),
                               my_number=my_number)


_VERSION_RELATED = ("person", "household", "town__ward__municipality")
# The two reads every counter visit makes, built once (core.sql.Joined): a person's current version,
# and a household's current members (residents, and those removed after the day asked about).
_CURRENT_VERSION = sql.Joined(PersonVersion, *_VERSION_RELATED, where="t.person_id = %s AND person.current_id = t.id")
_HOUSEHOLD_VERSIONS = sql.Joined(
    PersonVersion, *_VERSION_RELATED,
    where="person.household_id = %s AND person.current_id = t.id AND (person.status = %s OR person.removed_on > %s)")
_HOUSEHOLD = sql.Joined(Household, where="t.id = %s")
_HISTORY = sql.Joined(PersonVersion, *_VERSION_RELATED, "change__operator", "change__approved_by", "change__terminal",
                      where="t.person_id = %s", order="t.seq")


def _as_of(person_ids, on: dt.date) -> dict[int, PersonVersion]:
    best: dict[int, PersonVersion] = {}
    rows = PersonVersion.objects.select_related(*_VERSION_RELATED).filter(person_id__in=list(person_ids), event_date__lte=on)
    for v in rows:
        if v.person_id not in best or v.seq > best[v.person_id].seq:
            best[v.person_id] = v
    return best


# --- member order [1010] ----------------------------------------------------------------------


def member_sort_key(v: PersonVersion) -> tuple:
    """世帯員の並び順 [1010]: 世帯主, 配偶者, 子, 子の家族, 父母, 兄弟姉妹, 祖父母, 親族, 縁故者, 同居人.

    Within a rank by birth date, then 宛名番号. Known simplification: the 2nd rank (a child's
    family) is not grouped family by family — that needs a parent link the register does not
    keep yet; it is ordered 子の配偶者 before 子の子, each by birth date.
    """
    r = v.relationship
    parts = relationships.links(r)
    if r == relationships.HEAD:
        rank = (0,)
    elif r in relationships.SPOUSES:
        rank = (1,)
    elif r == "子":
        rank = (2,)
    elif parts[0] == "子" and parts[1:2] and parts[1] in relationships.SPOUSES:
        rank = (3, 0)
    elif parts[0] == "子":
        rank = (3, len(parts))
    elif r in ("父", "母"):
        koseki_head = (v.domicile_head or "").replace("　", "").replace(" ", "")
        rank = (4, 0 if koseki_head and koseki_head == f"{v.family_name}{v.given_name}" else 1)
    elif r in ("兄", "姉", "弟", "妹"):
        rank = (5,)
    elif len(parts) == 2 and parts[0] in ("父", "母") and parts[1] in ("父", "母"):
        rank = (6,)
    elif r == relationships.RELATIVE_BY_FACT:
        rank = (8,)
    elif r == relationships.LODGER:
        rank = (9,)
    else:
        rank = (7, len(parts))
    return (*rank, v.birth_date, v.person.atena_number)


# --- selectors ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonRead:
    """One person read through the gate: the typed record and what the screens show beside it."""

    record: read_models.PersonRecord
    protection: dict  # the 支援措置・抑止 notice of the read
    latest_version: int  # the person's newest 履歴番号 (the record may be as of an earlier date)
    household_version: int
    my_number: str | None = None  # only when revealed, with the right

    def as_dict(self) -> dict:
        out = read_models.display(self.record, my_number=self.my_number)
        out["protection"] = self.protection
        out["latest_version"] = self.latest_version
        out["household_version"] = self.household_version
        return out


def person_get(*, actor: Actor, person_id: int, as_of: dt.date | None = None, reveal_my_number: bool = False) -> dict:
    return person_read(actor=actor, person_id=person_id, as_of=as_of, reveal_my_number=reveal_my_number).as_dict()


def person_read(*, actor: Actor, person_id: int, as_of: dt.date | None = None,
                reveal_my_number: bool = False) -> PersonRead:
    with gate.open(actor, function="person.view", perm=Perm.PERSON_VIEW,
                   criteria={"person_id": person_id, "as_of": as_of.isoformat() if as_of else None,
                             "reveal_my_number": reveal_my_number}) as session:
        if as_of is None:
            # One query: the current version with its head row, household and address.
            version = _CURRENT_VERSION.first([person_id])
            if version is None:
                raise NotFoundError("指定された住民が見つかりません。")
            person = version.person
            session.record([person.id])
        else:
            person = Person.objects.filter(pk=person_id).first()
            if person is None:
                raise NotFoundError("指定された住民が見つかりません。")
            session.record([person.id])
            version = _as_of([person.id], as_of).get(person.id)
            if version is None:
                raise NotFoundError("指定された日には、この方は記録されていません。")
        notice = protection.guard_read(session, [person.id])  # 支援措置・照会抑止 [440][410]
        my_number = _revealed(version, session) if reveal_my_number else None
        record = read_models.record_of(version, session=session, on=as_of or clock.today())
        return PersonRead(record=record, protection=notice, latest_version=person.latest_seq,
                          household_version=version.household.lock_version, my_number=my_number)


def person_history(*, actor: Actor, person_id: int) -> list[dict]:
    """異動履歴: every version with its change bookkeeping, oldest first."""
    with gate.open(actor, function="person.history", perm=Perm.PERSON_VIEW, criteria={"person_id": person_id}) as session:
        versions = _HISTORY.fetch([person_id])
        if not versions:  # every person has at least the version that made them
            raise NotFoundError("指定された住民が見つかりません。")
        session.record([person_id])
        protection.guard_read(session, [person_id])
        out = []
        for v in versions:
            item = version_dict(v, session=session)
            c: Change = v.change
            item["change"] = {
                "id": c.id,
                "operation": c.operation,
                "operation_label": reasons.OPERATION_LABELS.get(reasons.Operation(c.operation), c.operation),
                "notified_on": _date(c.notified_on),
                "processed_at": c.processed_at.isoformat(),
                "operator": c.operator.username if c.operator else c.system,
                # For the screen: staff by name, the data migration and batch jobs by what they are.
                "operator_display": _operator_display(c),
                "terminal": c.terminal.code if c.terminal else "",
                "late_notification": c.late_notification,
                "cancels_change_id": c.cancels_id,
            }
            out.append(item)
        return out


def _operator_display(c: Change) -> str:
    if c.operator is not None:
        who = c.operator.display_name
        if c.approved_by_id:
            who += f"（審査 {c.approved_by.display_name}）"
        return who
    if c.system == "seed" or c.operation == reasons.Operation.SEED:
        return "移行データ"
    if not c.system:
        return ""
    # A listed system actor by what it does (「自動処理（デモの市の作成）」), not by its code.
    return f"自動処理（{system_actors.LABELS.get(c.system, c.system)}）"


def household_get(*, actor: Actor, household_id: int, as_of: dt.date | None = None) -> dict:
    with gate.open(actor, function="household.view", perm=Perm.PERSON_VIEW,
                   criteria={"household_id": household_id, "as_of": as_of.isoformat() if as_of else None}) as session:
        household = _HOUSEHOLD.first([household_id])
        if household is None:
            raise NotFoundError("指定された世帯が見つかりません。")
        on = as_of or clock.today()
        if as_of is None:
            versions = _HOUSEHOLD_VERSIONS.fetch([household.id, Status.RESIDENT.value,
                                                  connection.ops.adapt_datefield_value(on)])
        else:
            first = PersonVersion.objects.filter(household=household).aggregate(on=Min("event_date"))["on"]
            if first is None or as_of < first:  # as a person read before the person existed answers
                raise NotFoundError("指定された日には、この世帯は記録されていません。")
            candidates = set(PersonVersion.objects.filter(household=household).values_list("person_id", flat=True))
            versions = [
                v for v in _as_of(candidates, on).values()
                if v.household_id == household.id and v.status == Status.RESIDENT
            ]
        versions.sort(key=member_sort_key)
        session.record(v.person_id for v in versions)
        # 支援措置 [440] and 照会抑止 at error level [410]: a member this user may not see is a marker.
        hidden = protection.hidden_persons(session, [v.person_id for v in versions])
        if versions and len(hidden) == len(versions):
            if protection.SUPPORT_MARKER in hidden.values():
                raise protection.ProtectedPerson()  # nobody here this user may see: like a person read
            raise protection.Restricted("この世帯の方には照会の抑止が設定されているため、表示できません。担当課に確認してください。",
                                        status=403)
        head = next((v for v in versions if v.relationship == relationships.HEAD), None)
        # Where a protected member lives is not shown here: no address or 世帯番号, for the household
        # or its visible members (their own person reads do not show it either: ADR 0013).
        protected_here = protection.SUPPORT_MARKER in hidden.values()
        address = version_dict(versions[0], session=session)["address"] if versions and not protected_here else None
        members = [protection.masked_member(v.person_id, hidden[v.person_id]) if v.person_id in hidden
                   else version_dict(v, session=session, on=on) for v in versions]
        if protected_here:
            for m in members:
                if not m.get("masked"):
                    m.update(address=None, household_number=None)
        return {
            "household_id": household.id,
            "number": None if protected_here else household.number,
            "protection_hidden": protected_here,
            "version": household.lock_version,
            "as_of": on.isoformat(),
            "head_absent_since": _date(household.head_absent_since),
            "head": {"person_id": head.person_id,
                     "name": hidden[head.person_id] if head.person_id in hidden
                     else f"{head.family_name}　{head.given_name}".strip()} if head else None,
            "address": address,
            "members": members,
        }


def households_without_head(*, actor: Actor, limit: int = 200) -> list[dict]:
    """世帯主変更依頼の対象: households with members but no 世帯主 [490][500]."""
    with gate.open(actor, function="household.head_absent_list", perm=Perm.PERSON_VIEW) as session:
        rows = list(
            Household.objects.filter(head_absent_since__isnull=False).order_by("head_absent_since", "id")[:limit]
        )
        members = defaultdict(list)
        for p in Person.objects.filter(household__in=rows, status=Status.RESIDENT).values("id", "household_id"):
            members[p["household_id"]].append(p["id"])
        session.record(pid for ids in members.values() for pid in ids)
        return [
            {"household_id": h.id, "number": h.number, "version": h.lock_version,
             "head_absent_since": _date(h.head_absent_since), "member_ids": members[h.id]}
            for h in rows
        ]


def late_notifications(*, actor: Actor, limit: int = 200) -> list[dict]:
    """届出期間経過: changes notified more than the statutory period after the event."""
    with gate.open(actor, function="change.late_list", perm=Perm.PERSON_VIEW) as session:
        changes = list(Change.objects.filter(late_notification=True).order_by("-id")[:limit])
        by_change = defaultdict(list)
        for cid, pid in PersonVersion.objects.filter(change__in=changes).values_list("change_id", "person_id"):
            by_change[cid].append(pid)
        session.record(pid for ids in by_change.values() for pid in ids)
        return [
            {"change_id": c.id, "operation": c.operation, "event_date": _date(c.event_date),
             "notified_on": _date(c.notified_on), "person_ids": by_change[c.id]}
            for c in changes
        ]


def household_ref_by_number(*, actor: Actor, number: str) -> dict:
    """{id, version} of a household named by its 世帯番号 (a destination typed at the counter)."""
    with gate.open(actor, function="household.lookup", perm=Perm.PERSON_VIEW, criteria={"number": number}) as session:
        household = Household.objects.filter(number=(number or "").strip()).first()
        if household is None:
            raise NotFoundError("入力された世帯番号の世帯はありません。")
        session.record(Person.objects.filter(household=household, status=Status.RESIDENT).values_list("id", flat=True))
        return {"id": household.id, "version": household.lock_version}


def change_get(*, actor: Actor, change_id: int) -> dict:
    """One change with the persons it wrote: for the 住民異動届受理通知 [580]."""
    with gate.open(actor, function="change.view", perm=Perm.PERSON_VIEW, criteria={"change_id": change_id}) as session:
        change = Change.objects.select_related("operator", "approved_by").filter(pk=change_id).first()
        if change is None:
            raise NotFoundError("指定された異動が見つかりません。")
        versions = list(PersonVersion.objects.select_related(*_VERSION_RELATED).filter(change=change).order_by("id"))
        session.record(v.person_id for v in versions)
        protection.guard_read(session, [v.person_id for v in versions])
        before = {}
        for v in PersonVersion.objects.select_related(*_VERSION_RELATED).filter(
                person_id__in=[v.person_id for v in versions]):
            for mine in versions:
                if v.person_id == mine.person_id and v.seq == mine.seq - 1:
                    before[mine.person_id] = v
        return {
            "change_id": change.id,
            "operation": change.operation,
            "operation_label": reasons.OPERATION_LABELS.get(reasons.Operation(change.operation), change.operation),
            "event_date": _date(change.event_date),
            "notified_on": _date(change.notified_on),
            # Staff are shown by name (the ids are in the access log), as on every screen.
            "operator": change.operator.display_name if change.operator else change.system,
            "approved_by": change.approved_by.display_name if change.approved_by else "",
            "notifier_name": change.notifier_name,
            "notifier_relationship": change.notifier_relationship,
            "persons": [version_dict(v, session=session) for v in versions],
            "before": {pid: version_dict(v, session=session) for pid, v in before.items()},
        }


# --- 住基ネット連携 (S2): the 本人確認情報 of each version a change wrote ------------------------------


@dataclass(frozen=True)
class LinkedIdentity:
    """A version's 本人確認情報 (FILE-2) as the city's CS takes it: with its 住民票コード and 個人番号,
    and who recorded the change from which terminal (操作者ID, 操作端末ID)."""

    identity: read_models.Identity
    my_number: str | None
    operator: str
    terminal: str


# What the read hands over (C07: the provision log names the items): FILE-2 as the CS keeps it.
_FILE2_ITEMS = [f.name for f in dataclasses.fields(read_models.Identity) if f.name != "person_id"] + [
    "my_number", "operator", "terminal"]


def linked_identities(*, actor: Actor, versions: list[tuple[int, int | None]]) -> dict[tuple[int, int], LinkedIdentity]:
    """The 本人確認情報 of the versions (person id, 履歴番号; None: the current one) that outbox events
    name, for the 住基ネット連携 (S2) only: one gate session and log row for the batch, each 個人番号
    revealed by name. Keyed by (person id, 履歴番号 read)."""
    with gate.open(actor, function="jukinet.identities", perm=Perm.IDENTITY_LINK,
                   criteria={"versions": len(set(versions)), "items": _FILE2_ITEMS}) as session:
        current = [pid for pid, seq in versions if seq is None]
        latest = dict(Person.objects.filter(id__in=current).values_list("id", "latest_seq")) if current else {}
        wanted = {(pid, latest.get(pid) if seq is None else seq) for pid, seq in versions}
        session.record(pid for pid, _ in wanted)
        rows = (PersonVersion.objects.select_related(*_VERSION_RELATED, "change__operator", "change__terminal")
                .filter(person_id__in={pid for pid, _ in wanted}, seq__in={seq for _, seq in wanted}))
        out = {}
        for version in rows:
            if (version.person_id, version.seq) not in wanted:
                continue
            record = read_models.record_of(version, session=session, on=version.event_date, hidden=[])
            change = version.change
            out[(version.person_id, version.seq)] = LinkedIdentity(
                identity=read_models.identity_of(record), my_number=_revealed(version, session),
                operator=change.operator.username if change and change.operator else "",
                terminal=change.terminal.code if change and change.terminal else "")
        return out


# --- 住基ネット連携 (S2) II: what a 異動 tells other cities (issue 15) --------------------------------


@dataclass(frozen=True)
class MovingRecord:
    """What the 住基ネット連携 needs of a version to tell other cities of it: the 転出証明書情報 of a
    特例転出 [670], the 転入通知 of a 転入 (住基法第9条第1項) and the 戸籍の附票 notice of a change of
    address or name (住基法第19条). `address` and `move_out_address` are written out in full, prefecture
    and city included, as another city reads them."""

    record: read_models.PersonRecord
    my_number: str | None
    address: str
    previous_municipality_code: str
    special_move_out: bool
    head_name: str


# The items the read hands over (C07), as the provision log names them.
_MOVING_ITEMS = ["resident_code", "name", "name_kana", "birth_date", "sex", "relationship", "head_name", "domicile",
                 "domicile_head", "address", "move_out_address", "move_out_planned_on", "resident_kind", "nationality",
                 "special_move_out", "my_number"]


# purpose → the items it sends (C07: the provision log names them).
MOVING_PURPOSES = {
    "transfer_certificate": _MOVING_ITEMS,
    "move_in_notice": ["resident_code", "name", "name_kana", "birth_date", "sex", "address", "event_date",
                       "notified_on"],
    "family_register_notice": ["resident_code", "name", "name_kana", "birth_date", "sex", "domicile", "domicile_head",
                               "address", "address_set_on", "reason", "event_date"],
    "municipal_notice": ["name", "birth_date", "sex", "nationality", "residence_card_number", "alias_name", "address",
                         "status", "reason", "event_date"],
}


def moving_records(*, actor: Actor, purpose: str, versions: list[tuple[int, int]],
                   reveal: set[tuple[int, int]] = frozenset(), foreign_only: bool = False
                   ) -> dict[tuple[int, int], MovingRecord]:
    """The versions' records for one kind of the 住基ネット連携's messages to other cities, in one gate
    session and log row (`jukinet.send.<purpose>`, a provision); the 個人番号 is read only for the
    versions in `reveal` (a 特例転出's certificates); `foreign_only`: the foreign residents' only (the
    市町村通知 to the 法務省), and only they are named in the log."""
    with gate.open(actor, function=f"jukinet.send.{purpose}", perm=Perm.IDENTITY_LINK,
                   criteria={"versions": len(set(versions)), "items": MOVING_PURPOSES[purpose]}) as session:
        wanted = set(versions)
        rows = (PersonVersion.objects.select_related(*_VERSION_RELATED)
                .filter(person_id__in={pid for pid, _ in wanted}, seq__in={seq for _, seq in wanted}))
        if foreign_only:
            rows = rows.filter(resident_kind=ResidentKind.FOREIGN)
        rows = [v for v in rows if (v.person_id, v.seq) in wanted]
        session.record(v.person_id for v in rows)
        # The 世帯主 is an item of the 転出証明書情報 only: looked up for it alone, once per household.
        heads: dict[int, str] = {}
        if purpose == "transfer_certificate":
            for household_id in {v.household_id for v in rows}:
                head = (PersonVersion.objects.filter(household_id=household_id, relationship=relationships.HEAD)
                        .order_by("-change_id").values_list("family_name", "given_name").first())
                heads[household_id] = f"{head[0]}　{head[1]}".strip() if head else ""
        out = {}
        for version in rows:
            key = (version.person_id, version.seq)
            town = version.town
            out[key] = MovingRecord(
                record=read_models.record_of(version, session=session, on=version.event_date, hidden=[]),
                my_number=_revealed(version, session) if key in reveal else None,
                address=read_models.address_text(town, version.banchi, version.katagaki),
                previous_municipality_code=version.previous_municipality_code,
                special_move_out=version.special_move_out, head_name=heads.get(version.household_id, ""))
        return out


def transfer_certificates(*, actor: Actor, group: str) -> list[dict]:
    """The 転出証明書情報 received for a 特例転入 (one request, one row per person), for the clerk who
    enters the 転入 from it [610]: its items as received, never the 個人番号 (recorded by the 転入
    without being shown). Logged as a read of the persons it names, by 住民票コード."""
    with gate.open(actor, function="jukinet.transfer_certificate", perm=Perm.PERSON_CHANGE,
                   criteria={"group": group}) as session:
        rows = list(TransferCertificate.objects.filter(group=group).order_by("id"))
        if not rows:
            raise NotFoundError("転出証明書情報が見つかりません。")
        known = dict(PersonVersion.objects.filter(resident_code__in=[r.resident_code for r in rows])
                     .values_list("resident_code", "person_id"))
        session.record(known.values())
        return [{"id": r.id, "from_municipality": r.from_municipality, "resident_code": r.resident_code,
                 "has_my_number": bool(r.my_number_digest), "used": r.used_by_id is not None,
                 "returning_person_id": known.get(r.resident_code), **r.items} for r in rows]


# --- 転入通知未着者一覧 [710] ---------------------------------------------------------------------------


def move_in_notice_missing(*, actor: Actor, planned_before: dt.date, person_id: int | None = None,
                           function: str = "jukinet.notice_missing") -> list[dict]:
    """Persons removed by a 国内転出 (or a 職権消除) whose 転入通知 has not come, the 転出予定日 on or
    before `planned_before`: the list and, for one person, the 照会書 [710] (`function` print.…).
    Gated as a read of each person listed."""
    with gate.open(actor, function=function, perm=Perm.PERSON_VIEW,
                   criteria={"planned_before": planned_before.isoformat(), "person_id": person_id}) as session:
        rows = PersonVersion.objects.select_related(*_VERSION_RELATED).filter(
            person__current_id=F("id"), status=Status.REMOVED,
            reason__in=(reasons.Reason.DOMESTIC_MOVE_OUT, reasons.Reason.EX_OFFICIO_REMOVAL),
            removed_on__lte=planned_before)
        if person_id is not None:
            rows = rows.filter(person_id=person_id)
        rows = list(rows.order_by("removed_on", "person_id")[:1000])
        session.record(v.person_id for v in rows)
        out = []
        for v in rows:
            record = read_models.record_of(v, session=session, on=clock.today())
            hidden = "（支援措置のため表示しません）" if record.place_hidden else None  # [160]: not the 転出先 either
            planned = v.move_out_planned_on or v.removed_on
            out.append({"person_id": v.person_id, "name": record.name.full, "kana": record.name.full_kana,
                        "birth_date": _date(record.birth_date), "reason": reasons.label(v.reason),
                        "address": hidden or read_models.address_text(v.town, v.banchi, v.katagaki),
                        "move_out_address": hidden or v.move_out_address, "planned_on": _date(planned),
                        "special": v.special_move_out, "days": (clock.today() - planned).days,
                        "protected": record.place_hidden})
        return out


def foreign_resident_match(*, actor: Actor, residence_card_number: str, name: str, birth_date: dt.date | None,
                           sex: str) -> int | None:
    """The foreign resident a 法務省通知 names: by 在留カード等番号, else by 氏名 (as the notice writes it,
    spaces ignored), 生年月日 and 性別 when exactly one matches. Logged as the receipt of the notice."""
    with gate.open(actor, function="jukinet.receive.immigration_notice", perm=Perm.JUKINET_INBOUND,
                   criteria={"items": ["residence_card_number", "name", "birth_date", "sex"]}) as session:
        current = Person.objects.filter(current__resident_kind=ResidentKind.FOREIGN)
        found = []
        if residence_card_number:
            found = list(current.filter(current__residence_card_number=residence_card_number).values_list("id", flat=True))
        if not found and name and birth_date and sex.isdigit():
            key = "".join(name.split()).upper()
            candidates = current.filter(current__birth_date=birth_date, current__sex=int(sex)).values_list(
                "id", "current__family_name", "current__given_name")
            found = [pid for pid, family, given in candidates if "".join(f"{family}{given}".split()).upper() == key]
        if len(found) != 1:
            return None
        session.record(found)
        return found[0]


def municipality_name() -> str:
    """This city's name, as its master says (master data, not personal: no gate)."""
    from django.conf import settings

    from .models import Municipality

    city = Municipality.objects.filter(code=settings.JUKI_MUNICIPALITY).first()
    return city.name if city else ""


# --- 広域交付住民票 (住基法第12条の4) [S2-3]: what the 住所地 answers another city's counter ------------------

# Items a 広域交付 request may ask for on top of what is always printed (第12条の4第1項, 第7条): the
# 世帯主の氏名・続柄 (4号), the 個人番号 (8号の2) and the 住民票コード (13号). Never the 本籍・筆頭者 (5号)
# nor the 9号–12号・14号 items, which the register of juki does not print anyway.
WIDE_AREA_ITEMS = frozenset({"head_and_relationship", "my_number", "resident_code"})
WIDE_AREA_LEFT_OUT = ("domicile", "domicile_head")


def wide_area_records(*, actor: Actor, resident_code: str, household: bool, items: list[str]) -> dict:
    """The 住民票 of the person (and, `household`, of their household's members) for another city's
    広域交付, with exactly the items the request may have: a provision to that city (C07), refused
    with its code when an item is not allowed (`item_not_permitted`), when the person is not a
    resident here (`not_found`), or when a 支援措置 or a 証明書交付の抑止 covers any of them."""
    with gate.open(actor, function="jukinet.send.wide_area", perm=Perm.IDENTITY_LINK,
                   criteria={"items": sorted(items), "household": household}) as session:
        refused = sorted(set(items) - WIDE_AREA_ITEMS)
        if refused:
            raise DomainError(ErrorCode.ITEM_NOT_PERMITTED, "広域交付の住民票の写しに記載できない項目が請求されています。",
                              details={"items": refused})
        subject = Person.objects.filter(current__resident_code=resident_code, status=Status.RESIDENT).first()
        if subject is None:
            raise NotFoundError("この住民票コードの住民はいません。")
        versions = list(PersonVersion.objects.select_related(*_VERSION_RELATED).filter(
            person__current_id=F("id"), status=Status.RESIDENT,
            **({"household_id": subject.household_id} if household else {"person_id": subject.id})))
        ids = [v.person_id for v in versions]
        session.record(ids)
        if protection.protected_ids(ids):
            raise DomainError(ErrorCode.SUPPORT_MEASURE_BLOCK, "支援措置の対象者が含まれるため、広域交付はできません。")
        if protection.restrictions_for(ids, Process.CERTIFICATE, unattended=True):
            raise DomainError(ErrorCode.RESTRICTED, "証明書の交付が抑止されているため、広域交付はできません。")
        persons = []
        for v in versions:
            shown = read_models.display(read_models.record_of(v, session=session, on=clock.today(), hidden=[]),
                                        my_number=_revealed(v, session) if "my_number" in items else None)
            for key in WIDE_AREA_LEFT_OUT:
                shown.pop(key, None)
            if "resident_code" not in items:
                shown.pop("resident_code", None)
            if "head_and_relationship" not in items:
                shown.pop("relationship", None)
            shown["address_full"] = read_models.address_text(v.town, v.banchi, v.katagaki)
            persons.append(shown)
        head = next((p for p in persons if p.get("relationship") == relationships.HEAD), None)
        # 世帯主 first, then by 生年月日 (and the person, so that one answer is always in one order).
        order = {v.person_id: (v.relationship != relationships.HEAD, v.birth_date, v.person_id) for v in versions}
        return {"persons": sorted(persons, key=lambda p: order[p["person_id"]]),
                "head_name": f"{head['name']['family_name']}　{head['name']['given_name']}" if head else "",
                "items": sorted(items), "household": household}


# --- 庁内連携 (issue 16): the items a business system is approved for ------------------------------


def linkage_check(session: GateSession, destination: str, items) -> None:
    """Only the destination's own system actor, and only items of its approved list (C16): the most it
    may ever receive (`destinations.REGISTER_ITEMS_OF`); its data-use application narrows them."""
    actor = session.actor
    found = destinations.destination_get(destination)
    if found is None:
        raise DomainError(ErrorCode.UNKNOWN_DESTINATION, "登録されていない連携先です。", field="consumer")
    if actor.user is not None or actor.system != found.code:
        raise AccessDenied("他の連携先のための読み取りはできません。")
    if extra := sorted(set(items) - found.register_items):
        raise DomainError(ErrorCode.ITEM_NOT_PERMITTED, "この連携先に承認されていない項目です。", field="items",
                          details={"items": extra})


def linkage_heads(household_ids=None, *, withheld=frozenset()) -> dict[int, str]:
    """household id → its 世帯主's 氏名 now (inside the gate); None: every household's (a full file reads
    them once rather than per chunk). A 世帯主 in `withheld` (支援措置・抑止) is not named: their name
    beside a member's address would tell where they live."""
    return {hid: name for hid, (pid, name) in replica_heads(household_ids).items() if pid not in withheld}


@dataclass(frozen=True)
class LinkageRead:
    records: dict[tuple[int, int], dict]  # (person id, 履歴番号) → exactly the items asked
    withheld: dict[int, str]  # person id → why it was not read (支援措置, 抑止(他システム連携))


def linkage_records(*, actor: Actor, destination: str, versions: list[tuple[int, int]], items,
                    criteria: dict | None = None) -> LinkageRead:
    """The versions' items for one 庁内連携 destination, read by its own system actor: one gate row
    (`linkage.deliver`, a provision kept 7 years, C07) naming the destination, the items and every person
    read. The persons a 支援措置 or an 抑止(他システム連携) protects are not read: they are returned as
    withheld, for the caller to record as refused."""
    items = frozenset(items)
    with gate.open(actor, function="linkage.deliver", perm=Perm.LINKAGE_READ,
                   criteria={"consumer": destination, "items": sorted(items), "versions": len(set(versions)),
                             **(criteria or {})}) as session:
        linkage_check(session, destination, items)
        if "my_number" in items:
            session.reveal_my_number()
        if current := [pid for pid, seq in versions if seq is None]:  # None: the person's newest version
            latest = dict(Person.objects.filter(id__in=current).values_list("id", "latest_seq"))
            versions = [(pid, latest.get(pid, 0) if seq is None else seq) for pid, seq in versions]
        wanted = set(versions)
        withheld = protection.linkage_withheld(session, {pid for pid, _ in wanted})
        wanted = {(pid, seq) for pid, seq in wanted if pid not in withheld}
        rows = [r for r in PersonVersion.objects.filter(
            person_id__in={pid for pid, _ in wanted}, seq__in={seq for _, seq in wanted}).values(
                *read_models.linkage_values(items))
            if (r["person_id"], r["seq"]) in wanted]
        session.record(r["person_id"] for r in rows)
        session.criteria["withheld"] = len(withheld)
        places = {t.id: read_models.linkage_place(t)
                  for t in Town.objects.select_related("ward__municipality").filter(id__in={r["town_id"] for r in rows})}
        heads = linkage_heads({r["household_id"] for r in rows}, withheld=withheld) if "head_name" in items else {}
        getters = read_models.linkage_getters(items)
        return LinkageRead(records={(r["person_id"], r["seq"]): read_models.linkage_items(
            r, places=places, heads=heads, getters=getters) for r in rows}, withheld=withheld)


# --- 中間サーバーの副本 (issue 17) ------------------------------------------------------------------

REPLICA_ITEMS = frozenset({"relationship", "head_name", "status"})


def replica_record(row: dict, heads: dict[int, tuple[int, str]], withheld) -> dict:
    """住民票関係情報 of one current version, as the 副本 keeps it (PIA ③): for a 世帯主 that he is one,
    otherwise the head's name and the 続柄. `no_auto` (自動応答不可, C18): the person, or the head whose
    name the answer would carry, is under a 支援措置 or an 抑止(他システム連携)."""
    is_head = row["relationship"] == relationships.HEAD
    head_id, head_name = heads.get(row["household_id"], (None, ""))
    # A member of a household without a 世帯主 (世帯主不在) has no head to name: a person looks first.
    return {"status": "resident" if row["status"] == Status.RESIDENT else "removed", "is_head": is_head,
            "head_name": "" if is_head else head_name, "relationship": "" if is_head else row["relationship"],
            "no_auto": row["person_id"] in withheld or (not is_head and (head_id is None or head_id in withheld))}


def replica_heads(household_ids=None) -> dict[int, tuple[int, str]]:
    """household id → (its 世帯主's person id, 氏名) now (inside the gate); None: every household's."""
    gate.require("replica_heads")
    rows = Person.objects.filter(current__relationship=relationships.HEAD, current__status=Status.RESIDENT)
    if household_ids is not None:
        rows = rows.filter(current__household_id__in=set(household_ids))
    rows = rows.values_list("id", "current__household_id", "current__family_name", "current__given_name")
    return {hid: (pid, f"{family}　{given}".strip()) for pid, hid, family, given in rows}


_REPLICA_VALUES = ("person_id", "household_id", "relationship", "status")


def replica_flagged() -> set[int]:
    """Inside the gate: the persons whose 副本 row must carry 自動応答不可 now (`replica_record`'s rule):
    each person a 支援措置 or an 抑止(他システム連携) covers (resident or not), and the resident members
    of a household whose 世帯主 is one. For the 中間サーバー's sweep, which catches a 支援措置 begun or
    ended without a 異動 (a household without a head comes from a 異動, through the feed)."""
    session = gate.require("replica_flagged")
    withheld = set(protection.everyone_linkage_withheld(session))
    protected_heads = set(Person.objects.filter(id__in=withheld, current__relationship=relationships.HEAD,
                                                current__status=Status.RESIDENT).values_list("current__household_id",
                                                                                             flat=True))
    members = set(Person.objects.filter(current__household_id__in=protected_heads, current__status=Status.RESIDENT)
                  .values_list("id", flat=True)) if protected_heads else set()
    return withheld | members


def replica_relations(*, actor: Actor, person_ids, household_ids=(), criteria: dict | None = None) -> dict[int, dict]:
    """The 副本's rows for the 中間サーバー (its own system actor only): the persons named and every
    current member of the households named (a 世帯主's change reaches each member's answer), as
    `replica_record`s by person id. One provision row (`linkage.deliver`, C07). Persons under a 支援措置
    or an 抑止 are read too, flagged `no_auto`: the platform holds them for a person's review (C18)."""
    with gate.open(actor, function="linkage.deliver", perm=Perm.LINKAGE_READ,
                   criteria={"consumer": "intermediary", "items": sorted(REPLICA_ITEMS), **(criteria or {})}) as session:
        linkage_check(session, "intermediary", REPLICA_ITEMS)
        # The households named, and those each person named is in or was in just before (a protected
        # person's event carries no household: its block marker strips them).
        named = set(person_ids)
        households = set(household_ids) | set(PersonVersion.objects.filter(
            person_id__in=named, seq__gte=F("person__latest_seq") - 1).values_list("household_id", flat=True))
        ids = named | set(Person.objects.filter(
            current__household_id__in=households, current__status=Status.RESIDENT).values_list("id", flat=True))
        rows = [dict(zip(_REPLICA_VALUES, r)) for r in Person.objects.filter(id__in=ids, current__isnull=False)
                .values_list("id", "current__household_id", "current__relationship", "current__status")]
        heads = replica_heads({r["household_id"] for r in rows})
        withheld = protection.linkage_withheld(session, {r["person_id"] for r in rows}
                                               | {pid for pid, _ in heads.values()})
        session.record(r["person_id"] for r in rows)
        session.criteria["no_auto"] = sum(1 for r in rows if r["person_id"] in withheld)
        return {r["person_id"]: replica_record(r, heads, withheld) for r in rows}


def resident_codes(*, actor: Actor, person_ids, purpose: str) -> dict[int, str]:
    """P5 (符号の取得): the persons' current 住民票コード, for the 住基ネット連携 (S2) to ask J-LIS through
    the CS. Only S2's own actor (right `identity.link`) and only the code: one log row naming the item."""
    with gate.open(actor, function="jukinet.resident_codes", perm=Perm.IDENTITY_LINK,
                   criteria={"items": ["resident_code"], "purpose": purpose}) as session:
        if actor.user is not None or actor.system != "jukinet":
            raise AccessDenied("住民票コードの一覧は住基ネット連携だけが受け取れます。")
        rows = dict(Person.objects.filter(id__in=set(person_ids), current__isnull=False)
                    .exclude(current__resident_code="").values_list("id", "current__resident_code"))
        session.record(rows)
        return rows


def removed_before(*, actor: Actor, day: dt.date) -> tuple[int, dt.date | None]:
    """How many 除票 were removed before `day`, and the oldest 消除日: the 保存期間表's check of the 150
    years (施行令34条). Counts only, so the log row carries the count and no subject."""
    with gate.open(actor, function="retention.removed_register", perm=Perm.BATCH_RUN,
                   criteria={"before": day.isoformat()}) as session:
        removed = Person.objects.filter(status=Status.REMOVED)
        due = removed.filter(removed_on__lt=day).count()
        oldest = removed.aggregate(oldest=Min("removed_on"))["oldest"]
        session.tally(due)
        return due, oldest
