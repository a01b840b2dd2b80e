"""Printable A4 documents (lists, disclosure answers, certificates' drafts) as PDF bytes.

ReportLab with the IPAex fonts from Debian's fonts-ipaexfont: the fonts are embedded as subsets,
so a PDF prints the same on any machine and a resident can keep it. Japanese text wraps at any
character (wordWrap="CJK"); a cell is never cut, a long one makes its row taller.

Two entry points:

- ``table_pdf(title=…, columns=[("氏名", 2), …], rows=[[…], …])`` — one list, header row repeated
  on every page.
- ``document_pdf(title, [Heading(…), Text(…), KeyValues(…), Grid(…), PageBreak()])`` — headings,
  paragraphs, label/value tables and lists, for documents with several parts.

Every page carries the title, 「n / N」 page numbers, the generated-at stamp and an optional footer.
Text is plain text: markup characters are escaped, newlines become line breaks.

外字: characters IPAex has no glyph for (𠮷, many 住基 characters) print in IPAmj明朝 (Debian's
fonts-ipamj-mincho, the MJ character set made for 住民基本台帳). ``with_fallback`` turns plain text
into Paragraph markup with those runs in the fallback font, ``string_width`` and ``draw_string``
do the same for measuring and for canvas text. The fallback is loaded on first need only (46 MB),
so a PDF without 外字 neither pays for it nor embeds it. ``missing_glyphs`` names what neither
font can print.
"""
from __future__ import annotations

import datetime as dt
import io
import logging
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.pagesizes import landscape as to_landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics, ttfonts
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas as rl_canvas
from reportlab.platypus import PageBreak as _RLPageBreak
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from juki.core.errors import FontMissing

log = logging.getLogger("juki.pdf")

GOTHIC = "IPAexGothic"
MINCHO = "IPAexMincho"
FONT_FILES = {
    GOTHIC: "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
    MINCHO: "/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf",
}
# 外字 fallback; Debian's path. Missing file: 外字 print as blanks, with a warning in the log.
FALLBACK = "IPAmjMincho"
FALLBACK_FILE = "/usr/share/fonts/truetype/ipamj/ipamjm.ttf"
MARGIN = 15 * mm
HEADER_FILL = colors.HexColor("#e6e6e6")
GRID_COLOR = colors.HexColor("#808080")


FONT_PACKAGES = {GOTHIC: "fonts-ipaexfont", MINCHO: "fonts-ipaexfont"}


def font_file(name: str) -> str:
    """The path of an IPAex font, or `FontMissing`."""
    path = FONT_FILES[name]
    if not Path(path).exists():
        raise FontMissing(path, FONT_PACKAGES[name])
    return path


@lru_cache(maxsize=1)
def register_fonts() -> tuple[str, str]:
    """Registers the IPAex fonts with ReportLab once per process; returns (gothic, mincho)."""
    for name in FONT_FILES:
        pdfmetrics.registerFont(TTFont(name, font_file(name)))
        # IPAex has no bold/italic faces; map them to the same face so <b> never fails.
        pdfmetrics.registerFontFamily(name, normal=name, bold=name, italic=name, boldItalic=name)
    ttfonts.makeToUnicodeCMap = _to_unicode_cmap
    return GOTHIC, MINCHO


def _to_unicode_cmap(fontname: str, subset: list[int]) -> str:
    """ReportLab's ToUnicode CMap with characters beyond U+FFFF written as UTF-16 (surrogate pairs).

    ReportLab 5.1 writes them as 5 hex digits, which readers misparse: 𠮷 (U+20BB7) came out of
    pdftotext as 「₻」 (U+20BB), so a search in the PDF or copy and paste lost the name.
    """
    pairs = "\n".join(f"<{i:02X}> <{chr(v).encode('utf-16-be', 'surrogatepass').hex().upper()}>" for i, v in enumerate(subset))
    return "\n".join([
        "/CIDInit /ProcSet findresource begin", "12 dict begin", "begincmap",
        f"/CIDSystemInfo\n<< /Registry ({fontname})\n/Ordering ({fontname})\n/Supplement 0\n>> def",
        f"/CMapName /{fontname} def", "/CMapType 2 def",
        "1 begincodespacerange", f"<00> <{len(subset) - 1:02X}>", "endcodespacerange",
        f"{len(subset)} beginbfchar", pairs, "endbfchar",
        "endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end",
    ])


@lru_cache(maxsize=1)
def fallback_font() -> str | None:
    """Registers IPAmj明朝 on first need (once per process); None when it is not installed."""
    register_fonts()
    if not Path(FALLBACK_FILE).exists():
        log.warning("font %s not found: characters IPAex lacks (外字) print as blanks or boxes; "
                    "install the Debian package fonts-ipamj-mincho", FALLBACK_FILE)
        return None
    pdfmetrics.registerFont(TTFont(FALLBACK, FALLBACK_FILE))
    pdfmetrics.registerFontFamily(FALLBACK, normal=FALLBACK, bold=FALLBACK, italic=FALLBACK, boldItalic=FALLBACK)
    return FALLBACK


# --- 外字: runs of characters the main font lacks ----------------------------------------------


@lru_cache(maxsize=8)
def _gaps(font: str) -> re.Pattern:
    """Matches runs of characters ``font`` has no glyph for (a cmap entry to glyph 0 counts as none).

    One character class built from the cmap, so the usual text without 外字 costs one C-level
    search. A newline is never a gap: it becomes a line break.
    """
    register_fonts()
    codes = sorted(c for c, g in pdfmetrics.getFont(font).face.charToGlyph.items() if g)
    ranges, start, prev = [], codes[0], codes[0]
    for c in codes[1:] + [-1]:
        if c != prev + 1:
            ranges.append(f"\\U{start:08x}" if start == prev else f"\\U{start:08x}-\\U{prev:08x}")
            start = c
        prev = c
    return re.compile(f"[^\\n{''.join(ranges)}]+")


def _selector(ch: str) -> bool:
    return 0xFE00 <= ord(ch) <= 0xFE0F or 0xE0100 <= ord(ch) <= 0xE01EF


def _zero_width(ch: str) -> bool:
    # Variation selectors (IVS) and format characters (ZWSP, BOM …): ReportLab cannot apply an IVS
    # (no cmap format 14), and a .notdef box in their place would print a character that is not there.
    return _selector(ch) or unicodedata.category(ch) == "Cf"


def _runs(text: str, font: str) -> list[tuple[str, str]]:
    """``text`` as (font, run) pairs: the main font, and the fallback for what it lacks."""
    runs, pos = [], 0
    for m in _gaps(font).finditer(text):
        if m.start() > pos:
            runs.append((font, text[pos:m.start()]))
        gap = "".join(ch for ch in m.group() if not _zero_width(ch))
        if gap:
            # Without the fallback installed the run stays in the main font (its .notdef, as before).
            runs.append((fallback_font() or font, gap))
        pos = m.end()
    if pos < len(text):
        runs.append((font, text[pos:]))
    return runs


def with_fallback(text, font: str) -> str:
    """Plain text → Paragraph markup for a style in ``font``: markup characters escaped once,
    newlines as line breaks, and each run of characters ``font`` lacks in ``<font name="IPAmjMincho">``.
    Characters neither font has stay in the text (the fallback's .notdef prints; see
    ``missing_glyphs``); variation selectors and format characters are left out."""
    text = "" if text is None else str(text)
    if _gaps(font).search(text) is None:  # the usual case: no 外字
        return escape(text).replace("\n", "<br/>")
    parts = []
    for run_font, run in _runs(text, font):
        markup = escape(run).replace("\n", "<br/>")
        parts.append(markup if run_font == font else f'<font name="{run_font}">{markup}</font>')
    return "".join(parts)


def string_width(text: str, font: str, size: float) -> float:
    """``stringWidth`` that measures 外字 in the font they will print in."""
    text = text or ""
    if _gaps(font).search(text) is None:
        return pdfmetrics.stringWidth(text, font, size)
    return sum(pdfmetrics.stringWidth(run, f, size) for f, run in _runs(text, font))


def draw_string(c, x: float, y: float, text: str, font: str, size: float, anchor: str = "start") -> None:
    """Canvas text with the 外字 fallback; ``anchor`` "start", "middle" or "end" as in SVG.
    Leaves the canvas set to ``font`` at ``size``."""
    text = text or ""
    if anchor != "start":
        x -= string_width(text, font, size) * (0.5 if anchor == "middle" else 1.0)
    for run_font, run in _runs(text, font):
        c.setFont(run_font, size)
        c.drawString(x, y, run)
        x += pdfmetrics.stringWidth(run, run_font, size)
    c.setFont(font, size)


def font_for(ch: str, font: str) -> str:
    """The font one character prints in (for text drawn glyph by glyph, like the seal)."""
    return font if _gaps(font).search(ch) is None else (fallback_font() or font)


def missing_glyphs(text, font: str = MINCHO) -> set[str]:
    """Characters of ``text`` that neither ``font`` nor IPAmj明朝 can print (they print as the
    fallback's .notdef), and variation selectors, whose glyph variant cannot be printed (the
    base character prints in its default form). For callers that want to warn before issuing."""
    text = "" if text is None else str(text)
    gaps = "".join(_gaps(font).findall(text))
    if not gaps:
        return set()
    fb = fallback_font()
    cmap = pdfmetrics.getFont(fb).face.charToGlyph if fb else {}
    return {ch for ch in set(gaps) if _selector(ch) or (not _zero_width(ch) and not cmap.get(ord(ch)))}


# --- building blocks ------------------------------------------------------------------------


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 1  # 1 = section, 2 = subsection
    underline: bool = False  # a line to write on (a receipt's 宛名)


@dataclass(frozen=True)
class Text:
    text: str
    small: bool = False  # notes and explanations in a smaller size


@dataclass(frozen=True)
class KeyValues:
    """Label/value pairs as a two-column table (the items of a 住民票, a request's particulars)."""

    rows: list[tuple[str, str]]
    label_width: float = 0.28  # share of the text width


@dataclass(frozen=True)
class Grid:
    """A list with a header row repeated on every page. Widths are relative weights."""

    columns: list[tuple[str, float]]
    rows: list[list[str]]
    empty_text: str = "該当する記録はありません。"


@dataclass(frozen=True)
class PageBreak:
    pass


@dataclass(frozen=True)
class Stamp:
    """A red round 日付印 at the right margin (a receipt's 領収印): the office on top, the date
    across the middle band, the word below (「領収」)."""

    top: str
    date: str
    bottom: str
    size: float = 26 * mm


Block = Heading | Text | KeyValues | Grid | PageBreak | Stamp

STAMP_RED = colors.HexColor("#c8102e")


class _StampFlowable(Flowable):
    def __init__(self, stamp: Stamp, width: float):
        super().__init__()
        self.stamp, self.avail = stamp, width

    def wrap(self, avail_width, avail_height):
        return self.avail, self.stamp.size + 2 * mm

    def draw(self):
        s, c = self.stamp, self.canv
        r = s.size / 2
        cx, cy = self.avail - r - 2 * mm, r + 1 * mm
        band = r * 0.36  # half the height of the date's band
        c.saveState()
        c.setStrokeColor(STAMP_RED)
        c.setFillColor(STAMP_RED)
        c.setLineWidth(1.2)
        c.circle(cx, cy, r)
        c.setLineWidth(0.7)
        chord = (r * r - band * band) ** 0.5
        c.line(cx - chord, cy + band, cx + chord, cy + band)
        c.line(cx - chord, cy - band, cx + chord, cy - band)
        for text, y, size in ((s.top, cy + band + (r - band) * 0.30, r * 0.28),
                              (s.date, cy - r * 0.10, r * 0.26),
                              (s.bottom, cy - band - (r - band) * 0.62, r * 0.32)):
            # Fit the text inside the circle at its farther edge from the centre.
            far = max(abs(y - cy), abs(y + size * 0.8 - cy))
            room = 2 * (max(r * r - far * far, 0.0)) ** 0.5 * 0.86
            size = min(size, room / max(1.0, string_width(text, GOTHIC, 1)))
            draw_string(c, cx, y, text, GOTHIC, size, anchor="middle")
        c.restoreState()


@dataclass
class _Styles:
    body: ParagraphStyle
    small: ParagraphStyle
    cell: ParagraphStyle
    head_cell: ParagraphStyle
    h1: ParagraphStyle
    h2: ParagraphStyle
    title: ParagraphStyle
    subtitle: ParagraphStyle


def _styles() -> _Styles:
    gothic, _mincho = register_fonts()  # Mincho is registered for formal documents (certificates)
    base = {"fontName": gothic, "wordWrap": "CJK", "alignment": TA_LEFT}
    return _Styles(
        body=ParagraphStyle("body", fontSize=10, leading=15, spaceAfter=4, **base),
        small=ParagraphStyle("small", fontSize=8.5, leading=12, spaceAfter=3, **base),
        cell=ParagraphStyle("cell", fontSize=8.5, leading=11, **base),
        head_cell=ParagraphStyle("head_cell", fontSize=8.5, leading=11, **base),
        h1=ParagraphStyle("h1", fontSize=13, leading=18, spaceBefore=8, spaceAfter=5, keepWithNext=1, **base),
        h2=ParagraphStyle("h2", fontSize=11, leading=15, spaceBefore=6, spaceAfter=3, keepWithNext=1, **base),
        title=ParagraphStyle("title", fontSize=16, leading=22, spaceAfter=2, **base),
        subtitle=ParagraphStyle("subtitle", fontSize=10, leading=14, spaceAfter=6, **base),
    )


def _para(text, style: ParagraphStyle) -> Paragraph:
    # Plain text in, never markup: a name containing "<" or "&" must print as written; 外字 in IPAmj.
    return Paragraph(with_fallback(text, style.fontName), style)


def _table_style(header: bool) -> TableStyle:
    commands = [
        # Also for empty cells: the table's default font would be an unembedded Helvetica.
        ("FONTNAME", (0, 0), (-1, -1), GOTHIC),
        ("GRID", (0, 0), (-1, -1), 0.5, GRID_COLOR),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL))
    return TableStyle(commands)


def _grid(block: Grid, width: float, st: _Styles) -> Table:
    total = sum(w for _, w in block.columns) or 1
    widths = [width * w / total for _, w in block.columns]
    data = [[_para(label, st.head_cell) for label, _ in block.columns]]
    if block.rows:
        data += [[_para(cell, st.cell) for cell in row] for row in block.rows]
    else:
        data.append([_para(block.empty_text, st.cell)] + [""] * (len(block.columns) - 1))
    # splitInRow: a cell longer than a page continues on the next one instead of failing.
    table = Table(data, colWidths=widths, repeatRows=1, splitByRow=True, splitInRow=1)
    style = _table_style(header=True)
    if not block.rows:
        style.add("SPAN", (0, 1), (-1, 1))
    table.setStyle(style)
    return table


def _key_values(block: KeyValues, width: float, st: _Styles) -> Table:
    label_w = width * block.label_width
    data = [[_para(k, st.cell), _para(v, st.cell)] for k, v in block.rows]
    table = Table(data or [[_para("", st.cell), _para("記録はありません。", st.cell)]],
                  colWidths=[label_w, width - label_w], splitByRow=True, splitInRow=1)
    style = _table_style(header=False)
    style.add("BACKGROUND", (0, 0), (0, -1), HEADER_FILL)
    table.setStyle(style)
    return table


def _flowables(blocks: list[Block], width: float, st: _Styles) -> list:
    out: list = []
    for block in blocks:
        if isinstance(block, Heading):
            style = st.h1 if block.level <= 1 else st.h2
            out.append(Paragraph(f"<u>{with_fallback(block.text, style.fontName)}</u>", style) if block.underline
                       else _para(block.text, style))
        elif isinstance(block, Text):
            para = _para(block.text, st.small if block.small else st.body)
            if out and isinstance(out[-1], Paragraph) and out[-1].style.name in ("h1", "h2"):
                # A heading's lead-in text stays with what it introduces, not alone at a page foot.
                para.keepWithNext = 1
            out.append(para)
        elif isinstance(block, KeyValues):
            out += [_key_values(block, width, st), Spacer(1, 4 * mm)]
        elif isinstance(block, Grid):
            out += [_grid(block, width, st), Spacer(1, 4 * mm)]
        elif isinstance(block, PageBreak):
            out.append(_RLPageBreak())
        elif isinstance(block, Stamp):
            out.append(_StampFlowable(block, width))
        else:  # pragma: no cover - a programming error, not input
            raise TypeError(f"unknown block {block!r}")
    return out


def _now_text(now: dt.datetime | None) -> str:
    from django.utils import timezone

    from juki.core.wareki import to_wareki

    t = timezone.localtime(now) if now else timezone.localtime()
    return f"作成日時 {to_wareki(t.date())} {t.hour:02d}時{t.minute:02d}分"


def page_frame_canvas(font: str, frame):
    """A canvas class that calls `frame(canvas, total)` on every page once the page count is
    known, for running heads and 「n / N」 (ReportLab only knows it at the end)."""

    class PageFrameCanvas(rl_canvas.Canvas):
        def __init__(self, *args, **kwargs):
            # ReportLab's default initial font is Helvetica, referenced but never embedded.
            kwargs["initialFontName"] = font
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self):
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                frame(self, total)
                super().showPage()
            super().save()

    return PageFrameCanvas


def _numbered_canvas(title: str, stamp: str, footer: str, font: str):
    """The running header/footer of table and document PDFs."""

    def decorate(c, total: int) -> None:
        w, h = c._pagesize
        c.saveState()
        c.setFont(font, 8)
        c.setFillColor(colors.HexColor("#404040"))
        draw_string(c, MARGIN, h - MARGIN + 4 * mm, title, font, 8)
        c.drawRightString(w - MARGIN, h - MARGIN + 4 * mm, stamp)
        if footer:  # may carry data (the municipality's name)
            draw_string(c, MARGIN, MARGIN - 8 * mm, footer, font, 8)
        c.drawRightString(w - MARGIN, MARGIN - 8 * mm, f"{c._pageNumber} / {total}")
        c.restoreState()

    return page_frame_canvas(font, decorate)


def document_pdf(
    title: str,
    blocks: list[Block],
    *,
    subtitle: str = "",
    landscape: bool = False,
    footer: str = "",
    now: dt.datetime | None = None,
) -> bytes:
    """An A4 document: title (and subtitle) on page one, then the blocks in order."""
    st = _styles()
    pagesize = to_landscape(A4) if landscape else A4
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=pagesize,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN + 4 * mm,
        bottomMargin=MARGIN,
        title=title,
        author="juki",
        creator="juki",  # no subtitle in the metadata: it may name the person
    )
    story: list = [_para(title, st.title)]
    if subtitle:
        story.append(_para(subtitle, st.subtitle))
    story += _flowables(blocks, doc.width, st)
    doc.build(story, canvasmaker=_numbered_canvas(title, _now_text(now), footer, GOTHIC))
    return buf.getvalue()


def table_pdf(
    *,
    title: str,
    subtitle: str = "",
    columns: list[tuple[str, float]],
    rows: list[list[str]],
    landscape: bool = True,
    footer: str = "",
    now: dt.datetime | None = None,
) -> bytes:
    """An A4 list: ``columns`` are (header, relative width); every row has one string per column."""
    for row in rows:
        if len(row) != len(columns):
            raise ValueError(f"row has {len(row)} cells, expected {len(columns)}")
    return document_pdf(title, [Grid(columns, [list(r) for r in rows])], subtitle=subtitle,
                        landscape=landscape, footer=footer, now=now)
