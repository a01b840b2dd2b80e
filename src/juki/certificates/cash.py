"""Fees and cash [1420]: the fee table, the receipt (領収書) and the daily cash summary (日計表).

What the fee of an issue is stays `issuing.fee_for`'s decision (settings `JUKI_CERTIFICATE_FEES`,
a JSON object per form, and `JUKI_CERTIFICATE_FEE_DEFAULT`; 公用 and 再交付 free); this module
only shows it and adds it up. Nothing here reads personal data: an issue row holds ids, codes and
the fee, so the checks are `certificate.issue` by hand with an `events.record` row, not the gate.

- The receipt names the number, the form, 1通, the fee, the issue date, the counter's 入力場所 and
  the city, and no resident: it is handed to whoever paid (an agent, a company), so a name on
  it would be a disclosure, and without one it can be reprinted freely. A reprint says 再発行.
- The 日計表 covers the issues *issued* on one JST day (midnight to midnight) at a terminal: the
  valid ones per form (count, fee), and the voided ones one by one. A voided issue's fee was taken
  at the counter; it is either kept for the free 再交付 that replaced it (書損じ, 充当) or paid back
  (還付). A void on a later day changes the issue day's sheet, and shows when it was made.
"""
from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass

from django.db.models import Exists, OuterRef

from juki.accounts.models import Terminal
from juki.accounts.permissions import Perm
from juki.audit import events
from juki.audit.gate import Actor
from juki.audit.models import AccessLog
from juki.core import csvout
from juki.core.errors import AccessDenied, DomainError, ErrorCode, NotFoundError
from juki.core.wareki import JST, to_wareki

from . import issuing, services
from .models import FORM_CHOICES, FORM_LABELS, CertificateIssue

__all__ = ["FEE_RULES", "cash_summary", "cash_summary_csv", "cash_summary_pdf", "certificate_receipt", "fee_table"]


FEE_RULES = (
    "国・地方公共団体からの請求（公用）は、手数料がかかりません。",
    "書き損じ等で無効にした証明書の再交付は、手数料がかかりません（手数料は元の交付で受け取っています）。",
)

KEPT, REFUND, FREE = "carried", "refund", "free"
TREATMENT = {KEPT: "再交付に充当", REFUND: "還付", FREE: "手数料なし"}
OUTPUT_FUNCTION = {"screen": "certificate.cash_summary", "csv": "export.cash_summary", "pdf": "print.cash_summary"}


def fee_table() -> list[dict]:
    """The fee of each form as `fee_for` decides it for an ordinary (paid) request."""
    return [{"form": form, "label": label, "fee": issuing.fee_for(form, official=False, reissue=False)}
            for form, label in FORM_CHOICES]


def _require(actor: Actor, function: str, criteria: dict) -> None:
    if not actor.can(Perm.CERTIFICATE_ISSUE):
        events.record(actor, function=function, outcome=AccessLog.DENIED, criteria=criteria)
        raise AccessDenied("証明書の手数料を扱う権限がありません。")


def _yen(amount: int) -> str:
    return f"{amount:,}円"


# --- 領収書 ----------------------------------------------------------------------------------------


ADDRESSEE_MAX = 40
BLANK_ADDRESSEE = "\u00a0" * 48  # a line to write the name on by hand (no-break spaces: kept, underlined)
HONORIFICS = ("様", "御中", "殿")  # typed by the clerk (「上様」「○○株式会社御中」): not doubled


def receipt_addressee(text: str) -> str:
    """The 宛名 the payer asks for (a company, an agent, 上様), as typed; refused when too long or
    with a line break, never cut."""
    text = (text or "").strip()
    if any(unicodedata.category(ch).startswith("C") for ch in text):
        raise DomainError(ErrorCode.INVALID_INPUT, "宛名は1行で入力してください。", field="addressee")
    if len(text) > ADDRESSEE_MAX:
        raise DomainError(ErrorCode.INVALID_INPUT, f"宛名は{ADDRESSEE_MAX}文字以内で入力してください（{len(text)}文字）。",
                          field="addressee")
    return text


def certificate_receipt(actor: Actor, number: str, addressee: str = "") -> bytes:
    """The receipt of one paid issue as a small PDF: 宛名 (as the payer asks, or a blank line to
    write on), the amount, the particulars and the 領収印 with the issue date. Every print is
    logged (`print.receipt`); the 宛名 itself is not (it may name a person): only that there was one."""
    from juki.core.pdf import Heading, KeyValues, Stamp, Text, document_pdf

    criteria = {"number": number}
    _require(actor, "print.receipt", criteria)
    addressee = receipt_addressee(addressee)
    issue = services._load(number)
    if issue.voided:
        raise DomainError(ErrorCode.CERTIFICATE_VOIDED, "無効にした証明書の領収書は発行できません。")
    if not issue.fee:
        raise DomainError(ErrorCode.INVALID_INPUT, "手数料のかからない交付（公用・再交付）には、領収書は発行しません。")
    # A receipt is printed after its certificate: the log before the issue is never read (ADR 0030).
    reprint = AccessLog.objects.filter(function="print.receipt", outcome="done", at__gte=issue.issued_at,
                                       criteria__number=issue.number).exists()
    city = issuing.city().name  # the receipt names the city, not the 認証者
    place = issue.terminal.location if issue.terminal else "自動交付機" if issue.channel == "kiosk" else ""
    issued_on = issue.issued_at.astimezone(JST).date()
    pdf = document_pdf("領収書" + ("（再発行）" if reprint else ""), [
        Heading(addressee if addressee.endswith(HONORIFICS) else f"{addressee or BLANK_ADDRESSEE}　様", underline=True),
        Heading(f"金額　{_yen(issue.fee)}"),
        Text("上記の金額を、証明書の交付手数料として領収しました。"),
        KeyValues([("発行番号", issue.number), ("証明書", FORM_LABELS.get(issue.form, issue.form)), ("通数", "1通"),
                   ("手数料", _yen(issue.fee)), ("交付日", to_wareki(issued_on)), ("取扱場所", place or "—")]),
        Text(city),
        Stamp(top=city, date=_stamp_date(issued_on), bottom="領収"),
    ], footer=f"発行番号 {issue.number}")
    events.record(actor, function="print.receipt", criteria={"number": issue.number, "fee": issue.fee,
                                                              "reprint": reprint, "addressee": bool(addressee)})
    return pdf


def _stamp_date(day: dt.date) -> str:
    """A 日付印's date: 「R8.12.5」."""
    from juki.core.wareki import era_of

    era, year = era_of(day)
    return f"{era.letter}{year}.{day.month}.{day.day}"


# --- 日計表 ----------------------------------------------------------------------------------------


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time.min, tzinfo=JST)
    return start, start + dt.timedelta(days=1)


@dataclass
class _Counter:
    code: str
    name: str
    location: str

    def __post_init__(self):
        self.forms: dict[str, dict] = {}
        self.voids: list[dict] = []

    def out(self) -> dict:
        rows = [self.forms[f] for f, _ in FORM_CHOICES if f in self.forms]
        amount = sum(r["amount"] for r in rows)
        kept = sum(v["fee"] for v in self.voids if v["treatment"] == KEPT)
        refund = sum(v["refund"] for v in self.voids)
        return {"code": self.code, "name": self.name, "location": self.location, "rows": rows,
                "count": sum(r["count"] for r in rows), "free": sum(r["free"] for r in rows), "amount": amount,
                "voids": self.voids, "carried": kept, "refund": refund, "received": amount + kept + refund,
                "net": amount + kept}


def cash_summary(actor: Actor, day: dt.date, terminal_code: str | None = None, *, output: str = "screen") -> dict:
    """日計表 of one JST day, per terminal and form. `output` names the log row's function
    (the screen, a CSV export or a printed PDF)."""
    function = OUTPUT_FUNCTION.get(output)
    if function is None:
        raise ValueError(output)  # a programming error
    terminal_code = (terminal_code or "").strip() or None
    criteria = {"day": day.isoformat(), "terminal": terminal_code}
    _require(actor, function, criteria)
    chosen = None
    if terminal_code:
        chosen = Terminal.objects.filter(code=terminal_code).first()
        if chosen is None:
            raise NotFoundError("この端末IDの端末はありません。")
    start, end = day_bounds(day)
    issues = (CertificateIssue.objects.filter(issued_at__gte=start, issued_at__lt=end)
              .select_related("terminal", "void", "void__voided_by")
              .annotate(reissued=Exists(CertificateIssue.objects.filter(reissue_of=OuterRef("pk"))))
              .order_by("issued_at", "id"))
    if chosen is not None:
        issues = issues.filter(terminal=chosen)
    counters: dict[str, _Counter] = {}
    if chosen is not None:
        counters[chosen.code] = _Counter(chosen.code, chosen.name, chosen.location)
    for issue in issues:
        t = issue.terminal
        key = t.code if t else ""
        if key not in counters:
            counters[key] = _Counter(key, t.name if t else "端末なし（自動交付機等）", t.location if t else "")
        counter = counters[key]
        if issue.voided:
            treatment = FREE if not issue.fee else KEPT if issue.reissued else REFUND
            voided_at = issue.void.voided_at.astimezone(JST)
            counter.voids.append({
                "number": issue.number, "form": issue.form, "form_label": FORM_LABELS.get(issue.form, issue.form),
                "fee": issue.fee, "refund": issue.fee if treatment == REFUND else 0, "treatment": treatment,
                "treatment_label": TREATMENT[treatment], "issued_at": issue.issued_at.astimezone(JST).isoformat(),
                "voided_at": voided_at.isoformat(), "voided_display": f"{to_wareki(voided_at.date())} {voided_at:%H:%M}",
                "voided_by": issue.void.voided_by.username if issue.void.voided_by else ""})
            # The reason is left out: free text typed at the counter may name the resident.
            continue
        row = counter.forms.setdefault(issue.form, {"form": issue.form, "label": FORM_LABELS.get(issue.form, issue.form),
                                                    "count": 0, "free": 0, "amount": 0})
        row["count"] += 1
        row["free"] += 0 if issue.fee else 1
        row["amount"] += issue.fee
    terminals = [counters[k].out() for k in sorted(counters)]
    totals = {k: sum(t[k] for t in terminals) for k in ("count", "free", "amount", "carried", "refund", "received", "net")}
    events.record(actor, function=function, criteria={**criteria, "issues": sum(t["count"] + len(t["voids"])
                                                                                for t in terminals)})
    return {"day": day.isoformat(), "day_label": to_wareki(day), "terminal": terminal_code,
            "terminals": terminals, "totals": totals}


CSV_COLUMNS = ["交付日", "端末ID", "入力場所", "区分", "証明書", "件数", "うち無料", "手数料（円）", "還付（円）", "発行番号",
               "無効にした日時", "扱い"]


def cash_summary_csv(summary: dict) -> bytes:
    """One row per form, per voided issue and per terminal's total (through `core.csvout`: the
    入力場所 is typed by an administrator, and must not run as a formula in a spreadsheet)."""
    day = summary["day"]
    rows = []
    for t in summary["terminals"]:
        where = [day, t["code"], t["location"]]
        for r in t["rows"]:
            rows.append(where + ["交付", r["label"], r["count"], r["free"], r["amount"], 0, "", "", ""])
        for v in t["voids"]:
            rows.append(where + ["無効", v["form_label"], 1, 0, v["fee"], v["refund"], v["number"], v["voided_at"],
                                 v["treatment_label"]])
        rows.append(where + ["計（収納額）", "", t["count"], t["free"], t["net"], t["refund"], "", "", ""])
    return csvout.to_bytes(CSV_COLUMNS, rows)  # UTF-8 with a BOM: Excel on the office PCs reads it as UTF-8


def cash_summary_pdf(summary: dict) -> bytes:
    from juki.core.pdf import Grid, Heading, KeyValues, Text, document_pdf

    blocks: list = []
    for t in summary["terminals"]:
        blocks.append(Heading(f"{t['code'] or '—'}　{t['name']}" + (f"（{t['location']}）" if t["location"] else "")))
        rows = [[r["label"], f"{r['count']}通", f"{r['free']}通", _yen(r["amount"])] for r in t["rows"]]
        if rows:
            rows.append(["計", f"{t['count']}通", f"{t['free']}通", _yen(t["amount"])])
        blocks.append(Grid([("証明書", 4), ("件数", 1), ("うち無料", 1), ("手数料", 1.5)], rows,
                           empty_text="この日の交付はありません。"))
        if t["voids"]:
            blocks.append(Heading("無効にした証明書", level=2))
            blocks.append(Grid([("発行番号", 2), ("証明書", 3), ("手数料", 1.2), ("無効にした日時", 2.2), ("扱い", 1.6)],
                               [[v["number"], v["form_label"], _yen(v["fee"]), v["voided_display"], v["treatment_label"]]
                                for v in t["voids"]]))
        blocks.append(KeyValues([("交付分の手数料", _yen(t["amount"])), ("書損じ分（再交付に充当）", _yen(t["carried"])),
                                 ("還付", _yen(t["refund"])), ("収納額", _yen(t["net"]))], label_width=0.35))
    if len(summary["terminals"]) > 1:
        s = summary["totals"]
        blocks += [Heading("全端末の合計"), KeyValues([("交付件数", f"{s['count']}通（うち無料 {s['free']}通）"),
                                                 ("還付", _yen(s["refund"])), ("収納額", _yen(s["net"]))], label_width=0.35)]
    if not summary["terminals"]:
        blocks.append(Text("この日の交付はありません。"))
    where = summary["terminal"] or "全端末"
    return document_pdf("証明書交付手数料 日計表", blocks, subtitle=f"{summary['day_label']}　{where}",
                        footer="その日（0時から24時）に交付した証明書の集計です。後日無効にした分も交付した日に計上します。")
