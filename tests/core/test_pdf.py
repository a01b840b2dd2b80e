"""core.pdf: Japanese fonts embedded, text extractable, cells wrapped not cut, header on every page."""
from __future__ import annotations

import re
import subprocess

from juki.core.pdf import Grid, Heading, KeyValues, PageBreak, Text, document_pdf, table_pdf


def _run(tool: str, pdf: bytes, *args: str) -> str:
    return subprocess.run([tool, *args, "-", "-"] if tool == "pdftotext" else [tool, *args, "-"],
                          input=pdf, capture_output=True, check=True).stdout.decode()


def pdftotext(pdf: bytes, *args: str) -> str:
    return _run("pdftotext", pdf, *args)


def pages(pdf: bytes) -> list[str]:
    return pdftotext(pdf, "-layout").split("\f")[:-1]


def has_page_number(text: str, n: int, total: int) -> bool:
    # Printed as 「1 / 3」; pdftotext may swallow the narrow spaces around the slash.
    return re.search(rf"(?<!\d){n}\s*/\s*{total}(?!\d)", text) is not None


def flat(text: str) -> str:
    # pdftotext breaks wrapped cells into lines and pads with spaces; compare without whitespace.
    return re.sub(r"\s+", "", text)


def test_fonts_are_ipaex_embedded_and_nothing_else():
    pdf = table_pdf(title="住民票の写しの交付一覧", columns=[("氏名", 1)], rows=[["山田　花子"]])
    fonts = _run("pdffonts", pdf).splitlines()[2:]
    assert fonts, "no fonts listed"
    for line in fonts:
        assert "IPAex" in line, line
        # columns: name type encoding emb sub uni …
        assert line.split()[-5:-2] == ["yes", "yes", "yes"], line


def test_japanese_text_is_extractable():
    pdf = table_pdf(title="転入届の一覧", subtitle="令和7年度", columns=[("氏名", 1), ("住所", 2)],
                    rows=[["山田　花子", "霞が関一丁目1番1号"]], footer="市民課")
    text = pdftotext(pdf)
    for needle in ("転入届の一覧", "令和7年度", "山田", "花子", "霞が関一丁目1番1号", "市民課", "作成日時"):
        assert needle in text, needle
    assert has_page_number(text, 1, 1)


def test_long_cell_wraps_and_is_not_cut():
    long_jp = "東京都千代田区霞が関" + "一丁目二番三号" * 20 + "終わり"
    long_ascii = "ABCDEFGHIJ" * 15 + "END"
    pdf = table_pdf(title="折り返し", columns=[("番号", 1), ("住所", 3), ("備考", 1)],
                    rows=[["1", long_jp, long_ascii]], landscape=False)
    text = flat(pdftotext(pdf))
    assert long_jp in text
    assert long_ascii in text
    # It did wrap: the address spans several lines of the page.
    lines = [ln for ln in pdftotext(pdf, "-layout").splitlines() if "一丁目" in ln]
    assert len(lines) >= 3


def test_header_row_repeats_on_every_page_with_page_numbers():
    rows = [[str(i), f"氏名{i}", "住所"] for i in range(200)]
    pdf = table_pdf(title="長い一覧", columns=[("連番", 1), ("氏名列", 2), ("住所列", 3)], rows=rows)
    texts = pages(pdf)
    assert len(texts) >= 3
    for n, page in enumerate(texts, start=1):
        assert "連番" in page and "氏名列" in page and "住所列" in page, f"header missing on page {n}"
        assert has_page_number(page, n, len(texts))
    everything = "".join(texts)
    assert all(f"氏名{i}" in everything for i in range(200))


def test_document_blocks_and_markup_is_printed_as_written():
    pdf = document_pdf("開示請求に対する回答", [
        Heading("1 住民票の記載事項"),
        KeyValues([("氏名", "山田 <花子> & 太郎"), ("住所", "霞が関\n一丁目")]),
        Text("ご不明な点は市民課にお問い合わせください。", small=True),
        PageBreak(),
        Heading("2 記録", level=2),
        Grid([("日時", 1), ("内容", 2)], []),
    ], subtitle="本人開示用")
    texts = pages(pdf)
    assert len(texts) == 2
    assert "山田 <花子> & 太郎" in texts[0]
    assert "お問い合わせください" in flat(texts[0])
    assert "該当する記録はありません。" in texts[1]
    assert has_page_number(texts[0], 1, 2) and has_page_number(texts[1], 2, 2)


def test_row_width_mismatch_is_refused():
    import pytest

    with pytest.raises(ValueError):
        table_pdf(title="x", columns=[("a", 1), ("b", 1)], rows=[["only one"]])


def test_a_cell_longer_than_a_page_continues_on_the_next_page():
    text = "長い文章です。" * 800 + "終わり"
    pdf = table_pdf(title="長いセル", columns=[("番号列", 1), ("本文列", 3)], rows=[["1", text]])
    texts = pages(pdf)
    assert len(texts) >= 2
    # Page headers come between the parts, so count the pieces instead of matching the whole.
    everything = flat("".join(texts))
    assert everything.count("長い文章です。") == 800 and everything.endswith("終わり" + f"{len(texts)}/{len(texts)}")
    assert all("本文列" in page for page in texts)
