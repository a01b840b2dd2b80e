"""The PDF's hash and the record's Ed25519 signature.

The signature is made with the audit checkpoint key (`juki.audit.chain.signing_key`, setting
JUKI_AUDIT_SIGNING_KEY) and checked against every key `chain.public_keys()` knows, so a key
rotation leaves old certificates verifiable as long as the retired key stays listed in
JUKI_AUDIT_PUBLIC_KEYS. It signs `number|sha256|issued_at`: a record whose hash or time is
rewritten in the database no longer verifies.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib

from cryptography.exceptions import InvalidSignature

from juki.audit import chain

FORMAT = 1


def sha256_of(pdf: bytes) -> str:
    return hashlib.sha256(pdf).hexdigest()


def _timestamp(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def message(*, number: str, sha256: str, issued_at: dt.datetime) -> bytes:
    return f"juki-certificate|v{FORMAT}|{number}|{sha256}|{_timestamp(issued_at)}".encode()


def sign(*, number: str, sha256: str, issued_at: dt.datetime) -> tuple[str, str]:
    """(key_id, base64 signature)."""
    key = chain.signing_key()
    signature = key.sign(message(number=number, sha256=sha256, issued_at=issued_at))
    return chain.key_id(key.public_key()), base64.b64encode(signature).decode()


def signature_valid(*, number: str, sha256: str, issued_at: dt.datetime, key_id: str, signature: str) -> bool:
    key = chain.public_keys().get(key_id)
    if key is None:
        return False
    try:
        key.verify(base64.b64decode(signature), message(number=number, sha256=sha256, issued_at=issued_at))
    except (InvalidSignature, ValueError):
        return False
    return True
