"""The one CSV writer of juki: every file that leaves the system as CSV goes through here.

- CSVの数式無効化 (CSV injection, OWASP): a text cell that starts with = + - @ TAB or CR would run as
  a formula when the file is opened in a spreadsheet (`=HYPERLINK(...)`, `+cmd|...`). Such a cell
  gets a leading single quote `'`, which Excel shows as text. The full-width ＝ ＋ － ＠ are
  escaped too: Japanese Excel converts them to a formula as well. Numbers passed as numbers (int,
  float, Decimal) stay numeric, negative ones too; a *string* "-5" is escaped like any other text.
- Encoding: UTF-8 with a BOM, what Excel on the office PCs opens without garbling the Japanese.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

__all__ = ["ENCODING", "FORMULA_STARTS", "escape_cell", "to_bytes", "write"]

ENCODING = "utf-8-sig"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
ESCAPE = "'"


def escape_cell(value: Any) -> Any:
    """One cell as written: None is empty, numbers stay numbers, text that a spreadsheet would run
    as a formula gets a leading `'`."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float, Decimal)):
        return value
    text = str(value)
    return ESCAPE + text if text.startswith(FORMULA_STARTS) else text


def write(stream, header: Sequence[Any] | None, rows: Iterable[Sequence[Any]]) -> None:
    """Write `header` (if any) and `rows` to a text stream, every cell through `escape_cell`.
    Open files with `newline=""` and `encoding=ENCODING`."""
    writer = csv.writer(stream)
    if header is not None:
        writer.writerow([escape_cell(c) for c in header])
    for row in rows:
        writer.writerow([escape_cell(c) for c in row])


def to_bytes(header: Sequence[Any] | None, rows: Iterable[Sequence[Any]]) -> bytes:
    """The whole file as bytes (UTF-8 with a BOM), for a download."""
    out = io.StringIO()
    write(out, header, rows)
    return out.getvalue().encode(ENCODING)
