"""Search-key normalisation (juki.register.textnorm): examples and properties. No database."""
import unicodedata

import jaconv
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from juki.register.textnorm import (
    VARIANTS,
    is_kana,
    kana_key,
    name_key,
    prefix_upper,
    text_key,
)

# --- kana_key ------------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["ﾔﾏﾀﾞ ﾀﾛｳ", "やまだ　たろう", "ヤマダタロウ", "ヤマダ　タロウ", "ﾔﾏﾀﾞﾀﾛｳ", "やまだ・たろう", "ヤマダ･タロウ"])
def test_kana_width_script_and_spaces(typed):
    assert kana_key(typed) == "ヤマダタロウ"


@pytest.mark.parametrize("a, b, key", [
    ("ヴァイオリン", "バイオリン", "バイオリン"),  # ヴァ → バ, not ブア
    ("ヴィーナス", "ビーナス", "ビナス"),
    ("ヴェルサイユ", "ベルサイユ", "ベルサイユ"),
    ("ヴォルフ", "ボルフ", "ボルフ"),
    ("ヴュー", "ビュー", "ビユ"),
    ("ヴ", "ブ", "ブ"),
    ("ｷｬﾉﾝ", "キヤノン", "キヤノン"),  # small kana → large
    ("ガッコウ", "ガツコウ", "ガツコウ"),
    ("ｶﾞｯﾊﾟｲ", "ガツパイ", "ガツパイ"),  # half-width dakuten/handakuten combine
    ("ちぢみ", "チジミ", "チジミ"),
    ("つづき", "ツズキ", "ツズキ"),
    ("ヲノ", "オノ", "オノ"),
    ("ゐのうゑ", "イノウエ", "イノウエ"),
    ("ヶ", "ケ", "ケ"),
    ("いすゞ", "イスズ", "イスズ"),  # iteration marks spelt out
    ("さゝき", "ササキ", "ササキ"),
    ("か゛", "ガ", "ガ"),  # a separate ゛ still voices
])
def test_kana_folds(a, b, key):
    assert kana_key(a) == kana_key(b) == key


def test_long_vowels_are_removed_not_spelt_out():
    # ー and its look-alikes go; ユウコ is a different spelling and keeps its ウ.
    assert kana_key("ユーコ") == kana_key("ユｰコ") == kana_key("ユ－コ") == kana_key("ユ-コ") == kana_key("ユ‐コ") == "ユコ"
    assert kana_key("ユウコ") == "ユウコ"
    assert kana_key("ユーコ") != kana_key("ユウコ")


def test_kana_key_drops_what_is_not_kana():
    assert kana_key("山田") == ""
    assert kana_key("ー") == ""
    assert kana_key("") == ""
    assert kana_key("ジョン＝スミス") == "ジヨンスミス"


@pytest.mark.parametrize("text, expected", [
    ("やまだ たろう", True), ("ﾔﾏﾀﾞ ﾀﾛｳ", True), ("ヤマダ・タロウ", True), ("ユーコ", True), ("ジョン＝スミス", True),
    ("山田太郎", False), ("ヤマダ太郎", False), ("Smith", False), ("ＳＭＩＴＨ", False), ("", False), ("　", False),
    ("ー", False), ("・", False), ("々", False),
])
def test_is_kana(text, expected):
    assert is_kana(text) is expected


# --- name_key ------------------------------------------------------------------------------------


@pytest.mark.parametrize("names", [
    ("髙橋", "高橋"),
    ("山﨑", "山崎", "山嵜", "山碕"),
    ("渡邊", "渡邉", "渡辺"),
    ("齋藤", "齊藤", "斉藤", "斎藤"),
    ("濱田", "濵田", "浜田"),
    ("𠮷田", "吉田"),
    ("𡈽屋", "土屋"),
    ("塚本", "\ufa10本"),  # U+FA10 is folded by NFKC, not by VARIANTS
    ("Smith John", "ＳＭＩＴＨ　ＪＯＨＮ", "smith  john", "SMITHJOHN"),
    ("山田　太郎", "山田 太郎", "山田太郎"),
    ("葛\U000e0100城", "葛城"),  # variation selector (IVS) dropped
])
def test_name_variants_fold_together(names):
    assert len({name_key(n) for n in names}) == 1


def test_name_key_canonical_forms():
    assert name_key("髙橋　一郎") == "高橋一郎"
    assert name_key("ジョン・スミス") == "ジョンスミス"
    assert name_key("ｼﾞｮﾝ") == "ジョン"  # width folded, kana otherwise kept as written
    assert name_key("さくら") != name_key("サクラ")


def test_variants_table():
    assert 40 <= len(VARIANTS) <= 80
    for k, v in VARIANTS.items():
        assert len(k) == len(v) == 1 and k != v
        assert v not in VARIANTS, f"{v} is both a target and a key"
        assert unicodedata.normalize("NFKC", k) == k, f"{k} is already folded by NFKC"
        assert unicodedata.normalize("NFKC", v) == v


# --- text_key ------------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["１－２－３", "1-2-3", "1ー2ー3", "1‐2‐3", "1−2−3", "１ｰ２ｰ３", "1 - 2 - 3", "1—2―3", "1–2‑3"])
def test_banchi_dashes(typed):
    assert text_key(typed) == "1-2-3"


def test_text_key_examples():
    assert text_key("１２番地の３") == text_key("12番地の3")
    assert text_key("３丁目５番") == "3丁目5番"
    assert text_key("一丁目") != text_key("1丁目")  # kanji numerals are not converted
    assert text_key("ｻﾝﾊｲﾂ・コーポ　１０１号") == text_key("さんはいつコーポ101号") == "サンハイツコーポ101号"
    assert text_key("ｺｰﾎﾟ") == "コーポ"  # long vowel kept when not after a digit
    assert text_key("ａ棟－１") == text_key("A棟-1") == "A棟-1"
    assert text_key("Aー1") == "A-1"
    assert text_key("髙橋ビル") == text_key("高橋ビル")
    assert text_key("ヴィラ") == text_key("ビラ")


# --- prefix_upper --------------------------------------------------------------------------------


def test_prefix_upper_examples():
    assert prefix_upper("ヤマ") == "ヤミ"
    assert prefix_upper("a\ud7ff") == "a\ue000"  # skips the surrogates
    assert prefix_upper("a\U0010ffff") == "b"
    # a plane-2 kanji right after the prefix: "田中\uffff" would have been too low a bound
    stored = name_key("田中𩸽男")  # U+29E3D, not in VARIANTS
    assert stored.encode() < prefix_upper("田中").encode()
    assert stored.encode() > ("田中" + "\uffff").encode()


def _in_range(key: str, s: str) -> bool:
    # UTF-8 byte order: what COLLATE "C" (PostgreSQL) and BINARY (SQLite) compare.
    return key.encode() <= s.encode() < prefix_upper(key).encode()


@given(st.text(), st.text())
@example("田中", "𠮷")
@example("", "")
@example("a\ud7ff", "x")
def test_prefix_upper_matches_exactly_the_prefixed(key, rest):
    assert _in_range(key, key + rest)
    assert key <= key + rest < prefix_upper(key)  # code-point order agrees with UTF-8 byte order


@given(st.text(min_size=1), st.text())
def test_prefix_upper_excludes_the_rest(key, other):
    if not other.startswith(key):
        assert not _in_range(key, other)


# --- properties ----------------------------------------------------------------------------------

KATAKANA = [chr(c) for c in range(0x30A1, 0x30FB)] + ["ー", "ヽ", "ヾ"]
HIRAGANA = [chr(c) for c in range(0x3041, 0x3097)] + ["ー", "ゝ", "ゞ"]
SEPARATORS = [" ", "　", "・", "･"]
katakana_text = st.text(st.sampled_from(KATAKANA + SEPARATORS))
hiragana_text = st.text(st.sampled_from(HIRAGANA + SEPARATORS))
# Mostly awkward characters: kana of every kind, combining marks, dashes, variants, compat forms.
TRICKY = (KATAKANA + HIRAGANA + SEPARATORS + list(VARIANTS) + list(VARIANTS.values())
          + ["\u3099", "\u309a", "゛", "゜", "ﾞ", "ﾟ", "ｶ", "ﾊ", "ｳ", "ｰ", "-", "－", "‐", "—", "1", "１", "a", "Ａ",
             "i", "\u0307", "\u0301", "e", "\ufa10", "\U000e0100", "\u200b", "\t", "丁", "々", "ゟ", "ヿ", "ｧ", "ㇷ"])
tricky_text = st.text(st.sampled_from(TRICKY)) | st.text()


@settings(max_examples=500)
@given(tricky_text)
def test_keys_are_idempotent(s):
    for f in (kana_key, name_key, text_key):
        once = f(s)
        assert f(once) == once, f.__name__


@settings(max_examples=300)
@given(katakana_text)
def test_kana_key_ignores_script_and_width(s):
    key = kana_key(s)
    assert kana_key(jaconv.kata2hira(s)) == key
    assert kana_key(jaconv.z2h(s, kana=True, ascii=False, digit=False)) == key
    assert kana_key(jaconv.z2h(jaconv.kata2hira(s), kana=True)) == key


@settings(max_examples=300)
@given(hiragana_text)
def test_kana_key_of_hiragana_equals_katakana(s):
    assert kana_key(s) == kana_key(jaconv.hira2kata(s))
    assert kana_key(s) == kana_key(jaconv.z2h(jaconv.hira2kata(s), kana=True))


@settings(max_examples=300)
@given(tricky_text)
def test_kana_key_is_plain_katakana(s):
    key = kana_key(s)
    assert all(0x30A1 <= ord(c) <= 0x30FA for c in key)
    assert not set(key) & set("ァィゥェォッャュョヮヵヶヴヂヅヲヰヱヷヸヹヺー")
    assert is_kana(key) == bool(key)


@given(tricky_text)
def test_is_kana_means_a_kana_key(s):
    if is_kana(s):
        assert kana_key(s)


@given(tricky_text)
def test_name_key_has_no_whitespace(s):
    key = name_key(s)
    assert not any(c.isspace() for c in key)
    assert not set(key) & set(VARIANTS)
    assert not any("a" <= c <= "z" for c in key)


@given(tricky_text)
def test_text_key_has_no_whitespace_and_plain_dashes(s):
    key = text_key(s)
    assert not any(c.isspace() for c in key)
    assert not set(key) & set("－‐‑‒–—―−")


# --- numbers typed at the counter (issue 12) ------------------------------------------------------


def test_digits_and_register_numbers_accept_every_width():
    from juki.register.textnorm import digits, register_number

    assert digits("１２３４ ５６７８-９０１８") == "123456789018"
    assert digits("ａｂ１２３４５６７８ｃｄ") == "AB12345678CD"
    assert register_number("169862") == "0000169862"
    assert register_number("０１６９８６２") == "0000169862"
    assert register_number("0000169862") == "0000169862"
    assert register_number("") == ""
    assert register_number("12-AB") == "12AB"  # not a number: left for the search to find nothing


@given(st.integers(min_value=1, max_value=10**10 - 1), st.booleans())
def test_register_number_restores_the_leading_zeros_in_either_width(n, wide):
    from juki.register.textnorm import register_number

    typed = jaconv.h2z(str(n), digit=True) if wide else str(n)
    assert register_number(typed) == f"{n:010d}"
    assert register_number(register_number(typed)) == register_number(typed)  # idempotent
