"""Check digits of the identifiers the register handles.

- 個人番号 (12 digits): 総務省令第85号 第5条.
- 住民票コード (11 digits): the same modulus-11 scheme over its first 10 digits.
- 宛名番号 / 世帯番号: モジュラス11 (M11W2-7) [130].
- 地方公共団体コード (6 digits): JIS X 0402 check digit.
"""
from __future__ import annotations

from functools import lru_cache
from operator import mul


@lru_cache(maxsize=None)
def _mod11_weights(length: int) -> tuple[int, ...]:
    # Weights 2..7 repeating, counted from the rightmost digit, read back left to right.
    return tuple([((i % 6) + 2) for i in range(length)][::-1])


def mod11_check_digit(body: str) -> int:
    """M11W2-7: remainder 0 or 1 gives 0, otherwise 11 − remainder."""
    # map/mul rather than a generator: the seed computes ~2.5 M of these for 1 M persons.
    total = sum(map(mul, map(int, body), _mod11_weights(len(body))))
    remainder = total % 11
    return 0 if remainder <= 1 else 11 - remainder


def _is_digits(value: object, length: int) -> bool:
    return isinstance(value, str) and len(value) == length and value.isascii() and value.isdigit()


def is_valid_my_number(value: object) -> bool:
    return _is_digits(value, 12) and mod11_check_digit(value[:11]) == int(value[11])


def is_valid_resident_code(value: object) -> bool:
    return _is_digits(value, 11) and mod11_check_digit(value[:10]) == int(value[10])


def is_valid_register_number(value: object, length: int = 10) -> bool:
    """宛名番号 and 世帯番号: serial digits plus one M11W2-7 check digit."""
    return _is_digits(value, length) and mod11_check_digit(value[:-1]) == int(value[-1])


def with_check_digit(serial: int, length: int = 10) -> str:
    body = str(serial).zfill(length - 1)
    if len(body) != length - 1:
        raise ValueError("serial too large")
    return body + str(mod11_check_digit(body))


def local_government_check_digit(body: str) -> int:
    """JIS X 0402: weights 6,5,4,3,2; the last digit of 11 − remainder."""
    total = sum(int(d) * w for d, w in zip(body, (6, 5, 4, 3, 2), strict=True))
    return (11 - total % 11) % 10


def is_valid_local_government_code(value: object) -> bool:
    return _is_digits(value, 6) and local_government_check_digit(value[:5]) == int(value[5])
