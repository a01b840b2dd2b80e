"""Coverage-guided fuzzing of the parsers with atheris (libFuzzer for Python; issue 18, item 7).

    python tests/fuzz/atheris_parsers.py TARGET [libFuzzer options, e.g. -runs=20000 -max_total_time=5]

One target per parser. Each feeds the fuzzer's bytes to the parser (as text, or as the file's bytes)
and lets only the parser's documented refusal pass; any other exception, or a broken invariant (an
AssertionError), is a crash: libFuzzer prints it with the input and the process exits non-zero.
tests/fuzz/test_atheris.py runs every target for a bounded number of runs.

No database: the 町字 file is fuzzed through `towns_load`'s reading and checking (`_read`,
`_validate`), which refuse before anything is written; the DB write path is tests/fuzz/test_parsers.py's.
"""
from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
from pathlib import Path

import atheris

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "juki.conf.test")

# The pure parsers are imported (and instrumented) before django.setup(), which would otherwise
# import them first, uninstrumented; those that need the app registry after it.
with atheris.instrument_imports(include=["juki", "jaconv"]):
    import jaconv.jaconv

    assert jaconv.jaconv.z2h  # instrumented: the kana and width folding of every parser
    from juki.cards import numbers
    from juki.core import checkdigits, wareki
    from juki.core.errors import DomainError, ErrorCode
    from juki.linkage import files
    from juki.register import relationships, textnorm

import django  # noqa: E402

django.setup()

with atheris.instrument_imports(include=["juki"]):
    from juki.cards.services import pins
    from juki.register.services import master, people


_REIWA_100 = dt.date(2118, 1, 1)


def _text(data: bytes) -> str:
    return atheris.FuzzedDataProvider(data).ConsumeUnicodeNoSurrogates(len(data))


def wareki_dates(data: bytes) -> None:
    text = _text(data)
    try:
        day = wareki.parse_date(text)
    except wareki.InvalidDate as exc:
        assert exc.message
        return
    if wareki.DEFAULT_ERAS[-1].start <= day < _REIWA_100:  # 明治 on, and years the parser reads (1 or 2 digits)
        assert wareki.parse_date(wareki.to_wareki(day)) == day
    try:
        wareki.parse_input(text, field="f", label="日付")
    except DomainError as exc:  # parse_date accepted it: parse_input must too
        raise AssertionError(f"parse_input refused what parse_date read: {exc.code}") from None


def kana(data: bytes) -> None:
    text = _text(data)
    for key_of in (textnorm.kana_key, textnorm.name_key, textnorm.text_key, textnorm.digits, textnorm.register_number,
                   people.kana, people.banchi_text):
        key = key_of(text)
        assert key_of(key) == key, key_of.__name__
    assert set(textnorm.kana_key(text)) <= {chr(o) for o in range(0x30A1, 0x30FB)}
    textnorm.is_kana(text)
    try:
        cleaned = textnorm.clean_text(text, label="氏名", inner_space=False)
    except textnorm.InvalidText:
        pass
    else:
        assert not textnorm.forbidden_characters(cleaned)
    try:
        rel = relationships.validate(text)
    except DomainError as exc:
        assert exc.code == ErrorCode.INVALID_RELATIONSHIP
    else:
        assert relationships.validate(rel) == rel


def card_and_pin(data: bytes) -> None:
    text = _text(data)
    number = numbers.normalize_number(text)
    assert numbers.normalize_number(number) == number
    if numbers.number_valid(number):
        assert not any(numbers.number_valid(number[:i] + d + number[i + 1:])
                       for i in range(10) for d in "0123456789" if d != number[i])
    for valid in (checkdigits.is_valid_my_number, checkdigits.is_valid_resident_code,
                  checkdigits.is_valid_register_number, checkdigits.is_valid_local_government_code):
        assert valid(text) in (True, False) and valid(textnorm.digits(text)) in (True, False)
    try:
        pin = pins.validate_pin(text, field="pin")
    except DomainError as exc:
        assert exc.code == ErrorCode.INVALID_INPUT and exc.field == "pin"
    else:
        assert len(pin) == 4 and pin.isascii() and pin.isdigit()


def towns_csv(data: bytes) -> None:
    text = _text(data[1:])
    if data[:1] < b"\x80":  # half the inputs get the header, so the rows' checks are reached too
        text = "ward_code,ward_name,town_name,town_kana,postal_code,town_code\n" + text
    try:
        rows = master._read(text)
    except DomainError as exc:
        assert exc.code == ErrorCode.TOWN_FILE_INVALID
        return
    assert all(isinstance(message, str) for message in master._validate(rows, "401005"))


_SCRATCH = Path(tempfile.mkdtemp(prefix="juki-atheris-")) / "input"
_FIXED = [files.Column("code", "コード", 6, "code"), files.Column("n", "数", 5, "number"),
          files.Column("day", "日", 8, "date"), files.Column("name", "氏名", 12)]


def linkage_csv(data: bytes) -> None:
    _SCRATCH.write_bytes(data[1:])
    encoding = "cp932" if data[:1] == b"s" else "utf-8"
    try:
        rows = files.read_csv(_SCRATCH, encoding=encoding)
    except ValueError:  # the documented refusal (UnicodeDecodeError is one)
        return
    assert len({len(row) for row in rows}) <= 1


def linkage_fixed(data: bytes) -> None:
    if data[:1] < b"\x80":  # half the inputs cut into records of the layout's length, so the fields are read
        data = b"".join(data[i:i + 31] + b"\r\n" for i in range(1, len(data) - 30, 31))
    _SCRATCH.write_bytes(data)
    try:
        rows = files.read_fixed(_SCRATCH, _FIXED)
    except ValueError:
        return
    assert all(set(row) == {"code", "n", "day", "name"} for row in rows)


TARGETS = {f.__name__: f for f in (wareki_dates, kana, card_and_pin, towns_csv, linkage_csv, linkage_fixed)}


def main(argv: list[str]) -> None:
    if len(argv) < 2 or argv[1] not in TARGETS:
        sys.exit(f"usage: {argv[0]} {{{'|'.join(TARGETS)}}} [libFuzzer options]")
    target = TARGETS[argv[1]]
    atheris.Setup([argv[0], *argv[2:]], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
