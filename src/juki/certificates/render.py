"""A certificate's content (from `content.build`) as an A4 PDF.

Layout after the standard forms: the title on every page, a bordered table of items (世帯連記式:
the household's common items on top, then one block per member), the 認証文 with the mayor's title
and the official seal on the last page only [1000][1050]. Every page carries a QR code of the
verification address and the issue number with 「n/N」 [1040]; a 公用 certificate is marked on
every page [1060]. Text that does not fit its cell is set smaller, then wrapped, never cut [1070].
All text goes through `core.pdf`'s 外字 fallback (`with_fallback`, `string_width`, `draw_string`):
a name with 𠮷 prints in IPAmj明朝 where IPAex has no glyph.
"""
from __future__ import annotations

import io
import itertools
from functools import lru_cache

from reportlab.graphics.barcode import qrencoder
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from juki.core import pdf
from juki.core.pdf import draw_string, register_fonts, string_width, with_fallback

MARGIN = 15 * mm
HEADER_H = 34 * mm  # title, 公用 mark and QR code above the items
FOOTER_H = 12 * mm
QR_SIZE = 22 * mm
SEAL_SIZE = 22 * mm  # [1050]: at most 25 mm square
SEAL_COLOR = colors.black  # [1050]: the electronic seal on certificates is black (colour only for cards)
LABEL_W = 38 * mm
NUMBER_W = 8 * mm
GRID = colors.black
LABEL_FILL = colors.HexColor("#f0f0f0")

BODY_SIZE = 10.0
MIN_ONE_LINE_SIZE = 7.0  # [1070]: shrink down to this before wrapping
WRAP_SIZE = 8.0
PAD = 3


@lru_cache(maxsize=32)
def _style(size: float) -> ParagraphStyle:
    _gothic, mincho = register_fonts()
    return ParagraphStyle(f"cert{size}", fontName=mincho, fontSize=size, leading=size * 1.35,
                          wordWrap="CJK", alignment=TA_LEFT)


def _mincho() -> str:
    return register_fonts()[1]


def markup(text: str) -> str:
    return with_fallback(text or "", _mincho())  # escaped, newlines as <br/>, 外字 in IPAmj明朝


def fit(text: str, width: float) -> Paragraph:
    """[1070]: the text at body size if it fits; else smaller, on one line; else wrapped. Never cut."""
    font = _mincho()
    inner = width - 2 * PAD
    lines = (text or "").split("\n")
    widest = max((string_width(line, font, BODY_SIZE) for line in lines), default=0)
    if widest <= inner:
        return Paragraph(markup(text), _style(BODY_SIZE))
    size = BODY_SIZE * inner / widest
    if size >= MIN_ONE_LINE_SIZE:
        return Paragraph(markup(text), _style(round(size - 0.05, 1)))
    return Paragraph(markup(text), _style(WRAP_SIZE))  # CJK wrap breaks anywhere: the whole text prints


def bordered_table(rows: list[list], widths: list[float], *, label_cols: int = 1, header: bool = False) -> Table:
    """The forms' ruled table: mincho throughout, a box, thin inner lines, label columns shaded."""
    table = Table(rows, colWidths=widths, splitByRow=True, splitInRow=1, repeatRows=1 if header else 0)
    style = [
        ("FONTNAME", (0, 0), (-1, -1), _mincho()),  # also for empty cells (no unembedded Helvetica)
        ("BOX", (0, 0), (-1, -1), 1.0, GRID),
        ("INNERGRID", (0, 0), (-1, -1), 0.4, GRID),
        # Top: a wrapped value reads on from its label's line (and pdftotext keeps it in one piece).
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), PAD),
        ("RIGHTPADDING", (0, 0), (-1, -1), PAD),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if label_cols:
        style.append(("BACKGROUND", (0, 0), (label_cols - 1, -1), LABEL_FILL))
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), LABEL_FILL))
    table.setStyle(TableStyle(style))
    return table


# Items with a short value share a row, two to a row, as on the standard forms: a household of
# four then fits on one sheet. Everything else (names, addresses, 本籍, …) has a row of its own.
SHORT_ITEMS = frozenset({
    "生年月日", "性別", "続柄", "住民となった年月日", "外国人住民となった年月日", "住所を定めた年月日", "届出日",
    "住民票コード", "個人番号", "国籍・地域", "在留期間等", "在留期間等の満了の日", "在留カード等の番号",
    "転出予定年月日", "転出年月日",
})


def _pair_rows(items: list[list[str]], short: frozenset[str] = SHORT_ITEMS) -> list[list[list[str]]]:
    rows: list[list[list[str]]] = []
    pending: list[str] | None = None
    for item in items:
        if item[0] in short:
            if pending is None:
                pending = item
            else:
                rows.append([pending, item])
                pending = None
            continue
        if pending is not None:
            rows.append([pending])
            pending = None
        rows.append([item])
    if pending is not None:
        rows.append([pending])
    return rows


def _items_table(items: list[list[str]], width: float, number: str = "", short: frozenset[str] = SHORT_ITEMS) -> Table:
    """A bordered item table: [番号 |] 項目 | 内容 | 項目 | 内容, with wide items spanning."""
    lead = NUMBER_W if number else 0
    half = (width - lead) / 2
    value_w = half - LABEL_W
    wide_w = width - lead - LABEL_W
    offset = 1 if number else 0
    data, commands = [], []
    for r, pair in enumerate(_pair_rows(items, short)):
        row = [""] if number else []
        if len(pair) == 2:
            for label, value in pair:
                row += [fit(label, LABEL_W), fit(value, value_w)]
            commands.append(("BACKGROUND", (offset + 2, r), (offset + 2, r), LABEL_FILL))
        else:
            label, value = pair[0]
            row += [fit(label, LABEL_W), fit(value, wide_w), "", ""]
            commands.append(("SPAN", (offset + 1, r), (offset + 3, r)))
        commands.append(("BACKGROUND", (offset, r), (offset, r), LABEL_FILL))
        data.append(row)
    widths = ([NUMBER_W] if number else []) + [LABEL_W, value_w, LABEL_W, value_w]
    if number:
        data[0][0] = Paragraph(markup(number), _style(BODY_SIZE))
        commands += [("SPAN", (0, 0), (0, -1)), ("ALIGN", (0, 0), (0, -1), "CENTER")]
    table = bordered_table(data, widths, label_cols=0)
    table.setStyle(TableStyle(commands))
    return table


def _history_table(rows: list[list[str]], width: float) -> Table:
    widths = [30 * mm, 48 * mm, width - 78 * mm]
    head = [Paragraph(markup(t), _style(9)) for t in ("異動日", "異動事由", "異動の内容")]
    body = [[fit(c, w) for c, w in zip(row, widths)] for row in rows]
    return bordered_table([head] + body, widths, label_cols=0, header=True)


class Certification(Flowable):
    """認証文, date, the mayor's title and the (demo) seal: one unit, the last thing of the last page."""

    def __init__(self, text: str, date_text: str, mayor_title: str, seal_text: str):
        super().__init__()
        self.text, self.date_text, self.mayor_title, self.seal_text = text, date_text, mayor_title, seal_text
        self.height = 48 * mm

    def wrap(self, avail_width, avail_height):
        self.width = avail_width
        self.para = Paragraph(markup(self.text), _style(11))
        _w, h = self.para.wrap(avail_width, avail_height)
        self.height = 6 * mm + h + 38 * mm
        return self.width, self.height

    def draw(self):
        c = self.canv
        _w, h = self.para.wrap(self.width, self.height)
        self.para.drawOn(c, 0, self.height - 6 * mm - h)
        font = _mincho()
        y = self.height - 6 * mm - h - 9 * mm
        draw_string(c, 8 * mm, y, self.date_text, font, 11)
        size = 14
        while string_width(self.mayor_title, font, size) > self.width - SEAL_SIZE - 20 * mm and size > 9:
            size -= 0.5
        title_right = self.width - SEAL_SIZE - 6 * mm
        draw_string(c, title_right, y - 14 * mm, self.mayor_title, font, size, anchor="end")
        # The seal overlaps the end of the title, as a stamped seal does.
        draw_demo_seal(c, title_right + SEAL_SIZE / 2 - 2 * mm, y - 14 * mm + 2 * mm, SEAL_SIZE, self.seal_text)


def draw_demo_seal(c, cx: float, cy: float, size: float, text: str) -> None:
    """DEMO SEAL, drawn with shapes and text: not the city's registered seal image.

    A square seal (double border) reading top to bottom, right to left, in two columns. A real
    deployment replaces this with the registered electronic seal [1050].
    """
    font = _mincho()
    c.saveState()
    c.setStrokeColor(SEAL_COLOR)
    c.setFillColor(SEAL_COLOR)
    half = size / 2
    c.setLineWidth(1.6)
    c.rect(cx - half, cy - half, size, size, stroke=1, fill=0)
    c.setLineWidth(0.5)
    c.rect(cx - half + 1.2 * mm, cy - half + 1.2 * mm, size - 2.4 * mm, size - 2.4 * mm, stroke=1, fill=0)
    chars = list(text)
    right, left = chars[: (len(chars) + 1) // 2], chars[(len(chars) + 1) // 2:]
    inner = size - 5 * mm
    col_w = inner / 2
    for col, column in enumerate((right, left)):
        if not column:
            continue
        # Seal lettering fills its column: each character as tall as its share of the height,
        # stretched to the column's width.
        step = inner / len(column)
        fsize = step * 0.9
        stretch = 100 * col_w * 0.9 / fsize
        x = cx + (col_w / 2 if col == 0 else -col_w / 2)
        for i, ch in enumerate(column):
            text = c.beginText()
            text.setFont(pdf.font_for(ch, font), fsize)
            text.setHorizScale(stretch)
            text.setTextOrigin(x - col_w * 0.45, cy + inner / 2 - step * (i + 0.5) - fsize * 0.38)
            text.textOut(ch)
            c.drawText(text)
    c.restoreState()


def seal_text(content: dict) -> str:
    return f"{content.get('municipality') or ''}長之印"


def qr_runs(url: str, border: int = 2) -> tuple[int, list[tuple[int, int, int]]]:
    """The QR code of ``url`` as (modules per side incl. border, dark runs (row, col, length)).

    Drawn as plain rectangles: ReportLab's graphics renderer would reference an unembedded Helvetica.
    """
    qr = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    qr.addData(url)
    qr.make()
    runs = []
    for r, row in enumerate(qr.modules):
        col = 0
        for dark, group in itertools.groupby(map(bool, row)):
            n = len(list(group))
            if dark:
                runs.append((r + border, col + border, n))
            col += n
    return qr.getModuleCount() + 2 * border, runs


def draw_qr(c, x: float, y: float, size: float, qr: tuple[int, list[tuple[int, int, int]]]) -> None:
    count, runs = qr
    box = size / count
    c.saveState()
    c.setFillColor(colors.black)
    for r, col, n in runs:
        c.rect(x + col * box, y + size - (r + 1) * box, n * box, box * 1.02, stroke=0, fill=1)
    c.restoreState()


def page_canvas(content: dict, verification_url: str):
    """A canvas that draws each page's frame once the page count is known (「n/N」)."""
    font = _mincho()
    qr = qr_runs(verification_url)
    title = content["title"]
    official = content.get("official_mark") or ""
    number = content.get("issue_number") or ""
    marks = content.get("marks") or ()
    reissued = reissue_note(content)

    def frame(c, total: int) -> None:
        w, h = c._pagesize
        page = c._pageNumber
        c.saveState()
        top = h - MARGIN
        size = 20
        while string_width(title, font, size) > w - 2 * MARGIN - 2 * QR_SIZE - 10 * mm and size > 12:
            size -= 1
        draw_string(c, w / 2, top - 14 * mm, title, font, size, anchor="middle")
        draw_qr(c, w - MARGIN - QR_SIZE, top - QR_SIZE, QR_SIZE, qr)
        c.setFont(font, 6.5)
        c.drawCentredString(w - MARGIN - QR_SIZE / 2, top - QR_SIZE - 3 * mm, "証明書の確認用")
        if official:
            # [1060] 公用: a boxed mark at the top left of every page.
            c.setLineWidth(1.2)
            c.rect(MARGIN, top - 16 * mm, 22 * mm, 11 * mm, stroke=1, fill=0)
            c.setFont(font, 16)
            c.drawCentredString(MARGIN + 11 * mm, top - 13.5 * mm, official)
        draw_marks(c, MARGIN, top - 25 * mm, marks, reissued)
        # The issue number carries the municipality's name (configuration, but any character).
        draw_string(c, MARGIN, MARGIN - 6 * mm, f"発行番号　{number}　{page}/{total}", font, 8.5)
        if page < total:
            c.drawRightString(w - MARGIN, MARGIN - 6 * mm, "（次のページに続きます）")
        c.restoreState()

    return pdf.page_frame_canvas(font, frame)


MARK_SIZE = 10.5


def draw_marks(c, x: float, y: float, marks, text: str = "") -> None:
    """Below the title, left to right from (x, y): boxed marks such as 「特例による転出処理済」 [670],
    then a line of text (a reissue's first issue [660]). In the header, so a reissue keeps the
    first issue's pages."""
    font = _mincho()
    c.saveState()
    c.setLineWidth(1.0)
    for mark in marks:
        w = string_width(mark, font, MARK_SIZE) + 4 * mm
        c.rect(x, y, w, 7 * mm, stroke=1, fill=0)
        draw_string(c, x + 2 * mm, y + 2.2 * mm, mark, font, MARK_SIZE)
        x += w + 3 * mm
    if text:
        draw_string(c, x, y + 2.2 * mm, text, font, 9.5)
    c.restoreState()


def reissue_note(content: dict) -> str:
    """再交付 [660]: which issue this one replaces, and when that was."""
    r = content.get("reissue")
    return f"再交付　当初の交付 {r['issued_on_display']}（発行番号 {r['number']}）" if r else ""


def notes(content: dict) -> list:
    """A form's own note (the 準ずる証明書's reason [660]), printed above the 認証文."""
    if not content.get("note"):
        return []
    return [Paragraph(markup(content["note"]), _style(BODY_SIZE)), Spacer(1, 1.5 * mm)]


def _story(content: dict, width: float) -> list:
    story: list = []
    short = SHORT_ITEMS | frozenset(content.get("short_items") or ())  # a form may pair more of its items
    if content.get("common"):
        story += [_items_table(content["common"], width, short=short), Spacer(1, 4 * mm)]
    individual = content.get("layout") == "individual"
    sections = content["sections"]
    for i, section in enumerate(sections):
        block = [_items_table(section["items"], width, number=section.get("heading") or "", short=short)]
        if section.get("history"):
            block += [Spacer(1, 1.5 * mm), _history_table(section["history"], width)]
        block.append(Spacer(1, 3 * mm))
        if i == len(sections) - 1:
            # The 認証文 goes with the last block: never a last sheet that certifies nothing.
            block += notes(content)
            block.append(Certification(content["certification"], content["issued_on_display"],
                                       content["mayor_title"], seal_text(content)))
        if individual and i > 0:
            story.append(PageBreak())  # 個人票: one sheet per person
        # A block stays on one page when it can; a longer one splits by row.
        story.append(KeepTogether(block))
    return story


def render_pdf(content: dict, *, verification_url: str) -> bytes:
    register_fonts()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN + HEADER_H - 8 * mm,
        bottomMargin=MARGIN + FOOTER_H - 6 * mm,
        # Metadata names the form only: a PDF's properties must not carry personal data.
        title=content["title"], author=content.get("municipality") or "juki", creator="juki", subject="",
    )
    doc.build(_story(content, doc.width), canvasmaker=page_canvas(content, verification_url))
    return buf.getvalue()
