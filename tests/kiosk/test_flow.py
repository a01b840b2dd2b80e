"""The kiosk's screens end to end through the test client: the device check, card + PIN, the
choices, payment, the issue record and the 日計表, the idle timeout, 「やめる」."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client

from juki.accounts.permissions import Perm
from juki.audit import gate
from juki.audit.models import AccessLog
from juki.cards.models import Card, CardState
from juki.certificates import cash
from juki.certificates.models import CertificateIssue, CertificateRequest
from juki.core.errors import ErrorCode
from juki.kiosk import access, devices, services
from juki.kiosk.models import KioskPayment

from .conftest import PIN, enrolled_client
from .helpers import choose_copy, issue, pay, pdf_text, sign_in
from tests.helpers import TEST_ACTOR

NOT_REGISTERED = "この端末は自動交付機として登録されていません。"


def _text(response) -> str:
    return response.content.decode()


def test_a_browser_without_the_device_credential_gets_only_the_refusal(kiosk, db):
    client = Client()
    for method, url in [("get", "/kiosk/"), ("get", "/kiosk/card/"), ("post", "/kiosk/pin/"), ("post", "/kiosk/issue/"),
                        ("get", "/kiosk/done/certificate.pdf"), ("get", "/kiosk/timeout/")]:
        r = getattr(client, method)(url)
        assert r.status_code == 403, url
        body = _text(r)
        assert NOT_REGISTERED in body and "<form" not in body and "はじめる" not in body and "<a " not in body
    assert not AccessLog.objects.filter(function="auth.kiosk_device").exists()  # no credential, nothing to log


def test_setup_with_a_wrong_secret_enrols_nothing(kiosk, db):
    client = Client()
    r = client.post("/kiosk/setup/", {"code": "KIOSK-01", "secret": "wrong"})
    assert r.status_code == 400 and "正しくない" in _text(r) and access.COOKIE not in r.cookies
    assert client.get("/kiosk/").status_code == 403


def test_a_stopped_kiosk_gets_only_the_refusal(kiosk, kc):
    assert kc.get("/kiosk/").status_code == 200
    devices.device_stop(actor=TEST_ACTOR, code="KIOSK-01")
    r = kc.get("/kiosk/")
    assert r.status_code == 403 and NOT_REGISTERED in _text(r)
    assert AccessLog.objects.filter(function="auth.kiosk_device").last().criteria == {"code": "KIOSK-01",
                                                                                       "reason": "stopped"}


def test_the_start_screen_names_the_fees_and_no_resident(kc):
    body = _text(kc.get("/kiosk/"))
    assert "はじめる" in body and "住民票の写し 300円" in body and "印鑑登録証明書 300円" in body
    assert "住民検索" not in body and "ログアウト" not in body  # no staff menu


def test_a_resident_gets_a_copy_of_their_own_with_card_and_pin(kc, kiosk, card, household):
    r = sign_in(kc, card["number"])
    assert r.status_code == 302 and r["Location"] == "/kiosk/menu/"
    menu = _text(kc.get("/kiosk/menu/"))
    assert "青木" not in menu and "住民票の写し" in menu  # no personal data on the screens before the print
    assert 'id="choose-seal" disabled' in menu  # this card serves no seal
    choose_copy(kc, scope="self", domicile=True)
    confirm = _text(kc.get("/kiosk/confirm/"))
    assert "本人のみ" in confirm and "300円" in confirm and "青木" not in confirm
    page = _text(pay(kc, 100, 100))
    assert 'id="short">100円' in page and 'id="issue" disabled' in page
    page = _text(pay(kc, 500))
    assert 'id="paid">700円' in page and 'id="change">400円' in page
    done = issue(kc)
    assert 'id="change">400円' in _text(done)

    issued = CertificateIssue.objects.get()
    assert issued.channel == "kiosk" and issued.terminal == kiosk.device.terminal and issued.operator is None
    assert issued.form == "copy" and issued.fee == 300 and issued.person_ids == [household["ids"][0]]
    assert issued.requester_kind == "self" and issued.options["domicile"] and not issued.options["my_number"]
    with gate.open(TEST_ACTOR, function="test", perm=Perm.CERTIFICATE_ISSUE):
        request = CertificateRequest.objects.get(issue=issued)
        assert request.requester_person_id == household["ids"][0] and request.documents == ["市民カード（暗証番号で確認）"]
    printed = AccessLog.objects.get(function="print.certificate")
    assert printed.system == "kiosk:KIOSK-01" and printed.terminal == kiosk.device.terminal
    assert printed.criteria["channel"] == "kiosk"

    # The copy shown on the done screen (its iframe) is on the record, as at the counter.
    assert kc.get("/kiosk/done/certificate.pdf")["Content-Disposition"].startswith("inline")
    assert kc.session[access.STATE]["issued"]["copies"][0]["pdf"]  # shown, not yet taken away
    pdf = kc.get("/kiosk/done/certificate.pdf?download=1")
    assert pdf["Content-Type"] == "application/pdf" and f"certificate-{issued.number}.pdf" in pdf["Content-Disposition"]
    text = pdf_text(pdf.content)
    assert "青木太郎" in text and issued.number in text and "福岡県北九州市小倉北区城内1番" in text
    shown = AccessLog.objects.filter(function="print.certificate_download", system="kiosk:KIOSK-01").order_by("id")
    assert [(r.criteria["inline"], r.criteria["channel"]) for r in shown] == [(True, "kiosk"), (False, "kiosk")]
    # Taken away: the PDF (and whom it names) leaves the session table at once.
    stored = kc.session[access.STATE]["issued"]
    assert "person_ids" not in stored and stored["copies"] == [{"number": issued.number, "taken": True}]
    again = kc.get("/kiosk/done/certificate.pdf?download=1")
    assert again.status_code == 410 and services.TAKEN in again.content.decode()
    done = _text(kc.get("/kiosk/done/"))
    assert "お渡し済み" in done and "<iframe" not in done and "おつり" in done

    r = kc.post("/kiosk/finish/")
    assert r["Location"] == "/kiosk/end/"
    end = _text(kc.get("/kiosk/end/"))
    assert "カードをお取りください" in end and "お返しします" not in end
    # The session is over: the PDF and every step need a new card.
    assert kc.get("/kiosk/done/certificate.pdf")["Location"] == "/kiosk/"
    assert kc.get("/kiosk/menu/")["Location"] == "/kiosk/"

    # The 日計表 counts it under the kiosk's own terminal.
    summary = cash.cash_summary(TEST_ACTOR, dt.date.today())
    row = next(t for t in summary["terminals"] if t["code"] == "KIOSK-01")
    assert row["count"] == 1 and row["amount"] == 300 and row["location"] == "小倉北区役所 1階ロビー"


def test_household_and_chosen_members(kc, card, household):
    taro, hanako, ichiro = household["ids"]
    sign_in(kc, card["number"])
    kc.post("/kiosk/menu/", {"form": "copy"})
    kc.post("/kiosk/copy/", {"scope": "members", "head": "yes", "domicile": "no"})
    page = _text(kc.get("/kiosk/copy/members/"))
    assert "青木　太郎（ご本人）" in page and "青木　一郎" in page  # names only here, the household's own
    assert kc.post("/kiosk/copy/members/", {}).status_code == 400  # nobody besides the holder chosen
    r = kc.post("/kiosk/copy/members/", {"person": [str(ichiro), "999999"]})
    assert r["Location"] == "/kiosk/confirm/"
    assert "ご本人と選んだ方（2人）" in _text(kc.get("/kiosk/confirm/"))
    pay(kc, 1000)
    issue(kc)
    first = CertificateIssue.objects.get()
    assert first.person_ids == [taro, ichiro] and first.options["head_and_relationship"]
    text = pdf_text(kc.get("/kiosk/done/certificate.pdf").content)
    assert "青木一郎" in text and "青木花子" not in text and "世帯主" in text
    kc.post("/kiosk/finish/")

    sign_in(kc, card["number"])
    choose_copy(kc, scope="household")
    pay(kc, 100, 100, 100)
    issue(kc)
    whole = CertificateIssue.objects.latest("id")
    assert sorted(whole.person_ids) == sorted([taro, hanako, ichiro])
    assert "住民票の写し（世帯全員）" in pdf_text(kc.get("/kiosk/done/certificate.pdf").content)


def test_no_issue_without_enough_money(kc, card):
    sign_in(kc, card["number"])
    choose_copy(kc)
    pay(kc, 100, 50, 10)
    r = kc.post("/kiosk/issue/")
    assert r.status_code == 400 and "料金が140円不足しています" in _text(r)
    assert not CertificateIssue.objects.exists() and not KioskPayment.objects.exists()  # nothing claimed
    r = kc.post("/kiosk/pay/", {"coin": "5"})
    assert r.status_code == 400 and "このお金は使えません" in _text(r)
    pay(kc, 500)
    r = kc.post("/kiosk/pay/", {"coin": "100"})
    assert r.status_code == 400 and "お支払い済み" in _text(r)  # the machine gives it back
    assert 'id="paid">660円' in _text(kc.get("/kiosk/pay/"))


def test_wrong_pins_count_down_and_the_third_locks_the_card(kc, card):
    r = sign_in(kc, card["number"], pin="1357")
    assert r.status_code == 400 and services.PIN_OR_CARD_WRONG in _text(r) and "あと" not in _text(r)
    r = kc.post("/kiosk/pin/", {"pin": "12"})
    assert r.status_code == 400 and "数字4桁" in _text(r)  # a slip of the finger does not count
    r = kc.post("/kiosk/pin/", {"pin": "1358"})
    assert r.status_code == 400 and services.PIN_OR_CARD_WRONG in _text(r)
    r = kc.post("/kiosk/pin/", {"pin": "1359"})
    assert r["Location"] == "/kiosk/end/"
    assert "暗証番号を3回誤ったため、このカードは利用できません。窓口へお越しください。" in _text(kc.get("/kiosk/end/"))
    with gate.open(TEST_ACTOR, function="test", perm=Perm.CARD_MANAGE):
        assert Card.objects.get(pk=card["card_id"]).state == CardState.LOCKED
    # Locked stays locked, whatever PIN.
    sign_in(kc, card["number"], pin="2580")
    assert "3回誤ったため" in _text(kc.get("/kiosk/end/"))
    pins = AccessLog.objects.filter(function="card.pin_failed", system="kiosk:KIOSK-01")
    assert pins.count() == 3 and "1357" not in str(list(pins.values_list("criteria", flat=True)))


def _without_csrf(r) -> bytes:
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]*"', b"", r.content)


def test_an_unknown_card_reads_exactly_like_a_wrong_pin(kc, kiosk, card):
    """No card-number oracle (issue 11): the same status, page and message for an unknown card as
    for a wrong PIN on a real one; the session goes on in both cases."""
    wrong = sign_in(kc, card["number"], pin="1357")
    other = enrolled_client(kiosk)
    unknown = sign_in(other, "1234567890", pin="1357")
    assert wrong.status_code == unknown.status_code == 400
    assert _without_csrf(wrong) == _without_csrf(unknown)
    assert services.PIN_OR_CARD_WRONG in _text(unknown)
    assert other.get("/kiosk/pin/").status_code == 200  # still asked for the PIN, not ended
    # The log keeps the real reasons.
    rows = list(AccessLog.objects.filter(function="card.authenticate", system="kiosk:KIOSK-01")
                .order_by("id").values_list("outcome", flat=True))
    assert rows[-2:] == [ErrorCode.CARD_PIN_WRONG, ErrorCode.CARD_STATE]


def test_idle_for_a_minute_ends_the_session_on_the_server(kc, card):
    sign_in(kc, card["number"])
    choose_copy(kc)
    pay(kc, 100)
    session = kc.session
    session[access.STATE]["seen"] -= 61
    session.save()
    r = kc.get("/kiosk/pay/")
    assert r["Location"] == "/kiosk/end/"
    end = _text(kc.get("/kiosk/end/"))
    assert "一定時間操作がなかったため、手続きを終了しました。" in end and "入れたお金（100円）をお返しします" in end
    assert access.STATE not in kc.session
    assert kc.post("/kiosk/issue/")["Location"] == "/kiosk/"
    assert not CertificateIssue.objects.exists()


def test_59_seconds_are_not_idle_and_the_page_timer_knows_the_limit(kc, card):
    sign_in(kc, card["number"])
    session = kc.session
    session[access.STATE]["seen"] -= 59
    session.save()
    page = kc.get("/kiosk/menu/")
    assert page.status_code == 200 and 'data-idle-seconds="60"' in _text(page)


def test_quit_gives_the_money_back_and_the_timer_url_ends_too(kc, card):
    sign_in(kc, card["number"])
    choose_copy(kc)
    pay(kc, 100, 10)
    assert kc.post("/kiosk/cancel/")["Location"] == "/kiosk/end/"
    end = _text(kc.get("/kiosk/end/"))
    assert "手続きを中止しました。" in end and "入れたお金（110円）をお返しします" in end
    assert kc.get("/kiosk/confirm/")["Location"] == "/kiosk/"
    sign_in(kc, card["number"])
    assert kc.get("/kiosk/timeout/")["Location"] == "/kiosk/end/"
    assert "一定時間操作がなかった" in _text(kc.get("/kiosk/end/"))


def test_each_resident_gets_a_new_session_key(kc, card):
    sign_in(kc, card["number"])
    first = kc.session.session_key
    kc.post("/kiosk/cancel/")
    kc.get("/kiosk/card/")
    assert kc.session.session_key != first


@pytest.mark.parametrize("path", ["/kiosk/menu/", "/kiosk/copy/", "/kiosk/confirm/", "/kiosk/pay/", "/kiosk/done/"])
def test_steps_need_the_steps_before_them(kc, path):
    assert kc.get(path)["Location"] == "/kiosk/"


def test_two_kiosks_are_told_apart(kiosk, card, household):
    second = devices.device_add(actor=TEST_ACTOR, code="KIOSK-02", name="2号機", location="八幡西区役所")
    kc2 = enrolled_client(second)
    sign_in(kc2, card["number"])
    choose_copy(kc2)
    pay(kc2, 500)
    issue(kc2)
    assert CertificateIssue.objects.get().terminal.code == "KIOSK-02"


def test_a_seal_certificate_with_the_card_that_is_the_seal_registration_card(kc, kiosk, sealed_card, household):
    sign_in(kc, sealed_card["number"])
    menu = _text(kc.get("/kiosk/menu/"))
    assert 'id="choose-seal" disabled' not in menu
    r = kc.post("/kiosk/menu/", {"form": "seal_cert"})
    assert r["Location"] == "/kiosk/confirm/"  # nothing to choose for a 印鑑登録証明書
    assert "印鑑登録証明書" in _text(kc.get("/kiosk/confirm/"))
    pay(kc, 100, 100, 100)
    issue(kc)
    issued = CertificateIssue.objects.get()
    assert issued.form == "seal_cert" and issued.channel == "kiosk" and issued.terminal == kiosk.device.terminal
    assert issued.fee == 300 and issued.person_ids == [household["ids"][0]]
    text = pdf_text(kc.get("/kiosk/done/certificate.pdf").content)
    assert "印鑑登録証明書" in text and "青木太郎" in text and issued.number in text
    summary = cash.cash_summary(TEST_ACTOR, dt.date.today(), "KIOSK-01")
    assert summary["terminals"][0]["rows"] == [{"form": "seal_cert", "label": "印鑑登録証明書", "count": 1, "free": 0,
                                                "amount": 300}]


def test_two_copies_chosen_on_the_confirmation_screen_paid_and_taken_one_by_one(kc, kiosk, card, household, clerk,
                                                                               terminal):
    from django.urls import reverse

    from tests.conftest import counter_client

    sign_in(kc, card["number"])
    choose_copy(kc, scope="household")
    page = _text(kc.get("/kiosk/confirm/"))
    assert 'id="copies">1通' in page and 'id="copies-less" disabled' in page and 'id="fee">300円' in page
    assert kc.post("/kiosk/confirm/", {"copies": "2"})["Location"] == "/kiosk/confirm/"
    page = _text(kc.get("/kiosk/confirm/"))
    assert 'id="copies">2通' in page and 'id="fee">600円' in page and "1通 300円 × 2通" in page
    refused = kc.post("/kiosk/confirm/", {"copies": "6"})
    assert refused.status_code == 400 and "通数は1通から5通までです" in _text(refused)
    page = _text(pay(kc, 500))
    assert 'id="short">100円' in page
    _text(pay(kc, 500))
    done = _text(issue(kc))
    first, second = CertificateIssue.objects.order_by("id")
    assert "住民票の写しを2通発行しました" in done and 'id="change">400円' in done
    assert f"1通目（発行番号 {first.number}）" in done and f"2通目（発行番号 {second.number}）" in done
    payment = KioskPayment.objects.get()
    assert (payment.amount, payment.fee, payment.copies, payment.issue_number) == (1000, 600, 2, first.number)
    pdf2 = kc.get("/kiosk/done/certificate.pdf?copy=2&download=1")
    assert f"certificate-{second.number}.pdf" in pdf2["Content-Disposition"] and second.number in pdf_text(pdf2.content)
    stored = kc.session[access.STATE]["issued"]
    assert stored["copies"][1] == {"number": second.number, "taken": True} and stored["copies"][0]["pdf"]
    assert "person_ids" in stored  # the first copy is still to be taken
    assert kc.get("/kiosk/done/certificate.pdf?copy=2").status_code == 410
    kc.get("/kiosk/done/certificate.pdf?copy=1&download=1")
    assert "person_ids" not in kc.session[access.STATE]["issued"]
    # 交付履歴 at the counter: each copy, issued by the 自動交付機 (no member of staff).
    listing = counter_client(clerk, terminal).get(reverse("certificate_counter:issue_list")).content.decode()
    assert listing.count('<td class="operator">自動交付機（自動交付機1号機）</td>') == 2


def test_any_other_refusal_on_a_screen_ends_with_the_kiosks_message(kc, card, monkeypatch):
    from juki.core.errors import NotFoundError
    from juki.kiosk import services

    def gone(**kwargs):
        raise NotFoundError("指定された世帯が見つかりません。")

    monkeypatch.setattr(services, "members", gone)
    sign_in(kc, card["number"])
    kc.post("/kiosk/menu/", {"form": "copy"})
    kc.post("/kiosk/copy/", {"scope": "members", "head": "no", "domicile": "no"})
    assert kc.get("/kiosk/copy/members/")["Location"] == "/kiosk/end/"
    end = _text(kc.get("/kiosk/end/"))
    assert "この証明書は自動交付機では交付できません。" in end and "世帯が見つかりません" not in end


def test_enrolment_is_logged_without_the_secret(kiosk, kc):
    row = AccessLog.objects.get(function="auth.kiosk_enrol")
    assert row.system == "kiosk:KIOSK-01" and row.terminal == kiosk.device.terminal
    assert kiosk.secret not in str(row.criteria)


def test_a_double_tap_on_issue_prints_one_certificate_and_charges_once(kc, kiosk, card, monkeypatch):
    """Two 「発行する」 sent at the same moment carry the same session state; the second finds the
    payment claimed, prints nothing, and leaves the first one's certificate in the session."""
    sign_in(kc, card["number"])
    choose_copy(kc, scope="self")
    kc.get("/kiosk/confirm/")
    pay(kc, 500)
    before = dict(kc.session[access.STATE])  # what the second request loaded, before the first saved
    issue(kc)  # the first request: prints and saves the certificate into the session
    with monkeypatch.context() as m:
        m.setattr(access, "state", lambda request: dict(before))
        second = kc.post("/kiosk/issue/")
    assert second.status_code == 302 and second["Location"] == "/kiosk/issuing/"
    assert "issued" in kc.session[access.STATE]  # the second request did not write its stale copy back
    assert kc.get("/kiosk/issuing/")["Location"] == "/kiosk/done/"
    done = _text(kc.get("/kiosk/done/"))
    number = CertificateIssue.objects.get().number
    assert "住民票の写しを発行しました" in done and "おつり<strong id=\"change\">200円" in done
    assert kc.get("/kiosk/done/certificate.pdf").status_code == 200
    payment = KioskPayment.objects.get()
    assert (payment.amount, payment.fee, payment.issue_number) == (500, 300, number)
    assert payment.device == kiosk.device


def _paid_for_a_copy(kc, card) -> dict:
    sign_in(kc, card["number"])
    choose_copy(kc, scope="self")
    kc.get("/kiosk/confirm/")
    pay(kc, 500)
    return dict(kc.session[access.STATE])


def test_a_double_tap_while_the_first_issue_runs_waits_for_its_certificate(kc, kiosk, card):
    state = _paid_for_a_copy(kc, card)
    assert kc.get("/kiosk/issuing/")["Location"] == "/kiosk/pay/"  # nothing claimed yet: nothing to wait for
    # The first request has claimed the payment (committed on its own) and is rendering the PDF.
    stand_in = KioskPayment.objects.create(token=state["payment"], device=kiosk.device, amount=500, fee=300)
    second = kc.post("/kiosk/issue/")
    assert second["Location"] == "/kiosk/issuing/"
    wait = kc.get("/kiosk/issuing/")
    body = _text(wait)
    assert wait.status_code == 200 and "発行しています。しばらくお待ちください。" in body
    assert '<meta http-equiv="refresh" content="2;url=/kiosk/issuing/">' in body
    # No 「やめる」, no idle timer, no money back: the money is spent on the issue under way.
    assert "お返しします" not in body and 'id="quit"' not in body and "data-timeout-url" not in body
    assert kc.get("/kiosk/done/")["Location"] == "/kiosk/issuing/"  # not there yet: back to the wait
    assert kc.session[access.STATE] == state  # no request wrote over the state the first one will save
    assert not CertificateIssue.objects.exists()
    # The first request finishes (played by the real view; the stand-in claim makes way for its own).
    stand_in.delete()
    first = kc.post("/kiosk/issue/")
    assert first["Location"] == "/kiosk/done/"  # its response goes nowhere: the browser shows the wait
    assert kc.get("/kiosk/issuing/")["Location"] == "/kiosk/done/"
    done = _text(kc.get("/kiosk/done/"))
    assert "住民票の写しを発行しました" in done and "お返しします" not in done
    issued = CertificateIssue.objects.get()
    assert KioskPayment.objects.get().issue_number == issued.number


def test_a_first_issue_that_never_finishes_ends_the_wait_with_the_money_back(kc, kiosk, card, settings):
    state = _paid_for_a_copy(kc, card)
    claim = KioskPayment.objects.create(token=state["payment"], device=kiosk.device, amount=500, fee=300)
    assert kc.post("/kiosk/issue/")["Location"] == "/kiosk/issuing/"
    assert kc.get("/kiosk/issuing/").status_code == 200
    # The first request failed: no number on its claim a whole idle period later.
    KioskPayment.objects.filter(pk=claim.pk).update(
        claimed_at=claim.claimed_at - dt.timedelta(seconds=settings.JUKI_KIOSK_IDLE_SECONDS + 1))
    assert kc.get("/kiosk/issuing/")["Location"] == "/kiosk/end/"
    end = _text(kc.get("/kiosk/end/"))
    assert "証明書を発行できませんでした。" in end and "入れたお金（500円）をお返しします" in end
    assert access.STATE not in kc.session


def test_an_issue_on_record_that_never_reaches_the_session_is_not_refunded(kc, kiosk, card, settings):
    state = _paid_for_a_copy(kc, card)
    late = dt.timedelta(seconds=settings.JUKI_KIOSK_IDLE_SECONDS + 1)
    KioskPayment.objects.create(token=state["payment"], device=kiosk.device, amount=500, fee=300,
                                issue_number="2025-000001")
    KioskPayment.objects.update(claimed_at=KioskPayment.objects.get().claimed_at - late)
    assert kc.post("/kiosk/issue/")["Location"] == "/kiosk/issuing/"
    assert kc.get("/kiosk/issuing/")["Location"] == "/kiosk/end/"
    end = _text(kc.get("/kiosk/end/"))
    assert "証明書をお渡しできませんでした。お手数ですが、窓口へお越しください。" in end and "お返しします" not in end


def test_the_issue_and_its_claims_number_commit_together(kiosk, kiosk_actor, card, monkeypatch):
    """A failure after the certificate is recorded but before the claim says so takes both back:
    never "money returned" on the claim while a certificate is on record."""
    from juki.kiosk import services

    holder = services.authenticate(actor=kiosk_actor, number=card["number"], pin=PIN)
    real_filter = KioskPayment.objects.filter

    def crash_on_update(*args, **kwargs):
        if "pk" in kwargs:
            raise RuntimeError("connection lost")
        return real_filter(*args, **kwargs)

    monkeypatch.setattr(KioskPayment.objects, "filter", crash_on_update)
    with pytest.raises(RuntimeError):
        services.issue_paid(actor=kiosk_actor, device=kiosk.device, token="t" * 32, holder=holder,
                            choice=services.Choice(form=services.COPY), paid=300)
    monkeypatch.undo()
    assert not CertificateIssue.objects.exists()
    assert not AccessLog.objects.filter(function__in=("certificate.issue", "print.certificate")).exists()
    assert list(KioskPayment.objects.values_list("token", "issue_number")) == [("t" * 32, "")]
    # The same token cannot be claimed twice: a resend finds the claim.
    with pytest.raises(services.AlreadyClaimed) as claimed:
        services.issue_paid(actor=kiosk_actor, device=kiosk.device, token="t" * 32, holder=holder,
                            choice=services.Choice(form=services.COPY), paid=300)
    assert claimed.value.number == ""


def test_a_double_tap_whose_first_issue_is_refused_ends_with_the_money_back(kc, kiosk, world, card):
    from juki.cards.services import card_suspend

    state = _paid_for_a_copy(kc, card)
    stand_in = KioskPayment.objects.create(token=state["payment"], device=kiosk.device, amount=500, fee=300)
    assert kc.post("/kiosk/issue/")["Location"] == "/kiosk/issuing/"
    # The first request is refused (the card was reported lost a moment ago) and ends the session.
    stand_in.delete()
    card_suspend(actor=world, card_id=card["card_id"], reason="紛失の届出")
    assert kc.post("/kiosk/issue/")["Location"] == "/kiosk/end/"
    assert kc.get("/kiosk/issuing/")["Location"] == "/kiosk/end/"
    end = _text(kc.get("/kiosk/end/"))
    assert "このカードは自動交付機では利用できません。" in end and "入れたお金（500円）をお返しします" in end
    assert not CertificateIssue.objects.exists()


# --- abandoned sessions: the cleanup (issue 11) ----------------------------------------------------


def _stored_state(kc) -> dict | None:
    from django.contrib.sessions.backends.db import SessionStore

    return SessionStore(session_key=kc.cookies["sessionid"].value).load().get(access.STATE)


def test_the_cleanup_removes_an_abandoned_sessions_certificate(kc, card, settings):
    from juki.kiosk.cleanup import cleanup

    sign_in(kc, card["number"])
    choose_copy(kc, scope="self")
    kc.get("/kiosk/confirm/")
    pay(kc, 500)
    issue(kc)  # the kiosk stops here: no 「終わる」, no further request
    assert _stored_state(kc)["issued"]["copies"][0]["pdf"]
    assert cleanup().scrubbed == 0  # not idle yet: left alone

    later = _stored_state(kc)["seen"] + settings.JUKI_KIOSK_IDLE_SECONDS + 1
    assert cleanup(now=later).scrubbed == 1
    state = _stored_state(kc)
    assert state == {"seen": state["seen"], "paid": 500, "scrubbed": True, "issued": {
        "numbers": [CertificateIssue.objects.get().number], "form": "copy", "fee": 300, "change": 200}}
    assert cleanup(now=later).scrubbed == 0  # once is enough

    assert kc.get("/kiosk/done/certificate.pdf").status_code == 410  # (had the clock not moved on)
    # The kiosk comes back after its idle time: the session ends as any idle one, nothing is shown.
    settings.JUKI_KIOSK_IDLE_SECONDS = -1
    r = kc.get("/kiosk/done/certificate.pdf")
    assert r.status_code == 302 and r["Location"] == "/kiosk/end/"
    assert _stored_state(kc) is None


def test_the_cleanup_command_scrubs_a_session_abandoned_before_the_issue(kc, card, settings):
    from io import StringIO

    from django.core.management import call_command

    sign_in(kc, card["number"])
    assert _stored_state(kc)["holder"]
    settings.JUKI_KIOSK_IDLE_SECONDS = -1  # everything is idle
    out = StringIO()
    call_command("kiosk_cleanup", stdout=out)
    assert "1件からデータを消去" in out.getvalue()
    state = _stored_state(kc)
    assert "holder" not in state and "card" not in state and state["scrubbed"]
