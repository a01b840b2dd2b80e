"""The 暗証番号: the rule a new PIN must keep, its argon2 hash, and the check against it."""
from __future__ import annotations

import datetime as dt
import re
import secrets
import unicodedata
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from juki.core.errors import DomainError, ErrorCode

PIN_FORMAT = "暗証番号は数字4桁で入力してください。"
PIN_TRIVIAL = "同じ数字の繰り返しや連続した数字（1111、1234など）は、暗証番号に使えません。別の数字を選んでください。"
PIN_BIRTH = "生年月日から推測できる数字（生まれた年、誕生日の月日）は、暗証番号に使えません。別の数字を選んでください。"


def _straight(pin: str) -> bool:
    steps = {int(b) - int(a) for a, b in zip(pin, pin[1:])}
    return steps in ({0}, {1}, {-1})


def _four_digits(pin: str, field: str) -> str:
    pin = unicodedata.normalize("NFKC", pin or "")  # full-width digits typed with the IME on
    if not re.fullmatch(r"[0-9]{4}", pin):
        raise DomainError(ErrorCode.INVALID_INPUT, PIN_FORMAT, field=field)
    return pin


def validate_pin(pin: str, *, birth_date: dt.date | None = None, field: str = "pin") -> str:
    """A new PIN as stored (ASCII digits) or DomainError(INVALID_INPUT, field=…). Never echoes it."""
    pin = _four_digits(pin, field)
    if _straight(pin):
        raise DomainError(ErrorCode.INVALID_INPUT, PIN_TRIVIAL, field=field)
    if birth_date is not None and pin in (f"{birth_date.year:04d}", f"{birth_date:%m%d}"):
        raise DomainError(ErrorCode.INVALID_INPUT, PIN_BIRTH, field=field)
    return pin


_hasher = PasswordHasher()


def _hash(pin: str) -> str:
    return _hasher.hash(pin)


def pin_matches(pin_hash: str, pin: str) -> bool:
    try:
        return _hasher.verify(pin_hash, unicodedata.normalize("NFKC", pin or ""))
    except (VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_hex(8))


def _spend_like_a_check(pin: str) -> None:
    """Unknown and unusable cards take as long to refuse as a wrong PIN (no timing oracle)."""
    pin_matches(_dummy_hash(), pin)
