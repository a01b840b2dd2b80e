"""転出証明書 [660][670]: its items, the 準ずる証明書, 特例, the reissue of the first state, refusals."""
from __future__ import annotations

import datetime as dt
import json
import subprocess

import pytest

from juki.audit import gate
from juki.audit.gate import Actor
from juki.audit.models import AccessLog
from juki.certificates import move_out, registry, services
from juki.certificates.models import CertificateIssue, CertificateSnapshot
from juki.core.errors import AccessDenied, DomainError, ErrorCode
from juki.core.wareki import to_wareki
from juki.protection import services as protection_services
from juki.register import selectors
from juki.register.services import changes
from juki.register.services.people import Address
from tests.conftest import KOKURA_JOUNAI, ROOT, TODAY, days_ago, move_in_family
from tests.helpers import assert_fonts_embedded, last_log, pdf_text
from tests.protection.helpers import move_in_victim, protect
from tests.register.helpers import ref

from .test_forms import FOREIGN

MY_NUMBER = "123456789018"
DESTINATION = "東京都千代田区丸の内一丁目9番"
SHOTS = ROOT / "test-artifacts" / "screenshots"


def shot(pdf: bytes, name: str, tmp_path) -> None:
    """The first page as test-artifacts/screenshots/<name>.png, for a human to look at."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "70", "-png", "-singlefile", str(path), str(SHOTS / name)], check=True)


def leave(actor, fam, *, event_date=None, notified_on=None, persons=None, abroad=False) -> int:
    """転出 of the household (default: everyone), planned five days ahead; returns the change id."""
    result = changes.move_out(actor=actor, event_date=event_date or TODAY + dt.timedelta(days=5),
                              notified_on=notified_on or TODAY, persons=[ref(p) for p in persons or
                                                                         (fam["head"], fam["wife"], fam["child"])],
                              destination_address=DESTINATION, abroad=abroad)
    return result.change_id


def with_my_number(actor, pid: int) -> None:
    changes.my_number_record(actor=actor, event_date=days_ago(10), person=ref(pid), my_number=MY_NUMBER, kind="entry")


def issue(actor, change_id, **kw):
    return move_out.move_out_certificate_issue(actor=actor, change_id=change_id, **kw)


def test_it_prints_every_statutory_item(world, sup_actor, fam, tmp_path):
    with_my_number(world, fam["head"])
    change_id = leave(world, fam)
    result = issue(sup_actor, change_id)
    pdf = result.pdf
    shot(pdf, "certificate-move-out", tmp_path)

    fonts = assert_fonts_embedded(pdf)
    assert "IPAexMincho" in fonts and "Helvetica" not in fonts

    text = pdf_text(pdf)
    planned = TODAY + dt.timedelta(days=5)
    codes = [selectors.person_get(actor=world, person_id=fam[k])["resident_code"] for k in ("head", "wife", "child")]
    assert all(code in text for code in codes)
    for expected in ("転出証明書", "青木太郎（アオキタロウ）", "青木花子（アオキハナコ）", "青木一郎（アオキイチロウ）",
                     "世帯主青木太郎", "住所北九州市小倉北区城内1番1号", f"転出先{DESTINATION}",
                     f"転出予定年月日{to_wareki(planned)}", f"届出年月日{to_wareki(TODAY)}", "昭和60年4月1日", "性別男",
                     "続柄妻", "住民となった年月日", "住所を定めた年月日", "従前の住所福岡県福岡市博多区博多駅前二丁目1番1号",
                     "本籍福岡県北九州市小倉北区城内1番", "筆頭者青木太郎", "住民票コード", "個人番号123456789018",
                     "上記の者について、転出の届出があったことを証明する。", "福岡県北九州市長", result.number):
        assert expected in text, expected
    # Not on it: what the register does not hold, and nothing of the other variants.
    for absent in ("国民健康保険", "国民年金", "介護保険", "児童手当", "再交付", "特例による転出処理済", "準ずる", "見本"):
        assert absent not in text, absent
    # [1010]: 世帯主, 妻, 子.
    assert text.index("青木太郎（") < text.index("青木花子（") < text.index("青木一郎（")

    assert services.certificate_verify(number=result.number, pdf=pdf)["form_label"] == "転出証明書"
    rec = result.issue
    assert (rec.form, rec.fee, rec.requester_kind) == ("move_out_cert", 0, "notifier")
    assert rec.options["change_id"] == change_id and rec.person_ids == [fam["head"], fam["wife"], fam["child"]]
    assert last_log(function="certificate.issue").my_number_accessed is True
    assert last_log(function="print.certificate").criteria["with_my_number"] is True
    with gate.open(world, function="test.read", perm="certificate.issue"):
        kept = CertificateSnapshot.objects.get(issue=rec)
        assert MY_NUMBER not in json.dumps(kept.content, ensure_ascii=False)  # only sealed
        assert list(kept.sealed) == [str(fam["head"])]


def test_reissue_prints_the_first_state_marked_reissued(world, sup_actor, fam, tmp_path):
    with_my_number(world, fam["head"])
    change_id = leave(world, fam, event_date=days_ago(3), notified_on=days_ago(5))
    first = issue(sup_actor, change_id).issue
    # After the first issue the register changes: a 誤記修正 of the 世帯主's name on the 除票.
    changes.erratum_correction(actor=world, event_date=TODAY, person=ref(fam["head"]),
                               changes={"given_name": "太朗", "given_name_kana": "タロウ"})

    again = services.certificate_reissue(actor=sup_actor, number=first.number)
    shot(again.pdf, "certificate-move-out-reissue", tmp_path)
    text = pdf_text(again.pdf)
    assert "転出証明書（再交付）" in text
    assert "再交付当初の交付" in text and first.number in text and again.number in text
    assert "青木太郎（アオキタロウ）" in text and "太朗" not in text  # the first state, not the register now
    assert "個人番号123456789018" in text  # unsealed for the reprint
    assert again.issue.reissue_of == first and again.issue.fee == 0 and again.issue.form == "move_out_cert"
    row = last_log(function="certificate.reissue")
    assert (row.criteria["reissue_of"], row.criteria["number"], row.my_number_accessed) == (first.number, again.number, True)
    assert row.criteria["voided"] == [first.number]  # the lost original is void from now on

    # A reissue of the reissue still prints the first state and names the first issue.
    third = services.certificate_reissue(actor=sup_actor, number=again.number)
    text = pdf_text(third.pdf)
    assert "青木太郎（アオキタロウ）" in text and first.number in text and "太朗" not in text

    # A new original is refused while one is valid; voided, a new one prints the register as it is.
    with pytest.raises(DomainError) as err:
        issue(sup_actor, change_id)
    assert err.value.code == ErrorCode.CONFLICT and third.number in err.value.message
    assert first.number not in err.value.message and again.number not in err.value.message
    services.certificate_void(actor=sup_actor, number=third.number, reason="紛失の届出のため")
    fresh = pdf_text(issue(sup_actor, change_id).pdf)
    assert "青木太朗（アオキタロウ）" in fresh and "再交付" not in fresh


def test_reissue_of_the_number_needs_the_right_to_see_it(world, sup_actor, fam):
    with_my_number(world, fam["head"])
    first = issue(sup_actor, leave(world, fam)).issue
    with pytest.raises(AccessDenied):
        services.certificate_reissue(actor=world, number=first.number)  # a clerk: no mynumber.view
    assert CertificateIssue.objects.count() == 1


def test_a_late_move_out_gets_the_substitute_certificate(world, fam, tmp_path):
    # Moved 20 days ago, 届出 today: 職権記載, and the 転出証明書に準ずる証明書 [640][660].
    change_id = leave(world, fam, event_date=days_ago(20), notified_on=TODAY)
    found = move_out.move_out_of(actor=world, person_id=fam["wife"])
    assert found["late"] is True and found["change_id"] == change_id
    result = issue(world, change_id, person_ids=[fam["wife"]])
    shot(result.pdf, "certificate-move-out-late", tmp_path)
    text = pdf_text(result.pdf)
    assert "転出証明書に準ずる証明書" in text
    assert "転出をした日から14日を経過して転出の届出があったため" in text and "転入届に添付すべき書類" in text
    assert "上記の者が転出したことを証明する。" in text
    assert "青木花子" in text and "青木一郎" not in text  # only the person chosen
    assert result.issue.options["late"] is True and result.issue.options["variant_label"] == "転出証明書に準ずる証明書"


def test_special_move_out_is_marked_on_request(world, fam, tmp_path):
    change_id = leave(world, fam)
    result = issue(world, change_id, special=True, requester_name="青木　花子", documents=("マイナンバーカード",))
    shot(result.pdf, "certificate-move-out-special", tmp_path)
    text = pdf_text(result.pdf)
    assert "特例による転出処理済" in text and "転出証明書" in text
    assert result.issue.options["special"] is True
    with gate.open(world, function="test.read", perm="certificate.issue"):
        taken = result.issue.request
        assert (taken.requester_name, taken.documents) == ("青木　花子", ["マイナンバーカード"])


def test_foreign_resident_items(world, tmp_path):
    moved = changes.foreign_move_in(actor=world, event_date=days_ago(40), notified_on=days_ago(40), persons=[FOREIGN],
                                    destination=changes.NEW, address=Address(KOKURA_JOUNAI, "5番"), previous_address="")
    pid = moved.persons[0]["id"]
    change_id = changes.move_out(actor=world, event_date=TODAY, notified_on=TODAY, persons=[ref(pid)],
                                 destination_address=DESTINATION).change_id
    pdf = issue(world, change_id).pdf
    shot(pdf, "certificate-move-out-foreign", tmp_path)
    text = pdf_text(pdf)
    for expected in ("NGUYENVANAN（グエンヴァンアン）", "通称阮文安（グエンヴァンアン）", "1995年3月3日", "外国人住民となった年月日",
                     "国籍・地域", "ベトナム", "中長期在留者", "技術・人文知識・国際業務", "在留期間等5年", "2030年3月31日",
                     "AB12345678CD"):
        assert expected in text, expected
    assert "本籍" not in text and "筆頭者" not in text  # Japanese residents only


# --- refusals -------------------------------------------------------------------------------------------


def test_a_person_without_a_move_out_is_refused(world):
    entered = move_in_family(world)
    with pytest.raises(DomainError) as err:
        move_out.move_out_of(actor=world, person_id=entered.persons[0]["id"])
    assert err.value.code == ErrorCode.NOT_REMOVED
    with pytest.raises(DomainError) as err:
        issue(world, entered.change_id)  # a 転入, not a 転出
    assert err.value.code == ErrorCode.NOT_REMOVED
    assert last_log(function="certificate.issue").outcome == ErrorCode.NOT_REMOVED
    assert CertificateIssue.objects.count() == 0


def test_abroad_cancelled_and_other_persons_are_refused(world, fam):
    abroad = leave(world, fam, persons=[fam["child"]], abroad=True)
    with pytest.raises(DomainError) as err:
        issue(world, abroad)
    assert err.value.code == ErrorCode.NOT_REMOVED and "国外転出" in err.value.message

    change_id = leave(world, fam, persons=[fam["head"], fam["wife"]])
    with pytest.raises(DomainError) as err:
        issue(world, change_id, person_ids=[fam["head"], fam["child"]])  # the child left by another 届
    assert err.value.code == ErrorCode.HOUSEHOLD_MISMATCH

    changes.cancel(actor=world, event_date=TODAY, change_id=change_id, persons=[ref(fam["wife"])])
    with pytest.raises(DomainError) as err:
        issue(world, change_id, person_ids=[fam["wife"]])  # her 転出 was cancelled
    assert err.value.code == ErrorCode.NOT_REMOVED
    ok = issue(world, change_id, person_ids=[fam["head"]])
    assert ok.issue.person_ids == [fam["head"]]
    assert CertificateIssue.objects.count() == 1


def test_my_number_needs_the_right_and_the_second_factor(world, supervisor, terminal, fam):
    with_my_number(world, fam["head"])
    change_id = leave(world, fam)
    with pytest.raises(AccessDenied) as err:
        issue(world, change_id)  # a clerk
    assert err.value.code == ErrorCode.PERMISSION_DENIED and "個人番号" in err.value.message
    with pytest.raises(AccessDenied) as err:
        issue(Actor(user=supervisor, terminal=terminal), change_id)  # the right, but no second factor
    assert err.value.code == ErrorCode.SECOND_FACTOR_REQUIRED
    assert CertificateIssue.objects.count() == 0
    # Without a 個人番号 among the persons, a clerk issues it.
    assert issue(world, change_id, person_ids=[fam["wife"], fam["child"]]).issue.person_ids == [fam["wife"], fam["child"]]


def test_no_right_is_refused_and_logged(world, viewer, terminal, fam):
    change_id = leave(world, fam)
    outsider = Actor(user=viewer, terminal=terminal)
    with pytest.raises(AccessDenied):
        issue(outsider, change_id)
    row = last_log(function="certificate.issue")
    assert row.outcome == AccessLog.DENIED and row.user == viewer
    with pytest.raises(AccessDenied):
        move_out.move_out_of(actor=outsider, person_id=fam["head"])
    assert CertificateIssue.objects.count() == 0


def test_a_support_measure_person(world, support_user, terminal):
    victim = move_in_victim(world)
    staff = Actor(user=support_user, terminal=terminal)
    protect(staff, victim, provisional=False)
    change_id = changes.move_out(actor=staff, event_date=TODAY + dt.timedelta(days=3), notified_on=TODAY,
                                 persons=[ref(victim["mother"]), ref(victim["child"])],
                                 destination_address=DESTINATION).change_id
    with pytest.raises(DomainError) as err:
        issue(world, change_id)  # a clerk may not even read her
    assert err.value.code == ErrorCode.SUPPORT_MEASURE_PROTECTED
    assert CertificateIssue.objects.count() == 0
    # The support section issues it; the rows are flagged for review.
    result = issue(staff, change_id)
    assert result.issue.person_ids == [victim["mother"], victim["child"]]
    assert "support_measure" in last_log(function="print.certificate").flags
    assert result.warnings == ("支援措置の対象者を含む請求です。請求者の本人確認を確実に行ってください。",)  # once, not per person


def test_a_certificate_restriction_stops_it(world, support_user, terminal, fam):
    change_id = leave(world, fam)
    protection_services.restriction_set(actor=Actor(user=support_user, terminal=terminal), processes=["certificate"],
                                        reason="虚偽の届出の疑いのため", person_id=fam["wife"])
    with pytest.raises(DomainError) as err:
        issue(world, change_id)
    assert err.value.code == ErrorCode.RESTRICTED
    assert CertificateIssue.objects.count() == 0


def reissued_elsewhere(*, actor, number):
    return ("reissued by its own service", number)


def test_another_apps_form_reissues_through_its_own_service(world, fam, monkeypatch):
    number = issue(world, leave(world, fam)).number
    monkeypatch.setitem(registry.REISSUERS, "move_out_cert", reissued_elsewhere)
    assert services.certificate_reissue(actor=world, number=number) == ("reissued by its own service", number)
    assert CertificateIssue.objects.count() == 1
