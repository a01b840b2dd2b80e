"""個人番号 protection: AES-GCM encryption with key ids, plus an HMAC for exact look-up.

The plain number exists only in memory while a request needs it. The database holds
(key_id, nonce+ciphertext) and an HMAC-SHA256 under a separate key, so equality search works
without decrypting and a leaked table reveals neither the numbers nor a brute-forceable hash
(the 10^11 space would fall to a plain hash in minutes).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .checkdigits import is_valid_my_number
from .errors import DomainError, ErrorCode

_AAD = b"juki:my_number:v1"


@dataclass(frozen=True)
class SealedMyNumber:
    key_id: str
    ciphertext: bytes  # 12-byte nonce + AES-GCM ciphertext and tag
    digest: str  # hex HMAC-SHA256 for exact look-up


@lru_cache(maxsize=4)
def _keys(spec: str) -> tuple[str, dict[str, AESGCM]]:
    if not spec:
        raise ImproperlyConfigured("JUKI_MYNUMBER_KEYS is not set")
    keys: dict[str, AESGCM] = {}
    active = ""
    for part in spec.split(","):
        kid, _, b64 = part.strip().partition(":")
        raw = base64.b64decode(b64)
        if len(raw) != 32 or not kid:
            raise ImproperlyConfigured("each JUKI_MYNUMBER_KEYS entry must be kid:base64(32 bytes)")
        keys[kid] = AESGCM(raw)
        active = active or kid
    return active, keys


@lru_cache(maxsize=4)
def _keyed_hmac(b64: str) -> hmac.HMAC:
    if not b64:
        raise ImproperlyConfigured("JUKI_MYNUMBER_HMAC_KEY is not set")
    return hmac.new(base64.b64decode(b64), digestmod=hashlib.sha256)


def validate(number: str) -> str:
    if not is_valid_my_number(number):
        raise DomainError(
            ErrorCode.INVALID_MY_NUMBER,
            "個人番号が正しくありません。12桁の数字で、検査用数字が一致する番号を入力してください。",
            field="my_number",
        )
    return number


def digest(number: str) -> str:
    # A copy of the keyed object skips decoding and keying per call: the seed digests 1 M numbers.
    h = _keyed_hmac(settings.JUKI_MYNUMBER_HMAC_KEY).copy()
    h.update(number.encode())
    return h.hexdigest()


def seal(number: str) -> SealedMyNumber:
    validate(number)
    active, keys = _keys(settings.JUKI_MYNUMBER_KEYS)
    nonce = os.urandom(12)
    ct = keys[active].encrypt(nonce, number.encode(), _AAD)
    return SealedMyNumber(key_id=active, ciphertext=nonce + ct, digest=digest(number))


def unseal(key_id: str, ciphertext: bytes) -> str:
    _, keys = _keys(settings.JUKI_MYNUMBER_KEYS)
    try:
        aes = keys[key_id]
    except KeyError:
        raise ImproperlyConfigured("個人番号 key id not configured (key rotation incomplete)") from None
    data = bytes(ciphertext)
    return aes.decrypt(data[:12], data[12:], _AAD).decode()


def mask(number: str | None) -> str:
    return "" if not number else "*" * 8 + number[-4:]


_BLOB_AAD = b"juki:sealed-entry:v1"


def seal_values(values: list[str]) -> tuple[str, bytes]:
    """Seal 個人番号 entered into a form that is kept for a while (a 仮登録), under the active key."""
    import json

    active, keys = _keys(settings.JUKI_MYNUMBER_KEYS)
    nonce = os.urandom(12)
    return active, nonce + keys[active].encrypt(nonce, json.dumps(values).encode(), _BLOB_AAD)


def unseal_values(key_id: str, ciphertext: bytes) -> list[str]:
    import json

    _, keys = _keys(settings.JUKI_MYNUMBER_KEYS)
    data = bytes(ciphertext)
    return json.loads(keys[key_id].decrypt(data[:12], data[12:], _BLOB_AAD))


def seal_json(value: dict) -> tuple[str, bytes]:
    """A message kept whole (it may carry a 個人番号): the CS's and S2's messages with other cities."""
    import json

    return seal_values([json.dumps(value, ensure_ascii=False)])


def open_json(key_id: str, ciphertext: bytes) -> dict:
    import json

    return json.loads(unseal_values(key_id, ciphertext)[0])
