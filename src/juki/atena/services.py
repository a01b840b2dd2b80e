"""団体内統合宛名 (S5): issue, keep, answer, merge.

- **Residents**: `sync` follows the register's outbox as the destination `atena` (its own system
  actor), reads each changed version's 宛名情報 and 個人番号 through the register's selector (a
  provision row, C07) and keeps one 統一識別番号 per register person. A person a 支援措置 or an
  抑止(他システム連携) protects gets a number with no 宛名情報 (`withheld`): the number must exist for the
  中間サーバー (whose answers for such persons are never automatic), the address must not.
- **住登外者**: a business system registers a person the register never held, with the items it holds,
  and gets a number (`register_non_resident`), idempotent on its own 宛名番号.
- **Answers**: a business system looks up by its own 宛名番号 or by 統一識別番号 (`lookup`); the
  中間サーバー by 個人番号 (`by_my_number`). Each through its own system actor and right, logged.
- **名寄せ** (`merge`) and its undo (`undo_merge`, a supervisor): logged, reversible, nothing deleted.
"""
from __future__ import annotations

import datetime as dt
import secrets
import unicodedata
from dataclasses import dataclass

import jaconv
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from juki.accounts import destinations
from juki.accounts.permissions import Perm
from juki.audit import gate
from juki.audit.gate import Actor
from juki.core import checkdigits, clock, mynumber
from juki.core.errors import AccessDenied, ConflictError, DomainError, ErrorCode, NotFoundError
from juki.linkage import approvals as linkage_approvals
from juki.protection import enforcement as protection
from juki.register import selectors
from juki.register.services import extract, outbox

from .models import AtenaPerson, Merge, SystemNumber

DESTINATION = "atena"
ITEMS = destinations.REGISTER_ITEMS_OF[DESTINATION]
NUMBER_LENGTH = 12  # 11 digits and a check digit (mod 11, as the 個人番号's)


def _issue(taken: set[str] | None = None) -> str:
    """A new 統一識別番号: 11 random digits and a check digit, not one ever issued (numbers are never
    deleted, so never reused). Random, not counted: a business system cannot walk the table by number."""
    while True:
        number = checkdigits.with_check_digit(secrets.randbelow(10 ** (NUMBER_LENGTH - 1)), NUMBER_LENGTH)
        if number not in (taken or ()) and not AtenaPerson.objects.filter(number=number).exists():
            if taken is not None:
                taken.add(number)
            return number


def name_key(text: str) -> str:
    """氏名（カナ） as the search compares it: full-width katakana, no spaces (半角・ひらがなも可)."""
    text = unicodedata.normalize("NFKC", text or "")
    return jaconv.hira2kata(text).replace(" ", "").replace("　", "")


def _apply_items(person: AtenaPerson, items: dict) -> None:
    person.name = items.get("name") or ""
    person.name_kana = name_key(items.get("name_kana") or "")
    person.birth_date = dt.date.fromisoformat(items["birth_date"]) if items.get("birth_date") else None
    person.sex = items.get("sex") or ""
    person.postal_code = items.get("postal_code") or ""
    person.address = items.get("address") or ""
    person.status = items.get("status") or ""
    person.household_number = items.get("household_number") or ""
    person.register_atena_number = items.get("atena_number") or person.register_atena_number
    person.withheld = False
    if number := items.get("my_number"):
        sealed = mynumber.seal(number)
        person.my_number_digest = mynumber.digest(number)
        person.my_number_key_id, person.my_number_cipher = sealed.key_id, sealed.ciphertext


def _resident(person_id: int) -> AtenaPerson:
    found = AtenaPerson.objects.select_for_update().filter(person_id=person_id).first()
    if found is None:
        found = AtenaPerson(number=_issue(), kind=AtenaPerson.Kind.RESIDENT, person_id=person_id,
                            registered_by="住民記録")
    return found


# --- residents, from the register's outbox ---------------------------------------------------------


@dataclass
class Sync:
    events: int = 0
    issued: int = 0
    updated: int = 0
    withheld: int = 0


def sync(*, limit: int = 200) -> Sync:
    """One batch of the register's outbox: the persons it names, their 宛名情報 and number, and the
    register's cursor moved, in one transaction."""
    actor = Actor.system_actor(DESTINATION)
    result = Sync()
    if outbox.outbox_position() <= outbox.outbox_cursor(DESTINATION):
        return result  # nothing new: no read, so no empty row in the access log every turn
    with transaction.atomic():
        events = outbox.outbox_read(actor=actor, destination=DESTINATION, limit=limit)["events"]
        if not events:
            return result
        result.events = len(events)
        newest: dict[int, int] = {}
        blocked: set[int] = set()
        for e in events:
            for p in e["persons"]:
                if p.get("blocked"):
                    blocked.add(p["person_id"])
                elif p.get("version_after"):
                    newest[p["person_id"]] = max(newest.get(p["person_id"], 0), p["version_after"])
        read = selectors.linkage_records(actor=actor, destination=DESTINATION, versions=list(newest.items()),
                                         items=ITEMS, criteria={"purpose": "統一識別番号の宛名情報"})
        _store(actor, read, blocked, result)
        outbox.outbox_ack(actor=actor, destination=DESTINATION, position=events[-1]["position"])
    return result


def _store(actor: Actor, read, blocked: set[int], result: Sync) -> None:
    """The 宛名 of the persons read, and the withheld ones' numbers without 宛名情報 (one log row)."""
    with gate.open(actor, function="atena.sync", perm=Perm.LINKAGE_READ) as session:
        session.record({pid for pid, _ in read.records} | blocked | set(read.withheld))
        if blocked or read.withheld:
            session.flag(protection.FLAG)
        for (pid, _), items in read.records.items():
            person = _resident(pid)
            result.issued += person.pk is None
            result.updated += person.pk is not None
            _apply_items(person, items)
            person.save()
        for pid in blocked | set(read.withheld):
            person = _resident(pid)
            result.issued += person.pk is None
            person.withheld = True  # the number stays; the 宛名情報 it had goes
            person.name = person.name_kana = person.address = person.postal_code = person.household_number = ""
            person.save()
            result.withheld += 1


def sweep() -> dict:
    """支援措置・抑止 that began or ended without a change of the register: a 宛名 whose person is now
    protected loses its 宛名情報 (the number stays); one no longer protected gets it back from the
    register. The look-ups check protection as they answer; this keeps what is stored in step too."""
    actor = Actor.system_actor(DESTINATION)
    with gate.open(actor, function="atena.protect", perm=Perm.LINKAGE_READ) as session, transaction.atomic():
        withheld = protection.everyone_linkage_withheld()
        now_protected = list(AtenaPerson.objects.filter(person_id__in=list(withheld), withheld=False))
        freed = list(AtenaPerson.objects.filter(withheld=True, person_id__isnull=False)
                     .exclude(person_id__in=list(withheld)).values_list("person_id", flat=True))
        for person in now_protected:
            person.withheld = True
            person.name = person.name_kana = person.address = person.postal_code = person.household_number = ""
            person.save()
        session.record(p.person_id for p in now_protected)
        if now_protected:
            session.flag(protection.FLAG)
    restored = 0
    if freed:
        with transaction.atomic():
            read = selectors.linkage_records(actor=actor, destination=DESTINATION, versions=[(p, None) for p in freed],
                                             items=ITEMS, criteria={"purpose": "支援措置等の終了による宛名情報の回復"})
            with gate.open(actor, function="atena.protect", perm=Perm.LINKAGE_READ) as session:
                for (pid, _), items in read.records.items():
                    person = AtenaPerson.objects.get(person_id=pid)
                    _apply_items(person, items)
                    person.save()
                    restored += 1
                session.record(pid for pid, _ in read.records)
    return {"withheld": len(now_protected), "restored": restored}


def load() -> int:
    """The first load: every person of the register (住民, and 除票 of the last five years) from one
    consistent read, then the register's cursor at the position it includes."""
    actor = Actor.system_actor(DESTINATION)
    rows: list[tuple[int, dict]] = []
    summary = extract.linkage_full(actor=actor, destination=DESTINATION, items=ITEMS, keyed=True,
                                   removed_since=clock.today() - dt.timedelta(days=5 * 366), sink=rows.extend,
                                   criteria={"purpose": "統一識別番号の初回付番"})
    with gate.open(actor, function="atena.load", perm=Perm.LINKAGE_READ) as session, transaction.atomic():
        known = set(AtenaPerson.objects.filter(person_id__isnull=False).values_list("person_id", flat=True))
        made, taken = [], set()
        for pid, items in rows:
            if pid not in known:
                person = AtenaPerson(number=_issue(taken), kind=AtenaPerson.Kind.RESIDENT, person_id=pid,
                                     registered_by="住民記録")
                _apply_items(person, items)
                made.append(person)
        for pid in set(summary.withheld) - known:
            made.append(AtenaPerson(number=_issue(taken), kind=AtenaPerson.Kind.RESIDENT, person_id=pid,
                                    registered_by="住民記録", withheld=True))
        AtenaPerson.objects.bulk_create(made, batch_size=2000)
        session.tally(len(made))  # the persons were read (and logged, each) by the bulk read above
        if summary.position > outbox.outbox_cursor(DESTINATION):
            outbox.outbox_ack(actor=actor, destination=DESTINATION, position=summary.position)
    return len(made)


# --- business systems ----------------------------------------------------------------------------


def _system(session: gate.GateSession) -> destinations.Destination:
    """The calling business system: a 庁内連携 destination's own system actor holding `atena.query`."""
    actor = session.actor
    found = destinations.destination_get(actor.system or "") if actor.user is None else None
    if found is None or not found.delivery:
        raise AccessDenied("宛名の照会・登録は、庁内連携の業務システムだけが行えます。")
    return found


# 宛名情報 item → the 住民記録 item of an application that allows it (C16: a system whose approval has no
# 住所 gets no address from the 宛名 either).
_ANSWER_ITEMS = {"name": "name", "name_kana": "name_kana", "birth_date": "birth_date", "sex": "sex",
                 "postal_code": "postal_code", "address": "address", "status": "status"}


def answer(person: AtenaPerson, allowed=None) -> dict:
    """What a business system receives of a 宛名: the number and the 宛名情報 its application allows
    (`allowed`: item keys; None: all, for a system's own 住登外者), never the 個人番号."""
    current = person.merged_into or person
    values = {"name": current.name, "name_kana": current.name_kana,
              "birth_date": current.birth_date.isoformat() if current.birth_date else None, "sex": current.sex,
              "postal_code": current.postal_code, "address": current.address, "status": current.status}
    return {"unified_number": current.number, "merged_from": person.number if person.merged_into else None,
            "kind": current.kind, **{k: (v if allowed is None or _ANSWER_ITEMS[k] in allowed else None)
                                     for k, v in values.items()}}


def _approved_items(system: destinations.Destination) -> frozenset[str]:
    """The items of the caller's application in force; none in force: refused (C16)."""
    approval = linkage_approvals.active(system.code)
    if approval is None:
        raise DomainError(ErrorCode.APPROVAL_ENDED, "利用申請の承認期間外のため、宛名を照会できません。")
    return frozenset(approval.items)


def _visible(session: gate.GateSession, system: destinations.Destination, person: AtenaPerson | None) -> AtenaPerson:
    """The person, if this system may be answered about them now: a resident not under a 支援措置 or an
    抑止(他システム連携) today (checked now, not when the 宛名 was stored), or a 住登外者 this system
    knows. Anything else is answered as unknown — the same 404 — and the row is flagged."""
    current = (person.merged_into or person) if person is not None else None
    if current is None or current.withheld:
        raise NotFoundError("該当する宛名がありません。")
    if current.person_id and protection.linkage_withheld(session, [current.person_id]):
        raise NotFoundError("該当する宛名がありません。")
    if not current.person_id and not current.system_numbers.filter(system=system.code).exists():
        raise NotFoundError("該当する宛名がありません。")  # another system's 住登外者
    return current


def register_non_resident(actor: Actor, *, system_number: str, name: str, name_kana: str, birth_date: dt.date | None,
                          sex: str = "", address: str = "", postal_code: str = "", my_number: str = "") -> dict:
    """住登外者の登録: a number for a person the register never held, with the items the system holds.
    The same system's same 宛名番号 again gives the same number."""
    with gate.open(actor, function="atena.register", perm=Perm.ATENA_QUERY,
                   criteria={"system_number": system_number}) as session, transaction.atomic():
        system = _system(session)
        allowed = _approved_items(system)
        if not system_number.strip() or not name.strip() or not name_kana.strip():
            raise DomainError(ErrorCode.INVALID_INPUT, "業務システムの宛名番号・氏名・氏名（カナ）は必須です。",
                              field="system_number" if not system_number.strip() else "name")
        if my_number:
            mynumber.validate(my_number)
        if existing := SystemNumber.objects.select_related("person__merged_into").filter(
                system=system.code, number=system_number.strip()).first():
            current = existing.person.merged_into or existing.person
            session.criteria["unified_number"] = current.number
            if current.person_id:  # merged into a resident: what the application allows, as a look-up
                _visible(session, system, current)
                session.record([current.person_id])
            return {**answer(existing.person, allowed if current.person_id else None), "created": False}
        person = AtenaPerson(number=_issue(), kind=AtenaPerson.Kind.NON_RESIDENT, registered_by=system.code)
        _apply_items(person, {"name": name.strip(), "name_kana": name_kana, "sex": sex, "address": address.strip(),
                              "postal_code": postal_code, "my_number": my_number or None,
                              "birth_date": birth_date.isoformat() if birth_date else None})
        person.save()
        SystemNumber.objects.create(person=person, system=system.code, number=system_number.strip())
        session.criteria["unified_number"] = person.number
        return {**answer(person), "created": True}


def lookup(actor: Actor, *, unified_number: str = "", system_number: str = "", link: bool = False) -> dict:
    """A business system's look-up by 統一識別番号 or by its own 宛名番号; with `link`, its 宛名番号 is
    tied to the number looked up (a resident it starts to manage)."""
    with gate.open(actor, function="atena.provide", perm=Perm.ATENA_QUERY,
                   criteria={"by": "unified_number" if unified_number else "system_number"}) as session:
        system = _system(session)
        allowed = _approved_items(system)
        if system_number and not unified_number:
            found = SystemNumber.objects.select_related("person__merged_into").filter(
                system=system.code, number=system_number).first()
            person = found.person if found else None
        else:
            person = AtenaPerson.objects.select_related("merged_into").filter(number=unified_number).first()
        current = _visible(session, system, person)
        session.criteria["atena_id"] = current.id
        session.criteria["items"] = sorted(i for i in _ANSWER_ITEMS.values() if i in allowed)
        if current.person_id:
            session.record([current.person_id])
        if link and system_number and unified_number:
            with transaction.atomic():
                tied, _ = SystemNumber.objects.get_or_create(system=system.code, number=system_number,
                                                             defaults={"person": current})
                if tied.person_id != current.id:  # the system's number is another person's: say so
                    raise ConflictError("この業務システムの宛名番号は、別の統一識別番号にひも付いています。",
                                        field="system_number")
        return answer(person, None if not current.person_id else allowed)


def by_my_number(actor: Actor, number: str) -> dict:
    """The 中間サーバー's look-up (P5): the 統一識別番号 of a 個人番号."""
    with gate.open(actor, function="atena.provide.intermediary", perm=Perm.ATENA_QUERY) as session:
        _intermediary_only(actor, "個人番号による照会は中間サーバーだけが行えます。")
        mynumber.validate(number)
        # A resident's number first: a 住登外者 registered with the same 個人番号 is the same person,
        # to be merged by the staff (registration does not tell a system the number is known).
        person = AtenaPerson.objects.select_related("merged_into").filter(
            my_number_digest=mynumber.digest(number), merged_into__isnull=True).order_by("person_id").first()
        if person is None or person.withheld or (
                person.person_id and protection.linkage_withheld(session, [person.person_id])):
            raise NotFoundError("該当する宛名がありません。")
        if person.person_id:
            session.record([person.person_id])
        # The 中間サーバー keeps the map 符号 ↔ 統一識別番号 (S4); of the 宛名 it needs the number only.
        return {"unified_number": person.number, "kind": person.kind}


def _intermediary_only(actor: Actor, message: str = "統一識別番号の一覧は中間サーバーだけが受け取れます。") -> None:
    if actor.user is not None or actor.system != "intermediary":
        raise AccessDenied(message)


def unified_numbers_within(person_ids) -> dict[int, str]:
    """The 中間サーバー's feed (issue 17), inside its gate session: the 統一識別番号 of register persons, by
    person id (the 副本 is keyed by it; the register's own numbers never leave). Persons the 宛名 has not
    numbered yet are missing from the answer: the caller waits for `sync`. Writes no row of its own, so
    the full read (whose one row names every person already) calls it inside its read-only view."""
    _intermediary_only(gate.require("atena.unified_numbers").actor)
    return dict(AtenaPerson.objects.filter(person_id__in=set(person_ids), merged_into__isnull=True)
                .values_list("person_id", "number"))


def unified_numbers(actor: Actor, person_ids) -> dict[int, str]:
    """`unified_numbers_within` in a gate session and log row of its own."""
    with gate.open(actor, function="atena.provide.intermediary", perm=Perm.ATENA_QUERY) as session:
        found = unified_numbers_within(person_ids)
        session.record(found)
        return found


def register_persons(numbers, *, current_only: bool = False) -> dict[str, int]:
    """統一識別番号 → register person id, inside the caller's gate session (the 中間サーバー's screens
    link a held inquiry to the person's page, where the register's own rules apply). `current_only`:
    not a number merged into another."""
    session = gate.require("atena.register_persons")
    rows = AtenaPerson.objects.filter(number__in=set(numbers), person_id__isnull=False)
    found = dict((rows.filter(merged_into__isnull=True) if current_only else rows).values_list("number", "person_id"))
    session.record(found.values())
    return found


def persons_of(actor: Actor, numbers) -> dict[str, int]:
    """P5 (S4 → S5 → S1): the register person of each 統一識別番号 the 中間サーバー needs a 符号 for; a
    住登外者 has none (the 住基ネット does not know them) and is left out."""
    with gate.open(actor, function="atena.provide.intermediary", perm=Perm.ATENA_QUERY):
        _intermediary_only(actor, "統一識別番号の照会は中間サーバーだけが行えます。")
        return register_persons(numbers, current_only=True)


# --- staff: search, merge, undo --------------------------------------------------------------------


@dataclass(frozen=True)
class Criteria:
    name: str = ""  # 氏名 or 氏名（カナ）
    birth_date: dt.date | None = None
    address: str = ""


def search(actor: Actor, criteria: Criteria, *, limit: int = 100) -> dict:
    """宛名検索: the counter's rule (C15) — a name and one more item (生年月日 or 住所); 支援措置・抑止
    persons hidden from staff without the right, a marker in their place (ADR 0009)."""
    with gate.open(actor, function="atena.search", perm=Perm.ATENA_VIEW,
                   criteria={"name": bool(criteria.name), "birth_date": bool(criteria.birth_date),
                             "address": bool(criteria.address)}) as session:
        if not criteria.name.strip() or not (criteria.birth_date or criteria.address.strip()):
            raise DomainError(ErrorCode.SEARCH_CRITERIA,
                              "氏名（カナ可）に加えて、生年月日か住所のどちらかを入力してください（2項目以上）。",
                              field="name" if not criteria.name.strip() else "birth_date")
        key = name_key(criteria.name)
        by_name = Q(name_kana__startswith=key) | Q(name__startswith=criteria.name.strip())
        others = AtenaPerson.objects.filter(by_name, merged_into__isnull=True)
        if criteria.birth_date:
            others = others.filter(birth_date=criteria.birth_date)
        rows = others.filter(address__contains=criteria.address.strip()) if criteria.address.strip() else others
        rows = list(rows[: limit + 1])
        ids = {r.person_id for r in rows if r.person_id}

        def beyond_address(candidates: set[int]) -> set[int]:
            # ADR 0013: with address terms, a protected person whom the other terms meet gets the marker
            # whatever address was typed, so trying 番地 after 番地 tells nothing.
            return set(others.filter(person_id__in=candidates).values_list("person_id", flat=True))

        mask = protection.search_mask(session, ids, beyond_address=beyond_address if criteria.address.strip() else None)
        shown = [r for r in rows if r.person_id not in mask.hidden]
        # A withheld number (支援措置・抑止) has no 宛名情報 to match: found only by its own number.
        session.record(r.person_id for r in shown if r.person_id)
        return {"results": shown[:limit], "truncated": len(shown) > limit, "markers": mask.markers}


def person_view(actor: Actor, pk: int) -> dict:
    with gate.open(actor, function="atena.view", perm=Perm.ATENA_VIEW, criteria={"atena_id": pk}) as session:
        person = AtenaPerson.objects.select_related("merged_into").filter(pk=pk).first()
        if person is None:
            raise NotFoundError("該当する宛名がありません。")
        if person.person_id:
            protection.guard_read(session, [person.person_id])
            session.record([person.person_id])
        merges = list(Merge.objects.select_related("survivor", "absorbed", "by", "undone_by").filter(
            Q(survivor=person) | Q(absorbed=person)))
        return {"person": person, "system_numbers": list(person.system_numbers.all()), "merges": merges,
                "merged_here": list(AtenaPerson.objects.filter(merged_into=person))}


def merge(actor: Actor, *, absorbed: str, reason: str, survivor: str = "", survivor_pk: int | None = None) -> Merge:
    """名寄せ: `absorbed` is the same person as `survivor`; its business systems' 宛名番号 move to the
    survivor and it points there from now on. A register person's number is the one that stays."""
    with gate.open(actor, function="atena.merge", perm=Perm.ATENA_MANAGE,
                   criteria={"survivor": survivor, "absorbed": absorbed}) as session, transaction.atomic():
        if not reason.strip():
            raise DomainError(ErrorCode.INVALID_INPUT, "名寄せの理由を記入してください。", field="reason")
        if survivor_pk is not None:  # the screen names the 宛名 by its internal id (never a number in a URL)
            survivor = AtenaPerson.objects.filter(pk=survivor_pk).values_list("number", flat=True).first() or ""
        pair = {p.number: p for p in AtenaPerson.objects.select_for_update().filter(number__in=[survivor, absorbed])}
        if survivor == absorbed or len(pair) != 2:
            raise DomainError(ErrorCode.ATENA_MERGE_STATE, "名寄せする二つの統一識別番号を正しく指定してください。",
                              field="absorbed")
        keep, gone = pair[survivor], pair[absorbed]
        if keep.merged_into_id or gone.merged_into_id:
            raise DomainError(ErrorCode.ATENA_MERGED, "名寄せ済みの統一識別番号です。統合先の番号を指定してください。",
                              field="absorbed")
        if gone.person_id and keep.person_id:
            raise DomainError(ErrorCode.ATENA_MERGE_STATE,
                              "住民記録の二人は名寄せできません（住民記録での確認が必要です）。", field="absorbed")
        if gone.person_id:
            raise DomainError(ErrorCode.ATENA_MERGE_STATE, "住民記録の人の番号を残す番号にしてください。",
                              field="survivor")
        session.record(p.person_id for p in (keep, gone) if p.person_id)
        moved = list(gone.system_numbers.values_list("id", flat=True))
        SystemNumber.objects.filter(id__in=moved).update(person=keep)
        if gone.my_number_digest and not keep.my_number_digest:
            keep.my_number_digest, keep.my_number_key_id, keep.my_number_cipher = (
                gone.my_number_digest, gone.my_number_key_id, gone.my_number_cipher)
            keep.save()
        gone.merged_into = keep
        gone.save(update_fields=["merged_into", "updated_at"])
        return Merge.objects.create(survivor=keep, absorbed=gone, reason=reason.strip(), moved=moved, by=actor.user)


def undo_merge(actor: Actor, merge_id: int, *, reason: str) -> Merge:
    """名寄せの取消し (a supervisor): the absorbed number is its own again, with the 宛名番号 it brought."""
    with gate.open(actor, function="atena.merge_undo", perm=Perm.ATENA_MERGE_UNDO,
                   criteria={"merge": merge_id}) as session, transaction.atomic():
        found = Merge.objects.select_for_update().select_related("survivor", "absorbed").filter(id=merge_id).first()
        if found is None:
            raise NotFoundError("名寄せの記録が見つかりません。")
        if found.undone_at is not None:
            raise DomainError(ErrorCode.ATENA_MERGE_STATE, "この名寄せは取り消し済みです。")
        if not reason.strip():
            raise DomainError(ErrorCode.INVALID_INPUT, "取消しの理由を記入してください。", field="reason")
        session.record(p.person_id for p in (found.survivor, found.absorbed) if p.person_id)
        SystemNumber.objects.filter(id__in=found.moved).update(person=found.absorbed)
        keep = found.survivor
        if found.absorbed.my_number_digest and keep.my_number_digest == found.absorbed.my_number_digest \
                and not keep.person_id:
            keep.my_number_digest, keep.my_number_key_id, keep.my_number_cipher = "", "", None
            keep.save()
        AtenaPerson.objects.filter(id=found.absorbed_id).update(merged_into=None, updated_at=timezone.now())
        found.undone_by, found.undone_at, found.undo_reason = actor.user, timezone.now(), reason.strip()
        found.save()
        return found
