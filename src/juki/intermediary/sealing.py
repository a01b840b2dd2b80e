"""An answer sealed to the requester's key (C18: "encrypt with the requester's key").

X25519 key agreement with a fresh key per answer, HKDF-SHA256, AES-256-GCM (the `cryptography`
library's primitives; the same shape as HPKE's base mode). Only the holder of the requester's private
key opens it; the platform keeps the sealed form only.
"""
from __future__ import annotations

import base64
import json
import os

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_INFO = b"juki intermediary answer v1"
_RAW = dict(encoding=serialization.Encoding.Raw, format=serialization.PublicFormat.Raw)


def new_key() -> tuple[str, str]:
    """(private, public), base64: a requester's key pair."""
    private = X25519PrivateKey.generate()
    raw = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                serialization.NoEncryption())
    return base64.b64encode(raw).decode(), base64.b64encode(private.public_key().public_bytes(**_RAW)).decode()


def _key(shared: bytes, ephemeral: bytes, recipient: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt=ephemeral + recipient, info=_INFO).derive(shared)


def seal(public_key: str, payload: dict, *, context: str) -> str:
    """`payload` as JSON, sealed to `public_key` (base64 X25519); `context` (the inquiry's id) is bound in."""
    recipient = base64.b64decode(public_key, validate=True)
    ephemeral = X25519PrivateKey.generate()
    ephemeral_pub = ephemeral.public_key().public_bytes(**_RAW)
    key = _key(ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient)), ephemeral_pub, recipient)
    nonce = os.urandom(12)
    body = AESGCM(key).encrypt(nonce, json.dumps(payload, ensure_ascii=False).encode(), context.encode())
    return base64.b64encode(ephemeral_pub + nonce + body).decode()


def open_sealed(private_key: str, sealed: str, *, context: str) -> dict:
    raw = base64.b64decode(sealed, validate=True)
    ephemeral_pub, nonce, body = raw[:32], raw[32:44], raw[44:]
    private = X25519PrivateKey.from_private_bytes(base64.b64decode(private_key, validate=True))
    recipient = private.public_key().public_bytes(**_RAW)
    key = _key(private.exchange(X25519PublicKey.from_public_bytes(ephemeral_pub)), ephemeral_pub, recipient)
    return json.loads(AESGCM(key).decrypt(nonce, body, context.encode()))


def valid_public_key(value: str) -> bool:
    """32 bytes that make a usable key: a low-order point (all zeros …) fails the trial exchange."""
    try:
        raw = base64.b64decode(value, validate=True)
        if len(raw) != 32:
            return False
        X25519PrivateKey.generate().exchange(X25519PublicKey.from_public_bytes(raw))
        return True
    except (ValueError, TypeError):
        return False
