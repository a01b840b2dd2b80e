"""The 印鑑登録証明書 as a one-page A4 PDF.

The 印影 at its real size (the stored scan's resolution) in a framed box on the left, the
registrant's items on the right (氏名, 旧氏 and 通称 when the 住民票 records them, 生年月日, 性別,
住所), then the 認証文, the date, the mayor's title and the official seal, with the certificate
pages' QR code of the verification address and the issue number. Drawn with the certificate
module's helpers (`fit`, `Certification`, `draw_qr`, the fonts with the 外字 fallback).
"""
from __future__ import annotations

import io

from PIL import Image as PILImage
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Image, SimpleDocTemplate, Spacer, Table, TableStyle

from juki.certificates import render as certificate
from juki.certificates.content import issue_stamp, written_name
from juki.core import pdf
from juki.core.pdf import draw_string, register_fonts, string_width
from juki.core.wareki import to_wareki
from juki.register.services.people import postal_text

TITLE = "印鑑登録証明書"
# The customary wording (印鑑登録証明事務処理要領's 様式 leaves it to the city).
CERTIFICATION = "この写しは、登録されている印影と相違ないことを証明する。"
MARGIN = certificate.MARGIN
HEADER_H = certificate.HEADER_H
QR_SIZE = certificate.QR_SIZE
SEAL_BOX = 40 * mm  # holds the largest registrable seal (25 mm) with its margin
LABEL_W = 26 * mm
GRID = colors.black
LABEL_FILL = colors.HexColor("#f0f0f0")


def _name(person: dict) -> str:
    n = person["name"]
    latin = (n["family_name"] + n["given_name"]).isascii()
    name = (" " if latin else "　").join(p for p in (n["family_name"], n["given_name"]) if p)
    kanji = (person.get("foreign") or {}).get("kanji_name") or ""
    return "　".join(p for p in (name, kanji) if p)


def content(*, person: dict, registration, issue_number: str, issued_on, municipality: str, mayor_title: str) -> dict:
    """The certificate as plain data; ``person`` is the selectors' person dict."""
    n = person["name"]
    # The 登録番号 (the registration's 印鑑番号) first, as the city's 印鑑登録証明書 prints it (issue 12).
    items = [["登録番号", registration.number], ["氏名", _name(person)]]
    if n.get("former_surname"):
        items.append(["旧氏", n["former_surname"]])
    alias = (person.get("foreign") or {}).get("alias_name")
    if alias:
        items.append(["通称", alias])
    items += [["生年月日", (person.get("birth_date") or {}).get("display", "")],
              ["性別", person.get("sex_label") or ""],
              ["住所", (person.get("address") or {}).get("display", "")]]
    return {
        "title": TITLE,
        "items": items,
        "image": bytes(registration.image),
        "image_dpi": registration.image_dpi or 300,
        "certification": CERTIFICATION,
        **issue_stamp(issue_number, issued_on, municipality, mayor_title),
        "person_ids": [person["person_id"]],
    }


def _seal_image(png: bytes, dpi: int) -> Image:
    """The stored scan at its real size (its pixels at the resolution it was read at)."""
    with PILImage.open(io.BytesIO(png)) as img:
        width, height = img.width * 25.4 / dpi * mm, img.height * 25.4 / dpi * mm
    scale = min(1.0, (SEAL_BOX - 4 * mm) / max(width, height))  # never larger than the box
    return Image(io.BytesIO(png), width=width * scale, height=height * scale)


def _body(c: dict, width: float) -> Table:
    """| 印影 | 氏名 | … | on the first row; the 印影 below spans the other items' rows, which share
    the box's height between them."""
    value_w = width - SEAL_BOX - LABEL_W
    items = c["items"]
    rows = [["印影" if i == 0 else (_seal_image(c["image"], c["image_dpi"]) if i == 1 else ""),
             certificate.fit(label, LABEL_W), certificate.fit(value, value_w)] for i, (label, value) in enumerate(items)]
    rows[0][0] = certificate.fit("印影", SEAL_BOX)
    below = len(items) - 1
    table = Table(rows, colWidths=[SEAL_BOX, LABEL_W, value_w],
                  rowHeights=[None] + [max(SEAL_BOX / below, 9 * mm)] * below)
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), register_fonts()[1]),
        ("BOX", (0, 0), (-1, -1), 1.0, GRID),
        ("INNERGRID", (0, 0), (-1, -1), 0.4, GRID),
        ("BACKGROUND", (0, 0), (1, 0), LABEL_FILL),
        ("BACKGROUND", (1, 0), (1, -1), LABEL_FILL),
        ("SPAN", (0, 1), (0, -1)),
        ("ALIGN", (0, 1), (0, -1), "CENTER"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
    ]))
    return table


def _frame(c: dict, verification_url: str):
    font = register_fonts()[1]
    qr = certificate.qr_runs(verification_url)

    def frame(canvas, _total: int) -> None:
        w, h = canvas._pagesize
        top = h - MARGIN
        canvas.saveState()
        size = 20
        while string_width(c["title"], font, size) > w - 2 * MARGIN - 2 * QR_SIZE - 10 * mm and size > 12:
            size -= 1
        draw_string(canvas, w / 2, top - 14 * mm, c["title"], font, size, anchor="middle")
        certificate.draw_qr(canvas, w - MARGIN - QR_SIZE, top - QR_SIZE, QR_SIZE, qr)
        canvas.setFont(font, 6.5)
        canvas.drawCentredString(w - MARGIN - QR_SIZE / 2, top - QR_SIZE - 3 * mm, "証明書の確認用")
        draw_string(canvas, MARGIN, MARGIN - 6 * mm, f"発行番号　{c['issue_number']}", font, 8.5)
        canvas.restoreState()

    return pdf.page_frame_canvas(font, frame)


def render_pdf(c: dict, *, verification_url: str) -> bytes:
    register_fonts()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN + HEADER_H - 8 * mm,
        bottomMargin=MARGIN + 6 * mm,
        # Metadata names the form only: a PDF's properties must not carry personal data.
        title=c["title"], author=c.get("municipality") or "juki", creator="juki", subject="",
    )
    story = [Spacer(1, 4 * mm), _body(c, doc.width), Spacer(1, 6 * mm),
             certificate.Certification(c["certification"], c["issued_on_display"], c["mayor_title"],
                                       certificate.seal_text(c))]
    doc.build(story, canvasmaker=_frame(c, verification_url))
    return buf.getvalue()


def inquiry_letter(*, person: dict, registration, mayor_title: str, printed_on) -> bytes:
    """照会書 and 回答書 on one A4 sheet (`core.pdf.document_pdf`): the resident confirms that the
    application was theirs, and brings the 回答書 back with the seal by the deadline."""
    name = written_name(person["name"])
    address = (person.get("address") or {})
    by_agent = f"（代理人 {registration.agent_name} による申請）" if registration.agent_name else ""
    blocks = [
        pdf.Text("　".join(filter(None, (postal_text(address.get("postal_code")), address.get("display", ""))))),
        pdf.Text(f"{name}　様"),
        pdf.Text(f"{to_wareki(printed_on)}　{mayor_title}"),
        pdf.Heading("印鑑登録の申請について（照会）"),
        pdf.Text(f"あなたの印鑑の登録について、次のとおり申請がありました{by_agent}。申請に間違いがないか確認するため、"
                 "照会します。あなたが申請したものであれば、下の回答書に記入し、登録する印鑑を押して、回答期限までに、"
                 "本人確認書類とともに市民課の窓口へお持ちください。期限を過ぎると、申請は無効になります。"),
        pdf.KeyValues([("申請日", to_wareki(registration.applied_on)), ("印鑑番号（照会番号）", registration.number),
                       ("印影の文字", registration.seal_text), ("回答期限", to_wareki(registration.answer_due))]),
        pdf.Text("心当たりのない申請であれば、回答書を持参せず、市民課へご連絡ください。", small=True),
        pdf.Heading("回答書"),
        pdf.Text(f"{mayor_title}　様"),
        pdf.Text("上記の印鑑登録の申請は、私が申請したものに相違ありません。"),
        pdf.KeyValues([("印鑑番号（照会番号）", registration.number), ("回答日", "　　　　年　　月　　日"),
                       ("住所", "\n"), ("氏名（自署）", "\n"), ("登録する印鑑", "（ここに押してください）\n\n\n\n"),
                       ("委任欄（代理人が持参するとき）", "私は、次の者に回答書の持参を委任します。\n代理人の住所\n代理人の氏名\n")]),
    ]
    return pdf.document_pdf("印鑑登録照会書・回答書", blocks)
