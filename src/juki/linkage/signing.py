"""Ed25519 signatures on the deliveries to the business systems (庁内連携).

TLS says which machine called; the signature says the register wrote this very payload, and stays
with the receiver's copy as proof. The signature covers `canonical(payload)`: the payload's JSON with
sorted keys and no spaces, so it does not depend on how either end orders or formats its JSON.

An envelope: `{"payload": {...}, "key_id": "<16 hex>", "signature": "<base64>"}`. `key_id` names the
signer's public key (the first 16 hex digits of the SHA-256 of its DER form), so a receiver can hold
more than one key while the register's key is being replaced.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


class BadSignature(Exception):
    """A refused envelope: `code` is `unknown_key`, `bad_signature` or `malformed`."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def load_or_create(path: Path) -> Ed25519PrivateKey:
    """The signing key at `path` (PEM, PKCS8), created there owner-only on first use."""
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path}: not an Ed25519 private key")
        return key
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = Ed25519PrivateKey.generate()
    data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
    # Written whole under another name, then linked into place: a second process starting at the same
    # moment finds either no key or a complete one, never half of one, and never writes over it.
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    try:
        os.link(tmp, path)
    except FileExistsError:
        return load_or_create(path)
    finally:
        tmp.unlink()
    return key


def public_pem(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def _load_public(pem: str) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem.encode("ascii"))
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def key_id(public_pem: str) -> str:
    der = _load_public(public_pem).public_bytes(serialization.Encoding.DER,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()[:16]


def canonical(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def sign(key: Ed25519PrivateKey, payload: dict) -> dict:
    return {"payload": payload, "key_id": key_id(public_pem(key)),
            "signature": base64.b64encode(key.sign(canonical(payload))).decode("ascii")}


def verify(envelope: dict, public_keys: Mapping[str, str]) -> dict:
    """The payload of a well-signed envelope; `public_keys` maps key_id to PEM. Raises BadSignature."""
    if not isinstance(envelope, dict):
        raise BadSignature("malformed")
    payload, kid, signature = envelope.get("payload"), envelope.get("key_id"), envelope.get("signature")
    if not isinstance(payload, dict) or not isinstance(kid, str) or not isinstance(signature, str):
        raise BadSignature("malformed")
    if kid not in public_keys:
        raise BadSignature("unknown_key")
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        raise BadSignature("malformed") from None
    try:
        body = canonical(payload)
    except (TypeError, ValueError):  # a caller's dict that is not JSON at all
        raise BadSignature("malformed") from None
    try:
        _load_public(public_keys[kid]).verify(raw, body)
    except InvalidSignature:
        raise BadSignature("bad_signature") from None
    return payload
