"""Search keys for names and addresses [340]: 氏名 in kanji or kana, full or half width, with or without spaces.

The keys are for finding people only. What the register stores is never rewritten: it keeps
the exact 字形 the clerk entered (髙, 﨑, 邊 …). The keys fold away what a searcher cannot be
expected to type exactly — width, hiragana/katakana, small kana, long vowels, spaces, common
異体字 — so both the stored key and the query are folded the same way and compared by prefix.
Folding loses information on purpose (竜 finds 龍, ユーコ and ユコ share a key); the caller ranks
exact matches first.

Every key function is idempotent: ``f(f(x)) == f(x)``. Pure Python (jaconv + unicodedata), no Django.
"""
from __future__ import annotations

import re
import unicodedata

import jaconv

__all__ = ["VARIANTS", "InvalidText", "clean_text", "digits", "forbidden_characters", "is_kana", "kana_key",
           "name_key", "prefix_upper", "register_number", "text_key"]

# --- 異体字 -------------------------------------------------------------------------------------

# Common variant → standard form, applied one step (no value is also a key). Compatibility
# ideographs that NFKC already decomposes (塚 U+FA10 → 塚, 福 U+FA1B → 福 …) are not listed:
# NFKC runs first. The twelve in that block without a decomposition (﨑 U+FA11 among them) are.
VARIANTS: dict[str, str] = {
    "髙": "高",
    "﨑": "崎", "嵜": "崎", "碕": "崎", "㟢": "崎",
    "齋": "斎", "齊": "斎", "斉": "斎",
    "邊": "辺", "邉": "辺",
    "澤": "沢",
    "濱": "浜", "濵": "浜",
    "櫻": "桜",
    "廣": "広",
    "國": "国", "圀": "国",
    "惠": "恵",
    "藏": "蔵",
    "龍": "竜",
    "德": "徳",
    "眞": "真",
    "嶋": "島", "嶌": "島",
    "冨": "富",
    "瀨": "瀬",
    "槇": "槙",
    "曾": "曽",
    "靜": "静",
    "圓": "円",
    "淵": "渕",
    "條": "条",
    "黑": "黒",
    "榮": "栄",
    "來": "来",
    "傳": "伝",
    "萬": "万",
    "實": "実",
    "豐": "豊",
    "禮": "礼",
    "靑": "青",
    "𠮷": "吉",
    "𡈽": "土",
    "壽": "寿",
    "亞": "亜",
    "兒": "児",
    "與": "与",
    "峯": "峰",
    "嶽": "岳",
    "埜": "野",
    "舩": "船",
    "栁": "柳",
    "蘆": "芦",
    "檜": "桧",
    "戶": "戸", "户": "戸",
    "澁": "渋",
    "龜": "亀",
    "淺": "浅",
    "將": "将",
    "壯": "壮",
    "莊": "荘",
    "寶": "宝", "寳": "宝",
    "彌": "弥",
    "繪": "絵",
    "鷗": "鴎",
    "桒": "桑",
    "增": "増",
    "巖": "巌",
    "鐵": "鉄",
    "舘": "館",
    "晉": "晋",
    "穗": "穂",
    "聰": "聡",
    "郞": "郎",
    "邨": "村",
}
_VARIANTS_TABLE = str.maketrans(VARIANTS)

# --- character classes ---------------------------------------------------------------------------

_VOICED, _SEMI_VOICED = "\u3099", "\u309a"  # combining (han)dakuten; NFKC turns ﾞ ﾟ ゛ ゜ into these
_DOTS = "・·‧•∙⋅"  # ･ (U+FF65) is ・ after NFKC
_NAME_SEPARATORS = _DOTS + "゠="  # ＝ (U+FF1D) is = after NFKC; foreign names in katakana use it
# Dash-like characters as they are after NFKC (－ ﹣ → "-", ‑ → ‐, ｰ → ー).
_DASHES = "-‐‒–—―−⁃﹘"
_LONG_VOWEL = "ー"
_LONG_MARKS = _DASHES + _LONG_VOWEL


def _is_kana_input(c: str) -> bool:
    """Hiragana, katakana (incl. small ㇰ–ㇿ), iteration marks and the combining (han)dakuten."""
    o = ord(c)
    return (0x3041 <= o <= 0x3096 or o in (0x3099, 0x309A, 0x309D, 0x309E, 0x30FD, 0x30FE)
            or 0x30A1 <= o <= 0x30FA or 0x31F0 <= o <= 0x31FF)


def _is_kana_letter(c: str) -> bool:
    o = ord(c) if c else 0
    return 0x30A1 <= o <= 0x30FA or 0x31F0 <= o <= 0x31FF


def _is_dropped(c: str) -> bool:
    """Whitespace, format characters (ZWSP, BOM …) and variation selectors (IVS): never part of a key."""
    o = ord(c)
    return c.isspace() or unicodedata.category(c) == "Cf" or 0xFE00 <= o <= 0xFE0F or 0xE0100 <= o <= 0xE01EF


_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")

_SMALL = dict(zip("ァィゥェォッャュョヮヵヶㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿ",
                  "アイウエオツヤユヨワカケクシストヌハヒフヘホムラリルレロ"))
_KANA_FOLD = str.maketrans({
    **_SMALL,
    "ヂ": "ジ", "ヅ": "ズ", "ヲ": "オ", "ヰ": "イ", "ヱ": "エ",
    "ヴ": "ブ", "ヷ": "バ", "ヸ": "ビ", "ヹ": "ベ", "ヺ": "ボ",
})
# ヴ + small vowel is one sound: ヴァ → バ (not ブア), ヴュ → ビュ (→ ビユ by the small-kana rule).
_VU = {"ヴァ": "バ", "ヴィ": "ビ", "ヴゥ": "ブ", "ヴェ": "ベ", "ヴォ": "ボ", "ヴャ": "ビャ", "ヴュ": "ビュ", "ヴョ": "ビョ"}
_VU_RE = re.compile("ヴ[ァィゥェォャュョ]")


def _fold_kana(s: str, *, drop_orphans: bool) -> str:
    """Katakana, iteration marks spelt out, ヴ as バ行, small kana large, ヂヅヲヰヱ as ジズオイエ.

    ``s`` must be NFC. A (han)dakuten that did not combine with the kana before it is dropped.
    ヽ/ヾ repeat the kana before them (ヾ voiced: いすゞ → イスズ); with no kana before them they
    are dropped (``drop_orphans``) or kept as typed.
    """
    s = jaconv.hira2kata(s.replace(_VOICED, "").replace(_SEMI_VOICED, ""))
    if "ヽ" in s or "ヾ" in s:
        out: list[str] = []
        for c in s:
            if c in "ヽヾ":
                prev = out[-1] if out else ""
                if not _is_kana_letter(prev):
                    if not drop_orphans:
                        out.append(c)
                    continue
                base = unicodedata.normalize("NFD", _SMALL.get(prev, prev))[0]
                if c == "ヾ":
                    voiced = unicodedata.normalize("NFC", base + _VOICED)
                    base = voiced if len(voiced) == 1 else base
                c = base
            out.append(c)
        s = "".join(out)
    if "ヴ" in s:
        s = _VU_RE.sub(lambda m: _VU[m.group()], s)
    return s.translate(_KANA_FOLD)


# --- the keys ------------------------------------------------------------------------------------


def kana_key(text: str) -> str:
    """Key of a フリガナ: full-width katakana only, e.g. ``ﾔﾏﾀﾞ ﾀﾛｳ`` / ``やまだ　たろう`` → ``ヤマダタロウ``.

    Width and hiragana are folded (ｶﾞ → ガ), everything that is not kana is removed (spaces, ・,
    long-vowel marks ー－‐ｰ-, letters, kanji), small kana become large (キャノン → キヤノン),
    ヴ becomes バ行 (ヴァイオリン → バイオリン), ヂヅ → ジズ, ヲヰヱ → オイエ. Long vowels are
    removed, not spelt out: ユーコ → ユコ while ユウコ stays ユウコ (a searcher typing ユーコ finds
    ユーコ; ユウコ is a different spelling). An input without any kana gives "".
    """
    s = unicodedata.normalize("NFKC", text)
    s = unicodedata.normalize("NFC", "".join(c for c in s if _is_kana_input(c)))
    return _fold_kana(s, drop_orphans=True)


def is_kana(text: str) -> bool:
    """Did the user type a フリガナ (hiragana/katakana, any width) rather than a kanji or alphabetic name?

    Spaces, middle dots, ＝ and long-vowel marks are ignored; at least one kana is required.
    """
    s = unicodedata.normalize("NFKC", text)
    s = [c for c in s if not (c.isspace() or c in _NAME_SEPARATORS or c in _LONG_MARKS)]
    return bool(s) and all(_is_kana_input(c) for c in s) and any(_is_kana_letter(c) or "ぁ" <= c <= "ゖ" for c in s)


def name_key(text: str) -> str:
    """Key of a name in kanji (or alphabet, for foreign residents): ``髙橋　一郎`` → ``高橋一郎``.

    NFKC (full-width latin → ASCII, half-width kana → full width, compatibility ideographs),
    ASCII upper case, no whitespace, middle dots, format characters or variation selectors (IVS),
    then VARIANTS. Kana are not folded here (名 さくら and サクラ are different names).
    """
    s = unicodedata.normalize("NFKC", text).translate(_ASCII_UPPER)
    s = "".join(c for c in s if not (_is_dropped(c) or c in _NAME_SEPARATORS))
    return unicodedata.normalize("NFKC", s).translate(_VARIANTS_TABLE)


_DIGIT_LONG_VOWEL = re.compile(r"(?<=[0-9A-Z])ー+")


def text_key(text: str) -> str:
    """Key of a 番地 or 方書: ``１－２－３`` = ``1-2-3`` = ``1ー2ー3``; ``ｻﾝﾊｲﾂ 101`` = ``サンハイツ101``.

    NFKC (full-width digits and letters → ASCII), ASCII upper case, no whitespace or middle dots,
    VARIANTS, kana folded as in kana_key except that long vowels are kept (ハイツ・コーポ →
    ハイツコーポ), and every dash-like character (－ ‐ ‑ – — ― −, and ー/ｰ right after a digit
    or latin letter) becomes "-". 丁目・番地・番・号・の are kept as typed; kanji numerals are not
    converted (一丁目 ≠ 1丁目).
    """
    s = unicodedata.normalize("NFKC", text).translate(_ASCII_UPPER)
    s = "".join(c for c in s if not (_is_dropped(c) or c in _DOTS))
    s = unicodedata.normalize("NFKC", s).translate(_VARIANTS_TABLE)
    s = _fold_kana(s, drop_orphans=False)
    s = "".join("-" if c in _DASHES else c for c in s)
    return _DIGIT_LONG_VOWEL.sub(lambda m: "-" * len(m.group()), s)


def prefix_upper(key: str) -> str:
    """Exclusive upper bound of the keys that start with ``key``: ``col >= key AND col < prefix_upper(key)``.

    The key columns use COLLATE "C" on PostgreSQL and SQLite's BINARY collation, both comparing
    UTF-8 bytes, i.e. code points in order — so the range is an exact prefix match, served by a
    plain btree index. The bound is ``key`` with its last character incremented, not
    ``key + "\\uffff"``: a key followed by a character beyond the BMP (𠮷, 𡈽 and other name kanji
    in plane 2) sorts above ``key + "\\uffff"`` and would be missed. (Under a linguistic/ICU
    collation neither bound is right; the columns must stay "C".) For "" the bound is U+10FFFF,
    which matches every key not starting with that noncharacter.
    """
    i = len(key)
    while i and key[i - 1] == "\U0010ffff":
        i -= 1
    if not i:
        return key + "\U0010ffff"
    nxt = ord(key[i - 1]) + 1
    if 0xD800 <= nxt <= 0xDFFF:  # surrogates are not characters; the next one is U+E000
        nxt = 0xE000
    return key[: i - 1] + chr(nxt)


# --- what may be stored (issue 11) ------------------------------------------------------------------

# Characters nobody can see or print: control (Cc: tab, newline …), format (Cf: zero-width space and
# joiners, bidi overrides and isolates, BOM), private use (Co: a vendor's 外字 area no font here
# shares), surrogates (Cs), unassigned (Cn) and line/paragraph separators. 外字 proper — CJK
# extension ideographs such as 𠮷 and the variation selectors (Mn) of IVS — are letters and stay.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"})
_SPACES = " \u3000"


def _is_compatibility_ideograph(c: str) -> bool:
    return "\uf900" <= c <= "\ufaff" or "\U0002f800" <= c <= "\U0002fa1f"


def _nfc(text: str) -> str:
    """NFC, except CJK compatibility ideographs (﨑, 塚 …): NFC would replace them by their unified
    form, and the register keeps the 字形 entered."""
    if unicodedata.is_normalized("NFC", text):
        return text
    out, run = [], []
    for c in text:
        if _is_compatibility_ideograph(c):
            out.append(unicodedata.normalize("NFC", "".join(run)))
            out.append(c)
            run = []
        else:
            run.append(c)
    out.append(unicodedata.normalize("NFC", "".join(run)))
    return "".join(out)


def forbidden_characters(text: str) -> list[str]:
    """The characters of `text` that may not be stored, as U+XXXX (for the message; never echoed raw)."""
    return [f"U+{ord(c):04X}" for c in dict.fromkeys(text) if unicodedata.category(c) in _FORBIDDEN_CATEGORIES]


class InvalidText(ValueError):
    """A text that may not be stored; `message` is the user's Japanese text."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def clean_text(value: str | None, *, label: str, inner_space: bool = True) -> str:
    """What a typed name or text is stored as: NFC (compatibility ideographs kept), stripped of
    surrounding spaces. Refused (InvalidText) with a character nobody can see or print, and, for a
    name part (`inner_space=False`: a Japanese 氏 or 名), with a space inside it. Idempotent."""
    if not value:
        return value or ""
    text = _nfc(value).strip(_SPACES)
    bad = forbidden_characters(text)
    if bad:
        raise InvalidText(f"{label}に、表示・印刷できない文字（制御文字・ゼロ幅文字・書式文字・私用領域の文字）が含まれています"
                          f"（{'、'.join(bad[:3])}）。その文字を除いて入力し直してください。")
    if not inner_space and any(c in _SPACES for c in text):
        raise InvalidText(f"{label}の中に空白は入れられません。氏と名は、それぞれの欄に分けて入力してください。")
    return text


# --- numbers typed at the counter ---------------------------------------------------------------

_DIGIT_SEPARATORS = str.maketrans("", "", " 　-‐－ー")


def digits(text: str | None) -> str:
    """A number as typed — full- or half-width, with spaces or hyphens — as ASCII digits and letters
    (宛名番号, 世帯番号, 住民票コード, 個人番号 and 在留カード等番号 are compared in this form)."""
    return jaconv.z2h(text or "", kana=False, digit=True, ascii=True).translate(_DIGIT_SEPARATORS).upper()


def register_number(text: str | None, length: int = 10) -> str:
    """宛名番号・世帯番号: `digits`, and the leading zeros restored when fewer were typed (169862)."""
    value = digits(text)
    return value.zfill(length) if value.isdigit() and 0 < len(value) < length else value
