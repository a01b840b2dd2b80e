"""整合性確認 (P8, [1100]) over the network: the hash tree of `merkle` served by a holder of FILE-2
(the prefecture and national servers) and walked by the city's CS, so that only the ranges that
differ cross the wire, then the full records of the differing codes compared item by item.

Every side keeps a digest per record, made when the record is written (`digest_of`), so a check
reads (code, digest) pairs only: building the tree over 1 M records is a sort and 10,000 hashes.
The served tree is built when a check starts (its first call asks for the root's children) and kept
for that check's later round trips: each check sees the holder's data as it is then, whatever wrote it.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from . import merkle
from .wire import App, Client, Refused, Request, Unreachable

PREFIX = "/consistency"


def record_view(items: dict, status: str) -> dict:
    """What both sides compare: FILE-2's items as the CS sent them, and the record's status."""
    return {**items, "status": status}


def digest_of(items: dict, status: str, key: bytes) -> str:
    """The record's digest, keyed (HMAC-SHA256) with the network's 整合性確認 key: with the 個人番号 among
    its items, an unkeyed hash next to the other items would give the sealed number away."""
    return merkle.record_digest(record_view(items, status), key).hex()


KEY_FILE = "consistency.key"


def key(directory: Path) -> bytes:
    """The key the CS and the holders of FILE-2 share for their digests, kept beside the network's
    certificates (owner-only); the first to need it makes it."""
    path = directory / KEY_FILE
    if not path.exists():
        # Written whole under another name, then linked in: a peer starting at the same moment reads
        # either no key file or the complete one, and only one key ever wins.
        temp = directory / f".{KEY_FILE}.{os.getpid()}"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(os.urandom(32))
        try:
            os.link(temp, path)
        except FileExistsError:
            pass
        finally:
            temp.unlink()
    return path.read_bytes()


class TreeCache:
    """One tree per caller, built afresh at the start of each check."""

    def __init__(self):
        self.lock, self.trees = threading.Lock(), {}

    def get(self, key, fresh: bool, pairs: Callable[[], Iterable[tuple[str, str]]]) -> merkle.RangeTree:
        with self.lock:
            if fresh or key not in self.trees:
                self.trees[key] = merkle.RangeTree((code, bytes.fromhex(d)) for code, d in pairs())
            return self.trees[key]


def install(app: App, *, scope: Callable[[Request], str], pairs: Callable[[str], Iterable[tuple[str, str]]],
            records: Callable[[str, list[str]], dict]) -> None:
    """Serve the tree of the records in `scope(request)` (a city's, for its CS): children and
    buckets of paths, and the full records of codes."""
    cache = TreeCache()

    def tree(request: Request, fresh: bool = False) -> merkle.RangeTree:
        key = scope(request)
        return cache.get(key, fresh, lambda: pairs(key))

    def paths(request: Request) -> list[str]:
        value = request.body.get("paths")
        if not isinstance(value, list) or len(value) > 10000 or not all(isinstance(p, str) and p.isdigit() or p == ""
                                                                        for p in value):
            raise Refused(422, "invalid_paths", "範囲の指定が正しくありません。")
        return value

    @app.route("POST", f"{PREFIX}/children")
    def children(request: Request) -> dict:
        wanted = paths(request)
        peer = merkle.LocalPeer(tree(request, fresh=wanted == [merkle.ROOT]))  # a check starts at the root
        return {"children": {p: [[c, h.hex()] for c, h in kids] for p, kids in peer.children(wanted).items()}}

    @app.route("POST", f"{PREFIX}/buckets")
    def buckets(request: Request) -> dict:
        peer = merkle.LocalPeer(tree(request))
        return {"buckets": {p: {c: d.hex() for c, d in b.items()} for p, b in peer.bucket(paths(request)).items()}}

    @app.route("POST", f"{PREFIX}/records")
    def full_records(request: Request) -> dict:
        codes = request.body.get("codes")
        if not isinstance(codes, list) or len(codes) > 1000:
            raise Refused(422, "invalid_codes", "住民票コードの指定が正しくありません。")
        return {"records": records(scope(request), [str(c) for c in codes])}


class HttpPeer:
    """`merkle.Peer` over mutual TLS: one round trip per call, hashes as hex."""

    def __init__(self, client: Client):
        self.client = client

    def _call(self, path: str, body: dict) -> dict:
        status, answer = self.client.call("POST", f"{PREFIX}{path}", body)
        if status != 200:
            raise Unreachable(f"HTTP {status} {answer.get('code', '')}")
        return answer

    def children(self, paths: list[str]) -> dict[str, list[tuple[str, bytes]]]:
        answer = self._call("/children", {"paths": paths})["children"]
        return {p: [(c, bytes.fromhex(h)) for c, h in kids] for p, kids in answer.items()}

    def bucket(self, paths: list[str]) -> dict[str, dict[str, bytes]]:
        answer = self._call("/buckets", {"paths": paths})["buckets"]
        return {p: {c: bytes.fromhex(d) for c, d in b.items()} for p, b in answer.items()}

    def records(self, codes: list[str]) -> dict[str, dict]:
        out: dict[str, dict] = {}
        for i in range(0, len(codes), 1000):
            out.update(self._call("/records", {"codes": codes[i:i + 1000]})["records"])
        return out


def compare(local_pairs: Iterable[tuple[str, str]], local_records: Callable[[list[str]], dict], remote: Client,
            *, limit: int = 10000) -> dict:
    """Walk both trees and list every differing code and item (at most `limit` codes' details)."""
    tree = merkle.RangeTree((code, bytes.fromhex(d)) for code, d in local_pairs)
    peer, stats = HttpPeer(remote), merkle.DiffStats()
    codes = merkle.diff(tree, peer, stats)
    detail = codes[:limit]
    differences = merkle.item_differences(local_records(detail), peer.records(detail), detail) if detail else []
    return {"records": len(tree), "codes": codes, "differences": differences,
            "stats": {"round_trips": stats.round_trips, "hashes": stats.hashes, "codes": stats.codes}}
