"""The counter's seal screens through Django's test client: what the clerk sees and what is refused."""
from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from juki.audit.models import AccessLog
from juki.cards import services as cards
from juki.certificates import services as certificates
from juki.certificates.models import CertificateIssue
from tests.conftest import counter_client

from .helpers import seal_png

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def client(clerk, terminal, fam):
    return counter_client(clerk, terminal)


def page(client, url) -> str:
    r = client.get(url)
    assert r.status_code == 200, r.content.decode()[:300]
    return r.content.decode()


def register(client, person_id, headers=None, **over):
    body = {"method": "document", "image": SimpleUploadedFile("seal.png", seal_png(15), content_type="image/png"),
            "seal_text": "青木", "documents": ["運転免許証"], "seal_checked": "on"}
    body.update(over)
    return client.post(f"/counter/seals/persons/{person_id}/register/", body, **HTMX, **(headers or {}))


def test_the_person_screen_links_to_the_seal_screen(client, fam):
    html = page(client, f"/counter/persons/{fam['head']}/")
    assert f'<a href="/counter/seals/persons/{fam["head"]}/" id="seal-link">印鑑登録</a>' in html


def test_register_then_see_the_registration_and_its_history(client, fam):
    html = page(client, f"/counter/seals/persons/{fam['head']}/")
    assert "登録されている印鑑はありません。" in html and "印鑑登録の申請" in html
    r = register(client, fam["head"])
    assert r.status_code == 204 and r["HX-Redirect"] == f"/counter/seals/persons/{fam['head']}/?done=registered"
    html = page(client, r["HX-Redirect"])
    assert "印鑑を登録しました。" in html and 'id="seal-state">登録<' in html
    assert "15.0mm × 15.0mm" in html and "data:image/png;base64," in html
    assert "確認書類: 運転免許証" in html  # the history row
    assert "印鑑登録の申請" not in html and "廃止の申請（本人の申出）" in html


def test_a_refusal_is_shown_next_to_the_button(client, fam):
    r = register(client, fam["head"], seal_text="山田")
    assert r.status_code == 200 and r["HX-Retarget"] == "#messages"  # the form's header names its own target
    assert "印影の文字が、住民票の氏名" in r.content.decode()
    r = register(client, fam["head"], image=SimpleUploadedFile("x.txt", b"hello", content_type="text/plain"),
                 headers={"HTTP_X_JUKI_ERROR_TARGET": "#register-messages"})
    assert r["HX-Retarget"] == "#register-messages" and "画像として読み取れないファイルです" in r.content.decode()
    r = register(client, fam["head"], image="")
    assert "印影を読み取った画像を選んでください。" in r.content.decode()


def test_a_child_sees_why_no_registration_can_be_taken(client, fam):
    html = page(client, f"/counter/seals/persons/{fam['child']}/")
    assert "15歳未満の方は印鑑を登録できません。" in html and "申請を受け付ける" not in html


def test_the_image_check_measures_and_stores_nothing(client, fam):
    r = client.post("/counter/seals/image-check/", {"image": SimpleUploadedFile("s.png", seal_png(12))}, **HTMX)
    html = r.content.decode()
    assert r.status_code == 200 and "12.0mm × 12.0mm" in html and "登録できる大きさです" in html
    r = client.post("/counter/seals/image-check/", {"image": SimpleUploadedFile("s.png", seal_png(7))}, **HTMX)
    assert "小さすぎます" in r.content.decode()
    assert "登録されている印鑑はありません。" in page(client, f"/counter/seals/persons/{fam['head']}/")


def test_inquiry_answer_and_abolish_on_the_screen(client, fam):
    r = register(client, fam["head"], method="inquiry", documents=[])
    assert r["HX-Redirect"].endswith("?done=applied")
    html = page(client, r["HX-Redirect"])
    assert "照会中" in html and "回答書の受付" in html and 'id="answer-due"' in html
    r = client.post(f"/counter/seals/persons/{fam['head']}/answer/", {"documents": ["旅券"]}, **HTMX)
    assert r["HX-Redirect"].endswith("?done=answered")
    r = client.post(f"/counter/seals/persons/{fam['head']}/lost/", {"lost-documents": ["旅券"], "lost-what": "card"}, **HTMX)
    assert r["HX-Redirect"].endswith("?done=lost")  # no card to abolish: he had none
    html = page(client, r["HX-Redirect"])
    assert "亡失の届出を受け付け、印鑑登録を廃止しました。" in html and "亡失（印鑑または登録証）" in html


def test_the_loss_of_the_card_abolishes_it_on_the_screen(client, actor, fam):
    card = cards.card_issue(actor=actor, person_id=fam["head"], pin="2580")
    register(client, fam["head"])
    r = client.post(f"/counter/seals/persons/{fam['head']}/lost/", {"lost-documents": ["旅券"], "lost-what": "card"}, **HTMX)
    assert r["HX-Redirect"].endswith("?done=lost_card")
    html = page(client, r["HX-Redirect"])
    assert "亡失の届出を受け付け、印鑑登録と、印鑑登録証だった市民カードを廃止しました。" in html
    assert cards.cards_for_person(actor=actor, person_id=fam["head"])["cards"][0]["card_id"] == card["card_id"]
    assert cards.cards_for_person(actor=actor, person_id=fam["head"])["live_card_id"] is None


def test_issue_a_certificate_from_the_screen(client, actor, fam):
    card = cards.card_issue(actor=actor, person_id=fam["head"], pin="2580")
    register(client, fam["head"])
    html = page(client, f"/counter/seals/persons/{fam['head']}/")
    assert f'href="/counter/seals/persons/{fam["head"]}/certificate/"' in html
    html = page(client, f"/counter/seals/persons/{fam['head']}/certificate/")
    assert "印鑑登録証（市民カード）のカード番号" in html and "手数料 1通 300円" in html
    body = {"card_number": card["number"], "stated_birth_date": "S60.4.1", "kind": "self"}
    r = client.post(f"/counter/seals/persons/{fam['head']}/certificate/preview/", body, **HTMX)
    assert r.status_code == 200 and 'id="preview-frame"' in r.content.decode()
    token = r.content.decode().split("/counter/certificates/preview/")[1].split("/")[0]
    pdf = client.get(f"/counter/certificates/preview/{token}/")
    assert pdf["Content-Type"] == "application/pdf" and not CertificateIssue.objects.exists()
    # 交付する: the card, the birth date and the registration checked, then the fee to confirm.
    r = client.post(f"/counter/seals/persons/{fam['head']}/certificate/issue/", body, **HTMX)
    assert "印鑑登録証明書を交付します。" in r.content.decode() and "手数料 <strong>300円</strong>" in r.content.decode()
    assert not CertificateIssue.objects.exists()
    assert AccessLog.objects.filter(function="seal.certificate_check").latest("id").outcome == "ok"
    wrong = client.post(f"/counter/seals/persons/{fam['head']}/certificate/issue/",
                        {**body, "stated_birth_date": "S60.4.2"}, **HTMX).content.decode()
    assert "交付の確認" not in wrong and not CertificateIssue.objects.exists()
    r = client.post(f"/counter/seals/persons/{fam['head']}/certificate/issue/", {**body, "confirmed": "1"}, **HTMX)
    issue = CertificateIssue.objects.get()
    assert r["HX-Redirect"] == f"/counter/seals/certificate/issues/{issue.number}/"
    html = page(client, r["HX-Redirect"])
    assert "手数料 <strong>300円</strong> を受け取ってください。" in html and issue.number in html
    assert "印鑑登録証（市民カード）、交付申請書（登録者の生年月日を照合）" in html
    pdf = client.get(f"/counter/certificates/issues/{issue.number}/pdf/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    # No 再交付 of a certificate still valid: the screen says to void the spoiled one first.
    assert "再交付する" not in html and "無効にしてから、再交付してください" in html
    r = client.post(f"/counter/seals/certificate/issues/{issue.number}/reissue/")
    assert r.status_code == 400 and "書き損じ等で無効にした証明書に限ります" in r.content.decode()
    certificates.certificate_void(actor=actor, number=issue.number, reason="印刷を誤ったため")
    assert "再交付する" in page(client, f"/counter/seals/certificate/issues/{issue.number}/")
    r = client.post(f"/counter/seals/certificate/issues/{issue.number}/reissue/")
    again = CertificateIssue.objects.exclude(pk=issue.pk).get()
    assert r.status_code == 302 and again.reissue_of_id == issue.pk and again.fee == 0
    assert "再交付しました。" in page(client, r["Location"])


def test_a_certificate_refusal_is_shown_in_japanese(client, actor, fam):
    cards.card_issue(actor=actor, person_id=fam["head"], pin="2580")
    register(client, fam["head"])
    r = client.post(f"/counter/seals/persons/{fam['head']}/certificate/issue/",
                    {"card_number": "12", "stated_birth_date": "S60.4.1", "kind": "self"}, **HTMX)
    assert "カード番号に誤りがあります" in r.content.decode()
    r = client.post(f"/counter/seals/persons/{fam['head']}/certificate/issue/",
                    {"card_number": "12", "stated_birth_date": "昭和六十年", "kind": "self"}, **HTMX)
    assert "交付申請書に書かれた登録者の生年月日" in r.content.decode()
    assert not CertificateIssue.objects.exists()


def test_a_user_without_the_right_is_refused_and_logged(viewer, terminal, fam):
    client = counter_client(viewer, terminal)
    assert 'id="seal-link"' not in page(client, f"/counter/persons/{fam['head']}/")
    r = client.get(f"/counter/seals/persons/{fam['head']}/")
    assert r.status_code == 403
    row = AccessLog.objects.filter(user=viewer).latest("id")
    assert row.outcome == AccessLog.DENIED and row.function == "screen.person"


def test_the_help_page_explains_the_rules(client):
    html = page(client, "/counter/help/seal/")
    assert "ヘルプ: 印鑑登録" in html and "一辺8mmの正方形に収まるもの" in html and "juki seals-sweep" in html


def test_the_certificate_screen_warns_when_nothing_can_be_issued(client, actor, fam):
    html = page(client, f"/counter/seals/persons/{fam['wife']}/certificate/")
    assert 'id="no-seal"' in html
    register(client, fam["head"])
    html = page(client, f"/counter/seals/persons/{fam['head']}/certificate/")
    assert 'id="no-card"' in html and 'id="no-seal"' not in html
    cards.card_issue(actor=actor, person_id=fam["head"], pin="2580")
    html = page(client, f"/counter/seals/persons/{fam['head']}/certificate/")
    assert 'id="no-card"' not in html
    assert "印鑑登録証: 市民カード（利用中）" in page(client, f"/counter/seals/persons/{fam['head']}/")


def test_the_inquiry_letter_is_printed_for_a_pending_application(client, fam, tmp_path):
    import subprocess

    r = client.get(f"/counter/seals/persons/{fam['head']}/inquiry-letter/")
    assert "照会中の印鑑登録の申請がありません" in r.content.decode()
    register(client, fam["head"], method="inquiry", documents=[], agent_name="代理　一郎", power_of_attorney="on")
    assert 'id="inquiry-letter"' in page(client, f"/counter/seals/persons/{fam['head']}/")
    r = client.get(f"/counter/seals/persons/{fam['head']}/inquiry-letter/")
    assert r["Content-Type"] == "application/pdf"
    path = tmp_path / "letter.pdf"
    path.write_bytes(r.content)
    text = "".join(subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout.split())
    for expected in ("印鑑登録の申請について（照会）", "青木太郎様", "北九州市小倉北区城内1番1号", "代理人代理一郎による申請",
                     "回答期限", "回答書", "福岡県北九州市長小倉一郎様", "私が申請したものに相違ありません"):
        assert expected in text, expected
    log = AccessLog.objects.filter(function="print.seal_inquiry").latest("id")
    assert log.category == "print" and list(log.subjects.values_list("person_id", flat=True)) == [fam["head"]]


def test_a_pending_application_is_withdrawn_not_abolished(client, fam):
    register(client, fam["head"], method="inquiry", documents=[])
    html = page(client, f"/counter/seals/persons/{fam['head']}/")
    assert "申請の取下げ" in html and ">取り下げる</button>" in html
    r = client.post(f"/counter/seals/persons/{fam['head']}/abolish/", {"abolish-documents": ["旅券"]}, **HTMX)
    assert r["HX-Redirect"].endswith("?done=withdrawn")
    assert "印鑑登録の申請を取り下げました。" in page(client, r["HX-Redirect"])


def test_the_issue_record_screen_names_a_seal_certificate_and_leads_back_to_the_seal_screen(client, actor, fam):
    card = cards.card_issue(actor=actor, person_id=fam["head"], pin="2580")
    register(client, fam["head"])
    body = {"card_number": card["number"], "stated_birth_date": "S60.4.1", "kind": "self", "confirmed": "1"}
    client.post(f"/counter/seals/persons/{fam['head']}/certificate/issue/", body, **HTMX)
    issue = CertificateIssue.objects.get()
    html = page(client, f"/counter/certificates/issues/{issue.number}/")
    assert '<dd id="issue-form">印鑑登録証明書</dd>' in html
    # Not voided: no 再交付 button (a seal certificate is reissued only after a same-day void).
    assert 'id="seal-reissue-help"' in html and f"/counter/certificates/issues/{issue.number}/reissue/" not in html
    assert f'href="/counter/seals/persons/{fam["head"]}/certificate/">続けて交付する' in html
