"""Files for the city's business systems (税務, 福祉, ...): CSV (UTF-8 or CP932) and a fixed-width
CP932 layout in the style of the 中間標準レイアウト. Pure Python: no Django, nothing of the register.

The substitution rule (外字の置換)
--------------------------------
Every value is checked character by character against the file's encoding. A character is:

1. A private-use character (U+E000-U+F8FF, planes 15 and 16): the city's own 外字. It always
   becomes 〓 (GETA), whatever the encoding, even where the encoding could carry its code point:
   another system would show a different glyph or none. Counts 1.
2. CP932 only, one of the well-known Unicode/CP932 mismatches: it is written as the code point
   Windows uses for the same character. U+301C WAVE DASH -> U+FF5E, U+2016 -> U+2225,
   U+2212 MINUS SIGN -> U+FF0D, U+00A2 -> U+FFE0, U+00A3 -> U+FFE1, U+00AC -> U+FFE2,
   U+2014 EM DASH -> U+2015. Counts 0: the same character, another code point.
3. Encodable as it is: kept unchanged (full-width letters, half-width kana, NEC/IBM extension
   kanji such as 髙 﨑 德 栁 all stay). Counts 0.
4. CP932 only, in the table VARIANTS: a 異体字 outside CP932 is written as the JIS X 0208 form that
   住民票 systems print as the 代替文字 (𠮷 -> 吉, 𥔎 -> 崎, 鷗 -> 鴎, ...). Counts 1.
5. Otherwise, if the Unicode compatibility form (NFKC) of that one character is encodable and not
   empty, it is written instead (U+F9DC -> 隆, NBSP -> space). Counts 1. NFKC is never applied to
   a character that is encodable as it is.
6. Otherwise 〓. Counts 1.

Fixed-width files only, before the rule above: a control character (CR, LF, TAB, NUL, ...) in a
value becomes a half-width space (counts 1), since receiving systems read the file line by line.

Counts are taken before a fixed-width value is cut to its width. The summary of every file gives
the characters substituted and the rows with at least one substitution, for the operator to check.

Files are written atomically: to `<name>.part`, flushed and fsynced, then renamed over the target;
a failure leaves no `.part` and the previous file untouched.
"""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import os
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

__all__ = [
    "Column", "FileSummary", "GETA", "KINDS", "MISMATCHES", "VARIANTS", "layout_note",
    "read_csv", "read_fixed", "substitute", "write_csv", "write_fixed",
]

GETA = "〓"
KINDS = ("text", "code", "number", "date")
FIXED_ENCODING = "cp932"
CRLF = b"\r\n"

# Rule 2: where the Unicode mapping of JIS differs from what Windows writes for the same character.
MISMATCHES = {
    "\u301c": "\uff5e",  # WAVE DASH -> FULLWIDTH TILDE
    "\u2016": "\u2225",  # DOUBLE VERTICAL LINE -> PARALLEL TO
    "\u2212": "\uff0d",  # MINUS SIGN -> FULLWIDTH HYPHEN-MINUS
    "\u00a2": "\uffe0",  # CENT SIGN
    "\u00a3": "\uffe1",  # POUND SIGN
    "\u00ac": "\uffe2",  # NOT SIGN
    "\u2014": "\u2015",  # EM DASH -> HORIZONTAL BAR
}

# Rule 4: 異体字 outside CP932 -> the JIS X 0208 form. Only sources the cp932 codec refuses and
# targets it accepts (checked by tests/linkage/test_files.py); 髙 﨑 德 etc. are encodable, so absent.
VARIANTS = {
    "𠮷": "吉", "𥔎": "崎", "𡈽": "土", "𠀋": "丈", "𣘺": "橋", "𤋮": "熙", "𦚰": "脇", "𠮟": "叱",
    "鷗": "鴎", "剝": "剥", "頰": "頬", "塡": "填", "蔣": "蒋", "醬": "醤", "摑": "掴", "俱": "倶",
    "卽": "即", "淚": "涙", "涉": "渉", "錄": "録", "俠": "侠", "啞": "唖", "嚙": "噛", "屛": "屏",
    "搔": "掻", "瘦": "痩", "繡": "繍", "蟬": "蝉", "顚": "顛", "禱": "祷", "簞": "箪", "麴": "麹",
    "姸": "妍", "揭": "掲", "擊": "撃", "潑": "溌", "焰": "焔", "繫": "繋", "倂": "併", "萊": "莱",
    "瀆": "涜", "蠟": "蝋",
}

_PRIVATE_USE = re.compile("[\ue000-\uf8ff\U000f0000-\U0010ffff]")
_MISMATCH = re.compile("[" + "".join(MISMATCHES) + "]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")  # Unicode category Cc
_CODE = re.compile("[0-9A-Za-z]*")
_DIGITS = re.compile("[0-9]*")


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int
    kind: str = "text"

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"項目「{self.label}」の種別 {self.kind!r} は使えません（{'、'.join(KINDS)}）。")


@dataclass(frozen=True)
class FileSummary:
    rows: int
    substituted: int
    substituted_rows: int
    truncated_rows: int
    sha256: str
    bytes: int


def _codec(encoding: str) -> str:
    # Only the two encodings the receiving systems read; "shift_jis" lacks the NEC/IBM kanji.
    name = codecs.lookup(encoding).name
    if name not in ("utf-8", "cp932"):
        raise ValueError(f"文字コード {encoding!r} には対応していません（utf-8 または cp932）。")
    return name


@lru_cache(maxsize=65536)
def _encodable(char: str, encoding: str) -> bool:
    try:
        char.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def _is_private_use(char: str) -> bool:
    return _PRIVATE_USE.match(char) is not None


def _one(char: str, encoding: str) -> tuple[str, int]:
    """Rules 1-6 for one character."""
    if _is_private_use(char):
        return GETA, 1
    if encoding == "cp932" and char in MISMATCHES:
        return MISMATCHES[char], 0
    if _encodable(char, encoding):
        return char, 0
    if encoding == "cp932" and char in VARIANTS:
        return VARIANTS[char], 1
    folded = unicodedata.normalize("NFKC", char)
    if encoding == "cp932":
        folded = _MISMATCH.sub(lambda m: MISMATCHES[m.group()], folded)
    if folded and not _PRIVATE_USE.search(folded) and all(_encodable(c, encoding) for c in folded):
        return folded, 1
    return GETA, 1


def substitute(text: str, encoding: str) -> tuple[str, int]:
    """The documented rule (module docstring). Returns (text, number of characters substituted)."""
    encoding = _codec(encoding)
    # Fast path: most names and addresses need nothing.
    if not _PRIVATE_USE.search(text) and not (encoding == "cp932" and _MISMATCH.search(text)):
        try:
            text.encode(encoding)
            return text, 0
        except UnicodeEncodeError:
            pass
    out: list[str] = []
    count = 0
    for char in text:
        replaced, n = _one(char, encoding)
        out.append(replaced)
        count += n
    return "".join(out), count


def layout_note(columns: Sequence[Column]) -> str:
    """The fixed-width format in one line, for the operator screen."""
    length = _record_length(columns)
    return (f"固定長（Shift_JIS（CP932）、見出し行なし、1レコード＝{length}バイト＋改行CRLF（計{length + 2}バイト）、"
            f"文字は左詰め・数字は右詰め0埋め・日付は西暦YYYYMMDD、外字は{GETA}に置換）")


# ---- values -------------------------------------------------------------------------------------


def _plain(value, *, fixed: bool) -> str:
    """A value as text: None empty, bool 1/0, a date ISO in CSV and YYYYMMDD in fixed-width."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dt.date):
        if isinstance(value, dt.datetime) and not fixed:
            return value.isoformat()
        return _yyyymmdd(value) if fixed else _iso(value)
    if isinstance(value, (int, str)):
        return str(value)
    raise TypeError(f"連携ファイルに書けない値の型です: {type(value).__name__}")


def _iso(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}-{day.day:02d}"


def _yyyymmdd(day: dt.date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


# ---- atomic write -------------------------------------------------------------------------------


def _write_atomic(path: Path, chunks: Iterable[bytes]) -> tuple[str, int]:
    """Write chunks to `<path>.part`, fsync, rename over `path`. Returns (sha256, bytes)."""
    path = Path(path)
    part = path.with_suffix(path.suffix + ".part")
    digest = hashlib.sha256()
    size = 0
    try:
        # Owner-only from the first byte: the file holds residents' names and addresses.
        with os.fdopen(os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as out:
            for chunk in chunks:
                out.write(chunk)
                digest.update(chunk)
                size += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(part, path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return digest.hexdigest(), size


def _fsync_dir(directory: Path) -> None:
    # The rename itself survives a power cut only once the directory is synced (POSIX).
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class _Tally:
    def __init__(self):
        self.rows = self.substituted = self.substituted_rows = self.truncated_rows = 0

    def row(self, substituted: int, truncated: bool) -> None:
        self.rows += 1
        self.substituted += substituted
        self.substituted_rows += substituted > 0
        self.truncated_rows += truncated

    def summary(self, sha256: str, size: int) -> FileSummary:
        return FileSummary(self.rows, self.substituted, self.substituted_rows, self.truncated_rows, sha256, size)


def _check_columns(columns: Sequence[Column]) -> None:
    if not columns:
        raise ValueError("項目が一つもありません。")
    for attr, what in (("key", "キー"), ("label", "見出し")):
        seen = [getattr(c, attr) for c in columns]
        dup = sorted({v for v in seen if seen.count(v) > 1})
        if dup:
            raise ValueError(f"項目の{what}が重複しています: {'、'.join(dup)}")


# ---- CSV ----------------------------------------------------------------------------------------


def write_csv(path: Path, columns: Sequence[Column], rows: Iterable[Mapping], *, encoding: str) -> FileSummary:
    """Header row of labels, then one line per row; RFC 4180 quoting, CRLF, no BOM."""
    encoding = _codec(encoding)
    _check_columns(columns)
    tally = _Tally()

    def line(cells: list[str]) -> bytes:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\r\n").writerow(cells)
        return buf.getvalue().encode(encoding)  # strict: substitution made every cell encodable

    def chunks() -> Iterator[bytes]:
        yield line([substitute(c.label, encoding)[0] for c in columns])
        for row in rows:
            cells, count = [], 0
            for column in columns:
                text, n = substitute(_plain(row[column.key], fixed=False), encoding)
                cells.append(text)
                count += n
            tally.row(count, False)
            yield line(cells)

    return tally.summary(*_write_atomic(path, chunks()))


def read_csv(path: Path, *, encoding: str) -> list[dict[str, str]]:
    """Rows as dicts keyed by the header row's labels. A file that cannot be read so: ValueError (bytes the
    encoding refuses raise UnicodeDecodeError, a ValueError too)."""
    encoding = _codec(encoding)
    with open(path, encoding="utf-8-sig" if encoding == "utf-8" else encoding, newline="") as stream:
        reader = csv.reader(stream)
        try:
            header = next(reader, None)
            if header is None:
                return []
            result = []
            for number, cells in enumerate(reader, start=2):
                if len(cells) != len(header):
                    raise ValueError(f"{number}行目の項目数（{len(cells)}）が見出し（{len(header)}）と一致しません。")
                result.append(dict(zip(header, cells)))
        except csv.Error:  # a field over csv's size limit (issue 18: fuzzing): the refusal is a ValueError
            raise ValueError(f"{reader.line_num}行目をCSVとして読めません（項目の中の改行や、長すぎる項目がないか確認してください）。") from None
    return result


# ---- fixed width --------------------------------------------------------------------------------


def _record_length(columns: Sequence[Column]) -> int:
    return sum(c.width for c in columns)


def _check_fixed_columns(columns: Sequence[Column]) -> None:
    _check_columns(columns)
    for c in columns:
        if c.width < 1:
            raise ValueError(f"項目「{c.label}」の桁数は1以上にしてください。")
        if c.kind == "date" and c.width != 8:
            raise ValueError(f"日付項目「{c.label}」の桁数は8です（西暦YYYYMMDD）。")


def _cut(encoded: Iterable[bytes], width: int) -> tuple[bytes, bool]:
    """Whole characters up to `width` bytes (a double-byte character is never split)."""
    out = bytearray()
    for piece in encoded:
        if len(out) + len(piece) > width:
            return bytes(out), True
        out += piece
    return bytes(out), False


def _fixed_field(column: Column, value) -> tuple[bytes, int, bool]:
    """(field bytes of exactly column.width, characters substituted, truncated)."""
    width = column.width
    if column.kind == "date":
        if value is None or value == "":
            return b" " * width, 0, False
        if isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value)
            except ValueError:
                raise ValueError(f"項目「{column.label}」の日付が読めません: {value!r}") from None
        if not isinstance(value, dt.date):
            raise ValueError(f"項目「{column.label}」は日付の項目です: {value!r}")
        return _yyyymmdd(value).encode("ascii"), 0, False
    text = _plain(value, fixed=True)
    if column.kind in ("code", "number"):
        if column.kind == "number" and text == "":
            return b" " * width, 0, False  # no value: spaces, not 0
        pattern = _CODE if column.kind == "code" else _DIGITS
        if not pattern.fullmatch(text):
            what = "英数字" if column.kind == "code" else "0以上の整数"
            raise ValueError(f"項目「{column.label}」は{what}の項目です: {value!r}")
        truncated = len(text) > width
        text = text[:width]
        padded = text.ljust(width) if column.kind == "code" else text.rjust(width, "0")
        return padded.encode("ascii"), 0, truncated
    # text: controls first (a CR or LF would split the record for a line reader), then the rule.
    text, controls = _CONTROL.subn(" ", text)
    text, count = substitute(text, FIXED_ENCODING)
    data = text.encode(FIXED_ENCODING)
    if len(data) <= width:  # almost always: one encode, no character-by-character cut (1 M rows a month)
        return data + b" " * (width - len(data)), controls + count, False
    data, truncated = _cut((c.encode(FIXED_ENCODING) for c in text), width)
    return data + b" " * (width - len(data)), controls + count, truncated


def write_fixed(path: Path, columns: Sequence[Column], rows: Iterable[Mapping]) -> FileSummary:
    """One record per row: the fields' bytes concatenated, then CRLF. CP932, no header."""
    _check_fixed_columns(columns)
    length = _record_length(columns) + len(CRLF)
    tally = _Tally()

    def chunks() -> Iterator[bytes]:
        for row in rows:
            fields, count, truncated = [], 0, False
            for column in columns:
                data, n, cut = _fixed_field(column, row[column.key])
                fields.append(data)
                count += n
                truncated = truncated or cut
            record = b"".join(fields) + CRLF
            if len(record) != length:  # not `assert`: must hold under python -O too
                raise AssertionError(f"record of {len(record)} bytes, layout says {length}")
            tally.row(count, truncated)
            yield record

    return tally.summary(*_write_atomic(path, chunks()))


def _read_field(column: Column, data: bytes) -> str:
    text = data.decode(FIXED_ENCODING).rstrip(" ")
    if column.kind == "date" and text:
        if len(text) != 8 or not text.isdigit():
            raise ValueError(f"項目「{column.label}」の日付が読めません: {text!r}")
        return f"{text[:4]}-{text[4:6]}-{text[6:]}"
    if column.kind == "number" and text:
        return text.lstrip("0") or "0"
    return text


def read_fixed(path: Path, columns: Sequence[Column]) -> list[dict[str, str]]:
    """Records as dicts keyed by column key; padding stripped, dates as YYYY-MM-DD or ''."""
    _check_fixed_columns(columns)
    length = _record_length(columns) + len(CRLF)
    data = Path(path).read_bytes()
    if len(data) % length:
        raise ValueError(f"ファイルの大きさ（{len(data)}バイト）が1レコード{length}バイトの倍数ではありません。")
    result = []
    for start in range(0, len(data), length):
        record = data[start:start + length]
        if not record.endswith(CRLF):
            raise ValueError(f"{start // length + 1}件目のレコードが改行（CRLF）で終わっていません。")
        row, offset = {}, 0
        for column in columns:
            row[column.key] = _read_field(column, record[offset:offset + column.width])
            offset += column.width
        result.append(row)
    return result

