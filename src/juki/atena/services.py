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
from juki.protection import enforcement as protection
from juki.register import selectors
from juki.register.services import extract, outbox

from .models import AtenaPerson, Counter, Merge, SystemNumber

DESTINATION = "atena"
ITEMS = destinations.REGISTER_ITEMS_OF[DESTINATION]
NUMBER_LENGTH = 12  # 11 digits and a check digit (mod 11, as the 個人番号's)


def _issue() -> str:
    """The next 統一識別番号: the counter only goes up (inside the caller's transaction)."""
    Counter.objects.get_or_create(name="unified")
    counter = Counter.objects.select_for_update().get(name="unified")
    counter.value += 1
    counter.save(update_fields=["value"])
    return checkdigits.with_check_digit(counter.value, NUMBER_LENGTH)


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
        outbox.outbox_ack(actor=actor, destination=DESTINATION, position=events[-1]["position"])
    return result


def load() -> int:
    """The first load: every person of the register (住民, and 除票 of the last five years) from one
    consistent read, then the register's cursor at the position it includes."""
    actor = Actor.system_actor(DESTINATION)
    rows: list[tuple[int, dict]] = []
    summary = extract.linkage_full(actor=actor, destination=DESTINATION, items=ITEMS, keyed=True,
                                   removed_since=clock.today() - dt.timedelta(days=5 * 366), sink=rows.extend,
                                   criteria={"purpose": "統一識別番号の初回付番"})
    with transaction.atomic():
        known = set(AtenaPerson.objects.filter(person_id__isnull=False).values_list("person_id", flat=True))
        made = []
        for pid, items in rows:
            if pid not in known:
                person = AtenaPerson(number=_issue(), kind=AtenaPerson.Kind.RESIDENT, person_id=pid,
                                     registered_by="住民記録")
                _apply_items(person, items)
                made.append(person)
        for pid in set(summary.withheld) - known:
            made.append(AtenaPerson(number=_issue(), kind=AtenaPerson.Kind.RESIDENT, person_id=pid,
                                    registered_by="住民記録", withheld=True))
        AtenaPerson.objects.bulk_create(made, batch_size=2000)
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


def answer(person: AtenaPerson) -> dict:
    """What a business system receives of a 宛名: the number and the 宛名情報, never the 個人番号."""
    current = person.merged_into or person
    return {"unified_number": current.number, "merged_from": person.number if person.merged_into else None,
            "kind": current.kind, "name": current.name, "name_kana": current.name_kana,
            "birth_date": current.birth_date.isoformat() if current.birth_date else None, "sex": current.sex,
            "postal_code": current.postal_code, "address": current.address, "status": current.status,
            "withheld": current.withheld}


def register_non_resident(actor: Actor, *, system_number: str, name: str, name_kana: str, birth_date: dt.date | None,
                          sex: str = "", address: str = "", postal_code: str = "", my_number: str = "") -> dict:
    """住登外者の登録: a number for a person the register never held, with the items the system holds.
    The same system's same 宛名番号 again gives the same number."""
    with gate.open(actor, function="atena.register", perm=Perm.ATENA_QUERY,
                   criteria={"system_number": system_number}) as session, transaction.atomic():
        system = _system(session)
        if not system_number.strip() or not name.strip() or not name_kana.strip():
            raise DomainError(ErrorCode.INVALID_INPUT, "業務システムの宛名番号・氏名・氏名（カナ）は必須です。",
                              field="system_number" if not system_number.strip() else "name")
        if my_number:
            mynumber.validate(my_number)
        if existing := SystemNumber.objects.select_related("person__merged_into").filter(
                system=system.code, number=system_number.strip()).first():
            session.criteria["unified_number"] = existing.person.number
            return {**answer(existing.person), "created": False}
        if my_number:
            if AtenaPerson.objects.filter(my_number_digest=mynumber.digest(my_number)).exists():
                raise DomainError(ErrorCode.DUPLICATE_MY_NUMBER, "この個人番号の宛名は登録済みです。照会してください。",
                                  field="my_number")
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
        if system_number and not unified_number:
            found = SystemNumber.objects.select_related("person__merged_into").filter(
                system=system.code, number=system_number).first()
            person = found.person if found else None
        else:
            person = AtenaPerson.objects.select_related("merged_into").filter(number=unified_number).first()
        if person is None:
            raise NotFoundError("該当する宛名がありません。")
        current = person.merged_into or person
        if current.person_id:
            session.record([current.person_id])
        if link and system_number and unified_number:
            with transaction.atomic():
                tied, _ = SystemNumber.objects.get_or_create(system=system.code, number=system_number,
                                                             defaults={"person": current})
                if tied.person_id != current.id:  # the system's number is another person's: say so
                    raise ConflictError("この業務システムの宛名番号は、別の統一識別番号にひも付いています。",
                                        field="system_number")
        return answer(person)


def by_my_number(actor: Actor, number: str) -> dict:
    """The 中間サーバー's look-up (P5): the 統一識別番号 of a 個人番号."""
    with gate.open(actor, function="atena.provide.intermediary", perm=Perm.ATENA_QUERY) as session:
        if actor.user is not None or actor.system != "intermediary":
            raise AccessDenied("個人番号による照会は中間サーバーだけが行えます。")
        mynumber.validate(number)
        person = AtenaPerson.objects.select_related("merged_into").filter(
            my_number_digest=mynumber.digest(number), merged_into__isnull=True).first()
        if person is None:
            raise NotFoundError("該当する宛名がありません。")
        if person.person_id:
            session.record([person.person_id])
        return answer(person)


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
        rows = AtenaPerson.objects.filter(by_name, merged_into__isnull=True)
        if criteria.birth_date:
            rows = rows.filter(birth_date=criteria.birth_date)
        rows = list(rows.filter(address__contains=criteria.address.strip()) if criteria.address.strip() else rows)
        rows = rows[: limit + 1]
        ids = {r.person_id for r in rows if r.person_id}
        mask = protection.search_mask(session, ids)
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


def merge(actor: Actor, *, survivor: str, absorbed: str, reason: str) -> Merge:
    """名寄せ: `absorbed` is the same person as `survivor`; its business systems' 宛名番号 move to the
    survivor and it points there from now on. A register person's number is the one that stays."""
    with gate.open(actor, function="atena.merge", perm=Perm.ATENA_MANAGE,
                   criteria={"survivor": survivor, "absorbed": absorbed}) as session, transaction.atomic():
        if not reason.strip():
            raise DomainError(ErrorCode.INVALID_INPUT, "名寄せの理由を記入してください。", field="reason")
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
