"""住民票コード通知票 and its 変更 / 修正 versions [890] (住基法30条の3第3項, 30条の4第3項).

A notice the city sends the person when it records a 住民票コード in their 住民票: a new one
(通知票: 付番, or a code recorded at an entry such as 出生 or 転入), one changed at the person's
request (変更通知票, [880]) or one corrected (修正通知票: the code changed by anything else, e.g.
the 取消し of a change). Which one, and its date, come from the person's history: the latest
version whose code differs from the one before. The notice names the person (氏名, 住所,
生年月日), the code and that date, with a short customary text, the mayor's title and seal.

It is 職権 — nobody asks for it at the counter — so it is recorded with the requester kind
`ex_officio` and no fee. It is output in the flow (the change-done screen of the change that
recorded the code) and again from the person's certificate screen (再出力: a new issue with the
register as it reads now); a 再交付 from the 交付履歴 prints the first state (`snapshot`).
"""
from __future__ import annotations

import datetime as dt
import io

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer

from juki.accounts.permissions import Perm
from juki.audit import gate
from juki.audit.gate import Actor
from juki.core.errors import DomainError, ErrorCode
from juki.core.pdf import draw_string, register_fonts
from juki.protection import enforcement
from juki.register import selectors
from juki.register.reasons import Reason
from juki.register.services.people import postal_text
from juki.core import clock

from . import render as r
from . import snapshot
from .content import issue_stamp, name_text, removed_by, written_name
from .entitlement import Kind, Request
from .models import CertificateIssue, Channel
from .preview import PLACEHOLDER_NUMBER, PreviewResult, sample_pdf
from .issuing import IssueResult, city, issuer, record_issue, verification_url

FORM = "resident_code_notice"
TITLES = {"assign": "住民票コード通知票", "change": "住民票コード変更通知票", "correction": "住民票コード修正通知票"}
DATE_LABELS = {"assign": "住民票コードを記載した日", "change": "住民票コードを変更した日", "correction": "住民票コードを修正した日"}
LEADS = {
    "assign": "あなたの住民票コードは、次のとおりです。",
    "change": "ご請求により、あなたの住民票コードを次のとおり変更しましたので、お知らせします。",
    "correction": "あなたの住民票コードを次のとおり修正しましたので、お知らせします。",
}
NOTES = (
    "住民票コードは、住民基本台帳ネットワークシステムで本人確認を行うために、住民票に記載される11桁の番号です。",
    "住民票コードは、ご本人の請求により、いつでも変更することができます（住民基本台帳法第30条の4）。",
    "この通知票は大切に保管してください。この通知票は、本人確認の書類としては使えません。",
)
CERTIFICATION = "上記のとおり通知します。"


def code_event(versions: list[dict]) -> dict | None:
    """The latest recording of the person's current code: kind, change id, date, code. Oldest-first versions."""
    event, before = None, ""
    for v in versions:
        code = v.get("resident_code") or ""
        if code and code != before:
            if v["reason"] == Reason.RESIDENT_CODE_CHANGE_REQUEST:
                kind = "change"
            else:
                kind = "correction" if before else "assign"
            event = {"kind": kind, "change_id": v["change"]["id"], "date": v["event_date"], "code": code}
        before = code
    return event


@enforcement.document_reads()  # a document for the persons it names, checked as 本人 (ADR 0013)
def _read(session, person_id: int, change_id: int | None) -> dict:
    actor = session.actor
    session.record([person_id])
    person = selectors.person_get(actor=actor, person_id=person_id)
    if "住民票コード" in (person.get("hidden_items") or []):
        raise DomainError(ErrorCode.PERMISSION_DENIED, "住民票コードを表示する権限がないため、住民票コード通知票を出力できません。",
                          field="person_id")
    if removed_by(person, clock.today()):
        raise DomainError(ErrorCode.NOT_RESIDENT, "消除された方には、住民票コード通知票を出力できません。", field="person_id")
    event = code_event(selectors.person_history(actor=actor, person_id=person_id))
    if event is None:
        raise DomainError(ErrorCode.INVALID_INPUT, "この方には住民票コードが記載されていません。", field="person_id")
    if change_id is not None and event["change_id"] != change_id:
        raise DomainError(ErrorCode.INVALID_INPUT, "この異動では、この方の今の住民票コードは記載されていません（その後に変わっています）。"
                          "住民票の照会から証明書の交付を開き、今の住民票コードで出力してください。", field="change_id")
    if enforcement.protected_ids([person_id]):
        session.flag(enforcement.FLAG)
    return {"person": person, "event": event}


def build(*, read: dict, issue_number: str, issued_on: dt.date, municipality: str, mayor_title: str) -> dict:
    person, event = read["person"], read["event"]
    kind = event["kind"]
    address = person.get("address") or {}
    items = [
        ["氏名", name_text(person)],
        ["生年月日", (person.get("birth_date") or {}).get("display", "")],
        ["住所", address.get("display", "")],
        ["住民票コード", event["code"]],
        [DATE_LABELS[kind], event["date"]["display"]],
    ]
    return {
        "form": FORM,
        "kind": kind,
        "title": TITLES[kind],
        "official_mark": "",
        **issue_stamp(issue_number, issued_on, municipality, mayor_title),
        "addressee": {"postal_code": postal_text(address.get("postal_code")),
                      "address": f"{city().prefecture}{address.get('display', '')}",
                      "name": written_name(person["name"])},
        "lead": LEADS[kind],
        "sections": [{"person_id": person["person_id"], "items": items}],
        "notes": list(NOTES),
        "certification": CERTIFICATION,
        "person_ids": [person["person_id"]],
    }


# --- the PDF ----------------------------------------------------------------------------------------

BOX = 8 * mm


class CodeBoxes(Flowable):
    """The 11 digits of the code, one per box, as the standard notice prints them."""

    def __init__(self, code: str):
        super().__init__()
        self.code = code
        self.width, self.height = BOX * len(code), BOX

    def draw(self):
        c = self.canv
        font = register_fonts()[1]
        c.setLineWidth(0.8)
        for i, digit in enumerate(self.code):
            c.rect(i * BOX, 0, BOX, BOX, stroke=1, fill=0)
            draw_string(c, i * BOX + BOX / 2, BOX * 0.25, digit, font, 15, anchor="middle")


def _items_table(items: list[list[str]], width: float):
    label_w = 48 * mm
    rows = []
    for label, value in items:
        cell = CodeBoxes(value) if label == "住民票コード" else r.fit(value, width - label_w)
        rows.append([r.fit(label, label_w), cell])
    table = r.bordered_table(rows, [label_w, width - label_w])
    table.setStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE")])  # the label level with the code's boxes
    return table


def render(content: dict, *, verification_url: str) -> bytes:
    mincho = register_fonts()[1]
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf, pagesize=A4, leftMargin=r.MARGIN, rightMargin=r.MARGIN, topMargin=r.MARGIN + r.HEADER_H - 4 * mm,
        bottomMargin=r.MARGIN + r.FOOTER_H - 6 * mm,
        title=content["title"], author=content.get("municipality") or "juki", creator="juki", subject="")
    big = ParagraphStyle("addressee", fontName=mincho, fontSize=12, leading=18)
    body = ParagraphStyle("lead", fontName=mincho, fontSize=11, leading=17)
    small = ParagraphStyle("notes", fontName=mincho, fontSize=9, leading=13, leftIndent=9, firstLineIndent=-9)
    a = content["addressee"]
    story: list = [Paragraph(r.markup(line), big) for line in (a["postal_code"], a["address"]) if line]
    story += [Paragraph(r.markup(f"{a['name']}　様"), ParagraphStyle("name", parent=big, fontSize=14, leading=22,
                                                                       leftIndent=12 * mm)),
              Spacer(1, 10 * mm), Paragraph(r.markup(content["lead"]), body), Spacer(1, 4 * mm),
              _items_table(content["sections"][0]["items"], doc.width), Spacer(1, 6 * mm)]
    story += [Paragraph(r.markup(f"・{note}"), small) for note in content.get("notes") or ()]
    story += [Spacer(1, 4 * mm), r.Certification(content["certification"], content["issued_on_display"],
                                                  content["mayor_title"], r.seal_text(content))]
    doc.build(story, canvasmaker=r.page_canvas(content, verification_url))
    return buf.getvalue()


# --- issue, preview, status ---------------------------------------------------------------------------


def resident_code_notice_issue(*, actor: Actor, person_id: int, change_id: int | None = None,
                               channel: str = Channel.COUNTER):
    """Output the person's 住民票コード(変更・修正)通知票. ``change_id``: the change it follows in the flow
    (refused if that change did not record the current code); without it, a 再出力."""
    criteria = {"form": FORM, "person_id": person_id, "change_id": change_id, "channel": channel}
    with gate.open(actor, function="certificate.issue", perm=Perm.CERTIFICATE_ISSUE, criteria=criteria) as session:
        read = _read(session, person_id, change_id)
        municipality, mayor_title = issuer(actor=session.actor)
        built: dict = {}

        def make_pdf(number: str, issued_on: dt.date) -> tuple[bytes, list[int]]:
            built["content"] = build(read=read, issue_number=number, issued_on=issued_on, municipality=municipality,
                                     mayor_title=mayor_title)
            return render(built["content"], verification_url=verification_url(number)), [person_id]

        kind = read["event"]["kind"]
        options = {"form": FORM, "person_id": person_id, "kind": kind, "change_id": read["event"]["change_id"],
                   "variant_label": TITLES[kind] if kind != "assign" else ""}
        issue, pdf = record_issue(session, form=FORM, options=options, make_pdf=make_pdf,
                                  request=Request(kind=Kind.EX_OFFICIO), channel=channel,
                                  log_criteria={"kind": kind, "reissue_output": change_id is None},
                                  snapshot=lambda: snapshot.keep(built["content"], {}))
        return IssueResult(issue=issue, pdf=pdf)


def reissue_check(session, original: CertificateIssue, content: dict) -> tuple[str, ...]:
    """A 再交付 (`snapshot.reissue`) is refused as a first output would be (no right to see the code,
    a removed person), and when the code has changed since: the reissue would tell the person a
    code that is no longer theirs. The clerk outputs the current notice instead (再出力)."""
    (person_id,) = original.person_ids
    event = _read(session, person_id, None)["event"]
    if dict(content["sections"][0]["items"])["住民票コード"] != event["code"]:
        raise DomainError(ErrorCode.INVALID_INPUT, "この通知票の住民票コードは、その後変わっているため再交付できません。"
                          "証明書の交付画面の「住民票コード通知票」から、今の住民票コードで再出力してください。",
                          field="number")
    return ()


def resident_code_notice_preview(*, actor: Actor, person_id: int):
    with gate.open(actor, function="certificate.preview", perm=Perm.CERTIFICATE_ISSUE,
                   criteria={"form": FORM, "person_id": person_id}) as session:
        read = _read(session, person_id, None)
        municipality, mayor_title = issuer(actor=session.actor)
        content = build(read=read, issue_number=PLACEHOLDER_NUMBER, issued_on=clock.today(),
                        municipality=municipality, mayor_title=mayor_title)
        return PreviewResult(pdf=sample_pdf(content, render), person_ids=(person_id,))


def resident_code_notice_status(*, actor: Actor, person_id: int) -> dict:
    """For the counter's screen: which notice the person would get and its date, or why none."""
    with gate.open(actor, function="certificate.code_notice", perm=Perm.CERTIFICATE_ISSUE,
                   criteria={"person_id": person_id}) as session:
        try:
            event = _read(session, person_id, None)["event"]
        except DomainError as exc:
            if exc.status != 400:
                raise  # not found, no right to read the person: the screen refuses as a whole
            return {"available": False, "message": exc.message}
        return {"available": True, "kind": event["kind"], "title": TITLES[event["kind"]],
                "date_label": DATE_LABELS[event["kind"]], "date": event["date"]}
