"""linkage.files: CSV and fixed-width files for the business systems; 外字 substituted by the
documented rule and counted, every fixed-width record of the exact length, atomic writes."""
from __future__ import annotations

import datetime as dt
import hashlib
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from juki.linkage import files
from juki.linkage.files import GETA, Column, substitute

ENCODINGS = ("utf-8", "cp932")
PUA_SAMPLES = ("\ue000", "\ue757", "\uf8ff", "\U000f0000", "\U0010fffd")


def encodable(char: str, encoding: str) -> bool:
    try:
        char.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def private_use(char: str) -> bool:
    return 0xE000 <= ord(char) <= 0xF8FF or ord(char) >= 0xF0000


def expected_count(text: str, encoding: str) -> int:
    """The rule's count, from the codec: one per private-use character and per character that
    cannot be encoded once the Windows code point of a mismatch is taken."""
    def counts(char):
        if private_use(char):
            return True
        if encoding == "cp932":
            char = files.MISMATCHES.get(char, char)
        return not encodable(char, encoding)
    return sum(1 for c in text if counts(c))


def expected_fixed_count(text: str) -> int:
    return sum(1 if unicodedata.category(c) == "Cc" else expected_count(c, "cp932") for c in text)


def _cp932_characters() -> list[str]:
    """Every character the cp932 codec round-trips, as Windows writes it."""
    chars = set()
    for lead in list(range(0x81, 0xA0)) + list(range(0xE0, 0xFD)):
        for trail in range(0x40, 0xFD):
            try:
                chars.add(bytes([lead, trail]).decode("cp932"))
            except UnicodeDecodeError:
                pass
    chars.update(bytes([b]).decode("cp932") for b in list(range(0x00, 0x81)) + list(range(0xA1, 0xE0)))
    return sorted(c for c in chars if len(c) == 1 and not private_use(c))


CP932_CHARS = _cp932_characters()
CP932_PRINTABLE = [c for c in CP932_CHARS if unicodedata.category(c) != "Cc" and c != " "]
# Anything at all: surrogates, controls, non-BMP, private use, plus the characters the rule names.
ANY_CHAR = st.one_of(
    st.characters(exclude_categories=[]),
    st.sampled_from(PUA_SAMPLES + tuple(files.MISMATCHES) + tuple(files.VARIANTS)
                    + ("髙", "﨑", "𠮷", "\uf90a", "㋿", "ｶ", "Ａ", "あ", "\r", "\n", "\x00", "\x85")),
)
UTF8_ENCODABLE = st.characters(exclude_categories=["Cs"]).filter(lambda c: not private_use(c))
NAME = Column("name", "氏名", 20)


# ---- the rule -----------------------------------------------------------------------------------


def test_variants_table_sources_outside_cp932_targets_in_jis_x_0208():
    assert files.VARIANTS
    for source, target in files.VARIANTS.items():
        assert len(source) == 1 and len(target) == 1 and source != target
        assert not encodable(source, "cp932"), source
        assert encodable(target, "cp932"), target
        # The JIS X 0208 kanji rows in Shift_JIS: lead byte 0x88-0x9F or 0xE0-0xEA (not NEC/IBM).
        lead = target.encode("cp932")[0]
        assert 0x88 <= lead <= 0x9F or 0xE0 <= lead <= 0xEA, target
        assert substitute(source, "cp932") == (target, 1)
        assert substitute(source, "utf-8") == (source, 0)  # UTF-8 carries it as it is


def test_mismatches_take_the_windows_code_point_and_count_nothing():
    for source, target in files.MISMATCHES.items():
        assert encodable(target, "cp932")
        assert substitute(source, "cp932") == (target, 0)
        assert substitute(source, "utf-8") == (source, 0)
    assert substitute("10時〜12時", "cp932") == ("10時～12時", 0)


def test_tsuchi_yoshi_becomes_yoshi_and_counts_one():
    assert substitute("𠮷田　太郎", "cp932") == ("吉田　太郎", 1)
    assert substitute("𠮷田　太郎", "utf-8") == ("𠮷田　太郎", 0)


def test_kanji_that_cp932_carries_stay_as_they_are():
    # 髙 﨑 德 栁 are NEC/IBM extension kanji, inside CP932: not substituted, not counted.
    assert substitute("髙橋　﨑山　德永　栁田", "cp932") == ("髙橋　﨑山　德永　栁田", 0)
    assert "髙".encode("cp932") == b"\xee\xe0"


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_private_use_is_always_geta(encoding):
    for char in PUA_SAMPLES:
        assert substitute(f"山{char}花子", encoding) == (f"山{GETA}花子", 1)
    assert encodable("\ue000", "cp932")  # the codec would take it (user area F040): replaced anyway


def test_nfkc_only_for_what_cannot_be_encoded():
    assert substitute("\uf90a", "cp932") == ("金", 1)  # CJK compatibility ideograph
    assert substitute("㋿元年", "cp932") == ("令和元年", 1)
    assert substitute("a\u00a0b", "cp932") == ("a b", 1)
    # Full-width letters, half-width kana and NEC specials are encodable: kept, never folded.
    assert substitute("ＡＢＣｶﾀｶﾅ①㈱", "cp932") == ("ＡＢＣｶﾀｶﾅ①㈱", 0)


def test_what_cannot_be_carried_at_all_is_geta():
    assert substitute("😀", "cp932") == (GETA, 1)
    assert substitute("😀", "utf-8") == ("😀", 0)
    assert substitute("a\ud800b", "utf-8") == (f"a{GETA}b", 1)  # a lone surrogate


def test_other_encodings_are_refused():
    with pytest.raises(ValueError):
        substitute("a", "shift_jis")


@settings(max_examples=200)
@given(text=st.text(ANY_CHAR, max_size=30), encoding=st.sampled_from(ENCODINGS))
def test_substitute_always_encodes_and_counts_exactly(text, encoding):
    result, count = substitute(text, encoding)
    result.encode(encoding)  # never raises
    assert not any(private_use(c) for c in result)
    assert count == expected_count(text, encoding)
    if count == 0:
        expect = "".join(files.MISMATCHES.get(c, c) for c in text) if encoding == "cp932" else text
        assert result == expect


# ---- CSV ----------------------------------------------------------------------------------------

CSV_COLUMNS = [Column("code", "住民票コード", 11, "code"), Column("name", "氏名", 40),
               Column("born", "生年月日", 8, "date"), Column("count", "世帯人数", 3, "number"),
               Column("head", "世帯主", 1), Column("note", "備考", 40)]


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_csv_bytes_header_crlf_no_bom_and_value_forms(tmp_path, encoding):
    path = tmp_path / "out.csv"
    summary = files.write_csv(path, CSV_COLUMNS, [
        {"code": "12345678901", "name": "小倉　一郎", "born": dt.date(1960, 4, 1), "count": 3,
         "head": True, "note": None},
        {"code": "00000000001", "name": 'ﾊﾝｶｸ, "引用"\r\n改行', "born": None, "count": 0,
         "head": False, "note": "〜"},
    ], encoding=encoding)
    data = path.read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf")
    assert data.startswith("住民票コード,氏名,生年月日,世帯人数,世帯主,備考\r\n".encode(encoding))
    assert data.endswith(b"\r\n")
    assert summary.rows == 2 and summary.substituted == 0 and summary.substituted_rows == 0
    assert summary.truncated_rows == 0
    assert summary.bytes == len(data) and summary.sha256 == hashlib.sha256(data).hexdigest()
    assert not path.with_suffix(".csv.part").exists()
    rows = files.read_csv(path, encoding=encoding)
    assert rows[0] == {"住民票コード": "12345678901", "氏名": "小倉　一郎", "生年月日": "1960-04-01",
                       "世帯人数": "3", "世帯主": "1", "備考": ""}
    assert rows[1]["氏名"] == 'ﾊﾝｶｸ, "引用"\r\n改行' and rows[1]["世帯主"] == "0"
    assert rows[1]["備考"] == ("～" if encoding == "cp932" else "〜")


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_csv_counts_substitutions_per_character_and_row(tmp_path, encoding):
    summary = files.write_csv(tmp_path / "out.csv", [NAME], [
        {"name": "𠮷田\ue000"}, {"name": "山田"}, {"name": "\U000f0001"}], encoding=encoding)
    if encoding == "cp932":
        assert (summary.substituted, summary.substituted_rows) == (3, 2)
        assert files.read_csv(tmp_path / "out.csv", encoding=encoding)[0] == {"氏名": f"吉田{GETA}"}
    else:
        assert (summary.substituted, summary.substituted_rows) == (2, 2)
        assert files.read_csv(tmp_path / "out.csv", encoding=encoding)[0] == {"氏名": f"𠮷田{GETA}"}


@settings(max_examples=100)
@given(data=st.data(), encoding=st.sampled_from(ENCODINGS))
def test_csv_round_trip_of_encodable_text(tmp_path_factory, data, encoding):
    alphabet = st.sampled_from(CP932_CHARS) if encoding == "cp932" else UTF8_ENCODABLE
    columns = [Column("a", "甲", 1), Column("b", "乙", 1), Column("c", "丙", 1)]
    rows = data.draw(st.lists(st.fixed_dictionaries({c.key: st.text(alphabet, max_size=12) for c in columns}),
                              max_size=5))
    path = tmp_path_factory.getbasetemp() / f"round-{encoding}.csv"
    summary = files.write_csv(path, columns, rows, encoding=encoding)
    assert summary.rows == len(rows) and summary.substituted == 0
    assert files.read_csv(path, encoding=encoding) == [{c.label: r[c.key] for c in columns} for r in rows]


# ---- fixed width --------------------------------------------------------------------------------

FIXED_COLUMNS = [Column("code", "住民票コード", 11, "code"), Column("kana", "氏名カナ", 20),
                 Column("name", "氏名", 20), Column("born", "生年月日", 8, "date"),
                 Column("count", "世帯人数", 3, "number"), Column("head", "世帯主", 1)]
RECORD = 11 + 20 + 20 + 8 + 3 + 1 + 2


def test_fixed_round_trip_ascii_kana_kanji(tmp_path):
    path = tmp_path / "out.dat"
    rows = [
        {"code": "12345678901", "kana": "ｺｸﾗ ｲﾁﾛｳ", "name": "小倉　一郎", "born": dt.date(1960, 4, 1),
         "count": 3, "head": True},
        {"code": "A1", "kana": "ABC xyz", "name": "髙橋　﨑子", "born": None, "count": None, "head": False},
        {"code": "", "kana": "ヤマダ　ハナコ", "name": "山田花子", "born": "2001-12-31", "count": 120,
         "head": None},
    ]
    summary = files.write_fixed(path, FIXED_COLUMNS, rows)
    data = path.read_bytes()
    assert summary.bytes == len(data) == 3 * RECORD
    assert summary.sha256 == hashlib.sha256(data).hexdigest()
    assert (summary.rows, summary.substituted, summary.truncated_rows) == (3, 0, 0)
    assert data[:RECORD] == (b"12345678901" + "ｺｸﾗ ｲﾁﾛｳ".encode("cp932").ljust(20) + "小倉　一郎".encode("cp932").ljust(20)
                             + b"19600401" + b"003" + b"1" + b"\r\n")
    assert files.read_fixed(path, FIXED_COLUMNS) == [
        {"code": "12345678901", "kana": "ｺｸﾗ ｲﾁﾛｳ", "name": "小倉　一郎", "born": "1960-04-01",
         "count": "3", "head": "1"},
        {"code": "A1", "kana": "ABC xyz", "name": "髙橋　﨑子", "born": "", "count": "", "head": "0"},
        {"code": "", "kana": "ヤマダ　ハナコ", "name": "山田花子", "born": "2001-12-31", "count": "120",
         "head": ""},
    ]
    assert not path.with_suffix(".dat.part").exists()


@settings(max_examples=100)
@given(values=st.lists(st.text(st.sampled_from(CP932_PRINTABLE), max_size=10), max_size=5))
def test_fixed_round_trip_within_width(tmp_path_factory, values):
    path = tmp_path_factory.getbasetemp() / "round.dat"
    summary = files.write_fixed(path, [NAME], [{"name": v} for v in values])
    assert summary.truncated_rows == 0 and summary.substituted == 0
    assert files.read_fixed(path, [NAME]) == [{"name": v.rstrip(" ")} for v in values]


@settings(max_examples=200)
@given(rows=st.lists(st.tuples(st.text(ANY_CHAR, max_size=15), st.text(ANY_CHAR, max_size=15)), max_size=4),
       widths=st.tuples(st.integers(1, 12), st.integers(1, 12)))
def test_fixed_any_text_never_raises_and_every_record_is_exact(tmp_path_factory, rows, widths):
    columns = [Column("a", "甲", widths[0]), Column("b", "乙", widths[1])]
    path = tmp_path_factory.getbasetemp() / "any.dat"
    summary = files.write_fixed(path, columns, [{"a": a, "b": b} for a, b in rows])
    data = path.read_bytes()
    length = sum(widths) + 2
    assert len(data) == summary.bytes == length * len(rows)
    records = [data[i:i + length] for i in range(0, len(data), length)]
    for record in records:
        assert record.endswith(b"\r\n") and b"\r" not in record[:-2] and b"\n" not in record[:-2]
        record.decode("cp932")  # every field ends on a character boundary
    assert summary.substituted == sum(expected_fixed_count(a) + expected_fixed_count(b) for a, b in rows)
    assert summary.substituted_rows == sum(1 for a, b in rows if expected_fixed_count(a + b))

    def too_long(text, width):
        return len(substitute(text.translate({i: " " for i in range(0x20)} | {i: " " for i in range(0x7F, 0xA0)}),
                              "cp932")[0].encode("cp932")) > width
    assert summary.truncated_rows == sum(1 for a, b in rows if too_long(a, widths[0]) or too_long(b, widths[1]))
    assert len(files.read_fixed(path, columns)) == len(rows)


def test_a_double_byte_character_is_never_split(tmp_path):
    path = tmp_path / "cut.dat"
    summary = files.write_fixed(path, [Column("name", "氏名", 5)], [{"name": "あいう"}, {"name": "aあい"}])
    assert path.read_bytes() == "あい ".encode("cp932") + b"\r\n" + "aあい".encode("cp932") + b"\r\n"
    assert summary.truncated_rows == 1
    assert files.read_fixed(path, [Column("name", "氏名", 5)]) == [{"name": "あい"}, {"name": "aあい"}]


def test_fixed_substitutes_and_turns_controls_into_spaces(tmp_path):
    path = tmp_path / "sub.dat"
    summary = files.write_fixed(path, [NAME], [{"name": "𠮷田\r\n\ue000"}, {"name": "〜"}])
    assert files.read_fixed(path, [NAME]) == [{"name": f"吉田  {GETA}"}, {"name": "～"}]
    assert (summary.substituted, summary.substituted_rows) == (4, 1)


def test_numbers_and_codes_cut_and_counted_bad_values_refused(tmp_path):
    columns = [Column("n", "番号", 3, "number"), Column("c", "コード", 2, "code")]
    summary = files.write_fixed(tmp_path / "n.dat", columns, [{"n": 12345, "c": "ABC"}, {"n": 7, "c": "Z"}])
    assert (tmp_path / "n.dat").read_bytes() == b"123AB\r\n007Z \r\n"
    assert summary.truncated_rows == 1
    for bad in ({"n": -1, "c": ""}, {"n": "１２", "c": ""}, {"n": 1, "c": "あ"}, {"n": 1.5, "c": ""}):
        with pytest.raises((ValueError, TypeError)):
            files.write_fixed(tmp_path / "bad.dat", columns, [bad])


def test_a_date_column_is_eight_bytes():
    with pytest.raises(ValueError):
        files.write_fixed("unused.dat", [Column("d", "日付", 10, "date")], [])


def test_failure_leaves_no_part_and_the_previous_file(tmp_path):
    path = tmp_path / "out.dat"
    columns = [Column("n", "番号", 3, "number")]
    files.write_fixed(path, columns, [{"n": 1}])
    with pytest.raises(ValueError):
        files.write_fixed(path, columns, [{"n": 2}, {"n": "x"}])
    assert path.read_bytes() == b"001\r\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.dat"]


def test_read_fixed_refuses_a_file_of_another_layout(tmp_path):
    path = tmp_path / "odd.dat"
    path.write_bytes(b"12345\r\n")
    with pytest.raises(ValueError):
        files.read_fixed(path, [Column("n", "番号", 3, "number")])


def test_layout_note_gives_the_record_length():
    note = files.layout_note(FIXED_COLUMNS)
    assert f"{RECORD - 2}バイト" in note and f"{RECORD}バイト" in note and GETA in note
