"""Hypothesis strategies for fuzzing the parsers (issue 18, item 7): text as a clerk, a file or a
client could send it — full- and half-width, kana with and without combining marks, control and
format characters, and very long input. No lone surrogates: Python strings from a form, a file
read as UTF-8/CP932 or JSON decoded by DRF never hold one."""
from __future__ import annotations

from hypothesis import strategies as st

# Characters the parsers treat specially, so random text hits their branches more often than
# uniform Unicode would.
SPECIAL = (
    "0123456789０１２３４５６７８９٠١٢٣"  # ASCII, full-width and Arabic-Indic digits (str.isdigit is true for all)
    "RHSTMrhstm令和平成昭和大正明治元年月日.-/－ー−‐ 　\t\r\n\x00\x0b\x1f\x7f\u200b\ufeff\u202e"
    "あいうえおかがぱゃゅょっゔゝゞアイウエオカガパャュョッヴヽヾヷヺㇰㇿｱｲｳｶﾞﾊﾟｬｯｰ･゛゜\u3099\u309a"
    "髙﨑邊𠮷𡈽塚\ufa10・＝=,\"'()（）の夫妻子父母兄姉弟妹世帯主縁故者同居人未届"
    "\ue000\U000f0000\ufffd\u0301ß"
)

special_text = st.text(alphabet=st.sampled_from(SPECIAL), max_size=40)
# Any code point but the surrogates (category Cs).
any_text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=60)
long_text = st.builds(lambda s, n: s * n, st.text(alphabet=st.sampled_from(SPECIAL), min_size=1, max_size=4),
                      st.integers(min_value=500, max_value=5000))

fuzz_text = st.one_of(special_text, any_text, long_text)


def full_width(text: str) -> str:
    """ASCII letters, digits and punctuation as typed with the IME on."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)
