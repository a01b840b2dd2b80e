"""Re-encrypting the sealed 個人番号 under the active key (key rotation, ADR 0002; issue 18).

`JUKI_MYNUMBER_KEYS` lists the active key first and retired keys after it; every ciphertext names its
key. Rotation is: put the new key first (the old one stays listed, so everything still opens), run
`rekey` until `status` shows no row under another key, then drop the old key from the setting. Only
the key id and the ciphertext change: the look-up HMAC (`my_number_digest`) is under a key of its own,
untouched. Each batch is one transaction, so a run stopped half-way leaves every row under the old or
the new key — both listed — and the next run goes on.

Two stores are append-only (a version of the register, a certificate's snapshot): their triggers let
exactly this change through — on PostgreSQL an UPDATE of the key columns alone inside a transaction
that set `juki.rekey` (`append_only.REKEYABLE`); on SQLite the trigger is dropped and re-created inside
the batch's own transaction, which no other writer can see half-way.

Plain SQL over the tables the `Store`s name: this module knows no app, and opens no gate; the caller
(`juki mynumber rekey`) holds the gate session that logs the run.
"""
from __future__ import annotations

import base64
from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from django.db import connections, transaction

from . import append_only, mynumber


@dataclass(frozen=True)
class Store:
    table: str
    key_column: str  # the key id; for "snapshot", the JSON column {person id: [key id, base64]}
    cipher_column: str = ""
    kind: str = "number"  # number: one 個人番号 / values: a sealed list / snapshot: a JSON map of numbers

    @property
    def name(self) -> str:
        return self.table


def active_key() -> str:
    return mynumber._keys(settings.JUKI_MYNUMBER_KEYS)[0]


def _reseal(store: Store, key_id: str, cipher: bytes) -> tuple[str, bytes]:
    if store.kind == "number":
        sealed = mynumber.seal(mynumber.unseal(key_id, cipher))
        return sealed.key_id, sealed.ciphertext
    return mynumber.seal_values(mynumber.unseal_values(key_id, cipher))


def _snapshot_reseal(value: dict) -> dict:
    out = {}
    for pid, (key_id, b64) in value.items():
        if key_id == active_key():
            out[pid] = [key_id, b64]
        else:
            sealed = mynumber.seal(mynumber.unseal(key_id, base64.b64decode(b64)))
            out[pid] = [sealed.key_id, base64.b64encode(sealed.ciphertext).decode("ascii")]
    return out


def status(stores: list[Store], *, using: str = "default") -> dict[str, dict[str, int]]:
    """Rows per key id in each store (a snapshot counts each number it seals)."""
    found: dict[str, dict[str, int]] = {}
    with connections[using].cursor() as cur:
        for store in stores:
            counts: Counter = Counter()
            if store.kind == "snapshot":
                cur.execute(f"SELECT {store.key_column} FROM {store.table}")
                for (value,) in cur.fetchall():
                    for key_id, _ in _json(value).values():
                        counts[key_id] += 1
            else:
                cur.execute(f"SELECT {store.key_column}, count(*) FROM {store.table} "
                            f"WHERE {store.cipher_column} IS NOT NULL AND {store.key_column} <> '' "
                            f"GROUP BY {store.key_column}")
                counts.update(dict(cur.fetchall()))
            found[store.name] = dict(counts)
    return found


def _json(value) -> dict:
    import json

    return json.loads(value) if isinstance(value, str) else (value or {})


def rekey(stores: list[Store], *, using: str = "default", batch: int = 500) -> dict[str, int]:
    """Re-seal every ciphertext not under the active key; returns how many rows changed per store."""
    active = active_key()
    done: dict[str, int] = {}
    for store in stores:
        done[store.name] = 0
        after = 0
        while True:
            with transaction.atomic(using=using):
                changed, after = _batch(store, active, after, batch, using)
            done[store.name] += changed
            if after is None:
                break
    return done


def _batch(store: Store, active: str, after: int, size: int, using: str) -> tuple[int, int | None]:
    conn = connections[using]
    with conn.cursor() as cur:
        if store.kind == "snapshot":
            cur.execute(f"SELECT id, {store.key_column} FROM {store.table} WHERE id > %s ORDER BY id LIMIT %s",
                        [after, size])
            rows = cur.fetchall()
            updates = []
            for row_id, value in rows:
                value = _json(value)
                if any(k != active for k, _ in value.values()):
                    import json

                    updates.append((json.dumps(_snapshot_reseal(value)), row_id))
            sql = f"UPDATE {store.table} SET {store.key_column} = %s WHERE id = %s"  # snapshots are never changed
        else:
            cur.execute(f"SELECT id, {store.key_column}, {store.cipher_column} FROM {store.table} "
                        f"WHERE id > %s AND {store.cipher_column} IS NOT NULL AND {store.key_column} <> '' "
                        f"AND {store.key_column} <> %s ORDER BY id LIMIT %s", [after, active, size])
            rows = cur.fetchall()
            updates = [(*_reseal(store, key_id, bytes(cipher)), row_id, key_id, bytes(cipher))
                       for row_id, key_id, cipher in rows]
            # Compare-and-set: a row a clerk changed since it was read (a 宛名 correction) keeps the clerk's
            # value; the next run re-keys it.
            sql = (f"UPDATE {store.table} SET {store.key_column} = %s, {store.cipher_column} = %s "
                   f"WHERE id = %s AND {store.key_column} = %s AND {store.cipher_column} = %s")
        changed = 0
        if updates:
            with _past_append_only(cur, store.table, conn.vendor):
                cur.executemany(sql, updates)
                changed = cur.rowcount  # the rows a clerk changed meanwhile are not counted (nor changed)
    return changed, (rows[-1][0] if len(rows) == size else None)


class _past_append_only:
    """The sanctioned way past an append-only trigger for a re-key, inside the caller's transaction."""

    def __init__(self, cur, table: str, vendor: str):
        self.cur, self.table, self.vendor, self.saved = cur, table, vendor, None

    def __enter__(self):
        if self.table not in append_only.REKEYABLE:
            return self
        if self.vendor == "postgresql":
            self.cur.execute(f"SET LOCAL {append_only.REKEY_SETTING} = 'on'")
        else:
            self.cur.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = %s",
                             [f"{self.table}_append_only"])
            row = self.cur.fetchone()
            self.saved = row[0] if row else None
            if self.saved:
                self.cur.execute(f"DROP TRIGGER {self.table}_append_only")
        return self

    def __exit__(self, *exc):
        if self.table not in append_only.REKEYABLE or exc[0] is not None:  # an aborted transaction rolls back
            return False
        if self.vendor == "postgresql":
            self.cur.execute(f"SET LOCAL {append_only.REKEY_SETTING} = 'off'")
        elif self.saved:
            self.cur.execute(self.saved)
        return False
