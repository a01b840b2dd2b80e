"""情報照会 → 情報提供 (C18): an inquiry answered automatically when the permit list allows it, refused
with a reason code when it does not, held for the city's staff when the person carries the 自動応答不可
フラグ; every step in the 情報提供等記録 (append-only, kept 7 years).

Every function takes one tenant's connection (row-level security: that city's rows only). The answer
is built from the 副本 with exactly the items asked and permitted, and sealed to the requester's key;
the platform keeps only the sealed form.
"""
from __future__ import annotations

import hashlib
import json
import re

import psycopg

from . import permits, sealing
from .replica import Invalid

KEEP = "7 years"  # 情報提供等記録の保存期間 (番号法施行令第29条: 7年)
_ITEM_ORDER = tuple(permits.ITEMS)


def _record(cur, inquiry_id: int, event: str, inquiry: dict, *, unified: str | None, reason: str = "",
            staff: str = "") -> None:
    cur.execute(
        "INSERT INTO record (tenant, inquiry_id, event, requester, provision, affair, items, unified_number, reason, "
        f"staff, keep_until) VALUES (im_tenant(), %s, %s, %s, %s, %s, %s, %s, %s, %s, (now() + interval '{KEEP}')::date)",
        (inquiry_id, event, inquiry["requester"], inquiry["provision"], inquiry["affair"], inquiry["items"], unified,
         reason, staff))


def answer_of(row: tuple, items) -> dict:
    """住民票関係情報 of one 副本 row, the items asked only: for a 世帯主 that he is one; otherwise the head's
    name and the relationship."""
    is_head, head_name, relationship = row
    values = {"is_head": is_head, "head_name": "" if is_head else head_name,
              "relationship": "" if is_head else relationship}
    return {key: values[key] for key in _ITEM_ORDER if key in items}


def _validated(body: dict) -> dict:
    try:
        inquiry = {"message_id": str(body["message_id"]), "requester": str(body["requester"]),
                   "requester_kind": str(body["requester_kind"]), "provision": int(body["provision"]),
                   "affair": str(body["affair"]), "items": sorted({str(i) for i in body["items"]}),
                   "fugo": str(body["fugo"]), "public_key": str(body["public_key"])}
    except (KeyError, TypeError, ValueError):
        raise Invalid("invalid_inquiry") from None
    if not (0 < len(inquiry["message_id"]) <= 80 and 0 < len(inquiry["requester"]) <= 80
            and 0 < inquiry["provision"] < 1000 and len(inquiry["affair"]) <= 20 and len(inquiry["items"]) <= 10
            and all(len(i) <= 40 for i in inquiry["items"]) and len(inquiry["requester_kind"]) <= 200
            and re.fullmatch(r"[0-9a-f]{32}", inquiry["fugo"]) and sealing.valid_public_key(inquiry["public_key"])):
        raise Invalid("invalid_inquiry")
    return inquiry


def _digest(inquiry: dict) -> str:
    asked = [inquiry[k] for k in ("requester", "requester_kind", "provision", "affair", "items", "fugo", "public_key")]
    return hashlib.sha256(json.dumps(asked, ensure_ascii=False).encode()).hexdigest()


def _outcome(row) -> dict:
    inquiry_id, state, reason, answer = row
    return {"inquiry_id": inquiry_id, "state": state, "reason": reason, "answer": answer}


def _seen(cur, inquiry: dict, digest: str) -> dict | None:
    cur.execute("SELECT id, state, reason, answer, digest FROM inquiry WHERE message_id = %s", (inquiry["message_id"],))
    row = cur.fetchone()
    if row is None:
        return None
    if row[4] != digest:
        raise Invalid("message_id_reused")  # the same id for another question: never the first one's answer
    return _outcome(row[:4])


def receive(conn: psycopg.Connection, body: dict) -> dict:
    """One inquiry from the network, for this tenant. A repeat of a message id gets its first outcome;
    the same id for another question is refused (`message_id_reused`)."""
    inquiry = _validated(body)
    digest = _digest(inquiry)
    with conn.transaction(), conn.cursor() as cur:
        if seen := _seen(cur, inquiry, digest):
            return seen
        reason = permits.check(provision=inquiry["provision"], requester_kind=inquiry["requester_kind"],
                               affair=inquiry["affair"], items=inquiry["items"])
        cur.execute("SELECT unified_number FROM fugo WHERE fugo = %s", (inquiry["fugo"],))
        found = cur.fetchone()
        unified = found[0] if found else None
        row = None
        if unified:
            cur.execute("SELECT status, no_auto, is_head, head_name, relationship FROM replica WHERE unified_number = %s",
                        (unified,))
            row = cur.fetchone()
        if reason is None and row is None:
            reason = "not_found"
        # 自動応答不可 before anything else the 副本 tells: even "no longer a resident" is for a person to say.
        held = reason is None and (row[1] or (not row[2] and not row[3]))  # flagged, or a member with no head
        if reason is None and not held and row[0] != "resident":
            reason = "not_resident"
        state = "refused" if reason else ("held" if held else "answered")
        # Two deliveries of one message at once: the second waits for the first and takes its outcome.
        cur.execute(
            "INSERT INTO inquiry (tenant, message_id, requester, requester_kind, provision, affair, items, fugo, "
            "unified_number, state, reason, public_key, digest) "
            "VALUES (im_tenant(), %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (tenant, message_id) DO NOTHING RETURNING id",
            (inquiry["message_id"], inquiry["requester"], inquiry["requester_kind"], inquiry["provision"],
             inquiry["affair"], inquiry["items"], inquiry["fugo"], unified, state, reason or "", inquiry["public_key"],
             digest))
        inserted = cur.fetchone()
        if inserted is None:
            return _seen(cur, inquiry, digest)
        inquiry_id = inserted[0]
        _record(cur, inquiry_id, "inquiry", inquiry, unified=unified)
        answer = None
        if state == "answered":
            answer = sealing.seal(inquiry["public_key"], answer_of(row[2:], inquiry["items"]), context=str(inquiry_id))
            cur.execute("UPDATE inquiry SET answer = %s WHERE id = %s", (answer, inquiry_id))
        _record(cur, inquiry_id, {"answered": "answer", "refused": "refusal", "held": "hold"}[state], inquiry,
                unified=unified, reason=reason or "")
    return {"inquiry_id": inquiry_id, "state": state, "reason": reason or "", "answer": answer}


def result(conn: psycopg.Connection, inquiry_id: int, *, requester: str) -> dict:
    """A held inquiry's outcome, asked again later by the network for its requester."""
    with conn.transaction():
        row = conn.execute("SELECT id, state, reason, answer FROM inquiry WHERE id = %s AND requester = %s",
                           (inquiry_id, requester)).fetchone()
    if row is None:
        raise Invalid("inquiry_not_found")
    return _outcome(row)


_LIST = ("SELECT id, received_at, requester, requester_kind, provision, affair, items, unified_number, state, reason, "
         "decided_by, decided_at FROM inquiry")


def _listed(row) -> dict:
    keys = ("id", "received_at", "requester", "requester_kind", "provision", "affair", "items", "unified_number",
            "state", "reason", "decided_by", "decided_at")
    item = dict(zip(keys, row))
    for key in ("received_at", "decided_at"):
        item[key] = item[key].isoformat() if item[key] else None
    return item


def listing(conn: psycopg.Connection, *, state: str = "", limit: int = 100, before: int | None = None) -> list[dict]:
    """Inquiries newest first (the review queue: state `held`, oldest first)."""
    clauses, params = [], []
    if state:
        clauses.append("state = %s")
        params.append(state)
    if before:
        clauses.append("id < %s")
        params.append(before)
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    order = " ORDER BY id" if state == "held" else " ORDER BY id DESC"
    with conn.transaction():
        rows = conn.execute(_LIST + where + order + " LIMIT %s", (*params, min(max(limit, 1), 500))).fetchall()
    return [_listed(r) for r in rows]


def review(conn: psycopg.Connection, inquiry_id: int, *, staff: str, release: bool) -> dict:
    """A held inquiry re-checked by the city's staff (C18): released (the answer built now, from the 副本 as
    it is) or declined. Only once; a person no longer in the 副本 cannot be released."""
    if not re.fullmatch(r"[\w.@+-]{1,150}", staff or ""):  # Django's username characters
        raise Invalid("staff_required")
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("SELECT requester, provision, affair, items, unified_number, public_key, state FROM inquiry "
                    "WHERE id = %s FOR UPDATE", (inquiry_id,))
        row = cur.fetchone()
        if row is None:
            raise Invalid("inquiry_not_found")
        if row[6] != "held":
            raise Invalid("not_held")
        inquiry = {"requester": row[0], "provision": row[1], "affair": row[2], "items": row[3]}
        answer, reason = None, ""
        if release:
            cur.execute("SELECT is_head, head_name, relationship FROM replica WHERE unified_number = %s "
                        "AND status = 'resident'", (row[4],))
            person = cur.fetchone()
            if person is None:
                raise Invalid("not_resident")
            answer = sealing.seal(row[5], answer_of(person, row[3]), context=str(inquiry_id))
        else:
            reason = "declined"
        state = "released" if release else "declined"
        cur.execute("UPDATE inquiry SET state = %s, reason = %s, answer = %s, decided_by = %s, decided_at = now() "
                    "WHERE id = %s", (state, reason, answer, staff, inquiry_id))
        _record(cur, inquiry_id, "release" if release else "decline", inquiry, unified=row[4], reason=reason,
                staff=staff)
    return {"inquiry_id": inquiry_id, "state": state, "reason": reason}


def records(conn: psycopg.Connection, *, unified_number: str = "", after: int = 0, limit: int = 200,
            settled: bool = False) -> list[dict]:
    """情報提供等記録, oldest first (for the city's auditors and the 開示請求 report). `settled`: only rows
    older than a few seconds, for a copier that keeps its place by id — a row whose transaction was
    still open when a later id was read would otherwise be skipped for good (ids are taken before
    commit). Every write of a record is one short transaction."""
    clauses, params = ["id > %s"], [after]
    if settled:
        clauses.append("at < now() - interval '5 seconds'")
    if unified_number:
        clauses.append("unified_number = %s")
        params.append(unified_number)
    with conn.transaction():
        rows = conn.execute(
            "SELECT id, inquiry_id, at, event, requester, provision, affair, items, unified_number, reason, staff, "
            f"keep_until FROM record WHERE {' AND '.join(clauses)} ORDER BY id LIMIT %s",
            (*params, min(max(limit, 1), 1000))).fetchall()
    keys = ("id", "inquiry_id", "at", "event", "requester", "provision", "affair", "items", "unified_number", "reason",
            "staff", "keep_until")
    return [{**dict(zip(keys, r)), "at": r[2].isoformat(), "keep_until": r[11].isoformat()} for r in rows]
