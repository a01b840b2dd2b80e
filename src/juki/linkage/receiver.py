"""A business system's receiving end (税務, 国民健康保険 …) for the demo and the tests: one process per
destination, standing for another department's system. It imports nothing of the register: all it
knows is the wire, the sender's certificate name and the sender's public signing key.

    python -m juki.linkage.receiver --destination tax --pki DIR --store FILE \\
        --sender-key FILE.pem --sender NAME [--port N] [--port-file FILE] [--down-file FILE]

`POST /deliveries` takes a signed envelope (`juki.linkage.signing`) whose payload is
`{"delivery_id", "destination", "sequence", "kind", "records", ...}` and keeps it, in sequence order
only: the first delivery is 1, each next one the previous + 1. A resend of a stored delivery (same
delivery_id, same sequence) is answered as a duplicate, so a sender that lost an answer sends again.
Refusals (wire.Refused, `{"code", "message", ...}`):

    403 unknown_sender        the client certificate is not the register's
    503 unavailable           the destination is "down" (--down-file exists)
    401 malformed / unknown_key / bad_signature    the envelope does not verify
    400 invalid_payload       a signed payload without the fields above (`field` names which)
    409 wrong_destination     the payload is addressed to another destination (C17)
    409 out_of_order          not the next sequence (`expected` is the one awaited)
    409 delivery_id_conflict  a stored delivery_id with another sequence (`stored_sequence`)

`GET /deliveries?after=N` lists what was kept after N (the department's own copy); `GET /health`.
The store is SQLite in WAL mode, each delivery committed (synchronous=FULL) before it is acknowledged:
a receiver killed with SIGKILL keeps everything it answered 200 for.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import sqlite3
import sys
import threading
from collections.abc import Mapping
from pathlib import Path

from juki.network import wire

from . import signing

_SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    delivery_id TEXT PRIMARY KEY,
    sequence INTEGER NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    received_at TEXT NOT NULL,
    payload TEXT NOT NULL,      -- canonical JSON: exactly the bytes the signature covers
    key_id TEXT NOT NULL,
    signature TEXT NOT NULL
)
"""


class Store:
    """The received deliveries in SQLite. One connection behind a lock: a test service, not a hot path."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not path.exists():  # personal data: owner-only from the start (SQLite's -wal/-shm follow its mode)
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")  # an acknowledged delivery survives a power cut too
        self._conn.execute(_SCHEMA)

    def _last(self) -> int:
        return self._conn.execute("SELECT COALESCE(MAX(sequence), 0) FROM deliveries").fetchone()[0]

    def accept(self, payload: dict, key_id: str, signature: str) -> tuple[str, int]:
        """`("stored", n)`, `("duplicate", n)`, `("out_of_order", expected)` or
        `("conflict", stored_sequence)`. Check and insert in one transaction."""
        delivery_id, sequence = payload["delivery_id"], payload["sequence"]
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                row = self._conn.execute("SELECT sequence FROM deliveries WHERE delivery_id = ?",
                                         (delivery_id,)).fetchone()
                if row is not None:
                    self._conn.execute("ROLLBACK")
                    return ("duplicate" if row[0] == sequence else "conflict"), row[0]
                expected = self._last() + 1
                if sequence != expected:
                    self._conn.execute("ROLLBACK")
                    return "out_of_order", expected
                self._conn.execute(
                    "INSERT INTO deliveries (delivery_id, sequence, kind, received_at, payload, key_id, signature)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (delivery_id, sequence, payload["kind"], dt.datetime.now(dt.timezone.utc).isoformat(),
                     signing.canonical(payload).decode(), key_id, signature))
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
        return "stored", sequence

    def after(self, sequence: int) -> list[dict]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT delivery_id, sequence, kind, received_at, payload FROM deliveries"
                " WHERE sequence > ? ORDER BY sequence", (sequence,)).fetchall()
        return [{"delivery_id": d, "sequence": s, "kind": k, "received_at": r, "payload": json.loads(p)}
                for d, s, k, r, p in rows]

    def health(self) -> tuple[int, int]:
        with self._lock:
            return self._last(), self._conn.execute("SELECT COUNT(*) FROM deliveries").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _check_payload(payload: dict) -> None:
    for field, ok in (("delivery_id", isinstance(payload.get("delivery_id"), str) and payload.get("delivery_id")),
                      ("destination", isinstance(payload.get("destination"), str)),
                      # bool is an int in Python; `true` is no sequence number
                      ("sequence", type(payload.get("sequence")) is int and payload["sequence"] >= 1),
                      ("kind", isinstance(payload.get("kind"), str) and payload.get("kind")),
                      ("records", isinstance(payload.get("records"), list))):
        if not ok:
            raise wire.Refused(400, "invalid_payload", f"配信内容の項目 {field} が不正です。", field=field)


def build_app(destination: str, store: Store, public_keys: Mapping[str, str], expected_sender: str, *,
              down_file: Path | None = None) -> wire.App:
    app = wire.App(f"receiver-{destination}")

    @app.route("POST", "/deliveries")
    def deliver(request: wire.Request) -> dict:
        if down_file is not None and down_file.exists():
            raise wire.Refused(503, "unavailable", f"{destination}: 受信サービスは停止中です。")
        if request.peer != expected_sender:
            raise wire.Refused(403, "unknown_sender", f"送信元 {request.peer} からの配信は受け付けません。")
        try:
            payload = signing.verify(request.body, public_keys)
        except signing.BadSignature as exc:
            raise wire.Refused(401, exc.code, "署名を検証できません。") from None
        _check_payload(payload)
        if payload["destination"] != destination:
            raise wire.Refused(409, "wrong_destination",
                               f"宛先 {payload['destination']} の配信は {destination} では受け付けません。",
                               destination=destination)
        outcome, n = store.accept(payload, request.body["key_id"], request.body["signature"])
        if outcome == "out_of_order":
            raise wire.Refused(409, "out_of_order", f"配信の順序が不正です（次は {n} 番）。", expected=n)
        if outcome == "conflict":
            raise wire.Refused(409, "delivery_id_conflict",
                               f"配信 {payload['delivery_id']} は {n} 番として受信済みです。", stored_sequence=n)
        if outcome == "duplicate":
            return {"accepted": False, "duplicate": True}
        return {"accepted": True, "duplicate": False, "sequence": n}

    @app.route("GET", "/deliveries")
    def deliveries(request: wire.Request) -> dict:
        if request.peer != expected_sender:  # the department's copy: its own and the sender's eyes only
            raise wire.Refused(403, "unknown_sender", f"{request.peer} はこの受信記録を読めません。")
        after = request.query.get("after", "0")
        if not (after.isascii() and after.isdigit()):
            raise wire.Refused(400, "invalid_after", "after には 0 以上の整数を指定してください。")
        return {"destination": destination, "deliveries": store.after(int(after))}

    @app.route("GET", "/health")
    def health(request: wire.Request) -> dict:
        last, count = store.health()
        return {"destination": destination, "last_sequence": last, "count": count,
                "available": not (down_file is not None and down_file.exists())}

    return app


def make_app(destination: str, store: Path, public_keys: Mapping[str, str], expected_sender: str, *,
             down_file: Path | None = None) -> wire.App:
    """The receiving service of `destination`, keeping what it accepts in the SQLite file `store`;
    `public_keys` maps key_id to the sender's public key PEM."""
    return build_app(destination, Store(store), public_keys, expected_sender, down_file=down_file)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m juki.linkage.receiver",
                                     description="業務システムの受信サービス（デモ・試験用、宛先ごとに一つ）")
    parser.add_argument("--destination", required=True, help="宛先コード（例: tax）")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 なら空いているポート")
    parser.add_argument("--pki", type=Path, required=True, help="証明書のディレクトリ（宛先コード名のサーバ証明書）")
    parser.add_argument("--store", type=Path, required=True, help="受信内容を保存する SQLite ファイル")
    parser.add_argument("--sender-key", type=Path, action="append", required=True,
                        help="送信元の署名検証用公開鍵（PEM、複数指定可）")
    parser.add_argument("--sender", required=True, help="送信元のクライアント証明書の名前")
    parser.add_argument("--port-file", type=Path, help="待ち受けたポート番号を書き出すファイル")
    parser.add_argument("--down-file", type=Path, help="このファイルがある間は配信を 503 で断る")
    args = parser.parse_args(argv)
    if not (args.pki / f"{args.destination}.pem").exists():
        parser.error(f"{args.pki} に {args.destination} のサーバ証明書がありません。")
    keys = {}
    for path in args.sender_key:
        pem = path.read_text()
        keys[signing.key_id(pem)] = pem
    store = Store(args.store)
    app = build_app(args.destination, store, keys, args.sender, down_file=args.down_file)

    def ready(port: int) -> None:
        if args.port_file:  # whole or not at all: a waiting test must never read half a number
            tmp = args.port_file.with_name(args.port_file.name + ".tmp")
            tmp.write_text(str(port))
            os.replace(tmp, args.port_file)
        print(f"{args.destination}: https://{args.host}:{port}", flush=True)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        wire.serve(app, directory=args.pki, name=args.destination, host=args.host, port=args.port, ready=ready)
    except KeyboardInterrupt:
        pass
    finally:
        store.close()
        if args.port_file:
            args.port_file.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
