"""住民票コード通知票 and its 変更 / 修正 versions [890]: content, variants, 職権 record, reissue, refusals."""
from __future__ import annotations

import pytest

from juki.audit.gate import Actor
from juki.audit.models import AccessLog
from juki.certificates import code_notice, services
from juki.certificates.models import CertificateIssue
from juki.core.errors import AccessDenied, DomainError, ErrorCode
from juki.core.wareki import to_wareki
from juki.register import selectors
from juki.register.services import changes
from tests.conftest import TODAY, days_ago
from tests.helpers import assert_fonts_embedded, pdf_text
from tests.protection.helpers import move_in_victim, protect
from tests.register.helpers import ref

from .test_move_out import last_log, shot


def code_of(actor, pid: int) -> str:
    return selectors.person_get(actor=actor, person_id=pid)["resident_code"]


def change_code(sup_actor, pid: int) -> int:
    """住民票コードの変更請求 [880] (the supervisor's right); returns the change id."""
    return changes.resident_code_assign(actor=sup_actor, event_date=TODAY, person=ref(pid), change_request=True).change_id


def test_notice_of_the_code_recorded_at_entry(world, fam, tmp_path):
    result = code_notice.resident_code_notice_issue(actor=world, person_id=fam["child"])
    shot(result.pdf, "certificate-code-notice", tmp_path)
    text = pdf_text(result.pdf)
    for expected in ("住民票コード通知票", "〒803-0813", "福岡県北九州市小倉北区城内1番1号", "青木一郎様",
                     "あなたの住民票コードは、次のとおりです。", "青木一郎（アオキイチロウ）", "平成27年8月3日",
                     code_of(world, fam["child"]), f"住民票コードを記載した日{to_wareki(days_ago(30))}",
                     "本人確認の書類としては使えません", "上記のとおり通知します。", "福岡県北九州市長", result.number):
        assert expected in text, expected
    for absent in ("変更通知票", "修正通知票", "再交付", "見本", "個人番号", "本籍"):
        assert absent not in text, absent
    fonts = assert_fonts_embedded(result.pdf)
    assert "IPAexMincho" in fonts and "Helvetica" not in fonts
    # Numbered, signed and checkable like every certificate.
    checked = services.certificate_verify(number=result.number, pdf=result.pdf)
    assert (checked["result"], checked["form_label"]) == ("genuine", "住民票コード通知票")
    rec = result.issue
    assert (rec.form, rec.requester_kind, rec.fee, rec.person_ids) == ("resident_code_notice", "ex_officio", 0, [fam["child"]])
    assert rec.options["kind"] == "assign"
    assert services.issue_dict(rec)["requester_kind_label"] == "職権"
    assert last_log(function="print.certificate").criteria["kind"] == "assign"


def test_fee_is_nil_whatever_the_fee_table_says(world, fam, settings):
    settings.JUKI_CERTIFICATE_FEES = {"resident_code_notice": 200}
    assert code_notice.resident_code_notice_issue(actor=world, person_id=fam["head"]).issue.fee == 0


def test_change_and_correction_notices(world, sup_actor, fam, tmp_path):
    old = code_of(world, fam["head"])
    change_id = change_code(sup_actor, fam["head"])
    new = code_of(world, fam["head"])
    assert new != old
    changed = code_notice.resident_code_notice_issue(actor=world, person_id=fam["head"], change_id=change_id)
    shot(changed.pdf, "certificate-code-notice-change", tmp_path)
    text = pdf_text(changed.pdf)
    assert "住民票コード変更通知票" in text and new in text and old not in text
    assert "ご請求により、あなたの住民票コードを次のとおり変更しましたので、お知らせします。" in text
    assert f"住民票コードを変更した日{to_wareki(TODAY)}" in text
    assert changed.issue.options["variant_label"] == "住民票コード変更通知票"

    # The 変更 taken back (異動の取消し): the old code again, a 修正.
    cancel = changes.cancel(actor=world, event_date=TODAY, change_id=change_id, persons=[ref(fam["head"])])
    corrected = code_notice.resident_code_notice_issue(actor=world, person_id=fam["head"], change_id=cancel.change_id)
    shot(corrected.pdf, "certificate-code-notice-correction", tmp_path)
    text = pdf_text(corrected.pdf)
    assert "住民票コード修正通知票" in text and old in text and new not in text
    assert "住民票コードを修正した日" in text

    # The change id of the flow must be the one that recorded the current code.
    with pytest.raises(DomainError) as err:
        code_notice.resident_code_notice_issue(actor=world, person_id=fam["head"], change_id=change_id)
    assert err.value.code == ErrorCode.INVALID_INPUT and err.value.field == "change_id"


def test_reissue_prints_the_first_state_and_re_output_the_current(world, sup_actor, fam, tmp_path):
    code = code_of(world, fam["wife"])
    first = code_notice.resident_code_notice_issue(actor=world, person_id=fam["wife"])
    # After the first output the register changes, but not the code: a 誤記修正 of her name.
    changes.erratum_correction(actor=world, event_date=TODAY, person=ref(fam["wife"]),
                               changes={"given_name": "華子", "given_name_kana": "ハナコ"})

    again = services.certificate_reissue(actor=world, number=first.number)
    shot(again.pdf, "certificate-code-notice-reissue", tmp_path)
    text = pdf_text(again.pdf)
    assert "住民票コード通知票（再交付）" in text and code in text
    assert "青木花子（アオキハナコ）" in text and "華子" not in text  # the first state, not the register now
    assert first.number in text and again.issue.reissue_of == first.issue and again.issue.fee == 0
    assert again.issue.requester_kind == "ex_officio"
    # A notice, not a document another office acts on: the original stays valid (it tells the same code).
    assert services.certificate_verify(number=first.number, pdf=first.pdf)["result"] == "genuine"

    # Once the code has changed, the reissue would notify a code that is no longer hers: refused,
    # and the clerk is sent to 再出力, which prints the current code.
    change_code(sup_actor, fam["wife"])
    new = code_of(world, fam["wife"])
    with pytest.raises(DomainError) as err:
        services.certificate_reissue(actor=world, number=first.number)
    assert err.value.code == ErrorCode.INVALID_INPUT and "再出力" in err.value.message
    assert last_log(function="certificate.reissue").outcome == ErrorCode.INVALID_INPUT
    assert CertificateIssue.objects.count() == 2
    fresh = pdf_text(code_notice.resident_code_notice_issue(actor=world, person_id=fam["wife"]).pdf)
    assert "住民票コード変更通知票" in fresh and new in fresh and code not in fresh and "再交付" not in fresh


def test_status_for_the_screen(world, sup_actor, fam):
    status = code_notice.resident_code_notice_status(actor=world, person_id=fam["head"])
    assert status["available"] and status["title"] == "住民票コード通知票" and status["date"]["date"] == days_ago(30).isoformat()
    change_code(sup_actor, fam["head"])
    assert code_notice.resident_code_notice_status(actor=world, person_id=fam["head"])["title"] == "住民票コード変更通知票"
    changes.death(actor=world, event_date=TODAY, notified_on=TODAY, persons=[ref(fam["child"])])
    gone = code_notice.resident_code_notice_status(actor=world, person_id=fam["child"])
    assert gone == {"available": False, "message": "消除された方には、住民票コード通知票を出力できません。"}


def test_code_event_from_the_history():
    def v(code, reason="minor_correction", change=1, day="2026-01-01"):
        return {"resident_code": code, "reason": reason, "change": {"id": change}, "event_date": {"date": day}}

    assert code_notice.code_event([v(""), v("", change=2)]) is None  # never recorded
    assert code_notice.code_event([v(""), v("11111111111", "resident_code_ex_officio_entry", 2)])["kind"] == "assign"
    assert code_notice.code_event([v("11111111111"), v("22222222222", "resident_code_change_request", 2)]) == {
        "kind": "change", "change_id": 2, "date": {"date": "2026-01-01"}, "code": "22222222222"}
    event = code_notice.code_event([v("11111111111"), v("22222222222", "cancel_correction", 2), v("22222222222", change=3)])
    assert (event["kind"], event["change_id"]) == ("correction", 2)  # the later version kept the code


# --- refusals -------------------------------------------------------------------------------------------


def test_a_removed_person_is_refused(world, fam):
    changes.death(actor=world, event_date=TODAY, notified_on=TODAY, persons=[ref(fam["child"])])
    with pytest.raises(DomainError) as err:
        code_notice.resident_code_notice_issue(actor=world, person_id=fam["child"])
    assert err.value.code == ErrorCode.NOT_RESIDENT
    assert last_log(function="certificate.issue").outcome == ErrorCode.NOT_RESIDENT
    assert CertificateIssue.objects.count() == 0


def test_no_right_is_refused_and_logged(world, viewer, terminal, fam):
    outsider = Actor(user=viewer, terminal=terminal)
    for call in (lambda: code_notice.resident_code_notice_issue(actor=outsider, person_id=fam["head"]),
                 lambda: code_notice.resident_code_notice_preview(actor=outsider, person_id=fam["head"]),
                 lambda: code_notice.resident_code_notice_status(actor=outsider, person_id=fam["head"])):
        before = AccessLog.objects.filter(user=viewer, outcome=AccessLog.DENIED).count()
        with pytest.raises(AccessDenied):
            call()
        assert AccessLog.objects.filter(user=viewer, outcome=AccessLog.DENIED).count() == before + 1
    assert CertificateIssue.objects.count() == 0


def test_a_support_measure_person(world, support_user, terminal):
    victim = move_in_victim(world)
    staff = Actor(user=support_user, terminal=terminal)
    protect(staff, victim, provisional=False)
    with pytest.raises(DomainError) as err:
        code_notice.resident_code_notice_issue(actor=world, person_id=victim["mother"])
    assert err.value.code == ErrorCode.SUPPORT_MEASURE_PROTECTED
    assert CertificateIssue.objects.count() == 0
    done = code_notice.resident_code_notice_issue(actor=staff, person_id=victim["mother"])
    assert done.issue.person_ids == [victim["mother"]]
    assert "support_measure" in last_log(function="print.certificate").flags


def test_preview_records_nothing(world, fam):
    result = code_notice.resident_code_notice_preview(actor=world, person_id=fam["head"])
    text = pdf_text(result.pdf)
    assert "【見本】住民票コード通知票" in text and "（交付前）" in text and "証明書として使用できません" in text
    assert CertificateIssue.objects.count() == 0
    assert last_log(function="certificate.preview").outcome == AccessLog.OK
