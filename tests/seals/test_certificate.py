"""印鑑登録証明書: the card, the requester, the refusals, the PDF and its verification."""
from __future__ import annotations

import datetime as dt
import subprocess

import pytest
from django.utils import timezone

from juki.audit import gate
from juki.audit.models import AccessLog
from juki.cards import numbers
from juki.cards import services as cards
from juki.certificates import services as certificates
from juki.certificates.entitlement import Request
from juki.certificates.models import CertificateIssue, CertificateRequest
from juki.core.errors import ErrorCode
from juki.protection import services as protection
from juki.seals import services
from juki.seals.models import RegistrationMethod, SealState
from tests.helpers import assert_fonts_embedded, last_log, pdf_text, refused

from .helpers import seal_png

BORN = dt.date(1985, 4, 1)  # 青木 太郎 of the `fam` household


@pytest.fixture
def holder(actor, fam):
    """青木 太郎 with a registered 15 mm seal and his city card as its 印鑑登録証."""
    card = cards.card_issue(actor=actor, person_id=fam["head"], pin="2580")
    reg = services.seal_register(actor=actor, person_id=fam["head"], method=RegistrationMethod.IDENTITY_DOCUMENT,
                                 image=seal_png(15), seal_text="青木", documents=["運転免許証"], seal_checked=True)
    return {"person_id": fam["head"], "card": card["number"], "card_id": card["card_id"], "registration": reg}


def self_request(holder) -> Request:
    return Request(kind="self", requester_person_id=holder["person_id"])


def issue(actor, holder, **over):
    values = {"card_number": holder["card"], "request": self_request(holder), "stated_birth_date": BORN,
              "person_id": holder["person_id"]}
    values.update(over)
    return services.seal_certificate_issue(actor=actor, **values)


def run(tool: str, pdf: bytes, tmp_path, *args) -> str:
    path = tmp_path / "tool.pdf"
    path.write_bytes(pdf)
    return subprocess.run([tool, *args, str(path)], check=True, capture_output=True, text=True).stdout


def test_the_certificate_prints_the_seal_and_the_registrant(actor, holder, tmp_path):
    result = issue(actor, holder)
    text = pdf_text(result.pdf)
    for expected in ("印鑑登録証明書", "印影", "氏名", "青木太郎", "生年月日", "昭和60年4月1日", "性別", "男",
                     "住所", "北九州市小倉北区城内1番1号", "この写しは、登録されている印影と相違ないことを証明する。",
                     "福岡県北九州市長小倉一郎", f"発行番号{result.number}",
                     "登録番号", holder["registration"]["number"]):
        assert expected in text, expected
    assert "アオキ" not in text  # no フリガナ on this form
    issue_row = CertificateIssue.objects.get(number=result.number)
    assert issue_row.form == "seal_cert" and issue_row.fee == 300 and issue_row.person_ids == [holder["person_id"]]
    assert issue_row.options == {"form": "seal_cert", "registration_id": holder["registration"]["id"],
                                 "card_id": holder["card_id"]}


def test_the_pdf_embeds_its_fonts_and_the_seal_image_at_its_real_size(actor, holder, tmp_path):
    pdf = issue(actor, holder).pdf
    fonts = assert_fonts_embedded(pdf)
    assert "IPAexMincho" in fonts and "Helvetica" not in fonts
    images = run("pdfimages", pdf, tmp_path, "-list").splitlines()[2:]
    assert len(images) == 1
    cols = images[0].split()
    width, height, color, x_ppi = int(cols[3]), int(cols[4]), cols[5], int(cols[12])
    # The stored scan: 15 mm + 2 × 1 mm margin at 300 dpi, drawn at 300 ppi = its real size.
    assert abs(width - round(17 / 25.4 * 300)) <= 2 and width == height and color == "gray"
    assert abs(x_ppi - 300) <= 2


def test_the_certificate_verifies_as_genuine(actor, holder):
    result = issue(actor, holder)
    check = certificates.certificate_verify(number=result.number, pdf=result.pdf)
    assert check["result"] == "genuine" and check["form_label"] == "印鑑登録証明書"
    assert certificates.certificate_verify(number=result.number, pdf=result.pdf + b"x")["result"] == "altered"


def test_what_was_checked_is_recorded_and_logged(actor, holder):
    result = issue(actor, holder)
    with gate.open(actor, function="test", perm="certificate.issue"):
        taken = CertificateRequest.objects.get(issue__number=result.number)
    assert taken.documents == ["印鑑登録証（市民カード）", "交付申請書（登録者の生年月日を照合）"]
    assert taken.requester_person_id == holder["person_id"] and not taken.power_of_attorney
    log = AccessLog.objects.filter(function="seal.certificate_issue").latest("id")
    assert log.outcome == AccessLog.OK and log.criteria["number"] == result.number
    printed = AccessLog.objects.filter(function="print.certificate").latest("id")
    assert printed.criteria["form"] == "seal_cert" and printed.criteria["card_id"] == holder["card_id"]
    assert holder["card"] not in str(log.criteria) + str(printed.criteria)  # the card number is not logged


def test_an_agent_holding_the_card_needs_no_power_of_attorney(actor, holder, tmp_path):
    result = issue(actor, holder, request=Request(kind="agent", requester_name="山本　一郎", documents=("運転免許証",)))
    assert "青木太郎" in pdf_text(result.pdf)
    with gate.open(actor, function="test", perm="certificate.issue"):
        taken = CertificateRequest.objects.get(issue__number=result.number)
    assert taken.requester_name == "山本　一郎" and taken.requester_person_id is None and "運転免許証" in taken.documents
    e = refused(ErrorCode.CERTIFICATE_REQUEST_INCOMPLETE, issue, actor, holder, request=Request(kind="agent"))
    assert e.field == "requester_name"


def test_only_self_or_an_agent_may_ask(actor, holder, fam):
    e = refused(ErrorCode.CERTIFICATE_NOT_ENTITLED, issue, actor, holder,
                request=Request(kind="third_party", requester_name="債権者", purpose="回収"))
    assert "本人または代理人" in e.message
    e = refused(ErrorCode.CERTIFICATE_NOT_ENTITLED, issue, actor, holder,
                request=Request(kind="self", requester_person_id=fam["wife"]))
    assert e.field == "kind"
    refused(ErrorCode.CERTIFICATE_NOT_ENTITLED, issue, actor, holder,
            request=Request(kind="household", requester_person_id=fam["wife"]))


def test_the_card_must_be_right_usable_and_the_screens_persons(actor, holder, fam):
    e = refused(ErrorCode.INVALID_INPUT, issue, actor, holder, card_number="")
    assert e.field == "card_number"
    wrong_digit = holder["card"][:-1] + str((int(holder["card"][-1]) + 1) % 10)
    e = refused(ErrorCode.INVALID_INPUT, issue, actor, holder, card_number=wrong_digit)
    assert "カード番号に誤りがあります" in e.message
    unknown = next(n for n in (numbers.new_number() for _ in range(50)) if n != holder["card"])
    unknown_refusal = refused(ErrorCode.CARD_STATE, issue, actor, holder, card_number=unknown)
    # Full-width digits and spaces as typed are accepted.
    typed = " ".join(holder["card"][i:i + 4] for i in range(0, 10, 4)).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert issue(actor, holder, card_number=typed).number
    e = refused(ErrorCode.CARD_STATE, issue, actor, holder, person_id=fam["wife"])
    assert "画面に表示している方" in e.message
    cards.card_suspend(actor=actor, card_id=holder["card_id"], reason="紛失の申出")
    suspended = refused(ErrorCode.CARD_STATE, issue, actor, holder)
    assert suspended.message == unknown_refusal.message  # one message: numbers cannot be probed


def test_the_seal_must_be_registered(actor, holder):
    services.seal_abolish(actor=actor, person_id=holder["person_id"], documents=["運転免許証"])
    e = refused(ErrorCode.SEAL_STATE, issue, actor, holder)
    assert "印鑑の登録がありません" in e.message
    assert not CertificateIssue.objects.exists()


def test_a_card_of_a_pending_registration_is_refused(actor, fam):
    card = cards.card_issue(actor=actor, person_id=fam["wife"], pin="2580")
    services.seal_register(actor=actor, person_id=fam["wife"], method=RegistrationMethod.INQUIRY, image=seal_png(12),
                           seal_text="花子", seal_checked=True)
    refused(ErrorCode.SEAL_STATE, services.seal_certificate_issue, actor=actor, card_number=card["number"],
            request=Request(kind="self"), stated_birth_date=dt.date(1987, 6, 2))


def test_the_birth_date_on_the_application_must_match(actor, holder):
    e = refused(ErrorCode.CERTIFICATE_REQUEST_INCOMPLETE, issue, actor, holder, stated_birth_date=None)
    assert e.field == "stated_birth_date"
    e = refused(ErrorCode.CERTIFICATE_NOT_ENTITLED, issue, actor, holder, stated_birth_date=dt.date(1985, 4, 2))
    assert e.field == "stated_birth_date" and "一致しません" in e.message
    assert not CertificateIssue.objects.exists()


def test_a_kiosk_needs_no_statement_but_an_active_card(actor, holder, terminal):
    from juki.audit.gate import Actor

    kiosk = Actor.device("kiosk:K-01", frozenset({"certificate.issue", "person.view"}), terminal=terminal)
    result = services.seal_certificate_issue(actor=kiosk, card_number=holder["card"], request=Request(kind="self"),
                                             channel="kiosk")
    assert result.issue.channel == "kiosk" and result.issue.operator is None
    # Spoiled at the kiosk and replaced at the counter the same day: the reissue is the counter's.
    certificates.certificate_void(actor=actor, number=result.number, reason="印刷が薄かったため")
    again = services.seal_certificate_reissue(actor=actor, number=result.number)
    assert again.issue.channel == "counter" and again.issue.operator == actor.user


def test_refused_for_the_offender_of_a_support_measure(actor, support_user, terminal, world):
    from juki.audit.gate import Actor
    from tests.protection.helpers import (
        OFFENDER,
        OFFENDER_BIRTH,
        VICTIM_BIRTH,
        move_in_victim,
        protect,
    )

    support = Actor(user=support_user, terminal=terminal)
    victim = move_in_victim(support)
    card = cards.card_issue(actor=support, person_id=victim["mother"], pin="2580")
    services.seal_register(actor=support, person_id=victim["mother"], method=RegistrationMethod.IDENTITY_DOCUMENT,
                           image=seal_png(15), seal_text="山田花子", documents=["運転免許証"], seal_checked=True)
    protect(support, victim)
    agent = Request(kind="agent", requester_name=OFFENDER.name, requester_kana=OFFENDER.kana,
                    requester_birth_date=OFFENDER_BIRTH)
    e = refused(ErrorCode.SUPPORT_MEASURE_BLOCK, services.seal_certificate_issue, actor=support,
                card_number=card["number"], request=agent, stated_birth_date=VICTIM_BIRTH)
    assert "支援措置" in e.message
    assert AccessLog.objects.filter(function="certificate.check").latest("id").outcome == ErrorCode.SUPPORT_MEASURE_BLOCK
    # Any other agent is refused too; the person herself (read by the support staff) is issued.
    refused(ErrorCode.SUPPORT_MEASURE_BLOCK, services.seal_certificate_issue, actor=support, card_number=card["number"],
            request=Request(kind="agent", requester_name="友人　一子"), stated_birth_date=VICTIM_BIRTH)
    assert services.seal_certificate_issue(actor=support, card_number=card["number"], request=Request(kind="self"),
                                           stated_birth_date=VICTIM_BIRTH).number
    # A clerk without the support right cannot even read her.
    refused(ErrorCode.SUPPORT_MEASURE_PROTECTED, services.seal_certificate_issue, actor=actor, card_number=card["number"],
                request=Request(kind="self"), stated_birth_date=VICTIM_BIRTH)
    assert CertificateIssue.objects.count() == 1


def test_refused_under_a_certificate_restriction(actor, sup_actor, holder):
    protection.restriction_set(actor=sup_actor, processes=["certificate"], reason="調査中",
                               person_id=holder["person_id"])
    e = refused(ErrorCode.RESTRICTED, issue, actor, holder)
    assert "抑止" in e.message
    assert not CertificateIssue.objects.exists()


def test_reissue_replaces_a_certificate_voided_the_same_day_once(actor, holder, tmp_path):
    first = issue(actor, holder)
    certificates.certificate_void(actor=actor, number=first.number, reason="印刷を誤ったため")
    again = services.seal_certificate_reissue(actor=actor, number=first.number)
    assert again.number != first.number and again.issue.reissue_of_id == first.issue.id and again.issue.fee == 0
    assert "青木太郎" in pdf_text(again.pdf)
    log = AccessLog.objects.filter(function="seal.certificate_reissue").latest("id")
    assert log.outcome == AccessLog.OK and log.criteria["number"] == again.number
    refused(ErrorCode.NOT_FOUND, services.seal_certificate_reissue, actor=actor, number="1999-000001")
    # The 交付履歴's shared 再交付 (certificates.services) hands a seal certificate to this service.
    certificates.certificate_void(actor=actor, number=again.number, reason="用紙詰まり")
    third = certificates.certificate_reissue(actor=actor, number=again.number)
    assert third.issue.form == "seal_cert" and third.issue.reissue_of_id == again.issue.id and third.issue.fee == 0


def test_one_paid_certificate_never_becomes_several_genuine_ones(actor, clerk2, terminal, holder):
    from juki.audit.gate import Actor

    first = issue(actor, holder)
    other = Actor(user=clerk2, terminal=terminal)  # another clerk, with only the number
    e = refused(ErrorCode.CERTIFICATE_NOT_ENTITLED, services.seal_certificate_reissue, actor=other, number=first.number)
    assert "無効にした証明書に限ります" in e.message
    e = refused(ErrorCode.CERTIFICATE_NOT_ENTITLED, certificates.certificate_reissue, actor=other, number=first.number)
    assert CertificateIssue.objects.count() == 1
    assert AccessLog.objects.filter(function="seal.certificate_reissue").latest("id").outcome == "certificate_not_entitled"
    certificates.certificate_void(actor=actor, number=first.number, reason="印刷を誤ったため")
    again = services.seal_certificate_reissue(actor=other, number=first.number)
    e = refused(ErrorCode.CERTIFICATE_NOT_ENTITLED, services.seal_certificate_reissue, actor=other, number=first.number)
    assert f"すでに再交付しています（発行番号 {again.number}）" in e.message
    results = [certificates.certificate_verify(number=r.number, pdf=r.pdf)["result"] for r in (first, again)]
    assert results == ["voided", "genuine"] and CertificateIssue.objects.count() == 2


def test_a_reissue_on_a_later_day_is_refused(actor, holder, monkeypatch):
    first = issue(actor, holder)
    certificates.certificate_void(actor=actor, number=first.number, reason="印刷を誤ったため")
    monkeypatch.setattr(services.certificates, "today", lambda: timezone.localdate() + dt.timedelta(days=1))
    e = refused(ErrorCode.CERTIFICATE_NOT_ENTITLED, services.seal_certificate_reissue, actor=actor, number=first.number)
    assert "交付した当日に限ります" in e.message and "交付申請書" in e.message
    assert CertificateIssue.objects.count() == 1


def test_preview_is_marked_and_records_nothing(actor, holder, tmp_path):
    preview = services.seal_certificate_preview(actor=actor, card_number=holder["card"], request=self_request(holder),
                                                stated_birth_date=BORN, person_id=holder["person_id"])
    text = pdf_text(preview.pdf)
    assert "【見本】印鑑登録証明書" in text and "（交付前）" in text and "相違ないことを証明する" not in text
    assert not CertificateIssue.objects.exists()
    assert AccessLog.objects.filter(function="seal.certificate_preview").latest("id").outcome == AccessLog.OK


def test_a_dead_persons_card_gives_no_certificate(actor, holder, fam):
    from juki.register import selectors
    from juki.register.services import changes
    from juki.register.services.writer import PersonRef

    version = selectors.person_get(actor=actor, person_id=fam["head"])["version"]
    changes.death(actor=actor, event_date=timezone.localdate(), notified_on=timezone.localdate(),
                  persons=[PersonRef(fam["head"], version)], new_head=fam["wife"])
    e = refused(ErrorCode.CARD_STATE, issue, actor, holder)  # the death abolished the card (and the seal)
    assert e.message == "この印鑑登録証（市民カード）では交付できません。カード番号とカードの状態を確認してください。"
    assert not CertificateIssue.objects.exists()


def test_a_card_and_seal_the_hooks_missed_give_no_certificate_once_the_person_is_removed(actor, holder, fam):
    """The card and the registration are still live (the ex-officio receivers were disconnected
    for the removal): the register itself refuses."""
    from juki.register import selectors
    from juki.register.services import changes
    from juki.register.services.writer import PersonRef, change_written

    version = selectors.person_get(actor=actor, person_id=fam["head"])["version"]
    try:
        assert change_written.disconnect(dispatch_uid="seals.ex_officio")
        assert change_written.disconnect(dispatch_uid="cards.ex_officio")
        changes.death(actor=actor, event_date=timezone.localdate(), notified_on=timezone.localdate(),
                      persons=[PersonRef(fam["head"], version)], new_head=fam["wife"])
    finally:
        change_written.connect(services.on_change_written, dispatch_uid="seals.ex_officio")
        change_written.connect(cards.on_change_written, dispatch_uid="cards.ex_officio")
    assert services.seal_get(actor=actor, person_id=fam["head"])["registrations"][0]["state"] == SealState.REGISTERED
    assert cards.cards_for_person(actor=actor, person_id=fam["head"])["cards"][0]["state"] == "active"
    e = refused(ErrorCode.SEAL_STATE, issue, actor, holder)
    assert e.message == ("この方は住民登録が消除されている（または転出の届出がある）ため、"
                         "印鑑登録証明書は交付できません。")
    assert e.field is None
    assert not CertificateIssue.objects.exists()
    assert last_log("seal.certificate_issue").outcome == ErrorCode.SEAL_STATE


def test_a_former_surname_is_printed_and_keeps_the_seal(actor, holder, fam, tmp_path):
    from juki.register import selectors
    from juki.register.services import changes
    from juki.register.services.writer import PersonRef

    version = selectors.person_get(actor=actor, person_id=fam["head"])["version"]
    changes.ex_officio_correction(actor=actor, event_date=timezone.localdate(), person=PersonRef(fam["head"], version),
                                  changes={"former_surname": "山本", "former_surname_kana": "ヤマモト"})
    text = pdf_text(issue(actor, holder).pdf)
    assert "旧氏山本" in text


def test_a_foreign_residents_alias_and_kanji_name_are_printed():
    from juki.seals import render

    class Registration:
        number = "000123"
        image = seal_png(12)
        image_dpi = 300

    person = {"person_id": 7, "name": {"family_name": "NGUYEN", "given_name": "VAN AN"},
              "foreign": {"alias_name": "中村　一郎", "kanji_name": "阮文安"},
              "birth_date": {"display": "1990年1月2日"}, "sex_label": "男", "address": {"display": "北九州市小倉北区城内1番1号"}}
    content = render.content(person=person, registration=Registration(), issue_number="2026-000009",
                             issued_on=dt.date(2026, 4, 1), municipality="北九州市", mayor_title="福岡県北九州市長")
    assert content["items"][:3] == [["登録番号", "000123"], ["氏名", "NGUYEN VAN AN　阮文安"], ["通称", "中村　一郎"]]
