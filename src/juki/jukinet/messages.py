"""What a 異動 tells other cities, and what they tell this one, through the CS (issue 15).

Out, from the outbox, in the consumer's batch (`send`), before the batch is acknowledged:

- **転出証明書情報** of a 特例転出 [670]: the persons of the 転出, held by the CS for the 転入地 to ask for.
- **転入通知** (住基法第9条第1項) of each person who moved in from another city, to that city [680].
- **戸籍の附票記載事項通知** (第19条) of a change of address of a person whose 本籍 is in another city, to
  the 本籍地 through the CS; one whose 本籍 is here goes to this city's 戸籍附票システム [1200]. The
  本籍地 is read from the 本籍 (`core.municipalities`); one this directory does not know is counted
  and left to the clerk's paper notice.
- **継続利用** of a moved-in person's 個人番号カード at the card management system (番号法第17条第2項).

In, from the CS's inbox (`pull`): the 転出証明書情報 a request asked for (kept for the 転入 screen), a
転入通知 (the 転出確定, without a clerk [690], or listed when it names no one), a 附票 notice of another
city (passed on to the 戸籍附票システム and listed). Each is kept (`Received`, sealed) in the
transaction that acts on it, so a restart neither loses nor repeats one.

Every message carries an id made of what caused it, so a resend is recognised at the CS and at the
other end. Each read or receipt of personal data is a gate session, logged as a provision (C07).
"""
from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from juki.accounts.permissions import Perm
from juki.audit import gate
from juki.audit.gate import Actor
from juki.core import mynumber
from juki.core.errors import DomainError, ErrorCode
from juki.core.municipalities import of_domicile
from juki.network.wire import Client, Unreachable
from juki.register import selectors
from juki.register.services import inbound

log = logging.getLogger("juki.jukinet")

from .models import Received, TransferRequest, UpdateError, WideAreaRequest

DESTINATION = "jukinet"
MOJ = "moj"  # the 法務省's address at the network's exchange
# 異動事由 after which the 本籍地's 戸籍の附票 records a new address (or 国外転出) [1090].
ADDRESS_REASONS = frozenset({"domestic_move_in", "abroad_move_in", "move_within_city", "ward_move_in",
                             "abroad_move_out"})
# 異動事由 that may change a 氏名 (its 附票 notice goes when the name did change).
NAME_REASONS = frozenset({"ex_officio_correction", "erratum_correction", "minor_correction"})
# 異動事由 of a foreign resident that the 法務大臣 is told of (入管法第61条の8の2: a 住民票 recorded, removed
# or its 住所 etc. changed; a household's own changes are not).
MOJ_REASONS = frozenset({"domestic_move_in", "abroad_move_in", "move_within_city", "ward_move_in", "domestic_move_out",
                         "abroad_move_out", "death", "ex_officio_removal", "ex_officio_entry", "ex_officio_correction",
                         "erratum_correction", "minor_correction", "move_out_confirmed"})


@dataclass
class Outgoing:
    holds: list[dict] = field(default_factory=list)  # /transfer-certificates
    mail: list[dict] = field(default_factory=list)  # /mail/batch
    koseki: list[dict] = field(default_factory=list)  # this city's 戸籍附票システム
    cards: list[str] = field(default_factory=list)  # 住民票コード whose card continues here
    unknown_domicile: int = 0
    sources: dict[str, tuple[dict, dict]] = field(default_factory=dict)  # message id → (event, person entry)

    def add(self, queue: list, message: dict, event: dict, entry: dict) -> None:
        queue.append(message)
        self.sources[message["message_id"]] = (event, entry)


def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d else None


def _person(m: selectors.MovingRecord) -> dict:
    r = m.record
    return {"resident_code": r.resident_code, "name": r.name.full, "name_kana": r.name.full_kana,
            "birth_date": _iso(r.birth_date), "sex": str(r.sex)}


def _certificate(m: selectors.MovingRecord) -> dict:
    """One person's 転出証明書情報 (令第24条 items as the network carries them)."""
    r = m.record
    return {**_person(m), "family_name": r.name.family_name, "given_name": r.name.given_name,
            "family_name_kana": r.name.family_name_kana, "given_name_kana": r.name.given_name_kana,
            "relationship": r.relationship, "head_name": m.head_name, "domicile": r.domicile or "",
            "domicile_head": r.domicile_head or "", "address": m.address,
            "move_out_address": r.move_out.planned_address, "move_out_planned_on": _iso(r.move_out.planned_on),
            "resident_kind": r.resident_kind, "nationality": r.foreign.nationality if r.foreign else "",
            "my_number": m.my_number}


def outgoing(events: list[dict], actor: Actor) -> Outgoing:
    """The messages the events' changes cause, read in one gate session per purpose."""
    out = Outgoing()
    entries = [(e, p) for e in events for p in e["persons"] if not p.get("blocked")]
    leaving = [(e, p) for e, p in entries if p.get("reason") == "domestic_move_out"]
    moved_in = [(e, p) for e, p in entries if p.get("reason") == "domestic_move_in"]
    addressed = [(e, p) for e, p in entries if p.get("reason") in ADDRESS_REASONS]
    # A 修正 may change the 氏名 (a 附票 item, 住基法第17条): told to the 本籍地 like an address.
    corrected = [(e, p) for e, p in entries if p.get("reason") in NAME_REASONS and p.get("version_before")]
    foreign = [(e, p) for e, p in entries if p.get("reason") in MOJ_REASONS]
    own = settings.JUKI_MUNICIPALITY
    if leaving:
        # Every 国内転出's 転出証明書情報 is held by the CS: a 特例転出's for the card's 転入地, an ordinary
        # one's for a 転入地 that looks it up from the paper 転出証明書 (its 住民票コード and 生年月日).
        records = selectors.moving_records(actor=actor, purpose="transfer_certificate",
                                           versions=[(p["person_id"], p["version_after"]) for _, p in leaving],
                                           reveal={(p["person_id"], p["version_after"]) for _, p in leaving})
        groups: dict[int, list[dict]] = {}
        for e, p in leaving:
            m = records[(p["person_id"], p["version_after"])]
            if e["change_id"] not in groups:
                groups[e["change_id"]] = []
                out.add(out.holds, {"message_id": f"transfer-{e['change_id']}", "group": f"{own}-{e['change_id']}",
                                    "certificates": groups[e["change_id"]]}, e, p)
            groups[e["change_id"]].append({**_certificate(m), "special": m.special_move_out})
    if moved_in:
        records = selectors.moving_records(actor=actor, purpose="move_in_notice",
                                           versions=[(p["person_id"], p["version_after"]) for _, p in moved_in])
        for e, p in moved_in:
            m = records[(p["person_id"], p["version_after"])]
            if not m.previous_municipality_code or not m.record.resident_code:
                continue  # from a city not named (a paper 転出証明書 without its code): the clerk's paper notice
            out.add(out.mail, {"message_id": f"move-in-{e['change_id']}-{p['person_id']}-{p['version_after']}",
                               "to": m.previous_municipality_code, "kind": "move_in_notice",
                               "body": {**_person(m), "address": m.address, "moved_on": _iso(m.record.event_date),
                                        "notified_on": _iso(m.record.notified_on)}}, e, p)
            out.cards.append(m.record.resident_code)
    if corrected:
        versions = [(p["person_id"], v) for _, p in corrected for v in (p["version_before"], p["version_after"])]
        before_after = selectors.moving_records(actor=actor, purpose="family_register_notice", versions=versions)

        def renamed(p) -> bool:
            old, new = (before_after[(p["person_id"], v)].record.name for v in (p["version_before"], p["version_after"]))
            return (old.family_name, old.given_name) != (new.family_name, new.given_name)

        addressed += [(e, p) for e, p in corrected if renamed(p)]
    if addressed:
        records = selectors.moving_records(actor=actor, purpose="family_register_notice",
                                           versions=[(p["person_id"], p["version_after"]) for _, p in addressed])
        for e, p in addressed:
            m = records[(p["person_id"], p["version_after"])]
            if not m.record.domicile:
                continue  # a foreign resident, or no 本籍 recorded: no 戸籍の附票
            home = of_domicile(m.record.domicile)
            abroad = p["reason"] == "abroad_move_out"
            items = {**_person(m), "domicile": m.record.domicile, "domicile_head": m.record.domicile_head or "",
                     "address": "国外転出" if abroad else m.address,
                     "address_set_on": _iso(m.record.removed_on if abroad else m.record.address_set_on),
                     "reason": p.get("reason_label", ""), "event_date": _iso(m.record.event_date)}
            message_id = f"fuhyo-{e['change_id']}-{p['person_id']}-{p['version_after']}"
            if home is None:
                out.unknown_domicile += 1
            elif home == own:
                out.add(out.koseki, {"message_id": message_id, "source": "own", "items": items}, e, p)
            else:
                out.add(out.mail, {"message_id": message_id, "to": home, "kind": "family_register_notice",
                                   "body": items}, e, p)
    if foreign:
        records = selectors.moving_records(actor=actor, purpose="municipal_notice",
                                           versions=[(p["person_id"], p["version_after"]) for _, p in foreign],
                                           foreign_only=True)
        for e, p in foreign:
            m = records.get((p["person_id"], p["version_after"]))
            if m is None:
                continue  # not a foreign resident: nothing for the 法務省
            f = m.record.foreign
            out.add(out.mail, {"message_id": f"moj-{e['change_id']}-{p['person_id']}-{p['version_after']}", "to": MOJ,
                               "kind": "municipal_notice",
                             "body": {"name": m.record.name.full, "birth_date": _iso(m.record.birth_date),
                                      "sex": str(m.record.sex), "residence_card_number": f.residence_card_number,
                                      "nationality": f.nationality, "alias_name": f.alias_name,
                                      "address": m.address, "status": m.record.status,
                                      "reason": p.get("reason_label", ""), "event_date": _iso(m.record.event_date)}},
                    e, p)
    return out


NOTICE_LABELS = {"transfer": "転出証明書情報", "move_in_notice": "転入通知", "family_register_notice": "戸籍の附票記載事項通知",
                 "municipal_notice": "市町村通知（法務省へ）", "koseki": "戸籍附票システムへの連携"}


def send(cs: Client, koseki: Client | None, events: list[dict], actor: Actor) -> Outgoing:
    """Hand the events' messages to the CS (and the 戸籍附票システム). A peer that is away (no answer, or a
    5xx) raises Unreachable, so that the batch is not acknowledged and comes again (every id is
    idempotent); a message refused for good (a 4xx, a CS's `rejected`) becomes an error for the clerk
    (`UpdateError`, kind `notice`) and does not hold up the outbox."""
    out = outgoing(events, actor)
    for hold in out.holds:
        status, answer = cs.call("POST", "/transfer-certificates", hold)
        if status >= 500:
            raise Unreachable(f"HTTP {status} at /transfer-certificates")
        if status != 200 or answer.get("outcome") == "rejected":
            _refused(out, hold["message_id"], "transfer", answer.get("code") or f"http_{status}")
    if out.mail:
        answers = _call(cs, "POST", "/mail/batch", {"messages": out.mail})["answers"]
        for message, answer in zip(out.mail, answers):
            if answer["outcome"] == "rejected":
                _refused(out, message["message_id"], message["kind"], answer.get("code", "rejected"))
    if out.koseki:
        if koseki is None:
            raise Unreachable("戸籍附票システムへの接続が設定されていません。")
        status, answer = koseki.call("POST", "/fuhyo/batch", {"entries": out.koseki})  # one call for the batch
        if status >= 500:
            raise Unreachable(f"HTTP {status} at the 戸籍附票システム")
        if status != 200:  # one entry it cannot take refuses the batch: each on its own, to find it
            for entry in out.koseki:
                status, answer = koseki.call("POST", "/fuhyo", entry)
                if status >= 500:
                    raise Unreachable(f"HTTP {status} at the 戸籍附票システム")
                if status != 200:
                    _refused(out, entry["message_id"], "koseki", answer.get("code") or f"http_{status}")
    for code in out.cards:
        status, answer = cs.call("POST", f"/cards/{code}/transfer", {})
        if status >= 500:  # the card management system away: the batch comes again
            raise Unreachable(f"HTTP {status} {answer.get('code', '')} at card transfer")
        # 409: no active card, nothing to continue; 200: the card is this city's now
    return out


def _refused(out: Outgoing, message_id: str, kind: str, code: str) -> None:
    event, entry = out.sources[message_id]
    UpdateError.objects.get_or_create(message_id=f"notice-{message_id}"[:64], defaults=dict(
        position=event["position"], change_id=event["change_id"], person_id=entry["person_id"],
        version=entry["version_after"], kind="notice", reason=entry.get("reason", ""),
        reason_label=entry.get("reason_label", ""),
        errors=[{"code": str(code)[:64], "item": kind, "label": NOTICE_LABELS.get(kind, kind),
                 "message": "相手方が受け付けませんでした。内容を確認し、紙で通知するなどして処理済みにしてください。"}]))


def _call(client: Client, method: str, path: str, body: dict | None = None) -> dict:
    status, answer = client.call(method, path, body)
    if status != 200:
        raise Unreachable(f"HTTP {status} {answer.get('code', '')} at {path}")
    return answer


# --- in --------------------------------------------------------------------------------------------


def opened(row: Received) -> dict:
    return mynumber.open_json(row.key_id, bytes(row.cipher))


def pull(cs: Client, koseki: Client | None) -> dict:
    """Read the CS's inbox from where the register stopped and act on each message, one transaction each.

    Two readers at once (the link, and a screen waiting for its answer) may meet on a message: the
    second one's insert fails on `cs_id`, its transaction goes back, and it passes on. A message the
    handler cannot take for a reason nobody foresaw is kept as 取込エラー with the error's kind, so one
    bad message does not stop the inbox; a peer that is away (Unreachable) stops it, to be read again."""
    after = Received.objects.order_by("-cs_id").values_list("cs_id", flat=True).first() or 0
    messages = _call(cs, "GET", f"/inbox?after={after}")["messages"]
    counts: dict[str, int] = {}
    actor = Actor.system_actor(DESTINATION)
    for m in messages:
        try:
            with transaction.atomic():
                if Received.objects.filter(cs_id=m["id"]).exists():
                    continue
                key_id, cipher = mynumber.seal_json(m["body"])
                row = Received(cs_id=m["id"], kind=m["kind"], sender=m["sender"], message_id=m["message_id"],
                               key_id=key_id, cipher=cipher, state=Received.State.PENDING)
                try:
                    with transaction.atomic():
                        HANDLERS.get(m["kind"], _listed)(row, m["body"], actor, koseki, cs)
                except (Unreachable, IntegrityError):
                    raise
                except Exception as exc:  # noqa: BLE001 - kept and listed, never lost, never blocking
                    log.exception("inbox message %s (%s) could not be taken", m["id"], m["kind"])
                    row.state, row.error, row.change_id = Received.State.FAILED, type(exc).__name__[:64], None
                row.save()
        except IntegrityError:
            continue  # another reader took it first
        counts[f"{m['kind']}:{row.state}"] = counts.get(f"{m['kind']}:{row.state}", 0) + 1
    _forward_waiting(koseki)
    return counts


def _forward_waiting(koseki: Client | None) -> None:
    """附票 notices that came while the 戸籍附票システム was away: passed on now, once it answers."""
    if koseki is None:
        return
    waiting = list(Received.objects.filter(kind="family_register_notice", state=Received.State.PENDING,
                                           error__startswith="koseki_").order_by("id")[:100])
    if not waiting:
        return
    # Opened and passed on to the 戸籍附票システム: a provision in the log, like the first try's receipt.
    with gate.open(Actor.system_actor(DESTINATION), function="jukinet.receive.family_register_notice",
                   perm=Perm.JUKINET_INBOUND, criteria={"forwarded_later": len(waiting)}):
        for row in waiting:
            try:
                _forward(koseki, row, opened(row))
            except Unreachable:
                return
            Received.objects.filter(pk=row.pk).update(state=Received.State.FORWARDED, error="")


def _listed(row: Received, body: dict, actor: Actor, koseki: Client | None, cs: Client) -> None:
    """A kind this register does not act on by itself: kept for the clerk."""
    row.state = Received.State.PENDING


def _transfer_certificate(row: Received, body: dict, actor: Actor, koseki: Client | None, cs: Client) -> None:
    request = TransferRequest.objects.select_for_update().filter(group=str(body.get("request_id") or "")).first()
    if request is None or request.from_municipality != row.sender:
        row.state, row.error = Received.State.UNMATCHED, "no_request"
        return
    if not body.get("found"):
        request.state, request.reason, request.answered_at = (TransferRequest.State.NOT_FOUND,
                                                              str(body.get("reason") or "")[:32], timezone.now())
        request.save(update_fields=["state", "reason", "answered_at"])
        row.state = Received.State.CLOSED
        return
    inbound.transfer_certificates_received(actor=actor, group=request.group, from_municipality=row.sender,
                                           certificates=body.get("certificates") or [])
    request.state, request.answered_at = TransferRequest.State.ANSWERED, timezone.now()
    request.save(update_fields=["state", "answered_at"])
    row.state = Received.State.APPLIED


def _date(value) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def _move_in_notice(row: Received, body: dict, actor: Actor, koseki: Client | None, cs: Client) -> None:
    """[690]: the 転出確定 by itself; what it cannot take (no such 転出者, a date it cannot read) is
    listed as a 転入通知取込エラー for the clerk, who records it by hand [680]."""
    moved_on = _date(body.get("moved_on"))
    if moved_on is None or not body.get("address"):
        row.state, row.error = Received.State.FAILED, "invalid_notice"
        return
    try:
        result = inbound.move_in_notice(actor=actor, resident_code=str(body.get("resident_code") or ""),
                                        moved_on=moved_on, notice_on=timezone.localdate(), address=body["address"])
    except DomainError as exc:
        row.state, row.error = (Received.State.UNMATCHED if exc.code == ErrorCode.NOTICE_UNMATCHED
                                else Received.State.FAILED), str(exc.code)[:64]
        row.person_id = (exc.details or {}).get("person_id")  # the list masks a 支援措置 person's new place
        return
    row.state, row.change_id = Received.State.APPLIED, result.change_id
    row.person_id = result.persons[0]["id"] if result.persons else None


def _family_register_notice(row: Received, body: dict, actor: Actor, koseki: Client | None, cs: Client) -> None:
    """Another city's 附票 notice of a person whose 本籍 is here: to this city's 戸籍附票システム, and listed."""
    with gate.open(actor, function="jukinet.receive.family_register_notice", perm=Perm.JUKINET_INBOUND,
                   criteria={"sender": row.sender, "items": sorted(body)}):
        pass
    if koseki is None:
        row.state, row.error = Received.State.PENDING, "koseki_unavailable"
        return
    try:
        _forward(koseki, row, body)
    except Unreachable:
        row.state, row.error = Received.State.PENDING, "koseki_unreachable"  # passed on at a later pull
        return
    row.state = Received.State.FORWARDED


def _forward(koseki: Client, row: Received, body: dict) -> None:
    # The id is this city's number of the message: the same at every try, within the 戸籍附票システム's 64.
    _call(koseki, "POST", "/fuhyo", {"message_id": f"in-{row.cs_id}", "source": row.sender, "items": body})


def _immigration_notice(row: Received, body: dict, actor: Actor, koseki: Client | None, cs: Client) -> None:
    """法務大臣からの通知 (住基法第30条の50): matched to the foreign resident it names (在留カード等番号,
    else 氏名・生年月日・性別) and left for the clerk's check; one that names no one is listed."""
    person_id = selectors.foreign_resident_match(
        actor=actor, residence_card_number=str(body.get("residence_card_number") or ""),
        name=str(body.get("name") or ""), birth_date=_date(body.get("birth_date")), sex=str(body.get("sex") or ""))
    if person_id is None:
        row.state, row.error = Received.State.UNMATCHED, "notice_unmatched"
        return
    row.state, row.person_id = Received.State.PENDING, person_id


def _wide_area_request(row: Received, body: dict, actor: Actor, koseki: Client | None, cs: Client) -> None:
    """住所地 (第12条の4第2項): another city's counter asks for a resident's 住民票; the answer carries exactly
    the items the request may have, or the refusal with its code — each logged here as a provision."""
    request_id = str(body.get("request_id") or "")[:64]
    items = [str(i) for i in body.get("items") or []][:10]
    try:
        answer = selectors.wide_area_records(actor=actor, resident_code=str(body.get("resident_code") or ""),
                                             household=bool(body.get("household")), items=items)
        reply = {"request_id": request_id, "found": True, **answer}
        row.state = Received.State.APPLIED
    except DomainError as exc:
        # Another city's counter learns why only where it can act on it; a 支援措置 or an 抑止 is not
        # told apart (that someone of the household is protected is itself protected).
        told = str(exc.code) if exc.code in (ErrorCode.ITEM_NOT_PERMITTED, ErrorCode.NOT_FOUND) else "not_issuable"
        reply = {"request_id": request_id, "found": False, "refused": told,
                 "items": (exc.details or {}).get("items", [])}
        row.state, row.error = Received.State.FAILED, str(exc.code)[:64]
    # Queued at the CS in this message's transaction: a crash before the commit reads it again, and the
    # answer's id (its number at this city's CS) makes the second queueing a repeat.
    answers = _call(cs, "POST", "/mail/batch", {"messages": [{"message_id": f"wide-area-{row.cs_id}",
                                                              "to": row.sender, "kind": "wide_area_answer",
                                                              "body": reply}]})["answers"]
    if answers[0]["outcome"] == "rejected":
        raise Unreachable(f"CS refused the answer: {answers[0].get('code')}")


def _wide_area_answer(row: Received, body: dict, actor: Actor, koseki: Client | None, cs: Client) -> None:
    """交付地: the 住所地's answer to this city's 広域交付 request (kept sealed in `row`), or its refusal."""
    request = WideAreaRequest.objects.select_for_update().filter(group=str(body.get("request_id") or "")).first()
    if request is None or request.to_municipality != row.sender:
        row.state, row.error = Received.State.UNMATCHED, "no_request"
        return
    with gate.open(actor, function="jukinet.receive.wide_area_answer", perm=Perm.JUKINET_INBOUND,
                   criteria={"group": request.group, "found": bool(body.get("found")),
                             "refused": str(body.get("refused") or "")[:32],
                             "items": sorted(str(i)[:32] for i in body.get("items") or [])[:10]}):
        pass
    row.save()  # the request points at it
    request.received, request.answered_at = row, timezone.now()
    if body.get("found"):
        request.state, row.state = WideAreaRequest.State.ANSWERED, Received.State.APPLIED
    else:
        request.state, request.reason = WideAreaRequest.State.REFUSED, str(body.get("refused") or "")[:32]
        row.state, row.error = Received.State.FAILED, request.reason
    request.save(update_fields=["received", "answered_at", "state", "reason"])


HANDLERS = {"transfer_certificate": _transfer_certificate, "move_in_notice": _move_in_notice,
            "family_register_notice": _family_register_notice, "immigration_notice": _immigration_notice,
            "wide_area_request": _wide_area_request, "wide_area_answer": _wide_area_answer}


def request_wide_area(cs: Client, *, actor: Actor, card_number: str, pin: str, household: bool,
                      items: list[str]) -> WideAreaRequest:
    """広域交付 [S2-3]: the resident's card and PIN checked, then the 住所地 asked, through the CS, for
    their 住民票 with the items chosen. This city does not judge the items: the 住所地 answers exactly
    what the law lets it, and refuses the rest (both log it)."""
    card_number = "".join(ch for ch in card_number if ch.isdigit())
    if len(card_number) != 12 or not (len(pin) == 4 and pin.isdigit()):
        raise DomainError(ErrorCode.INVALID_INPUT, "カード番号（12桁）と暗証番号（4桁）を入力してください。", field="card_number")
    if "my_number" in items and not actor.can(Perm.MY_NUMBER_VIEW):
        raise DomainError(ErrorCode.PERMISSION_DENIED, "個人番号を記載した写しの交付には、個人番号の表示権限が必要です。",
                          field="items")
    group = secrets.token_hex(8)
    with gate.open(actor, function="jukinet.wide_area_request", perm=Perm.CERTIFICATE_ISSUE,
                   criteria={"group": group, "items": sorted(items), "household": household}):
        holder = _verified_card(cs, card_number, pin)
        if holder["municipality"] == settings.JUKI_MUNICIPALITY:
            raise DomainError(ErrorCode.INVALID_INPUT, "この市に住所のある方です。通常の住民票の写しの交付をしてください。",
                              field="card_number")
        request = WideAreaRequest.objects.create(group=group, resident_code=holder["resident_code"],
                                                 to_municipality=holder["municipality"], household=household,
                                                 items=sorted(items), requested_by=actor.user)
        _queue(cs, {"message_id": f"wide-area-request-{group}", "to": request.to_municipality,
                    "kind": "wide_area_request", "body": {"request_id": group, "resident_code": request.resident_code,
                                                          "household": household, "items": sorted(items)}})
    return request


def _verified_card(cs: Client, card_number: str, pin: str) -> dict:
    try:
        status, answer = cs.call("POST", "/cards/verify", {"card_number": card_number, "pin": pin})
    except Unreachable:
        raise DomainError(ErrorCode.CS_UNREACHABLE, "市町村CSに接続できません。") from None
    if status != 200:
        raise DomainError(*_card_refusal(answer))
    return answer


def _queue(cs: Client, message: dict) -> None:
    try:
        status, queued = cs.call("POST", "/mail/batch", {"messages": [message]})
    except Unreachable:
        raise DomainError(ErrorCode.CS_UNREACHABLE, "市町村CSに接続できません。") from None
    if status != 200 or queued["answers"][0]["outcome"] == "rejected":
        raise DomainError(ErrorCode.CS_REJECTED, "市町村CSが電文を受け付けませんでした。")


# --- 特例転入 at the counter ----------------------------------------------------------------------


def request_transfer(cs: Client, *, actor: Actor, card_number: str, pin: str) -> TransferRequest:
    """特例転入 [610]: the card and its PIN checked by the card management system, then the 転出地 asked,
    through the CS, for the 転出証明書情報 it holds. The answer comes into the inbox (`pull`)."""
    card_number = "".join(ch for ch in card_number if ch.isdigit())
    if len(card_number) != 12 or not (len(pin) == 4 and pin.isdigit()):
        raise DomainError(ErrorCode.INVALID_INPUT, "カード番号（12桁）と暗証番号（4桁）を入力してください。", field="card_number")
    group = secrets.token_hex(8)
    with gate.open(actor, function="jukinet.transfer_request", perm="change.move_in",
                   criteria={"group": group, "items": ["resident_code"]}):
        answer = _verified_card(cs, card_number, pin)
        if answer["municipality"] == settings.JUKI_MUNICIPALITY:
            raise DomainError(ErrorCode.INVALID_INPUT, "この市に住所のある方のカードです。特例転入の対象ではありません。",
                              field="card_number")
        request = TransferRequest.objects.create(group=group, resident_code=answer["resident_code"],
                                                 from_municipality=answer["municipality"], requested_by=actor.user)
        _queue(cs, {"message_id": f"transfer-request-{request.group}", "to": request.from_municipality,
                    "kind": "transfer_certificate_request",
                    "body": {"request_id": request.group, "resident_code": request.resident_code}})
    return request


def request_transfer_by_paper(cs: Client, *, actor: Actor, municipality: str, resident_code: str,
                              birth_date: dt.date) -> TransferRequest:
    """An ordinary 転入 with a paper 転出証明書 [600]: its 転出証明書情報 looked up by the 住民票コード it
    prints, at the 転出地 it names, with the 生年月日 as the second item the 転出地 checks."""
    from juki.core.checkdigits import is_valid_local_government_code, is_valid_resident_code

    code = "".join(ch for ch in resident_code if ch.isdigit())
    if not is_valid_resident_code(code):
        raise DomainError(ErrorCode.INVALID_RESIDENT_CODE, "住民票コードが正しくありません（転出証明書の11桁）。",
                          field="resident_code")
    if not is_valid_local_government_code(municipality) or municipality == settings.JUKI_MUNICIPALITY:
        raise DomainError(ErrorCode.INVALID_LOCAL_GOVERNMENT_CODE, "転出地の市区町村コードが正しくありません。",
                          field="municipality")
    group = secrets.token_hex(8)
    with gate.open(actor, function="jukinet.transfer_request", perm="change.move_in",
                   criteria={"group": group, "items": ["resident_code", "birth_date"], "via": "paper"}):
        request = TransferRequest.objects.create(group=group, resident_code=code, from_municipality=municipality,
                                                 requested_by=actor.user)
        _queue(cs, {"message_id": f"transfer-request-{group}", "to": municipality,
                    "kind": "transfer_certificate_request",
                    "body": {"request_id": group, "resident_code": code, "birth_date": birth_date.isoformat()}})
    return request


_CARD_REFUSALS = {
    "pin_wrong": (ErrorCode.CARD_PIN_WRONG, "暗証番号が違います。"),
    "pin_locked": (ErrorCode.CARD_LOCKED, "暗証番号の誤りが続いたため、カードはロックされています。交付地の市町村で解除が必要です。"),
    "card_not_found": (ErrorCode.NOT_FOUND, "このカード番号の個人番号カードはありません。番号を確かめてください。"),
    "card_state": (ErrorCode.CARD_STATE, "このカードは有効ではありません（一時停止・廃止等）。通常の転入として処理してください。"),
}


def _card_refusal(answer: dict) -> tuple[ErrorCode, str]:
    code, message = _CARD_REFUSALS.get(answer.get("code"), (ErrorCode.CS_REJECTED, "カードを確認できませんでした。"))
    if answer.get("code") == "pin_wrong" and answer.get("remaining") is not None:
        message = f"暗証番号が違います（あと{answer['remaining']}回誤るとロックされます）。"
    return code, message
