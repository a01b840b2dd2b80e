"""The consumer: outbox → 本人確認情報 updates → the CS, at least once, in the outbox's order.

Each version is sent as one message whose id names the change, the person and the 履歴番号, so a
resend after a crash is answered by the CS, not applied again. The outbox cursor moves only past
events whose every message the CS answered (accepted or refused); a CS that is down stops the batch
where it is, and the next run starts there.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from django.utils import timezone

from juki.accounts.permissions import Perm
from juki.audit import gate
from juki.audit.gate import Actor
from juki.core.errors import DomainError, ErrorCode
from juki.cs import file2
from juki.network.wire import Client, Unreachable
from juki.protection import linkage
from juki.register import selectors
from juki.register.services import extract, inbound, outbox

from . import connection, messages
from .models import NumberRequest, UpdateError

DESTINATION = "jukinet"
KINDS = {"記載": "entry", "消除": "remove", "修正": "update"}


@dataclass
class Run:
    events: int = 0
    sent: int = 0
    rejected: int = 0
    withheld: int = 0
    position: int | None = None
    unreachable: bool = False
    errors: list[str] = field(default_factory=list)


def message_of(event: dict, entry: dict, linked: selectors.LinkedIdentity) -> dict:
    """The FILE-2 update of one version (the CS fills its own numbering and flags)."""
    i = linked.identity
    name = f"{i.family_name}　{i.given_name}".strip()
    kana = f"{i.family_name_kana}　{i.given_name_kana}".strip()
    iso = lambda d: d.isoformat() if d else None  # noqa: E731
    items = {
        "resident_code": i.resident_code, "name": name, "name_gaiji": file2.gaiji_count(name), "name_kana": kana,
        "name_kana_seion": file2.seion(kana), "birth_date": iso(i.birth_date), "sex": str(i.sex),
        "municipality_code": i.municipality_code, "town_code": i.town_code, "postal_code": i.postal_code,
        "address": i.address, "address_gaiji": file2.gaiji_count(i.address), "my_number": linked.my_number,
        "became_resident_on": iso(i.became_resident_on), "address_set_on": iso(i.address_set_on),
        "notified_on": iso(i.notified_on), "previous_municipality_code": None, "previous_address": i.previous_address,
        "previous_address_gaiji": file2.gaiji_count(i.previous_address), "relationship": i.relationship,
        "reason": i.reason, "event_date": iso(i.event_date), "reason_detail": entry.get("reason_label", ""),
        "former_resident_code": None, "resident_code_used_on": None, "request_number": str(event["change_id"]),
        "operator_id": linked.operator, "terminal_id": linked.terminal,
    }
    return {"message_id": f"{event['change_id']}-{entry['person_id']}-{entry['version_after']}",
            "kind": KINDS[entry["reason_category"]], "items": items}


def consume(cs: Client, *, koseki: Client | None = None, limit: int = 100, chunk: int = 500) -> Run:
    """One batch: read up to `limit` events, hand the messages they cause for other cities to the CS
    (`messages.send`: 転出証明書情報, 転入通知, 附票通知), send their versions to the CS `chunk` messages
    per call (one transaction there), and acknowledge the events whose every message the CS answered."""
    actor = Actor.system_actor(DESTINATION)
    batch = outbox.outbox_read(actor=actor, destination=DESTINATION, limit=limit)
    events = batch["events"]
    run = Run()
    if not events:
        return run
    try:
        messages.send(cs, koseki or connection.koseki_client(), events, actor)
    except Unreachable as exc:  # nothing acknowledged: the batch comes again, and every message id is idempotent
        run.unreachable = True
        run.errors.append(str(exc))
        return run
    wanted = [(p["person_id"], p["version_after"]) for e in events for p in e["persons"] if not p.get("blocked")]
    linked = selectors.linked_identities(actor=actor, versions=wanted) if wanted else {}
    # (event index, entry, message) in outbox order; an event is done when its last message is answered.
    pending: list[tuple[int, dict, dict]] = []
    last_of: dict[int, int] = {}
    for i, event in enumerate(events):
        for entry in event["persons"]:
            if entry.get("blocked"):
                run.withheld += 1  # 支援措置・抑止: the outbox withholds the person from this destination
                continue
            pending.append((i, entry, message_of(event, entry, linked[(entry["person_id"], entry["version_after"])])))
        last_of[i] = len(pending)
    answered = 0
    try:
        for start in range(0, len(pending), chunk):
            part = pending[start:start + chunk]
            status, answer = cs.call("POST", "/updates/batch", {"messages": [m for _, _, m in part]})
            if status != 200:
                raise Unreachable(f"CS answered HTTP {status} {answer.get('code', '')}")
            for (i, entry, message), result in zip(part, answer["answers"]):
                _answered(events[i], entry, message, result, linked, run)
            answered += len(part)
    except Unreachable as exc:
        run.unreachable = True
        run.errors.append(str(exc))
    done = None
    for i, event in enumerate(events):
        if last_of[i] > answered:
            break
        done, run.events = event["position"], run.events + 1
    if done is not None:
        outbox.outbox_ack(actor=actor, destination=DESTINATION, position=done)
        run.position = done
    return run


def consume_restrictions(cs: Client, *, limit: int = 100) -> int:
    """[410]: each 証明書発行 抑止 set or released in the register, to the CS by 住民票コード. Returns how
    many reached it; the others (抑止 of other processes) are passed over and acknowledged."""
    actor = Actor.system_actor(DESTINATION)
    events = linkage.restriction_events_read(actor=actor, destination=DESTINATION, limit=limit)["events"]
    if not events:
        return 0
    wanted = [(p["person_id"], None) for e in events if e.get("certificate") for p in e["persons"]]
    linked = selectors.linked_identities(actor=actor, versions=wanted) if wanted else {}
    code_of = {pid: li.identity.resident_code for (pid, _), li in linked.items()}
    sent, done = 0, None
    for event in events:
        if event.get("certificate"):
            message = {"message_id": f"restriction-{event['position']}", "restriction_id": event["restriction_id"],
                       "action": event["action"], "start": event.get("start"), "end": event.get("end"),
                       "resident_codes": [code_of[p["person_id"]] for p in event["persons"] if code_of.get(p["person_id"])]}
            try:
                status, answer = cs.call("POST", "/suppressions", message)
            except Unreachable:
                break
            if status != 200:
                break
            sent += 1
        done = event["position"]
    if done is not None:
        linkage.restriction_events_ack(actor=actor, destination=DESTINATION, position=done)
    return sent


def _answered(event: dict, entry: dict, message: dict, result: dict, linked: dict, run: Run) -> None:
    if result["outcome"] == "rejected":
        run.rejected += 1
        UpdateError.objects.get_or_create(message_id=message["message_id"], defaults=dict(
            position=event["position"], change_id=event["change_id"], person_id=entry["person_id"],
            version=entry["version_after"], kind=message["kind"], reason=entry.get("reason", ""),
            reason_label=entry.get("reason_label", ""), errors=result["errors"]))
    else:
        run.sent += 1
        _needs_number(message, entry, linked[(entry["person_id"], entry["version_after"])])


def _needs_number(message: dict, entry: dict, linked: selectors.LinkedIdentity) -> None:
    """A person recorded as a resident (記載) without a 個人番号 gets one from J-LIS (P1, C12)."""
    if message["kind"] == "entry" and not linked.my_number and linked.identity.resident_code:
        NumberRequest.objects.get_or_create(source=message["message_id"], defaults=dict(
            person_id=entry["person_id"], resident_code=linked.identity.resident_code, kind="entry"))


def request_change(*, person_id: int, resident_code: str, source: str, note: str = "") -> NumberRequest:
    """個人番号の変更請求 (番号法第7条第2項): a new number from J-LIS, recorded as a change when it comes."""
    request, _ = NumberRequest.objects.get_or_create(source=source, defaults=dict(
        person_id=person_id, resident_code=resident_code, kind="change_request", note=note))
    return request


def answer_numbers(cs: Client, *, limit: int = 50) -> dict:
    """Ask J-LIS (through the CS) for each pending request, and record each answer as a change."""
    actor = Actor.system_actor(DESTINATION)
    counts = {"answered": 0, "failed": 0, "waiting": 0}
    pending = list(NumberRequest.objects.filter(state=NumberRequest.State.PENDING).order_by("id")[:limit])
    if not pending:
        return counts
    # Each request takes a person's 住民票コード out to J-LIS: a provision, logged (C07).
    with gate.open(actor, function="jukinet.numbers", perm=Perm.IDENTITY_LINK,
                   criteria={"items": ["resident_code"], "requests": len(pending)}) as session:
        session.record(r.person_id for r in pending)
    for request in pending:
        reason = "change" if request.kind == "change_request" else "entry"
        try:
            status, answer = cs.call("POST", "/my-numbers", {"resident_code": request.resident_code, "reason": reason,
                                                             "request_id": request.source})
        except Unreachable as exc:
            status, answer = 0, {"code": "cs_unreachable", "message": str(exc)}
        if status != 200:
            request.attempts += 1
            request.last_error = f"{answer.get('code', status)}"[:200]
            request.save(update_fields=["attempts", "last_error"])
            counts["waiting"] += 1
            if status in (0, 503):
                break  # the CS or J-LIS is away: the rest would wait the same
            continue
        try:
            result = inbound.my_number_from_jlis(actor=actor, person_id=request.person_id,
                                                 resident_code=request.resident_code, my_number=answer["my_number"],
                                                 kind=request.kind)
        except DomainError as exc:
            # Already recorded (a retry after a crash between the change and this row) is an answer too.
            if exc.code == "nothing_changed":
                request.state, request.answered_at = NumberRequest.State.ANSWERED, timezone.now()
                request.save(update_fields=["state", "answered_at"])
                counts["answered"] += 1
                continue
            request.state, request.last_error = NumberRequest.State.FAILED, f"{exc.code}"[:200]
            request.save(update_fields=["state", "last_error"])
            counts["failed"] += 1
            continue
        request.state, request.change_id, request.answered_at = (NumberRequest.State.ANSWERED, result.change_id,
                                                                 timezone.now())
        request.save(update_fields=["state", "change_id", "answered_at"])
        counts["answered"] += 1
    return counts


def fill_stock(cs: Client, *, count: int) -> int:
    """[870]: new 住民票コード from the CS (J-LIS) into the register's stock."""
    status, answer = cs.call("POST", "/resident-codes", {"count": count})
    if status != 200:
        raise Unreachable(f"CS answered HTTP {status} {answer.get('code', '')}")
    return inbound.add_resident_codes(actor=Actor.system_actor(DESTINATION), codes=answer["resident_codes"])


def load(cs: Client, *, chunk: int = 500) -> dict:
    """S2 starts from zero: every person's current 本人確認情報 to the CS as an entry (the register's
    snapshot hand-over, ADR 0020), then the outbox from the position the snapshot includes.

    The snapshot is one read-only view (REPEATABLE READ on PostgreSQL) in which nothing may be
    written, the gate's log rows included; so it hands over which version of whom, and the versions
    (history rows, never changed) are read and sent after it. A load that fails part way is run again:
    the CS answers what it already took by message id."""
    actor = Actor.system_actor(DESTINATION)
    counts = {"accepted": 0, "rejected": 0}
    taken: list[tuple[int, int, str, str]] = []

    def sink(entries: list[dict]) -> None:
        taken.extend((e["person_id"], e["version_after"], e["status_after"], e.get("reason_label", ""))
                     for e in entries if not e.get("blocked"))

    summary = extract.snapshot_hand_over(actor=actor, destination=DESTINATION, sink=sink, purpose="市町村CSの初期登録",
                                         chunk=chunk)
    for start in range(0, len(taken), chunk):
        part = taken[start:start + chunk]
        linked = selectors.linked_identities(actor=actor, versions=[(pid, version) for pid, version, _, _ in part])
        messages = []
        for pid, version, status_after, label in part:
            entry = {"person_id": pid, "version_after": version, "reason_category": "記載", "reason_label": label}
            message = message_of({"change_id": "snapshot"}, entry, linked[(pid, version)])
            # A removed person's last state is a record too (消除, kept five years: C23).
            message["kind"] = "entry" if status_after == "resident" else "remove"
            messages.append({**message, "message_id": f"snapshot-{pid}-{version}", "initial": True})
        status, answer = cs.call("POST", "/updates/batch", {"messages": messages})
        if status != 200:
            raise Unreachable(f"CS answered HTTP {status}")
        for (pid, version, _, _), message, result in zip(part, messages, answer["answers"]):
            counts[result["outcome"]] += 1
            if result["outcome"] == "rejected":
                UpdateError.objects.get_or_create(message_id=message["message_id"], defaults=dict(
                    position=0, change_id=0, person_id=pid, version=version, kind=message["kind"],
                    reason=message["items"]["reason"], reason_label="初期登録", errors=result["errors"]))
    return {**counts, "position": summary.position}


def fugo(cs: Client, *, person_id: int, resident_code: str, holder: str) -> str:
    """P5: the 符号 of a person for one 情報照会者・提供者, from J-LIS through the CS. The interface the
    intermediary server's issue calls (through 宛名); nothing here keeps it. The request, which
    carries the 住民票コード out, is a provision in the log (C07), by the 住基ネット連携's actor."""
    with gate.open(Actor.system_actor(DESTINATION), function="jukinet.fugo", perm=Perm.IDENTITY_LINK,
                   criteria={"holder": holder, "items": ["resident_code"]}) as session:
        session.record([person_id])
        status, answer = cs.call("POST", "/fugo", {"resident_code": resident_code, "holder": holder})
    if status != 200:
        raise DomainError(ErrorCode.CS_REJECTED, f"符号を取得できませんでした（{answer.get('code', status)}）。")
    return answer["fugo"]


def fugo_for(cs: Client, *, person_ids, holder: str) -> dict[int, str]:
    """P5 for several persons: their 住民票コード read under S2's actor, each 符号 asked of J-LIS through
    the CS (`fugo`, one provision row each). Persons without a 住民票コード are left out."""
    codes = selectors.resident_codes(actor=Actor.system_actor(DESTINATION), person_ids=person_ids,
                                     purpose=f"情報提供用個人識別符号の取得（{holder}）")
    return {pid: fugo(cs, person_id=pid, resident_code=code, holder=holder) for pid, code in codes.items()}
