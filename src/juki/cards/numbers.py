"""The city card's number: ten digits, the last a Damm check digit, so a mistyped number is
refused before any lookup. Read by the counter, the kiosk and the seals' card-based certificate,
so it sits below all of them."""
from __future__ import annotations

import re
import secrets
import unicodedata

_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2), (7, 0, 9, 2, 1, 5, 4, 8, 6, 3), (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6), (6, 1, 2, 3, 0, 4, 5, 9, 7, 8), (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4), (8, 9, 4, 5, 3, 6, 2, 0, 1, 7), (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)
_NUMBER = re.compile(r"[1-9][0-9]{9}")


def _damm(digits: str) -> int:
    interim = 0
    for d in digits:
        interim = _DAMM[interim][int(d)]
    return interim


def new_number() -> str:
    body = str(secrets.randbelow(9 * 10**8) + 10**8)
    return body + str(_damm(body))


def normalize_number(raw: str) -> str:
    """As typed: full-width digits, spaces and hyphens allowed (「１２３４ ５６７８ ９０」)."""
    text = raw or ""
    for _ in range(4):  # removing a separator can join a mark to the letter before it: NFKC again (fuzzing)
        again = re.sub(r"[\s\-ー−]", "", unicodedata.normalize("NFKC", text))
        if again == text:
            break
        text = again
    return text


def number_valid(number: str) -> bool:
    return bool(_NUMBER.fullmatch(number)) and _damm(number) == 0
