"""再交付 of the forms kept as first printed (転出証明書, 住民票コード通知票): the first issue's checks
run again, the lost 転出証明書 is voided by its reissue, the channel is the reissuer's, and one
転出証明書 per 転出届 holds under concurrency."""
from __future__ import annotations

import dataclasses
import datetime as dt
import threading

import pytest
from django.db import connection

from juki.audit.gate import Actor
from juki.audit.models import AccessLog
from juki.certificates import code_notice, move_out, registry, services, snapshot
from juki.certificates.content import Options
from juki.certificates.models import CertificateIssue, CertificateVoid, Channel
from juki.core.errors import ConflictError, DomainError, ErrorCode
from juki.protection import services as protection_services
from juki.register.services import changes
from tests.conftest import TODAY, api_for, move_in_family
from tests.helpers import pdf_text
from tests.protection.helpers import OFFENDER, move_in_victim
from tests.register.helpers import ref

from .test_move_out import DESTINATION, last_log, leave

CONFIRMED_WORDING = "転入通知を受理した方（転出が確定した方）には、転出証明書を交付できません。"


def refused_reissue(actor, number: str, code: ErrorCode) -> DomainError:
    """The reissue is refused with ``code``, logged as such, and records nothing."""
    issues, voids = CertificateIssue.objects.count(), CertificateVoid.objects.count()
    with pytest.raises(DomainError) as err:
        services.certificate_reissue(actor=actor, number=number)
    assert err.value.code == code, err.value.message
    assert last_log(function="certificate.reissue").outcome == code
    assert (CertificateIssue.objects.count(), CertificateVoid.objects.count()) == (issues, voids)
    return err.value


# --- the first issue's checks, run again --------------------------------------------------------------


def test_move_out_reissue_is_refused_once_the_move_out_is_cancelled(world, fam):
    change_id = leave(world, fam)
    first = move_out.move_out_certificate_issue(actor=world, change_id=change_id)
    changes.cancel(actor=world, event_date=TODAY, change_id=change_id,
                   persons=[ref(fam["head"]), ref(fam["wife"]), ref(fam["child"])])
    # They are residents here again: a 転出証明書 would let them be entered at the destination too.
    err = refused_reissue(world, first.number, ErrorCode.NOT_REMOVED)
    assert "転出が取り消された方" in err.message
    assert not CertificateIssue.objects.get(number=first.number).voided  # nothing half-written


def test_move_out_reissue_is_refused_after_the_move_in_notice(world, fam):
    change_id = leave(world, fam, event_date=TODAY - dt.timedelta(days=2), notified_on=TODAY - dt.timedelta(days=2))
    first = move_out.move_out_certificate_issue(actor=world, change_id=change_id)
    changes.move_out_confirm(actor=world, person=ref(fam["head"]), notice_on=TODAY, moved_on=TODAY - dt.timedelta(days=2),
                             confirmed_address=DESTINATION)
    # The 転入地 has entered him: the reissue is refused with the 転入通知's own wording, not the 取消し's.
    err = refused_reissue(world, first.number, ErrorCode.INVALID_INPUT)
    assert err.message == CONFIRMED_WORDING and err.field == "person_ids"


def test_after_the_move_in_notice_a_first_issue_says_so_too(world, fam):
    """The 転入通知 is filed as a 修正 (Reason.MOVE_OUT_CONFIRMED), so its wording is reachable."""
    change_id = leave(world, fam, event_date=TODAY - dt.timedelta(days=2), notified_on=TODAY - dt.timedelta(days=2))
    changes.move_out_confirm(actor=world, person=ref(fam["wife"]), notice_on=TODAY, moved_on=TODAY - dt.timedelta(days=2),
                             confirmed_address=DESTINATION)
    with pytest.raises(DomainError) as err:
        move_out.move_out_certificate_issue(actor=world, change_id=change_id, person_ids=[fam["wife"]])
    assert (err.value.code, err.value.message) == (ErrorCode.INVALID_INPUT, CONFIRMED_WORDING)
    with pytest.raises(DomainError) as err:
        move_out.move_out_of(actor=world, person_id=fam["wife"])
    assert err.value.message == CONFIRMED_WORDING
    assert err.value.code == ErrorCode.INVALID_INPUT
    assert CertificateIssue.objects.count() == 0


def test_move_out_reissue_is_refused_under_a_certificate_restriction(world, fam, support_user, terminal):
    change_id = leave(world, fam)
    first = move_out.move_out_certificate_issue(actor=world, change_id=change_id)
    services.certificate_void(actor=world, number=first.number, reason="書き損じ")
    protection_services.restriction_set(actor=Actor(user=support_user, terminal=terminal), processes=["certificate"],
                                        reason="虚偽の届出の疑いのため", person_id=fam["wife"])
    refused_reissue(world, first.number, ErrorCode.RESTRICTED)


def test_move_out_reissue_is_refused_when_the_head_printed_is_now_protected(world, support_user, terminal):
    victim = move_in_victim(world)  # 山田花子 (世帯主) and her child
    change_id = leave(world, {}, persons=[victim["child"]])
    first = move_out.move_out_certificate_issue(actor=world, change_id=change_id)
    assert "山田花子" in pdf_text(first.pdf)  # 世帯主 on the child's certificate
    # The mother alone comes under a 支援措置 afterwards: her name may no longer be printed by a clerk.
    protection_services.support_register(actor=Actor(user=support_user, terminal=terminal), person_id=victim["mother"],
                                         kind="dv", applied_on=TODAY, offender=OFFENDER, provisional=False, members=[])
    refused_reissue(world, first.number, ErrorCode.SUPPORT_MEASURE_BLOCK)


def test_code_notice_reissue_is_refused_for_a_removed_person(world, fam):
    notice = code_notice.resident_code_notice_issue(actor=world, person_id=fam["child"])
    leave(world, fam, event_date=TODAY, persons=[fam["child"]])
    refused_reissue(world, notice.number, ErrorCode.NOT_RESIDENT)


# --- item rights ([1390]): the stored content is printed as it is ----------------------------------------------


def test_reissue_needs_the_right_to_every_item_printed(world, fam):
    notice = code_notice.resident_code_notice_issue(actor=world, person_id=fam["child"])
    no_code = Actor.device("limited", frozenset({"certificate.issue", "person.view"}))
    err = refused_reissue(no_code, notice.number, ErrorCode.PERMISSION_DENIED)
    assert "住民票コードを表示する権限がない" in err.message

    certificate = move_out.move_out_certificate_issue(actor=world, change_id=leave(world, fam))
    no_domicile = Actor.device("limited", frozenset({"certificate.issue", "person.view", "field.resident_code",
                                                     "field.foreign"}))
    err = refused_reissue(no_domicile, certificate.number, ErrorCode.PERMISSION_DENIED)
    assert "本籍・筆頭者を表示する権限がない" in err.message
    assert not CertificateIssue.objects.get(number=certificate.number).voided


def test_item_rights_cover_the_foreign_residents_items():
    assert {label for label, (perm, _) in snapshot.ITEM_RIGHTS.items() if perm == "field.foreign"} == {
        "法第30条の45に規定する区分", "在留資格", "在留期間等", "在留期間等の満了の日", "在留カード等の番号"}


# --- the lost 転出証明書 is voided by its reissue ----------------------------------------------------------------


def test_a_lost_move_out_certificate_is_void_once_reissued(world, clerk, fam):
    change_id = leave(world, fam)
    first = move_out.move_out_certificate_issue(actor=world, change_id=change_id)
    again = services.certificate_reissue(actor=world, number=first.number)  # 紛失 → 再交付
    assert services.certificate_verify(number=first.number, pdf=first.pdf)["result"] == "voided"
    assert services.certificate_verify(number=again.number, pdf=again.pdf)["result"] == "genuine"
    void = CertificateVoid.objects.get(issue__number=first.number)
    assert (void.reason, void.voided_by) == ("再交付のため", clerk)
    assert last_log(function="certificate.reissue").criteria["voided"] == [first.number]

    # Reissued again from the first (already void) number: the valid copy it replaces is the reissue.
    third = services.certificate_reissue(actor=world, number=first.number)
    assert last_log(function="certificate.reissue").criteria["voided"] == [again.number]
    valid = CertificateIssue.objects.filter(form="move_out_cert", void__isnull=True)
    assert list(valid.values_list("number", flat=True)) == [third.number]
    assert CertificateVoid.objects.get(issue__number=first.number).reason == "再交付のため"  # not voided twice


def test_a_spoiled_copy_keeps_its_own_void(world, fam):
    first = move_out.move_out_certificate_issue(actor=world, change_id=leave(world, fam))
    services.certificate_void(actor=world, number=first.number, reason="印刷を誤ったため")
    again = services.certificate_reissue(actor=world, number=first.number)
    assert CertificateVoid.objects.get(issue__number=first.number).reason == "印刷を誤ったため"
    assert last_log(function="certificate.reissue").criteria["voided"] == []
    assert services.certificate_verify(number=again.number, pdf=again.pdf)["result"] == "genuine"


def test_a_failed_reissue_leaves_the_original_valid(world, fam, monkeypatch):
    first = move_out.move_out_certificate_issue(actor=world, change_id=leave(world, fam))

    def broken(content, *, verification_url):
        raise RuntimeError("printer font missing")

    kept = registry.SNAPSHOT_FORMS[move_out.FORM]
    monkeypatch.setitem(registry.SNAPSHOT_FORMS, move_out.FORM, dataclasses.replace(kept, render=broken))
    with pytest.raises(RuntimeError):
        services.certificate_reissue(actor=world, number=first.number)
    assert not CertificateIssue.objects.get(number=first.number).voided
    assert CertificateIssue.objects.count() == 1
    assert services.certificate_verify(number=first.number, pdf=first.pdf)["result"] == "genuine"


def test_a_reissue_is_refused_while_another_valid_certificate_covers_the_persons(world, fam):
    change_id = leave(world, fam)
    spoiled = move_out.move_out_certificate_issue(actor=world, change_id=change_id)
    services.certificate_void(actor=world, number=spoiled.number, reason="印刷を誤ったため")
    current = move_out.move_out_certificate_issue(actor=world, change_id=change_id)  # a new original instead
    with pytest.raises(ConflictError) as err:
        services.certificate_reissue(actor=world, number=spoiled.number)
    assert current.number in err.value.message
    assert last_log(function="certificate.reissue").outcome == ErrorCode.CONFLICT
    assert CertificateIssue.objects.count() == 2 and not CertificateIssue.objects.get(number=current.number).voided


def test_a_refused_reissue_through_the_api(world, fam, clerk, terminal):
    change_id = leave(world, fam)
    first = move_out.move_out_certificate_issue(actor=world, change_id=change_id)
    changes.cancel(actor=world, event_date=TODAY, change_id=change_id,
                   persons=[ref(fam["head"]), ref(fam["wife"]), ref(fam["child"])])
    r = api_for(clerk, terminal).post(f"/api/v1/certificates/{first.number}/reissue", format="json")
    assert r.status_code == 400 and r.json()["code"] == "not_removed" and "転出が取り消された方" in r.json()["detail"]
    assert CertificateIssue.objects.count() == 1


# --- the channel is the reissuer's ------------------------------------------------------------------------------


def test_a_counter_reissue_of_a_kiosk_certificate_is_a_counter_issue(world, fam):
    kiosk_copy = services.certificate_issue(
        actor=world, options=Options(form="copy"), household_id=fam["household"], person_ids=[],
        request=services.Request(kind="self", requester_person_id=fam["head"], documents=("市民カード",)),
        channel=Channel.KIOSK).issue
    kiosk_move_out = move_out.move_out_certificate_issue(actor=world, change_id=leave(world, fam),
                                                         channel=Channel.KIOSK).issue
    for original in (kiosk_copy, kiosk_move_out):
        again = services.certificate_reissue(actor=world, number=original.number).issue
        assert (original.channel, again.channel) == (Channel.KIOSK, Channel.COUNTER)
        assert last_log(function="print.certificate").criteria["channel"] == Channel.COUNTER


# --- one 転出証明書 per 転出届, however many clicks at once ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_one_move_out_certificate_per_notification_under_concurrency(towns, terminal, stock, clerk, monkeypatch):
    actor = Actor(user=clerk, terminal=terminal)
    moved = move_in_family(actor)
    head, wife, child = (p["id"] for p in moved.persons)
    change_id = leave(actor, {"head": head, "wife": wife, "child": child})

    both_read = threading.Barrier(2, timeout=10)
    read = move_out._read

    def read_then_wait(session, change_id, person_ids):
        found = read(session, change_id, person_ids)
        both_read.wait()  # both requests have passed every check made before the transaction
        return found

    monkeypatch.setattr(move_out, "_read", read_then_wait)
    outcomes = []

    def click():
        try:
            outcomes.append(move_out.move_out_certificate_issue(actor=actor, change_id=change_id).number)
        except Exception as exc:  # noqa: BLE001 - the outcome is asserted below
            outcomes.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    issued = list(CertificateIssue.objects.filter(form="move_out_cert").values_list("number", flat=True))
    assert len(issued) == 1, (issued, outcomes)
    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(refused) == 1 and isinstance(refused[0], ConflictError) and issued[0] in refused[0].message
    assert AccessLog.objects.filter(function="certificate.issue", outcome=ErrorCode.CONFLICT).count() == 1
