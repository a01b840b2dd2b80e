"""整合性確認 (P8): find the 住民票コード whose FILE-2 本人確認情報 differ between two copies
(市町村CS ↔ prefecture server ↔ national server) with a hash tree over ranges of 住民票コード,
so that only the ranges that differ are exchanged.

Design
------
- Each record is reduced to a 32-byte digest (`record_digest`): sha256 over canonical JSON
  (sorted keys, no spaces, UTF-8), so equal items give equal digests on every side.
- 住民票コード are 11 ASCII digits: a random 10-digit body plus a check digit. The body's leading
  digits are uniformly spread, so a decimal prefix is a fair range. The tree is a trie on those
  prefixes with fixed depths, `levels` = the prefix length of the nodes at each depth below the
  root; the default `(2, 4)` gives a root, 100 nodes "00".."99" and 10,000 leaves "0000".."9999"
  (about 100 codes per leaf at 1 M records, 10 at 100,000). Fan-out 100 rather than 2 or 16 keeps
  the round trips few (one per level, three for a difference at 1 M) at the price of 100 hashes
  per differing node, which is nothing next to an HTTP round trip.
- Paths are the prefixes themselves: strings of digits, the root being "". They are JSON-ready.
- Only non-empty nodes exist; an absent child means "no record in that range" (hash `EMPTY`).
  This keeps small or sparse registers cheap and makes "present on one side only" fall out of
  the same comparison.
- Hashes: leaf = sha256(b"L" + its codes concatenated + their digests concatenated, in code
  order); inner node = sha256(b"N" + for each non-empty child in order: path + hash). The codes
  are in the leaf hash so that two codes exchanging equal records are still seen. Codes and
  digests have fixed widths, so these encodings are unambiguous.
- Build: one global sort of the codes (C speed), leaf boundaries by bisect, one sha256 per leaf;
  no Python object per record beyond the sorted code list and its parallel digest list.

Diff protocol
-------------
`diff(local, remote)` pulls from a `Peer` level by level, batching every differing path of one
level into one call: `children(paths)` for inner nodes, `bucket(paths)` for leaves. Equal sides
cost one round trip (the root's children: the root hash is a function of them). A range the
remote does not have at all is settled locally without asking it. Hashes and codes travel as
bytes here; an HTTP peer encodes them (hex or base64) and decodes them back.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "CODE_LENGTH",
    "DIGEST_SIZE",
    "EMPTY",
    "RECORD_ITEM",
    "ROOT",
    "DiffStats",
    "LocalPeer",
    "Peer",
    "RangeTree",
    "diff",
    "item_differences",
    "record_digest",
]

CODE_LENGTH = 11  # 住民票コード: 10-digit body + check digit
DIGEST_SIZE = 32  # sha256
ROOT = ""
EMPTY = hashlib.sha256(b"").digest()  # hash of a range with no record (never sent)
RECORD_ITEM = "(record)"  # item name when a whole record is missing on one side

_sha256 = hashlib.sha256
# ':' sorts right after '9': prefix + ':' is an upper bound for every code under the prefix.
_AFTER_DIGITS = ":"


def record_digest(record: Mapping[str, str | None], key: bytes | None = None) -> bytes:
    """Canonical digest of one record's items: equal items give equal digests whatever the key order.
    With `key`, an HMAC: a record holding a 個人番号 must not be guessable from its digest and its
    other items (10^11 numbers are few), so the holders of FILE-2 share a key for it."""
    text = json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return hmac.new(key, text, _sha256).digest() if key else _sha256(text).digest()


def _node_hash(children: list[tuple[str, bytes]]) -> bytes:
    return _sha256(b"N" + b"".join([p.encode("ascii") + h for p, h in children])).digest()


class RangeTree:
    """Hash tree over decimal prefixes of 住民票コード (see the module docstring).

    `items`: a mapping code → digest, or an iterable of (code, digest) pairs in any order.
    `levels`: prefix lengths of the nodes below the root, increasing; the last are the leaves.
    Both sides of a diff must use the same `levels`.
    """

    def __init__(self, items: Mapping[str, bytes] | Iterable[tuple[str, bytes]], levels: tuple[int, ...] = (2, 4)):
        levels = tuple(levels)
        if not levels or levels[0] < 1 or levels[-1] > CODE_LENGTH or any(a >= b for a, b in zip(levels, levels[1:])):
            raise ValueError(f"levels must increase within 1..{CODE_LENGTH}: {levels!r}")
        self.levels = levels
        if isinstance(items, Mapping):
            mapping = items
        else:
            pairs = items if isinstance(items, list) else list(items)
            mapping = dict(pairs)
            if len(mapping) != len(pairs):
                raise ValueError("duplicate 住民票コード")
        codes = sorted(mapping)
        digests = list(map(mapping.__getitem__, codes))
        # Checked with a few C-level passes rather than per record in Python; the joined bytes
        # are then sliced per leaf for hashing.
        try:
            code_bytes = "".join(codes).encode("ascii")
        except (UnicodeEncodeError, TypeError):
            code_bytes = b""
        if codes and (set(map(len, codes)) != {CODE_LENGTH} or not code_bytes.isdigit()):
            raise ValueError(f"住民票コード must be {CODE_LENGTH} ASCII digits")
        try:
            digest_bytes = b"".join(digests)
        except TypeError:
            digest_bytes = b""
        if digests and (set(map(len, digests)) != {DIGEST_SIZE} or len(digest_bytes) != DIGEST_SIZE * len(digests)):
            raise ValueError(f"digests must be {DIGEST_SIZE} bytes")
        self._codes = codes
        self._digests = digests

        # Leaves: one bisect and one sha256 per non-empty leaf.
        k = levels[-1]
        spans: dict[str, tuple[int, int]] = {}
        level: list[tuple[str, bytes]] = []
        i, n = 0, len(codes)
        while i < n:
            prefix = codes[i][:k]
            j = bisect_left(codes, prefix + _AFTER_DIGITS, i)
            spans[prefix] = (i, j)
            h = _sha256(b"L")
            h.update(code_bytes[CODE_LENGTH * i:CODE_LENGTH * j])
            h.update(digest_bytes[DIGEST_SIZE * i:DIGEST_SIZE * j])
            level.append((prefix, h.digest()))
            i = j
        self._spans = spans
        self._hash: dict[str, bytes] = dict(level)
        self._children: dict[str, list[tuple[str, bytes]]] = {}

        # Inner levels, bottom up; `level` stays in path order throughout.
        for k in (*reversed(levels[:-1]), 0):
            parents: list[tuple[str, bytes]] = []
            group: list[tuple[str, bytes]] = []
            current = None
            for path, h in level:
                parent = path[:k]
                if parent != current:
                    if group:
                        self._add_node(current, group, parents)
                    current, group = parent, []
                group.append((path, h))
            if group:
                self._add_node(current, group, parents)
            level = parents
        self._root = level[0][1] if level else EMPTY

    def _add_node(self, path: str, children: list[tuple[str, bytes]], out: list[tuple[str, bytes]]) -> None:
        h = _node_hash(children)
        self._children[path] = children
        self._hash[path] = h
        out.append((path, h))

    def __len__(self) -> int:
        return len(self._codes)

    def root(self) -> bytes:
        return self._root

    def is_leaf(self, path: str) -> bool:
        return len(path) == self.levels[-1]

    def _check_path(self, path: str) -> None:
        if not isinstance(path, str) or (path != ROOT and len(path) not in self.levels) or not (path.isdigit() or path == ROOT):
            raise ValueError(f"not a path of this tree: {path!r}")

    def node(self, path: str) -> bytes:
        """Hash of the node at `path` (`EMPTY` if no record falls in its range)."""
        self._check_path(path)
        if path == ROOT:
            return self._root
        return self._hash.get(path, EMPTY)

    def children(self, path: str) -> list[tuple[str, bytes]]:
        """Non-empty children of an inner node as (path, hash), in path order."""
        self._check_path(path)
        if self.is_leaf(path):
            raise ValueError(f"a leaf has no children: {path!r}")
        return list(self._children.get(path, ()))

    def bucket(self, path: str) -> dict[str, bytes]:
        """The records of a leaf: code → digest."""
        self._check_path(path)
        if not self.is_leaf(path):
            raise ValueError(f"not a leaf: {path!r}")
        i, j = self._spans.get(path, (0, 0))
        return dict(zip(self._codes[i:j], self._digests[i:j]))

    def codes_under(self, path: str) -> list[str]:
        """Every code in the range of `path`, in order (no exchange needed: local data)."""
        self._check_path(path)
        i = bisect_left(self._codes, path)
        j = bisect_left(self._codes, path + _AFTER_DIGITS, i)
        return self._codes[i:j]


@dataclass
class DiffStats:
    """What one diff exchanged: calls to the peer, paths sent, hashes and codes received."""

    round_trips: int = 0
    paths_sent: int = 0
    hashes: int = 0
    codes: int = 0


class Peer(Protocol):
    """The remote side of a diff. Batch calls: one round trip per tree level.

    Answers may omit a path that has nothing (no non-empty children / no records).
    """

    def children(self, paths: list[str]) -> dict[str, list[tuple[str, bytes]]]: ...

    def bucket(self, paths: list[str]) -> dict[str, dict[str, bytes]]: ...


class LocalPeer:
    """A `Peer` over a tree in this process; `stats` counts what it served."""

    def __init__(self, tree: RangeTree):
        self.tree = tree
        self.stats = DiffStats()

    def children(self, paths: list[str]) -> dict[str, list[tuple[str, bytes]]]:
        answer = {p: self.tree.children(p) for p in paths}
        self.stats.round_trips += 1
        self.stats.paths_sent += len(paths)
        self.stats.hashes += sum(map(len, answer.values()))
        return answer

    def bucket(self, paths: list[str]) -> dict[str, dict[str, bytes]]:
        answer = {p: self.tree.bucket(p) for p in paths}
        self.stats.round_trips += 1
        self.stats.paths_sent += len(paths)
        self.stats.codes += sum(map(len, answer.values()))
        return answer


def _shape_error(what: str) -> ValueError:
    return ValueError(f"the peer's tree does not have the same shape (levels): {what}")


def diff(local: RangeTree, remote: Peer, stats: DiffStats | None = None) -> list[str]:
    """The 住民票コード that differ: on one side only, or with another digest. Sorted.

    `stats`, if given, is filled with what was exchanged.
    """
    if stats is None:
        stats = DiffStats()
    found: set[str] = set()
    pending = [ROOT]  # differing inner nodes of the level above `child_len`
    for child_len in local.levels:
        if not pending:
            break
        stats.round_trips += 1
        stats.paths_sent += len(pending)
        answer = remote.children(pending)
        nxt: list[str] = []
        for path in pending:
            theirs = dict(answer.get(path) or ())
            stats.hashes += len(theirs)
            for cp in theirs:
                if len(cp) != child_len or not cp.startswith(path):
                    raise _shape_error(f"child {cp!r} of {path!r}")
            ours = dict(local.children(path))
            for cp in sorted(ours.keys() | theirs.keys()):
                mine, other = ours.get(cp), theirs.get(cp)
                if mine == other:
                    continue
                if other is None:
                    found.update(local.codes_under(cp))  # the remote has nothing in this range
                else:
                    nxt.append(cp)
        pending = nxt
    # `pending` now holds differing leaves.
    if pending:
        stats.round_trips += 1
        stats.paths_sent += len(pending)
        answer = remote.bucket(pending)
        for path in pending:
            theirs = answer.get(path) or {}
            stats.codes += len(theirs)
            for code in theirs:
                if not code.startswith(path):
                    raise _shape_error(f"code {code!r} in leaf {path!r}")
            ours = local.bucket(path)
            found.update(c for c, _ in ours.items() ^ theirs.items())
    return sorted(found)


def item_differences(
    local_records: Mapping[str, Mapping[str, str | None]],
    remote_records: Mapping[str, Mapping[str, str | None]],
    codes: Iterable[str] | None = None,
) -> list[dict]:
    """Item-level differences of the given records (by default every code of either side).

    One dict {"resident_code", "item", "local", "remote"} per differing item; an item missing on
    one side shows None there. A record missing on one side gives one row with item "(record)",
    None on the missing side and the whole record on the other.
    """
    if codes is None:
        codes = local_records.keys() | remote_records.keys()
    out: list[dict] = []
    for code in sorted(set(codes)):
        mine, theirs = local_records.get(code), remote_records.get(code)
        if mine is None and theirs is None:
            continue
        if mine is None or theirs is None:
            out.append({"resident_code": code, "item": RECORD_ITEM,
                        "local": dict(mine) if mine is not None else None,
                        "remote": dict(theirs) if theirs is not None else None})
            continue
        for item in sorted(mine.keys() | theirs.keys()):
            # Presence counts too: {"x": None} and {} have different digests.
            if item in mine and item in theirs and mine[item] == theirs[item]:
                continue
            out.append({"resident_code": code, "item": item, "local": mine.get(item), "remote": theirs.get(item)})
    return out
