"""The access log as a hash chain with signed checkpoints (ADR 0007, [1370] 改ざん防止).

Every AccessLog row carries a gapless `seq`, the hash of the row before it (`prev_hash`) and
its own hash (`row_hash`, SHA-256 over a canonical JSON form of the row, its subjects and
`prev_hash`). Writers insert their rows without these (`write`, no lock); the chainer (`link`,
run by `juki audit chain --follow`) numbers and hashes what has committed, in id order, under a
lock on the one `ChainHead` row that only chainers take, so the chain stays linear while writers
run in parallel. Checkpoints sign "the chain at seq N has hash H" with
Ed25519; `verify()` re-computes everything and names the first broken record. Signing a
checkpoint, exporting them and the purge log rows of their own, so they live a layer up, in
`checkpoints.py`: this module imports neither the gate nor the events.

Nothing here reads personal data: only log rows and the ids of the persons they name.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import itertools
import json
import os
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.utils import timezone

from .models import AccessLog, AccessLogSubject, ChainHead, Checkpoint

GENESIS = "0" * 64
FORMAT = 1
# The columns the hash covers, with the subjects' person ids and prev_hash (and nothing else:
# `id` is the database's, not the log's).
HASHED = ("seq", "at", "user_id", "system", "terminal_id", "function", "category", "outcome", "person_count",
          "my_number_accessed", "criteria", "flags", "work_application")


# --- the chain ------------------------------------------------------------------------------


def timestamp(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(values: Mapping, person_ids: Iterable[int], prev_hash: str) -> bytes:
    """Sorted-key JSON of the hashed columns; `values` maps column names (e.g. `user_id`)."""
    doc = {name: values[name] for name in HASHED}
    doc["at"] = timestamp(values["at"])
    doc["subjects"] = sorted(int(p) for p in person_ids)
    doc["prev_hash"] = prev_hash
    doc["v"] = FORMAT
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def digest(values: Mapping, person_ids: Iterable[int], prev_hash: str) -> str:
    return hashlib.sha256(canonical(values, person_ids, prev_hash)).hexdigest()


_HEAD = f"SELECT seq, row_hash FROM {ChainHead._meta.db_table} WHERE id = 1"
_HEAD_INIT = (f"INSERT INTO {ChainHead._meta.db_table} (id, seq, row_hash) VALUES (1, %s, %s) "
              "ON CONFLICT (id) DO NOTHING")
_HEAD_MOVE = f"UPDATE {ChainHead._meta.db_table} SET seq = %s, row_hash = %s WHERE id = 1"
_LAST_ROW = f"SELECT seq, row_hash FROM {AccessLog._meta.db_table} WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1"
_LOG, _SUBJECT = AccessLog._meta.db_table, AccessLogSubject._meta.db_table


def _lock_head(cur) -> tuple[int, str]:
    # PostgreSQL: the row lock keeps a second chainer out until commit. SQLite: IMMEDIATE
    # transactions hold the database's write lock already.
    select = _HEAD + (" FOR UPDATE" if connection.vendor == "postgresql" else "")
    cur.execute(select)
    row = cur.fetchone()
    if row is None:  # a fresh or flushed database (tests): start from the last linked row, if any
        cur.execute(_LAST_ROW)
        last = cur.fetchone() or (0, GENESIS)
        cur.execute(_HEAD_INIT, list(last))
        cur.execute(select)
        row = cur.fetchone()
    return row[0], row[1]


# --- writing: no lock, no place in the chain yet -----------------------------------------------


def _insert_sql() -> tuple[list, str]:
    fields = [f for f in AccessLog._meta.concrete_fields if not f.primary_key]  # the chain's columns empty
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    if connection.vendor == "postgresql":
        # The row and its subjects in one round trip (and one statement, so atomic on its own).
        sql = (f"WITH l AS (INSERT INTO {_LOG} ({columns}) VALUES ({marks}) RETURNING id, at), "
               f"s AS (INSERT INTO {_SUBJECT} (log_id, log_at, person_id) "
               "SELECT l.id, l.at, p FROM l, unnest(%s::bigint[]) AS p) SELECT id FROM l")
    else:
        sql = f"INSERT INTO {_LOG} ({columns}) VALUES ({marks}) RETURNING id"
    return fields, sql


_insert_cache: dict[str, tuple[list, str]] = {}


def single_statement() -> bool:
    """Does `write` need no transaction of its own (one statement on PostgreSQL)?"""
    return connection.vendor == "postgresql"


def write(entry: AccessLog, person_ids: list[int]) -> AccessLog:
    """Insert `entry` and its subjects, not yet linked: the chainer (`link`) gives it its `seq` and
    hashes within a second of the commit. No lock is taken, so writers never wait for each other
    here (ADR 0007). On SQLite the two inserts must share the caller's transaction."""
    vendor = connection.vendor
    if vendor not in _insert_cache:
        _insert_cache[vendor] = _insert_sql()
    fields, sql = _insert_cache[vendor]
    entry.at = timezone.now()
    entry.seq, entry.prev_hash, entry.row_hash = None, "", ""
    params = [f.get_db_prep_save(f.pre_save(entry, True), connection) for f in fields]
    with connection.cursor() as cur:
        if vendor == "postgresql":
            cur.execute(sql, [*params, list(person_ids)])
            entry.pk = cur.fetchone()[0]
        else:
            cur.execute(sql, params)
            entry.pk = cur.fetchone()[0]
            at = params[fields.index(AccessLog._meta.get_field("at"))]
            for i in range(0, len(person_ids), 2000):
                chunk = person_ids[i:i + 2000]
                cur.execute(f"INSERT INTO {_SUBJECT} (log_id, log_at, person_id) VALUES "
                            + ", ".join(["(%s, %s, %s)"] * len(chunk)), [v for pid in chunk for v in (entry.pk, at, pid)])
    entry._state.adding, entry._state.db = False, connection.alias
    return entry


# --- linking: one chainer at a time, in id order of what has committed ----------------------------


@dataclass
class LinkResult:
    rows: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    # Seconds from the oldest linked row's write to its link (≈ from its commit: a read commits
    # at once, a change's row is its last statement).
    max_lag: float = 0.0


_PENDING = f"SELECT id, at FROM {_LOG} WHERE seq IS NULL ORDER BY id LIMIT %s"


def link(*, batch: int = 5000) -> LinkResult:
    """Link every committed row not yet in the chain, oldest id first, in batches.

    Deterministic: within a batch the order is the row id; a row that commits after a later id was
    linked (a long change) takes the next `seq` then. The head row is locked for each batch, so two
    chainers cannot interleave; a crash mid-batch rolls the batch back whole."""
    result = LinkResult()
    while True:
        with transaction.atomic():
            done = _link_batch(batch, result)
        if done < batch:
            return result


def _link_batch(batch: int, result: LinkResult) -> int:
    with connection.cursor() as cur:
        seq, prev = _lock_head(cur)
        cur.execute(_PENDING, [batch])
        waiting = cur.fetchall()
        if not waiting:
            return 0
        ids = [r[0] for r in waiting]
        names = ("id", *[n for n in HASHED if n != "seq"])
        found = AccessLog.objects.filter(id__in=ids)
        if connection.vendor == "postgresql":  # by `at` too, so that only the rows' months are read (ADR 0030)
            found = found.filter(at__in={r[1] for r in waiting})
        rows = {r[0]: dict(zip(names, r)) for r in found.values_list(*names)}
        subjects: dict[int, list[int]] = defaultdict(list)
        for log_id, person_id in AccessLogSubject.objects.filter(log_id__in=ids).values_list("log_id", "person_id"):
            subjects[log_id].append(person_id)
        now = timezone.now()
        updates = []
        for log_id in ids:
            row = rows[log_id]
            seq += 1
            row["seq"] = seq
            row_hash = digest(row, subjects.get(log_id, ()), prev)
            updates.append((seq, prev, row_hash, log_id, row["at"]))
            prev = row_hash
            result.max_lag = max(result.max_lag, (now - row["at"]).total_seconds())
        if connection.vendor == "postgresql":
            # `at` too: the log is partitioned by it (ADR 0030), so each row is found in its month only.
            cur.execute(f"UPDATE {_LOG} AS l SET seq = v.seq, prev_hash = v.prev, row_hash = v.hash "
                        "FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::bigint[], %s::timestamptz[]) "
                        "AS v(seq, prev, hash, id, at) WHERE l.id = v.id AND l.at = v.at",
                        [[u[i] for u in updates] for i in range(5)])
        else:
            cur.executemany(f"UPDATE {_LOG} SET seq = %s, prev_hash = %s, row_hash = %s WHERE id = %s",
                            [u[:4] for u in updates])
        cur.execute(_HEAD_MOVE, [seq, prev])
    result.first_seq = result.first_seq or updates[0][0]
    result.last_seq = seq
    result.rows += len(updates)
    return len(updates)


def head() -> tuple[int, str]:
    """(seq, row_hash) of the newest linked row, under the chainers' lock."""
    with transaction.atomic(), connection.cursor() as cur:
        return _lock_head(cur)


def max_link_age() -> float:
    """Seconds a row may wait to be linked before `juki audit verify` says the chainer is behind."""
    return float(getattr(settings, "JUKI_AUDIT_LINK_MAX_AGE", 60))


@dataclass(frozen=True)
class Pending:
    rows: int
    oldest_at: dt.datetime | None

    def age(self, now: dt.datetime | None = None) -> float:
        return ((now or timezone.now()) - self.oldest_at).total_seconds() if self.oldest_at else 0.0


def pending() -> Pending:
    """Rows written and not yet linked (the partial index keeps this cheap)."""
    rows = AccessLog.objects.filter(seq__isnull=True)
    first = rows.order_by("id").values_list("at", flat=True).first()
    return Pending(rows.count() if first else 0, first)


# --- keys and checkpoints -------------------------------------------------------------------


def _key_bytes(value: str) -> bytes:
    text = Path(value).read_text().strip() if os.path.isfile(value) else value.strip()
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise ImproperlyConfigured("JUKI_AUDIT_SIGNING_KEY: 32 バイトの鍵を base64 で（またはそのファイルのパスを）指定してください。")
    return raw


def signing_key() -> Ed25519PrivateKey:
    value = getattr(settings, "JUKI_AUDIT_SIGNING_KEY", "")
    if not value:
        raise ImproperlyConfigured("JUKI_AUDIT_SIGNING_KEY が設定されていません。")
    return Ed25519PrivateKey.from_private_bytes(_key_bytes(value))


def public_raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes_raw()


def key_id(key: Ed25519PublicKey) -> str:
    return hashlib.sha256(public_raw(key)).hexdigest()[:16]


def public_keys() -> dict[str, Ed25519PublicKey]:
    """Keys that checkpoints may be signed with: the current one and retired ones (setting
    JUKI_AUDIT_PUBLIC_KEYS, comma-separated base64). Only settings are trusted: the keys listed in
    an exported file are for reading it elsewhere, and whoever rewrote the file could rewrite them."""
    encoded = [k for k in getattr(settings, "JUKI_AUDIT_PUBLIC_KEYS", "").split(",") if k.strip()]
    keys = [Ed25519PublicKey.from_public_bytes(base64.b64decode(k.strip())) for k in encoded]
    if getattr(settings, "JUKI_AUDIT_SIGNING_KEY", ""):
        keys.append(signing_key().public_key())
    return {key_id(k): k for k in keys}


def message(*, kind: str, seq: int, row_hash: str, at: dt.datetime) -> bytes:
    """What a checkpoint signs. The kind is signed too: a periodic checkpoint cannot be
    passed off as the anchor of a purge (which would excuse deleting the rows before it)."""
    return f"juki-audit-checkpoint|v{FORMAT}|{kind}|{seq}|{row_hash}|{timestamp(at)}".encode()


# --- verification ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    seq: int | None = None
    id: int | None = None  # the log row's id (or the checkpoint's, for checkpoint problems)

    def line(self) -> str:
        where = " ".join(f"{k}={v}" for k, v in (("seq", self.seq), ("id", self.id)) if v is not None)
        return f"[{self.code}] {where}: {self.message}" if where else f"[{self.code}] {self.message}"


@dataclass
class VerifyResult:
    rows: int = 0
    checkpoints: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    problem: Problem | None = None
    # The chain is intact but nothing anchors it (no signed checkpoint): whoever can write the
    # table could have rewritten the whole chain consistently. `juki audit verify` fails on it.
    unanchored: Problem | None = None
    # Rows written but not yet linked (outside the chain until the chainer runs).
    unlinked: Pending | None = None
    # Incremental: the walk began at this signed checkpoint's row (the rows before it were not walked).
    from_checkpoint: int | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def summary(self) -> str:
        if self.problem is not None:
            return f"監査ログの検証に失敗しました {self.problem.line()}"
        span = f"seq {self.first_seq}–{self.last_seq}" if self.rows else "記録なし"
        waiting = f"、連結待ち {self.unlinked.rows} 件" if self.unlinked and self.unlinked.rows else ""
        since = (f"（差分検証: 署名済みチェックポイント seq {self.from_checkpoint} から。それより前は全体の検証で確認します）"
                 if self.from_checkpoint is not None else "")
        return (f"監査ログの検証に成功しました{since}: 記録 {self.rows} 件（{span}）、チェックポイント {self.checkpoints} 件"
                f"（署名確認済み）、最終 seq {self.last_seq or 0}{waiting}")


@contextmanager
def _snapshot() -> Iterator[None]:
    """One consistent view of rows, checkpoints and head while the chain keeps growing."""
    if connection.in_atomic_block:
        yield
    elif connection.vendor == "postgresql":
        with transaction.atomic():
            with connection.cursor() as cur:
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield
    elif connection.vendor == "sqlite":
        # A deferred read transaction: a snapshot in WAL mode, without the write lock that
        # Django's IMMEDIATE atomic() would take for the whole run.
        connection.ensure_connection()
        with connection.cursor() as cur:
            cur.execute("BEGIN DEFERRED")
        try:
            yield
        finally:
            with connection.cursor() as cur:
                cur.execute("ROLLBACK")
    else:
        yield


def _chunks(rows: Iterable, size: int) -> Iterator[list]:
    it = iter(rows)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


def _check_signatures(checkpoints: list[dict], keys: dict[str, Ed25519PublicKey]) -> Problem | None:
    for cp in checkpoints:
        key = keys.get(cp["key_id"])
        if key is None:
            return Problem("checkpoint_key_unknown", f"チェックポイントの署名鍵（{cp['key_id']}）が登録されていません。",
                           seq=cp["seq"], id=cp["id"])
        try:
            key.verify(base64.b64decode(cp["signature"]),
                       message(kind=cp["kind"], seq=cp["seq"], row_hash=cp["row_hash"], at=cp["at"]))
        except (InvalidSignature, ValueError):
            return Problem("checkpoint_signature", "チェックポイントの署名が正しくありません（偽造または改変されています）。",
                           seq=cp["seq"], id=cp["id"])
    return None


def _parse_export(data: dict) -> list[dict]:
    # The file's own "public_keys" are ignored on purpose: a checkpoint is trusted only if a key
    # from settings signed it (a file re-signed with another key must fail).
    return [dict(c, at=dt.datetime.fromisoformat(c["at"].replace("Z", "+00:00"))) for c in data.get("checkpoints", [])]


def verify(*, chunk_size: int = 2000, exported: dict | None = None, incremental: bool = False) -> VerifyResult:
    """Re-compute the whole chain and check every checkpoint; stop at the first problem.

    `exported` is a file from `export_checkpoints()` kept elsewhere: its checkpoints are checked
    too, so deleting checkpoints together with the newest rows is caught.

    `incremental` walks from the newest signed checkpoint only (its row must still hash to what was
    signed), so its cost is the rows since then, not the whole log: for frequent runs on a large log.
    It proves the rows since that checkpoint and the tail; a row altered before it is found by the
    full walk, which still has to run (weekly, say). Every checkpoint's signature is checked either way.
    """
    extra_cps = _parse_export(exported) if exported else []
    keys = public_keys()
    result = VerifyResult()
    with _snapshot():
        cps = list(Checkpoint.objects.order_by("seq", "id").values("id", "seq", "row_hash", "at", "kind", "key_id",
                                                                    "signature"))
        known = {cp["signature"] for cp in cps}
        cps += [cp for cp in extra_cps if cp["signature"] not in known]  # the copy's, unless still in the database
        head = ChainHead.objects.filter(pk=1).values_list("seq", flat=True).first()
        result.unlinked = pending()
        result.checkpoints = len(cps)
        if problem := _check_signatures(cps, keys):
            result.problem = problem
            return result
        at_seq: dict[int, list[dict]] = defaultdict(list)
        for cp in cps:
            at_seq[cp["seq"]].append(cp)
        anchors = {cp["seq"]: cp["row_hash"] for cp in cps if cp["kind"] == Checkpoint.PURGE}
        start = None
        if incremental:
            linked = ChainHead.objects.filter(pk=1).values_list("seq", flat=True).first() or 0
            # A periodic checkpoint after the last purge's anchor: its row is still there (an anchor
            # signs the last row a purge removed).
            purged = max(anchors, default=0)
            start = max((cp["seq"] for cp in cps if cp["kind"] == Checkpoint.PERIODIC and purged < cp["seq"] <= linked),
                        default=None)
            result.from_checkpoint = start
        result.problem = _walk(result, at_seq, anchors, chunk_size, start=start)
        if result.problem is None:
            result.problem = _check_tail(result, cps, head)
        if result.rows and not cps:
            result.unanchored = Problem(
                "no_checkpoints",
                f"署名済みチェックポイントが1件もありません。記録 {result.rows} 件はハッシュでつながっていますが、"
                "チェーン全体を書き換えられても検出できません。`juki audit checkpoint` を今すぐ実行し、"
                "cron で定期実行（例: 毎時）してください。")
    return result


def _walk(result: VerifyResult, at_seq: dict, anchors: dict, chunk_size: int, *, start: int | None = None) -> Problem | None:
    rows = AccessLog.objects.filter(seq__isnull=False).order_by("seq").values_list("id", *HASHED, "prev_hash", "row_hash")
    if start is not None:
        rows = rows.filter(seq__gte=start)
    names = ("id", *HASHED, "prev_hash", "row_hash")
    prev: str | None = None
    expected: int | None = None
    for chunk in _chunks(rows.iterator(chunk_size=chunk_size), chunk_size):
        subjects: dict[int, list[int]] = defaultdict(list)
        subject_at: dict[int, set] = defaultdict(set)
        for log_id, person_id, log_at in AccessLogSubject.objects.filter(log_id__in=[r[0] for r in chunk]).values_list(
            "log_id", "person_id", "log_at"
        ):
            subjects[log_id].append(person_id)
            subject_at[log_id].add(log_at)
        for values in chunk:
            row = dict(zip(names, values))
            seq, rid = row["seq"], row["id"]
            if subject_at.get(rid, {row["at"]}) != {row["at"]}:
                # Not in the hash, but a person's history is joined on it (ADR 0030): a changed
                # `log_at` would hide the row from the person's disclosure answer.
                return Problem("row_altered", "対象者の記録の日時が記録と一致しません。対象者の記録が書き換えられています。",
                               seq=seq, id=rid)
            if expected is None and start is not None:
                # Incremental: the walk starts at the checkpoint's own row, which must be there; its
                # hash is compared with the signed one below, its link backwards is the full walk's.
                result.first_seq = seq
                if seq != start:
                    return Problem("gap", f"署名済みチェックポイントの記録（seq {start}）が削除されています。", seq=seq, id=rid)
            elif expected is None:
                result.first_seq = seq
                if seq == 1 and row["prev_hash"] != GENESIS:
                    return Problem("link_broken", "最初の記録の前のハッシュが初期値ではありません。", seq=seq, id=rid)
                if seq != 1 and anchors.get(seq - 1) != row["prev_hash"]:
                    return Problem("head_missing", f"seq 1–{seq - 1} の記録がなく、保存期間経過による削除の署名もありません"
                                   "（先頭の記録が削除されています）。", seq=seq, id=rid)
            elif seq != expected:
                span = f"seq {expected}" if seq == expected + 1 else f"seq {expected}–{seq - 1}"
                return Problem("gap", f"{span} の記録が削除されています（この記録の前で連番が欠けています）。", seq=seq, id=rid)
            elif row["prev_hash"] != prev:
                return Problem("link_broken", f"前の記録（seq {seq - 1}）のハッシュと連結が一致しません。前の記録が書き換えられています。",
                               seq=seq, id=rid)
            if digest(row, subjects.get(rid, ()), row["prev_hash"]) != row["row_hash"]:
                return Problem("row_altered", "記録の内容（対象者を含む）がハッシュと一致しません。この記録が書き換えられています。",
                               seq=seq, id=rid)
            for cp in at_seq.get(seq, ()):
                if cp["row_hash"] != row["row_hash"]:
                    return Problem("checkpoint_mismatch", f"署名済みチェックポイント（id {cp['id']}）のハッシュと一致しません。"
                                   f"seq {seq} 以前の記録が書き換えられています。", seq=seq, id=rid)
            prev, expected = row["row_hash"], seq + 1
            result.rows += 1
            result.last_seq = seq
    return None


def _check_tail(result: VerifyResult, cps: list[dict], head: int | None) -> Problem | None:
    last = result.last_seq or 0
    beyond = max((cp["seq"] for cp in cps), default=0)
    if beyond > last:
        return Problem("truncated", f"seq {last + 1} 以降の記録が削除されています（署名済みチェックポイントは seq {beyond} まで）。",
                       seq=last + 1)
    if head is not None and head > last:
        return Problem("truncated", f"seq {last + 1} 以降の記録が削除されています（チェーンの先頭は seq {head}）。", seq=last + 1)
    return None


class ChainBroken(Exception):
    def __init__(self, result: VerifyResult):
        super().__init__(result.summary())
        self.result = result
