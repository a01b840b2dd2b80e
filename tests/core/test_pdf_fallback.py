"""core.pdf 外字 fallback: characters IPAex lacks (𠮷) print in IPAmj明朝, embedded only when used."""
from __future__ import annotations

import logging
import subprocess

import pytest

from juki.core import pdf
from juki.core.pdf import (
    Grid,
    KeyValues,
    Text,
    document_pdf,
    missing_glyphs,
    table_pdf,
    with_fallback,
)

YOSHIDA = "𠮷田　太郎"  # 𠮷 U+20BB7 (つちよし): not in IPAex, in IPAmj明朝


def _run(tool: str, pdf_bytes: bytes, *args: str) -> str:
    cmd = [tool, *args, "-", "-"] if tool == "pdftotext" else [tool, *args, "-"]
    return subprocess.run(cmd, input=pdf_bytes, capture_output=True, check=True).stdout.decode()


def fonts(pdf_bytes: bytes) -> dict[str, str]:
    """pdffonts as {font name without subset prefix: emb column}."""
    out = {}
    for line in _run("pdffonts", pdf_bytes).splitlines()[2:]:
        cols = line.split()
        out[cols[0].split("+")[-1]] = cols[-5]
    return out


@pytest.fixture
def no_fallback_installed(monkeypatch, tmp_path):
    monkeypatch.setattr(pdf, "FALLBACK_FILE", str(tmp_path / "missing.ttf"))
    pdf.fallback_font.cache_clear()
    yield
    pdf.fallback_font.cache_clear()


def test_markup_wraps_only_the_runs_the_main_font_lacks_and_escapes_once():
    assert with_fallback("𠮷田　太郎", pdf.MINCHO) == '<font name="IPAmjMincho">𠮷</font>田\u3000太郎'
    # Escaped exactly once, also inside and next to a fallback run; newlines as line breaks.
    assert (with_fallback("A&B <𠮷𠮷>\n髙橋", pdf.GOTHIC)
            == 'A&amp;B &lt;<font name="IPAmjMincho">𠮷𠮷</font>&gt;<br/>髙橋')  # 髙 is in IPAex
    assert with_fallback("山田 <花子> & 太郎", pdf.GOTHIC) == "山田 &lt;花子&gt; &amp; 太郎"
    assert with_fallback(None, pdf.GOTHIC) == ""


def test_variation_selectors_are_left_out_of_the_print_and_reported():
    ivs = "葛\U000E0100城"  # 葛 with an IVS: ReportLab cannot apply it; no .notdef box in its place
    assert with_fallback(ivs, pdf.MINCHO) == "葛城"
    assert missing_glyphs(ivs) == {"\U000E0100"}


def test_missing_glyphs_names_what_neither_font_has():
    assert missing_glyphs("𠮷田　太郎 髙橋 &<>\n") == set()
    assert missing_glyphs("青木\U000F0001") == {"\U000F0001"}  # private use: in no font
    assert missing_glyphs("") == set() and missing_glyphs(None) == set()


def test_string_width_measures_gaiji_in_the_fallback():
    # IPAex would count 𠮷 with its default width; IPAmj's glyph is full width like 吉.
    assert pdf.string_width("𠮷田", pdf.MINCHO, 10) == pytest.approx(pdf.string_width("吉田", pdf.MINCHO, 10))


def test_document_with_gaiji_embeds_ipamj_and_the_name_is_extractable():
    out = document_pdf("外字の確認", [
        Text(YOSHIDA),
        KeyValues([("氏名", YOSHIDA), ("住所", "福岡県北九州市小倉北区城内1番1号")]),
        Grid([("氏名", 1), ("備考", 1)], [[YOSHIDA, "&<𠮷>"]]),
    ], subtitle=f"{YOSHIDA} 様", footer="𠮷田市　市民課")
    found = fonts(out)
    assert found.get("IPAmjMincho") == "yes" and found.get("IPAexGothic") == "yes", found
    assert "Helvetica" not in found
    text = _run("pdftotext", out)
    # 𠮷 comes back as itself (not 「₻」 U+20BB from ReportLab's 4-digit ToUnicode).
    assert text.count("𠮷田") >= 5  # Text, KeyValues, Grid, subtitle, footer (drawString)
    assert "𠮷田市" in text and "&<𠮷>" in text


def test_plain_text_does_not_embed_the_fallback():
    out = table_pdf(title="一覧", columns=[("氏名", 1), ("住所", 2)],
                    rows=[["髙橋　花子", "北九州市小倉北区城内1番1号"], ["A&B <c>", "—"]])
    found = fonts(out)
    assert "IPAmjMincho" not in found and found.get("IPAexGothic") == "yes", found


def test_without_the_fallback_installed_it_still_prints_and_says_so(no_fallback_installed, caplog):
    with caplog.at_level(logging.WARNING, logger="juki.pdf"):
        markup = with_fallback(YOSHIDA, pdf.GOTHIC)
        out = table_pdf(title="一覧", columns=[("氏名", 1)], rows=[[YOSHIDA]])
    assert markup == "𠮷田\u3000太郎"  # no <font> tag naming a font that is not registered
    assert "fonts-ipamj-mincho" in caplog.text
    assert "IPAmjMincho" not in fonts(out)
    assert "田" in _run("pdftotext", out)
    assert missing_glyphs(YOSHIDA) == {"𠮷"}
