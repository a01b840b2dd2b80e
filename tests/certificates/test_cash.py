"""Fees and cash [1420]: the fee table, the receipt (領収書), the daily cash summary (日計表)."""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
import shutil
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone

from juki.accounts.models import Terminal
from juki.audit.gate import Actor
from juki.audit.models import AccessLog, Category
from juki.certificates import cash, issuing, move_out, services
from juki.certificates.content import Options
from juki.certificates.models import CertificateIssue
from juki.certificates.services import Request
from juki.core.errors import AccessDenied, DomainError, ErrorCode
from tests.conftest import counter_client
from tests.helpers import last_log, pdf_text

from .test_move_out import leave

pytestmark = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")

NS = "certificate_counter"
DOCS = ("運転免許証",)
FEES = {"copy": 300, "removed_copy": 300, "entry_cert": 250, "move_out_cert": 0, "resident_code_notice": 0,
        "seal_cert": 300}
GOV = Request(kind="government", requester_name="北九州市保健福祉局", legal_basis="生活保護法第29条")


@pytest.fixture(autouse=True)
def fees(settings):
    settings.JUKI_CERTIFICATE_FEES = FEES
    settings.JUKI_CERTIFICATE_FEE_DEFAULT = 400  # removed_entry_cert is not in the table


@pytest.fixture
def second(db, clerk2):
    """Another counter (terminal) and its clerk."""
    t2 = Terminal.objects.create(code="T-02", name="窓口2", location="八幡西区役所 市民課")
    return Actor(user=clerk2, terminal=t2)


def issue(actor, fam, *, form="copy", request=None) -> CertificateIssue:
    return services.certificate_issue(
        actor=actor, options=Options(form=form), household_id=fam["household"], person_ids=[],
        request=request or Request(kind="self", requester_person_id=fam["head"], documents=DOCS)).issue


def void(actor, number: str, reason="印刷を誤ったため"):
    services.certificate_void(actor=actor, number=number, reason=reason)


# --- fees ------------------------------------------------------------------------------------------


def test_fee_table_per_form_from_settings():
    assert {r["form"]: r["fee"] for r in cash.fee_table()} == {
        "copy": 300, "removed_copy": 300, "entry_cert": 250, "removed_entry_cert": 400, "move_out_cert": 0,
        "resident_code_notice": 0, "seal_cert": 300}
    assert [r["label"] for r in cash.fee_table()][:1] == ["住民票の写し"]
    assert issuing.fee_for("entry_cert", official=True, reissue=False) == 0
    assert issuing.fee_for("entry_cert", official=False, reissue=True) == 0


def test_issued_fees_per_form_official_free_and_reissue_free(world, fam):
    assert issue(world, fam).fee == 300
    assert issue(world, fam, form="entry_cert").fee == 250
    assert issue(world, fam, request=GOV).fee == 0  # 公用
    spoiled = issue(world, fam, form="entry_cert")
    void(world, spoiled.number)
    assert services.certificate_reissue(actor=world, number=spoiled.number).issue.fee == 0  # 再交付


def test_fee_screen_and_help_show_the_table(clerk, terminal, world):
    client = counter_client(clerk, terminal)
    page = client.get(reverse(f"{NS}:fee_table")).content.decode()
    assert re.search(r"住民票記載事項証明書</th><td[^>]*>250円", page)
    assert "公用" in page and "再交付" in page
    assert reverse("counter:help", args=["certificate"]) in page
    help_page = client.get(reverse("counter:help", args=["certificate"])).content.decode()
    assert "日計表" in help_page and "領収書" in help_page
    assert re.search(r"住民票の除票の記載事項証明書</td><td>400円", help_page)


# --- receipt ---------------------------------------------------------------------------------------


def test_receipt_has_number_fee_and_place_but_no_name(world, fam):
    rec = issue(world, fam)
    text = pdf_text(cash.certificate_receipt(world, rec.number))
    assert "領収書" in text and "再発行" not in text
    assert rec.number in text and "300円" in text and "1通" in text and "住民票の写し" in text
    assert "北九州市" in text and "小倉北区役所市民課" in text
    assert "青木" not in text and "太郎" not in text and "花子" not in text  # no resident on a receipt
    row = last_log(function="print.receipt")
    assert row.category == Category.PRINT and row.outcome == "done" and row.person_count == 0
    assert row.criteria["number"] == rec.number and row.criteria["fee"] == 300
    # A second print says so.
    assert "領収書（再発行）" in pdf_text(cash.certificate_receipt(world, rec.number))


def test_no_receipt_for_free_or_voided_issues(world, fam):
    official = issue(world, fam, request=GOV)
    with pytest.raises(DomainError) as err:
        cash.certificate_receipt(world, official.number)
    assert err.value.code == ErrorCode.INVALID_INPUT
    paid = issue(world, fam)
    void(world, paid.number)
    with pytest.raises(DomainError) as err:
        cash.certificate_receipt(world, paid.number)
    assert err.value.code == ErrorCode.CERTIFICATE_VOIDED
    with pytest.raises(DomainError) as err:
        cash.certificate_receipt(world, "2000-999999")
    assert err.value.status == 404
    assert not AccessLog.objects.filter(function="print.receipt").exists()


def test_receipt_button_on_the_issued_screen(clerk, terminal, world, fam):
    client = counter_client(clerk, terminal)
    rec = issue(world, fam)
    url = reverse(f"{NS}:issue_receipt", args=[rec.number])
    page = client.get(reverse(f"{NS}:issue_detail", args=[rec.number])).content.decode()
    assert f'method="post" action="{url}"' in page and 'name="addressee"' in page
    r = client.get(url)
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert f"receipt-{rec.number}.pdf" in r["Content-Disposition"]
    assert rec.number in pdf_text(r.content)
    free = issue(world, fam, request=GOV)
    assert url.replace(rec.number, free.number) not in client.get(
        reverse(f"{NS}:issue_detail", args=[free.number])).content.decode()


def test_receipt_addressee_as_the_payer_asks_and_the_stamp_with_the_issue_date(world, fam):
    from juki.core.wareki import era_of

    rec = issue(world, fam)
    text = pdf_text(cash.certificate_receipt(world, rec.number, addressee="株式会社　門司商事"))
    assert "株式会社門司商事様" in text  # (pdftotext here drops the spaces)
    day = timezone.localdate(CertificateIssue.objects.get(number=rec.number).issued_at)
    era, year = era_of(day)
    assert "領収" in text.split("上記の金額")[1] and f"{era.letter}{year}.{day.month}.{day.day}" in text  # 領収印
    row = last_log(function="print.receipt")
    assert row.criteria["addressee"] is True and "門司" not in str(row.criteria)  # a name never in the log
    blank = pdf_text(cash.certificate_receipt(world, rec.number))
    assert "領収書（再発行）様金額" in blank  # a blank line before 様, to write the name on
    assert last_log(function="print.receipt").criteria["addressee"] is False


def test_receipt_addressee_too_long_or_two_lines_is_refused_not_cut(clerk, terminal, world, fam):
    rec = issue(world, fam)
    for bad, message in (("あ" * 41, "宛名は40文字以内で入力してください（41文字）。"), ("門司\n商事", "宛名は1行で入力してください。")):
        with pytest.raises(DomainError) as err:
            cash.certificate_receipt(world, rec.number, addressee=bad)
        assert err.value.code == ErrorCode.INVALID_INPUT and err.value.field == "addressee"
        assert err.value.message == message
    assert not AccessLog.objects.filter(function="print.receipt").exists()
    client = counter_client(clerk, terminal)
    url = reverse(f"{NS}:issue_receipt", args=[rec.number])
    r = client.post(url, {"addressee": "あ" * 41})
    assert r.status_code == 400 and "宛名は40文字以内" in r.content.decode()
    r = client.post(url, {"addressee": "上様"})
    assert r.status_code == 200 and "上様金額" in pdf_text(r.content)  # not 「上様 様」
    assert "門司商事御中金額" in pdf_text(cash.certificate_receipt(world, rec.number, addressee="門司商事御中"))


# --- daily cash summary ----------------------------------------------------------------------------


def _terminal(summary, code) -> dict:
    return next(t for t in summary["terminals"] if t["code"] == code)


def test_summary_per_terminal_and_form_with_voids(world, fam, second):
    a = issue(world, fam)  # T-01 copy 300
    issue(world, fam)  # T-01 copy 300
    issue(world, fam, form="entry_cert")  # T-01 entry_cert 250
    issue(world, fam, request=GOV)  # T-01 copy 0 (公用)
    refunded = issue(world, fam, form="entry_cert")  # T-01, voided, not reissued: refund 250
    void(world, refunded.number)
    void(world, a.number)  # spoiled and reissued: the 300 stays, the reissue is free
    services.certificate_reissue(actor=world, number=a.number)  # T-01 copy 0
    issue(second, fam)  # T-02 copy 300

    s = cash.cash_summary(world, timezone.localdate())
    assert [t["code"] for t in s["terminals"]] == ["T-01", "T-02"]
    t1 = _terminal(s, "T-01")
    assert [(r["form"], r["count"], r["free"], r["amount"]) for r in t1["rows"]] == [
        ("copy", 3, 2, 300), ("entry_cert", 1, 0, 250)]
    assert {v["number"]: (v["fee"], v["treatment"], v["refund"]) for v in t1["voids"]} == {
        a.number: (300, cash.KEPT, 0), refunded.number: (250, cash.REFUND, 250)}
    assert (t1["count"], t1["amount"], t1["carried"], t1["refund"], t1["net"], t1["received"]) == (4, 550, 300, 250, 850, 1100)
    assert "reason" not in t1["voids"][0]  # free text stays off the sheet
    t2 = _terminal(s, "T-02")
    assert (t2["count"], t2["amount"], t2["net"], t2["voids"]) == (1, 300, 300, [])
    assert (s["totals"]["count"], s["totals"]["net"], s["totals"]["refund"]) == (5, 1150, 250)
    row = last_log(function="certificate.cash_summary")
    assert row.outcome == "done" and row.person_count == 0 and row.criteria["day"] == timezone.localdate().isoformat()

    only = cash.cash_summary(world, timezone.localdate(), "T-02")
    assert [t["code"] for t in only["terminals"]] == ["T-02"] and only["totals"]["net"] == 300
    with pytest.raises(DomainError) as err:
        cash.cash_summary(world, timezone.localdate(), "T-99")
    assert err.value.status == 404


def test_summary_after_a_lost_move_out_certificate_is_reissued(world, fam, settings):
    """The reissue voids the lost 転出証明書 itself: its fee is carried to the free reissue, not refunded."""
    settings.JUKI_CERTIFICATE_FEES = {**FEES, "move_out_cert": 200}  # a city that charges for it
    lost = move_out.move_out_certificate_issue(actor=world, change_id=leave(world, fam)).issue
    services.certificate_reissue(actor=world, number=lost.number)
    t1 = _terminal(cash.cash_summary(world, timezone.localdate()), "T-01")
    assert [(r["form"], r["count"], r["free"], r["amount"]) for r in t1["rows"]] == [("move_out_cert", 1, 1, 0)]
    assert [(v["number"], v["fee"], v["treatment"], v["refund"]) for v in t1["voids"]] == [
        (lost.number, 200, cash.KEPT, 0)]
    assert (t1["net"], t1["refund"], t1["received"]) == (200, 0, 200)  # the 200 taken once, kept


def test_summary_day_is_jst_midnight_to_midnight(world, fam, monkeypatch):
    today = timezone.localdate()
    yesterday = today - dt.timedelta(days=1)
    start, _end = cash.day_bounds(today)
    assert start.utcoffset() == dt.timedelta(hours=9) and cash.day_bounds(yesterday)[1] == start
    made = {}
    for name, form, moment in (("late", "copy", start - dt.timedelta(seconds=1)), ("early", "entry_cert", start)):
        # Only the issue's own clock: the clerk's right (which has a period) is checked as of now.
        monkeypatch.setattr(issuing, "timezone", SimpleNamespace(now=lambda m=moment: m, localdate=timezone.localdate))
        made[name] = issue(world, fam, form=form)
    monkeypatch.undo()
    assert made["late"].issued_at == start - dt.timedelta(seconds=1)

    forms = lambda day: [r["form"] for t in cash.cash_summary(world, day)["terminals"] for r in t["rows"]]
    assert forms(today) == ["entry_cert"]  # 00:00:00 JST belongs to today
    assert forms(yesterday) == ["copy"]  # 23:59:59 JST to the day before
    assert cash.cash_summary(world, today - dt.timedelta(days=2))["terminals"] == []
    # JST 00:00 is the day before in UTC: a UTC day would put "early" on yesterday's sheet.
    assert start.astimezone(dt.UTC).date() == yesterday


def test_summary_screen_csv_and_pdf(clerk, terminal, world, fam, second):
    a = issue(world, fam)
    issue(world, fam, form="entry_cert")
    void(world, a.number)  # refund 300
    issue(second, fam)
    client = counter_client(clerk, terminal)
    page = client.get(reverse(f"{NS}:cash_summary")).content.decode()  # today, this counter
    assert page.count('class="card cash-terminal"') == 1 and re.search(r'<option value="T-01" selected>', page)
    assert "住民票記載事項証明書" in page and "還付 300円" in page and a.number in page
    assert re.search(r'class="cash-net">250円', page)
    assert '<option value="T-02">' in page
    all_page = client.get(reverse(f"{NS}:cash_summary"), {"day": timezone.localdate().isoformat(), "terminal": ""})
    assert "全端末の合計" in all_page.content.decode()
    assert client.get(reverse(f"{NS}:cash_summary"), {"day": "あした"}).status_code == 400

    r = client.get(reverse(f"{NS}:cash_summary_csv"), {"day": timezone.localdate().isoformat(), "terminal": "T-01"})
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0] == cash.CSV_COLUMNS
    assert ["交付", "住民票記載事項証明書", "1", "0", "250", "0"] == rows[1][3:9]
    assert rows[2][3] == "無効" and rows[2][9] == a.number and rows[2][11] == "還付" and rows[2][8] == "300"
    assert rows[3][3:9] == ["計（収納額）", "", "1", "0", "250", "300"]
    assert last_log(function="export.cash_summary").category == Category.EXPORT

    r = client.get(reverse(f"{NS}:cash_summary_pdf"), {"day": timezone.localdate().isoformat(), "terminal": ""})
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    text = pdf_text(r.content)
    assert "日計表" in text and "T-01" in text and "T-02" in text and "還付" in text and "収納額" in text
    assert "青木" not in text
    assert last_log(function="print.cash_summary").category == Category.PRINT


def test_summary_csv_escapes_a_terminal_location_that_looks_like_a_formula(clerk, terminal, world, fam):
    """The 入力場所 is typed by an administrator: in the CSV it must not run as a formula (C20)."""
    Terminal.objects.filter(pk=terminal.pk).update(location='=HYPERLINK("http://evil.example/","開く")')
    issue(world, fam)
    client = counter_client(clerk, terminal)
    r = client.get(reverse(f"{NS}:cash_summary_csv"), {"day": timezone.localdate().isoformat(), "terminal": "T-01"})
    assert r.status_code == 200 and r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert {row[2] for row in rows[1:]} == {'\'=HYPERLINK("http://evil.example/","開く")'}
    assert rows[1][5:7] == ["1", "0"]  # counts stay numbers

    Terminal.objects.filter(pk=terminal.pk).update(location="=1+1")
    data = cash.cash_summary_csv(cash.cash_summary(world, timezone.localdate(), "T-01")).decode("utf-8-sig")
    assert "'=1+1" in data and ",=1+1" not in data


# --- refusals --------------------------------------------------------------------------------------


def test_without_certificate_issue_refused_and_logged(world, fam, viewer, terminal):
    rec = issue(world, fam)
    outsider = Actor(user=viewer, terminal=terminal)
    for function, call in (("certificate.cash_summary", lambda: cash.cash_summary(outsider, timezone.localdate())),
                           ("print.cash_summary", lambda: cash.cash_summary(outsider, timezone.localdate(), output="pdf")),
                           ("print.receipt", lambda: cash.certificate_receipt(outsider, rec.number))):
        with pytest.raises(AccessDenied):
            call()
        assert last_log(user=viewer).function == function and last_log(user=viewer).outcome == AccessLog.DENIED

    client = counter_client(viewer, terminal)
    for name, args in (("cash_summary", []), ("cash_summary_csv", []), ("issue_receipt", [rec.number]),
                       ("fee_table", [])):
        before = AccessLog.objects.filter(user=viewer, outcome=AccessLog.DENIED).count()
        assert client.get(reverse(f"{NS}:{name}", args=args)).status_code == 403
        assert AccessLog.objects.filter(user=viewer, outcome=AccessLog.DENIED).count() == before + 1
    assert not AccessLog.objects.filter(function="print.receipt", outcome="done").exists()
