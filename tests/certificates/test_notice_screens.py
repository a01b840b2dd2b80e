"""The counter's 転出証明書 and 住民票コード通知票 screens (総合証明 tabs) and the change-done offers."""
from __future__ import annotations

import re

import pytest
from django.urls import NoReverseMatch, reverse

from juki.audit.models import AccessLog
from juki.certificates.models import CertificateIssue
from juki.register.services import changes
from juki.register.services.people import Address
from tests.conftest import KOKURA_JOUNAI, TODAY, counter_client, person_input
from tests.helpers import pdf_text
from tests.register.helpers import ref

from .test_move_out import leave, with_my_number

NS = "certificate_counter"


@pytest.fixture
def client(world, clerk, terminal):
    return counter_client(clerk, terminal)


def test_the_certificate_screen_has_a_tab_per_certificate(client, fam, world):
    page = client.get(reverse(f"{NS}:issue_form", args=[fam["head"]])).content.decode()
    assert reverse(f"{NS}:code_notice_form", args=[fam["head"]]) in page and "住民票コード通知票" in page
    assert reverse(f"{NS}:move_out_form", args=[fam["head"]]) not in page  # no 転出
    try:  # the 印鑑登録証明書 screen is another app's: linked when (and only when) its route exists
        seal = reverse("seal_counter:certificate", args=[fam["head"]])
    except NoReverseMatch:
        seal = None
    assert (seal is not None and seal in page) or (seal is None and "tab-seal" not in page)

    leave(world, fam)
    page = client.get(reverse(f"{NS}:issue_form", args=[fam["head"]])).content.decode()
    assert reverse(f"{NS}:move_out_form", args=[fam["head"]]) in page


def test_move_out_tab_preview_and_issue(client, fam, world):
    change_id = leave(world, fam)
    url = reverse(f"{NS}:move_out_form", args=[fam["wife"]])
    page = client.get(url).content.decode()
    assert 'aria-current="page">転出証明書' in page and "東京都千代田区丸の内一丁目9番" in page
    for pid in (fam["head"], fam["wife"], fam["child"]):
        assert re.search(rf'name="persons" value="{pid}"[^>]*checked', page)  # everyone the 届 moved

    data = {"persons": [fam["head"], fam["wife"]], "special": "on"}
    r = client.post(reverse(f"{NS}:move_out_preview", args=[fam["wife"]]), data, HTTP_HX_REQUEST="true")
    preview = r.content.decode()
    assert reverse(f"{NS}:move_out_issue", args=[fam["wife"]]) in preview and "手数料" not in preview
    token = re.search(r"/counter/certificates/preview/([^/\"]+)/", preview).group(1)
    text = pdf_text(client.get(reverse(f"{NS}:preview_pdf", args=[token])).content)
    assert "【見本】転出証明書" in text and "特例による転出処理済" in text and "青木一郎" not in text
    assert CertificateIssue.objects.count() == 0

    r = client.post(reverse(f"{NS}:move_out_issue", args=[fam["wife"]]), data, HTTP_HX_REQUEST="true")
    assert r.status_code == 204, r.content.decode()[:400]
    issue = CertificateIssue.objects.get()
    assert r["HX-Redirect"] == reverse(f"{NS}:issue_detail", args=[issue.number]) + "?done=issued&open=1"
    assert (issue.options["change_id"], issue.person_ids, issue.options["special"]) == (
        change_id, [fam["head"], fam["wife"]], True)
    detail = client.get(r["HX-Redirect"]).content.decode()
    inline = reverse(f"{NS}:issue_pdf", args=[issue.number]) + "?inline=1"
    assert inline in detail and 'id="issued-frame"' in detail  # open at once, ready to print
    assert "転出証明書" in detail and "転出証明書（）" not in detail and "記載した事項" not in detail
    assert "手数料はかかりません。" in detail
    pdf = client.get(inline)
    assert pdf["Content-Disposition"].startswith("inline;") and pdf["X-Frame-Options"] == "SAMEORIGIN"
    assert "転出証明書" in pdf_text(pdf.content)
    assert AccessLog.objects.filter(function="print.certificate_download", criteria__inline=True).exists()

    # Issued: the tab says so and sends the clerk to 再交付, which the 発行番号 screen does: the first state.
    page = client.get(url).content.decode()
    assert 'id="already-issued"' in page and issue.number in page
    assert "当初に交付したときの内容で" in detail and "元の転出証明書は、再交付と同時に無効になります" in detail
    r = client.post(reverse(f"{NS}:issue_reissue", args=[issue.number]))
    assert r.status_code == 302
    again = CertificateIssue.objects.exclude(pk=issue.pk).get()
    assert again.reissue_of == issue and again.form == "move_out_cert"
    assert again.channel == "counter" and CertificateIssue.objects.get(pk=issue.pk).voided
    text = pdf_text(client.get(reverse(f"{NS}:issue_pdf", args=[again.number])).content)
    assert "転出証明書（再交付）" in text and issue.number in text


def test_move_out_tab_for_a_person_without_a_move_out(client, fam):
    r = client.get(reverse(f"{NS}:move_out_form", args=[fam["head"]]))
    assert r.status_code == 400
    assert "転出（国外転出を除く）の記録がないため、転出証明書は交付できません。" in r.content.decode()


def test_move_out_tab_tells_a_clerk_who_may_issue_it(client, fam, world):
    with_my_number(world, fam["head"])
    leave(world, fam)
    page = client.get(reverse(f"{NS}:move_out_form", args=[fam["head"]])).content.decode()
    assert 'id="needs-right"' in page and "係長等" in page
    r = client.post(reverse(f"{NS}:move_out_issue", args=[fam["head"]]), {"persons": [fam["head"]]},
                    HTTP_HX_REQUEST="true", HTTP_X_JUKI_ERROR_TARGET="#cert-messages")
    assert "個人番号の表示権限のある職員（係長等）が交付してください。" in r.content.decode()
    assert CertificateIssue.objects.count() == 0


def test_change_done_offers_the_move_out_certificate(world, fam, clerk, supervisor, terminal):
    with_my_number(world, fam["head"])
    change_id = leave(world, fam)
    clerk_page = counter_client(clerk, terminal).get(reverse("counter:change_done", args=[change_id])).content.decode()
    assert 'id="move-out-certificate" disabled' in clerk_page  # a 個人番号 is printed: the 係長's

    sup = counter_client(supervisor, terminal)
    page = sup.get(reverse("counter:change_done", args=[change_id])).content.decode()
    action = reverse(f"{NS}:move_out_after_change", args=[change_id])
    assert f'action="{action}"' in page and "転出証明書を交付" in page
    r = sup.post(action)
    assert r.status_code == 302
    issue = CertificateIssue.objects.get()
    assert r["Location"].endswith("?done=issued&open=1")
    assert issue.person_ids == [fam["head"], fam["wife"], fam["child"]] and issue.requester_kind == "notifier"
    text = pdf_text(sup.get(reverse(f"{NS}:issue_pdf", args=[issue.number]) + "?inline=1").content)
    assert "転出証明書" in text and "個人番号123456789018" in text


def test_change_done_offers_the_code_notice(world, fam, sup_actor, supervisor, terminal, tmp_path):
    done = changes.resident_code_assign(actor=sup_actor, event_date=TODAY, person=ref(fam["wife"]), change_request=True)
    sup = counter_client(supervisor, terminal)
    page = sup.get(reverse("counter:change_done", args=[done.change_id])).content.decode()
    assert "青木　花子さんの住民票コード変更通知票を出力" in page
    assert "転出証明書を交付" not in page
    r = sup.post(reverse(f"{NS}:code_notice_issue", args=[fam["wife"]]), {"change_id": done.change_id})
    assert r.status_code == 302, r.content.decode()[:300]
    issue = CertificateIssue.objects.get()
    assert (issue.form, issue.options["kind"], issue.requester_kind, issue.fee) == (
        "resident_code_notice", "change", "ex_officio", 0)
    detail = sup.get(r["Location"]).content.decode()
    assert "住民票コード通知票（住民票コード変更通知票）" in detail and "（職権による通知）" in detail
    # A 転入 records codes too: each person gets an offer.
    other = changes.move_in(actor=world, event_date=TODAY, notified_on=TODAY, origin="domestic",
                            persons=[person_input(family_name="井上", given_name="一", family_name_kana="イノウエ",
                                                  given_name_kana="ハジメ")],
                            destination=changes.NEW, address=Address(KOKURA_JOUNAI, "9番"),
                            previous_address="福岡県福岡市中央区天神一丁目1番1号")
    page = sup.get(reverse("counter:change_done", args=[other.change_id])).content.decode()
    assert "井上　一さんの住民票コード通知票を出力" in page


def test_code_notice_tab_re_output(client, fam):
    url = reverse(f"{NS}:code_notice_form", args=[fam["child"]])
    page = client.get(url).content.decode()
    assert 'aria-current="page">住民票コード通知票' in page and 'id="notice-kind">住民票コード通知票' in page
    r = client.post(reverse(f"{NS}:code_notice_preview", args=[fam["child"]]), HTTP_HX_REQUEST="true")
    assert reverse(f"{NS}:code_notice_issue", args=[fam["child"]]) in r.content.decode()
    assert CertificateIssue.objects.count() == 0
    r = client.post(reverse(f"{NS}:code_notice_issue", args=[fam["child"]]), HTTP_HX_REQUEST="true")
    assert r.status_code == 204
    issue = CertificateIssue.objects.get()
    assert issue.person_ids == [fam["child"]]
    text = pdf_text(client.get(reverse(f"{NS}:issue_pdf", args=[issue.number])).content)
    assert "住民票コード通知票" in text and "青木一郎様" in text
    listing = client.get(reverse(f"{NS}:issue_list")).content.decode()
    assert "住民票コード通知票" in listing and "職権" in listing and "住民票コード通知票（）" not in listing


def test_code_notice_tab_for_a_removed_person(client, fam, world):
    changes.death(actor=world, event_date=TODAY, notified_on=TODAY, persons=[ref(fam["child"])])
    page = client.get(reverse(f"{NS}:code_notice_form", args=[fam["child"]])).content.decode()
    assert 'id="notice-unavailable"' in page and "消除された方には" in page
    r = client.post(reverse(f"{NS}:code_notice_issue", args=[fam["child"]]), {"change_id": "x"})
    assert r.status_code == 400 and "異動の指定が正しくありません。" in r.content.decode()
    assert CertificateIssue.objects.count() == 0


def test_a_viewer_is_refused_the_new_screens(world, fam, viewer, terminal):
    c = counter_client(viewer, terminal)
    change_id = leave(world, fam)
    for method, name, arg in (("get", "move_out_form", fam["head"]), ("post", "move_out_after_change", change_id),
                              ("get", "code_notice_form", fam["head"]), ("post", "code_notice_issue", fam["head"])):
        last = AccessLog.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        assert getattr(c, method)(reverse(f"{NS}:{name}", args=[arg])).status_code == 403, name
        row = AccessLog.objects.filter(pk__gt=last).get()  # one row per refused call
        assert (row.user, row.function, row.outcome, row.criteria["perm"]) == (
            viewer, f"screen.{name}", AccessLog.DENIED, "certificate.issue"), name
    assert AccessLog.objects.filter(user=viewer, outcome=AccessLog.DENIED).count() == 4
    assert CertificateIssue.objects.count() == 0
