"""副本 (情報提供データベース): 住民票関係情報 per 統一識別番号, kept from the city's register (ADR 0026).

Every function takes a connection logged in as one tenant's role: the rows it reads and writes are
that tenant's only, by row-level security, whatever it asks. Changes arrive with the register's outbox
position; an older position never overwrites a newer one, so a batch sent twice or late does no harm.
A full load (the snapshot) sends its pages at the snapshot's position and tags every row it carries;
when its last page arrives, the rows it did not carry (and no newer change wrote) go. A member of a
household without a 世帯主 has no head's name to give: the register sends it flagged 自動応答不可.
"""
from __future__ import annotations

import re

import psycopg

_NUMBER = re.compile(r"[0-9]{12}")
STATUSES = ("resident", "removed")


class Invalid(ValueError):
    """Input the platform will not take: the code names what is wrong; `index` the record of a batch."""

    def __init__(self, code: str, index: int | None = None):
        super().__init__(code)
        self.code, self.index = code, index


def _validated(records: list) -> list[tuple]:
    rows = []
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise Invalid("invalid_record", index)
        number = str(record.get("unified_number", ""))
        if not _NUMBER.fullmatch(number):
            raise Invalid("invalid_unified_number", index)
        if record.get("status") not in STATUSES:
            raise Invalid("invalid_status", index)
        is_head = record.get("is_head")
        if not isinstance(is_head, bool):
            raise Invalid("invalid_is_head", index)
        head_name, relationship = str(record.get("head_name") or ""), str(record.get("relationship") or "")
        if len(head_name) > 200 or len(relationship) > 40:
            raise Invalid("too_long", index)
        rows.append((number, record["status"], is_head, "" if is_head else head_name,
                     "" if is_head else relationship, bool(record.get("no_auto", False))))
    return rows


# A row's items change only from a position at least as new as its own; a full load's page tags every
# row it carries (its load id) whatever the position, so that the load's end removes only the rows the
# register no longer has.
_NEWER = "replica.position <= EXCLUDED.position"
_UPSERT = f"""
INSERT INTO replica (tenant, unified_number, status, is_head, head_name, relationship, no_auto, position, load_id)
VALUES (im_tenant(), %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (tenant, unified_number) DO UPDATE SET
    status = CASE WHEN {_NEWER} THEN EXCLUDED.status ELSE replica.status END,
    is_head = CASE WHEN {_NEWER} THEN EXCLUDED.is_head ELSE replica.is_head END,
    head_name = CASE WHEN {_NEWER} THEN EXCLUDED.head_name ELSE replica.head_name END,
    relationship = CASE WHEN {_NEWER} THEN EXCLUDED.relationship ELSE replica.relationship END,
    no_auto = CASE WHEN {_NEWER} THEN EXCLUDED.no_auto ELSE replica.no_auto END,
    position = GREATEST(replica.position, EXCLUDED.position),
    load_id = CASE WHEN EXCLUDED.load_id = '' THEN replica.load_id ELSE EXCLUDED.load_id END,
    updated_at = now()
WHERE {_NEWER} OR EXCLUDED.load_id <> ''
"""


def apply(conn: psycopg.Connection, records: list, *, position: int, load_id: str = "") -> int:
    """Store a batch (all or nothing); returns how many rows it changed."""
    rows = _validated(records)
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(_UPSERT, [(*row, position, load_id) for row in rows])
        changed = cur.rowcount if rows else 0
        if not load_id:
            cur.execute("INSERT INTO feed_batch (tenant, kind, count, position) VALUES (im_tenant(), 'changes', %s, %s)",
                        (len(rows), position))
    return changed


def finish_full(conn: psycopg.Connection, *, load_id: str, position: int, count: int) -> int:
    """The full load's end: rows it did not carry (and no change since) go; returns how many."""
    with conn.transaction(), conn.cursor() as cur:
        # A row changed after the snapshot (a newer position) stays even if the load did not carry it.
        cur.execute("DELETE FROM replica WHERE load_id <> %s AND position <= %s", (load_id, position))
        removed = cur.rowcount
        cur.execute("INSERT INTO feed_batch (tenant, kind, count, position) VALUES (im_tenant(), 'full', %s, %s)",
                    (count, position))
    return removed


def export(conn: psycopg.Connection, *, after: str = "", limit: int = 5000) -> list[dict]:
    """The 副本 in 統一識別番号 order, a page after `after` (C28: for reconciliation with the 原本)."""
    with conn.transaction():
        rows = conn.execute(
            "SELECT unified_number, status, is_head, head_name, relationship, no_auto, position FROM replica "
            "WHERE unified_number > %s ORDER BY unified_number LIMIT %s", (after, min(max(limit, 1), 20000))).fetchall()
    return [dict(unified_number=r[0], status=r[1], is_head=r[2], head_name=r[3], relationship=r[4], no_auto=r[5],
                 position=r[6]) for r in rows]


def record_reconciliation(conn: psycopg.Connection, *, differences: int, position: int) -> None:
    """The city's reconciliation (C28) in the batch list: its count is the differences found."""
    with conn.transaction():
        conn.execute("INSERT INTO feed_batch (tenant, kind, count, position) VALUES (im_tenant(), 'reconcile', %s, %s)",
                     (differences, position))


def status(conn: psycopg.Connection) -> dict:
    """The tenant's 副本 at a glance: counts and the last batches (no person)."""
    with conn.transaction():
        counts = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE status = 'resident'), count(*) FILTER (WHERE no_auto), "
            "max(position) FROM replica").fetchone()
        fugo = conn.execute("SELECT count(*) FROM fugo").fetchone()[0]
        batches = conn.execute("SELECT at, kind, count, position FROM feed_batch ORDER BY id DESC LIMIT 20").fetchall()
    return {"rows": counts[0], "residents": counts[1], "no_auto": counts[2], "position": counts[3] or 0,
            "fugo": fugo, "batches": [{"at": b[0].isoformat(), "kind": b[1], "count": b[2], "position": b[3]}
                                      for b in batches]}


def tie_fugo(conn: psycopg.Connection, *, unified_number: str, fugo: str) -> bool:
    """P5's end: the 符号 J-LIS made for this city, tied to the 統一識別番号 (kept only here)."""
    if not _NUMBER.fullmatch(unified_number) or not re.fullmatch(r"[0-9a-f]{32}", fugo):
        raise Invalid("invalid_fugo")
    with conn.transaction():
        cur = conn.execute("INSERT INTO fugo (tenant, unified_number, fugo) VALUES (im_tenant(), %s, %s) "
                           "ON CONFLICT (tenant, unified_number) DO NOTHING", (unified_number, fugo))
        return cur.rowcount == 1


def without_fugo(conn: psycopg.Connection, *, limit: int = 500) -> list[str]:
    """The 統一識別番号 of residents in the 副本 that have no 符号 yet (for P5's acquisition run)."""
    with conn.transaction():
        return [r[0] for r in conn.execute(
            "SELECT r.unified_number FROM replica r WHERE r.status = 'resident' AND NOT EXISTS "
            "(SELECT 1 FROM fugo f WHERE f.tenant = r.tenant AND f.unified_number = r.unified_number) "
            "ORDER BY r.unified_number LIMIT %s", (min(max(limit, 1), 5000),)).fetchall()]


def flagged(conn: psycopg.Connection) -> list[str]:
    """The 統一識別番号 carrying the 自動応答不可フラグ now (for the city's sweep to compare)."""
    with conn.transaction():
        return [r[0] for r in conn.execute("SELECT unified_number FROM replica WHERE no_auto ORDER BY unified_number")]
