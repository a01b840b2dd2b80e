"""The counter's certificate screens (issue 5, 総合証明): 交付申請, 印刷プレビュー, 交付, 交付履歴, 無効, 再交付."""
from __future__ import annotations

import re
import shutil

import pytest
from django.urls import reverse

from juki.audit.models import AccessLog
from juki.certificates import services
from juki.certificates.models import CertificateIssue, CertificateVoid
from tests.conftest import counter_client
from tests.helpers import pdf_text

pytestmark = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")

NS = "certificate_counter"


@pytest.fixture
def client(world, clerk, terminal):
    return counter_client(clerk, terminal)


def form_data(fam, **over) -> dict:
    """The 交付申請 as the screen posts it: 住民票の写し, 世帯連記式, 世帯全員, 本人 with a licence."""
    data = {"form": "copy", "layout": "household", "persons": [fam["head"], fam["wife"], fam["child"]],
            "kind": "self", "requester_person": fam["head"], "documents": ["運転免許証"], "purpose": "年金の手続き"}
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def test_person_screen_links_to_the_issue_screen(client, fam):
    page = client.get(reverse("counter:person", args=[fam["head"]])).content.decode()
    assert reverse(f"{NS}:issue_form", args=[fam["head"]]) in page
    assert "証明書の交付" in page


def test_issue_form_offers_the_household_and_the_items(client, fam):
    r = client.get(reverse(f"{NS}:issue_form", args=[fam["head"]]))
    assert r.status_code == 200
    page = r.content.decode()
    for label in ("住民票の写し", "住民票記載事項証明書", "世帯連記式", "個人票", "世帯主・続柄", "本籍・筆頭者", "住民票コード",
                  "個人番号", "請求者の種別", "確認した本人確認書類", "委任状を確認した", "根拠法令", "公用"):
        assert label in page, label
    assert "除票の写し" not in page  # a resident: no 除票 forms
    # 世帯全員 ticked by default, 本人 chosen
    for pid in (fam["head"], fam["wife"], fam["child"]):
        assert re.search(rf'name="persons" value="{pid}"[^>]*checked', page)
    assert re.search(r'name="kind" value="self"[^>]*checked', page)


def test_preview_records_nothing_and_shows_the_sample(client, fam):
    r = client.post(reverse(f"{NS}:preview", args=[fam["head"]]), form_data(fam, domicile="on"), HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    page = r.content.decode()
    token = re.search(r'/counter/certificates/preview/([^/"]+)/', page).group(1)
    assert "<iframe" in page
    assert CertificateIssue.objects.count() == 0
    assert AccessLog.objects.filter(function="certificate.preview", outcome="ok").count() == 1
    assert not AccessLog.objects.filter(function__in=["certificate.issue", "print.certificate"]).exists()
    pdf = client.get(reverse(f"{NS}:preview_pdf", args=[token]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf["X-Frame-Options"] == "SAMEORIGIN"  # shown in the screen's own iframe
    assert "no-store" in pdf["Cache-Control"]
    text = pdf_text(pdf.content)
    assert "見本" in text and "（交付前）" in text
    assert "福岡県北九州市小倉北区城内1番" in text  # 本籍 chosen
    # Another token (a stale or guessed address) shows nothing.
    assert client.get(reverse(f"{NS}:preview_pdf", args=["x" + token])).status_code == 404


def test_issue_records_one_and_the_pdf_has_the_chosen_items_only(client, fam, world):
    r = client.post(reverse(f"{NS}:issue", args=[fam["head"]]),
                    form_data(fam, head_and_relationship="on", domicile="on", confirmed="1"), HTTP_HX_REQUEST="true")
    assert r.status_code == 204, r.content.decode()[:500]
    issue = CertificateIssue.objects.get()
    assert r["HX-Redirect"].startswith(reverse(f"{NS}:issue_detail", args=[issue.number]))
    assert issue.options["domicile"] and issue.options["head_and_relationship"] and not issue.options["my_number"]
    assert issue.person_ids == [fam["head"], fam["wife"], fam["child"]]
    taken = services.certificate_list(actor=world, number=issue.number)[0]["request"]  # guarded: read through the gate
    assert taken["documents"] == ["運転免許証"] and taken["purpose"] == "年金の手続き"

    page = client.get(r["HX-Redirect"]).content.decode()
    assert issue.number in page and "交付しました" in page
    assert f"{issue.fee}円" in page and issue.fee > 0
    pdf = client.get(reverse(f"{NS}:issue_pdf", args=[issue.number]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"] == f'attachment; filename="certificate-{issue.number}.pdf"'
    assert "no-store" in pdf["Cache-Control"]
    text = pdf_text(pdf.content)
    assert issue.number in text and "世帯全員" in text
    assert "本籍" in text and "福岡県北九州市小倉北区城内1番" in text  # chosen
    assert "世帯主" in text and "続柄" in text  # chosen
    assert "個人番号" not in text and "住民票コード" not in text  # not chosen
    assert AccessLog.objects.filter(function="print.certificate_download", criteria__number=issue.number).exists()
    # The PDF is only in the issuing session: another clerk's session cannot fetch it.
    assert CertificateIssue.objects.count() == 1


def test_issue_without_ticks_leaves_the_items_out(client, fam):
    r = client.post(reverse(f"{NS}:issue", args=[fam["head"]]), form_data(fam, persons=[fam["head"]], layout="individual"))
    assert r.status_code == 302
    issue = CertificateIssue.objects.get()
    text = pdf_text(client.get(reverse(f"{NS}:issue_pdf", args=[issue.number])).content)
    assert "青木太郎" in text and "花子" not in text  # the person only
    assert "本籍" not in text and "個人番号" not in text and "続柄" not in text


def test_third_party_with_domicile_is_refused_in_japanese_and_records_nothing(client, fam):
    data = form_data(fam, kind="third_party", requester_person=None, requester_name="山田　一郎",
                     purpose="債権回収のため", domicile="on")
    for view in ("preview", "issue"):
        r = client.post(reverse(f"{NS}:{view}", args=[fam["head"]]), data, HTTP_HX_REQUEST="true")
        page = r.content.decode()
        assert "第三者からの請求では、本籍・筆頭者を記載した証明書は交付できません。" in page, page[:500]
        assert r["HX-Retarget"] == "#messages"  # the client asks for its own area with X-Juki-Error-Target
    assert CertificateIssue.objects.count() == 0
    # Refused by the check before the fee is confirmed (交付する), as by the preview.
    assert AccessLog.objects.filter(function="certificate.issue_check", outcome="certificate_not_entitled").exists()


def test_incomplete_request_is_refused(client, fam):
    r = client.post(reverse(f"{NS}:issue", args=[fam["head"]]), form_data(fam, documents=None),
                    HTTP_HX_REQUEST="true", HTTP_X_JUKI_ERROR_TARGET="#cert-messages")
    assert "窓口で確認した本人確認書類を入力してください。" in r.content.decode()
    assert r["HX-Retarget"] == "#cert-messages"
    assert CertificateIssue.objects.count() == 0


def test_void_and_reissue_from_the_inquiry_screen(client, fam, clerk, terminal):
    client.post(reverse(f"{NS}:issue", args=[fam["head"]]), form_data(fam))
    first = CertificateIssue.objects.get()

    listing = client.get(reverse(f"{NS}:issue_list")).content.decode()  # today's issues by default
    assert first.number in listing and "交付済み" in listing
    by_person = client.get(reverse(f"{NS}:issue_list") + f"?person={fam['wife']}").content.decode()
    assert first.number in by_person
    other = client.get(reverse(f"{NS}:issue_list") + "?date_from=R1.5.1&date_to=R1.5.2").content.decode()
    assert first.number not in other and "令和元年5月1日" in other

    # 無効 needs a reason
    r = client.post(reverse(f"{NS}:issue_void", args=[first.number]), {"reason": ""})
    assert "無効にする理由を入力してください。" in r.content.decode()
    r = client.post(reverse(f"{NS}:issue_void", args=[first.number]), {"reason": "印刷を誤ったため"})
    assert r.status_code == 302
    assert CertificateVoid.objects.get(issue=first).reason == "印刷を誤ったため"
    page = client.get(r["Location"]).content.decode()
    assert "無効にしました" in page and "無効" in page
    assert reverse(f"{NS}:issue_pdf", args=[first.number]) not in page  # no longer handed out
    assert client.get(reverse(f"{NS}:issue_pdf", args=[first.number])).status_code == 404

    r = client.post(reverse(f"{NS}:issue_reissue", args=[first.number]))
    assert r.status_code == 302
    second = CertificateIssue.objects.exclude(pk=first.pk).get()
    assert second.reissue_of == first and second.fee == 0
    page = client.get(r["Location"]).content.decode()
    assert second.number in page and "再交付しました" in page and first.number in page
    assert client.get(reverse(f"{NS}:issue_pdf", args=[second.number])).status_code == 200

    # Another clerk's session lists the issues but cannot fetch the PDF.
    other_client = counter_client(clerk, terminal)
    assert second.number in other_client.get(reverse(f"{NS}:issue_list")).content.decode()
    assert other_client.get(reverse(f"{NS}:issue_pdf", args=[second.number])).status_code == 404


def test_a_viewer_without_the_right_is_refused(world, fam, viewer, terminal):
    c = counter_client(viewer, terminal)
    r = c.get(reverse(f"{NS}:issue_form", args=[fam["head"]]))
    assert r.status_code == 403
    assert AccessLog.objects.filter(user=viewer, outcome=AccessLog.DENIED).exists()
    assert reverse(f"{NS}:issue_form", args=[fam["head"]]) not in c.get(
        reverse("counter:person", args=[fam["head"]])).content.decode()


def test_individual_sheet_with_head_and_relationship_for_a_member(client, fam):
    # A member's 個人票 names the 世帯主 and the member's 続柄: the service reads the household for it.
    r = client.post(reverse(f"{NS}:issue", args=[fam["wife"]]),
                    form_data(fam, layout="individual", persons=[fam["wife"]], head_and_relationship="on",
                              requester_person=fam["wife"]))
    assert r.status_code == 302, r.content.decode()[:400]
    number = CertificateIssue.objects.latest("id").number
    text = pdf_text(client.get(reverse(f"{NS}:issue_pdf", args=[number])).content)
    assert "世帯主青木太郎" in text and "続柄妻" in text  # pdf_text drops spaces
    r = client.post(reverse(f"{NS}:issue", args=[fam["head"]]),
                    form_data(fam, layout="individual", persons=[fam["head"]], head_and_relationship="on"))
    assert r.status_code == 302
    number = CertificateIssue.objects.latest("id").number
    text = pdf_text(client.get(reverse(f"{NS}:issue_pdf", args=[number])).content)
    assert "続柄" in text and "世帯主" in text


def test_a_removed_person_gets_the_removed_forms(client, fam, world):
    from juki.register.services import changes
    from tests.conftest import days_ago
    from tests.register.helpers import ref

    changes.death(actor=world, event_date=days_ago(2), notified_on=days_ago(1), persons=[ref(fam["child"])])
    page = client.get(reverse(f"{NS}:issue_form", args=[fam["child"]])).content.decode()
    assert "住民票の除票の写し" in page and 'value="copy"' not in page
    assert re.search(r'name="layout" value="individual"[^>]*checked', page)
    assert f'name="persons" value="{fam["head"]}"' not in page  # the removed person only
    # The household the child was in may ask for it as 同一世帯: its members are offered as requesters.
    assert f'<option value="{fam["wife"]}">' in page
    # A 除票 on the 世帯連記式 is refused by the service's rule, shown on the screen, and nothing recorded.
    r = client.post(reverse(f"{NS}:issue", args=[fam["child"]]),
                    form_data(fam, form="removed_copy", layout="household", persons=[fam["child"]],
                              kind="household", requester_person=fam["wife"]), HTTP_HX_REQUEST="true")
    assert "除票の証明書は個人票で発行してください。" in r.content.decode()
    assert CertificateIssue.objects.count() == 0
    r = client.post(reverse(f"{NS}:issue", args=[fam["child"]]),
                    form_data(fam, form="removed_copy", layout="individual", persons=[fam["child"]],
                              kind="household", requester_person=fam["wife"]))
    assert r.status_code == 302, r.content.decode()[:300]
    text = pdf_text(client.get(reverse(f"{NS}:issue_pdf", args=[CertificateIssue.objects.get().number])).content)
    assert "住民票の除票の写し" in text and "一郎" in text


def test_foreign_items_are_offered_and_printed_only_as_chosen(client, world):
    from tests.certificates.test_forms import _foreigner

    pid = _foreigner(world)
    page = client.get(reverse(f"{NS}:issue_form", args=[pid])).content.decode()
    assert "外国人住民" in page and "在留カード等の番号" in page
    r = client.post(reverse(f"{NS}:issue", args=[pid]),
                    {"form": "copy", "layout": "household", "persons": [pid], "kind": "self", "requester_person": pid,
                     "documents": ["在留カード・特別永住者証明書"], "foreign_items": ["nationality"]})
    assert r.status_code == 302, r.content.decode()[:300]
    text = pdf_text(client.get(reverse(f"{NS}:issue_pdf", args=[CertificateIssue.objects.get().number])).content)
    assert "ベトナム" in text  # chosen
    assert "AB12345678CD" not in text and "技術・人文知識・国際業務" not in text  # not chosen


def test_the_clerk_prints_an_earlier_issue_again_from_the_history_while_it_is_kept(client, fam):
    """A jammed printer noticed at the next resident: the PDF is still this session's, from the
    交付履歴, for the last five issues within an hour; past that (or voided), void and reissue."""
    from juki.ui import documents

    numbers = []
    for _ in range(6):
        r = client.post(reverse(f"{NS}:issue", args=[fam["head"]]), form_data(fam))
        assert r.status_code == 302
        numbers.append(CertificateIssue.objects.order_by("-id").values_list("number", flat=True)[0])
    second = numbers[1]
    page = client.get(reverse(f"{NS}:issue_detail", args=[second])).content.decode()
    assert reverse(f"{NS}:issue_pdf", args=[second]) in page  # from the 交付履歴's 詳細, not just after issuing
    assert second in pdf_text(client.get(reverse(f"{NS}:issue_pdf", args=[second])).content)
    oldest = client.get(reverse(f"{NS}:issue_pdf", args=[numbers[0]]))  # the sixth pushed it out
    assert oldest.status_code == 404 and "直近5件" in oldest.content.decode()
    session = client.session  # an hour later (only the kept issues age: the screen lock has its own clock)
    for slot in session[documents.SESSION_ISSUED]:
        slot["at"] -= documents.ISSUED_SECONDS + 1
    session.save()
    r = client.get(reverse(f"{NS}:issue_pdf", args=[numbers[-1]]))
    assert r.status_code == 404 and "交付から60分以内" in r.content.decode()
    assert reverse(f"{NS}:issue_pdf", args=[numbers[-1]]) not in client.get(
        reverse(f"{NS}:issue_detail", args=[numbers[-1]])).content.decode()


def test_the_pdfs_are_kept_beside_the_session_not_in_it_and_end_with_the_logout(client, fam):
    """Every request loads the session: it holds what was issued, never the PDFs (issue 18, 18 ms of CPU
    a request with five PDFs in it). The PDFs are the session's documents, the last five, gone at logout."""
    from django.contrib.sessions.models import Session

    from juki.accounts.models import SessionDocument
    from juki.ui import documents

    r = client.post(reverse(f"{NS}:preview", args=[fam["head"]]), form_data(fam), HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    key = client.session.session_key
    assert list(SessionDocument.objects.filter(session_id=key).values_list("slot", flat=True)) == ["preview"]
    numbers = []
    for _ in range(6):
        assert client.post(reverse(f"{NS}:issue", args=[fam["head"]]), form_data(fam)).status_code == 302
        numbers.append(CertificateIssue.objects.order_by("-id").values_list("number", flat=True)[0])
    kept = set(SessionDocument.objects.filter(session_id=key).values_list("slot", flat=True))
    assert kept == set(numbers[1:])  # the preview went with the first issue, the oldest issue with the sixth
    assert [s["number"] for s in client.session[documents.SESSION_ISSUED]] == numbers[:0:-1]
    assert all("pdf" not in s for s in client.session[documents.SESSION_ISSUED])
    assert len(Session.objects.get(pk=key).session_data) < 4000  # five PDFs made it about 430 KB
    assert bytes(SessionDocument.objects.get(session_id=key, slot=numbers[-1]).pdf).startswith(b"%PDF")

    assert client.post(reverse("counter:logout")).status_code == 302
    assert not SessionDocument.objects.filter(session_id=key).exists()
    assert not Session.objects.filter(pk=key).exists()


def test_the_fee_is_confirmed_only_after_every_check_of_the_issue(client, fam):
    """交付する: the form's checks and the issue's own (entitlement …) first, then the fee to
    confirm, then the issue. Nothing is issued before the confirmation."""
    url = reverse(f"{NS}:issue", args=[fam["head"]])
    hx = {"HTTP_HX_REQUEST": "true", "HTTP_X_JUKI_ERROR_TARGET": "#cert-messages"}
    # The form's own check: no document ticked.
    r = client.post(url, form_data(fam, documents=None), **hx)
    assert r["HX-Retarget"] == "#cert-messages" and "本人確認書類を入力してください" in r.content.decode()
    assert "交付の確認" not in r.content.decode()
    # The issue's check: a third party may not have the 本籍.
    r = client.post(url, form_data(fam, kind="third_party", requester_person=None, requester_name="山田　一郎",
                                   domicile="on", purpose="債権回収のため"), **hx)
    assert r["HX-Retarget"] == "#cert-messages" and "本籍・筆頭者を記載した証明書は交付できません" in r.content.decode()
    assert AccessLog.objects.filter(function="certificate.issue_check").latest("id").outcome == "certificate_not_entitled"
    # Everything passes: the fee to confirm, and still nothing issued.
    r = client.post(url, form_data(fam), **hx)
    body = r.content.decode()
    assert r.status_code == 200 and "交付の確認" in body and "手数料 <strong>300円</strong>" in body
    assert 'hx-vals=\'{"confirmed": "1"}\'' in body and 'id="confirm-issue" autofocus' in body
    assert CertificateIssue.objects.count() == 0
    assert AccessLog.objects.filter(function="certificate.issue_check").latest("id").outcome == "ok"
    free = client.post(url, form_data(fam, official="on", kind="government", requester_person=None,
                                      requester_name="北九州市保健福祉局", legal_basis="生活保護法第29条"), **hx)
    assert "手数料はかかりません（公用）" in free.content.decode(), free.content.decode()[:300]
    # Confirmed: issued.
    r = client.post(url, form_data(fam, confirmed="1"), **hx)
    assert r.status_code == 204 and "/counter/certificates/issues/" in r["HX-Redirect"]
    assert CertificateIssue.objects.count() == 1
