"""Issuing certificates: who may get what, the issue record, numbering, void/reissue, verification."""
from __future__ import annotations

import hashlib
import re
import shutil
import threading

import pytest
from django.db import connection

from juki.audit.gate import Actor
from juki.audit.models import AccessLog, Category
from juki.certificates import content, entitlement, services, signing
from juki.certificates.content import Options
from juki.certificates.models import (
    FORM_CHOICES,
    CertificateCounter,
    CertificateIssue,
    CertificateRequest,
    CertificateSubject,
    CertificateVoid,
)
from juki.certificates.services import Request
from juki.core.errors import AccessDenied, DomainError, ErrorCode
from juki.register.services import changes
from tests.conftest import TODAY, days_ago, move_in_family, person_input
from tests.helpers import last_log, pdf_text
from tests.protection.helpers import OFFENDER, move_in_victim, protect
from tests.register.helpers import ref

MY_NUMBER = "123456789018"
DOCS = ("運転免許証",)
needs_poppler = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")


def family(actor) -> dict:
    result = move_in_family(actor)
    head, wife, child = (p["id"] for p in result.persons)
    return {"household": result.households[0]["id"], "head": head, "wife": wife, "child": child}


def self_request(pid: int, **kw) -> Request:
    return Request(kind="self", requester_person_id=pid, documents=DOCS, **kw)


def issue(actor, fam, *, options: Options | None = None, request: Request | None = None, person_ids=None,
          household: bool = True):
    options = options or Options(layout="household" if household else "individual")
    return services.certificate_issue(
        actor=actor, options=options, household_id=fam["household"] if household else None,
        person_ids=person_ids if person_ids is not None else ([] if household else [fam["head"]]),
        request=request or self_request(fam["head"]))


# --- who may get what (pure rules) ---------------------------------------------------------------

ENTITLEMENT = [
    # kind, extra request fields, options, refused field (None: allowed)
    ("self", {}, Options(my_number=True, resident_code=True, domicile=True, head_and_relationship=True), None),
    ("household", {}, Options(my_number=True, resident_code=True, history=True), None),
    ("agent", {"power_of_attorney": True}, Options(domicile=True, head_and_relationship=True, history=True), None),
    ("agent", {"power_of_attorney": True}, Options(my_number=True), "my_number"),
    ("agent", {"power_of_attorney": True}, Options(resident_code=True), "resident_code"),
    ("agent", {}, Options(), "power_of_attorney"),
    ("government", {"legal_basis": "国民健康保険法第113条の2"}, Options(domicile=True, official=True), None),
    ("government", {"legal_basis": "国民健康保険法第113条の2"}, Options(my_number=True, official=True), "my_number"),
    ("government", {}, Options(official=True), "legal_basis"),
    ("third_party", {"purpose": "債権回収のため（貸金契約書あり）"}, Options(), None),
    ("third_party", {"purpose": "債権回収のため"}, Options(my_number=True), "my_number"),
    ("third_party", {"purpose": "債権回収のため"}, Options(resident_code=True), "resident_code"),
    ("third_party", {"purpose": "債権回収のため"}, Options(domicile=True), "domicile"),
    ("third_party", {"purpose": "債権回収のため"}, Options(head_and_relationship=True), "head_and_relationship"),
    ("third_party", {"purpose": "債権回収のため"}, Options(foreign_items=frozenset({"nationality"})), "foreign_items"),
    ("third_party", {"purpose": "債権回収のため"}, Options(history=True), "history"),
    ("third_party", {}, Options(), "purpose"),
    ("self", {}, Options(official=True), "official"),
]


@pytest.mark.parametrize("kind, extra, options, refused", ENTITLEMENT)
def test_entitlement_table(kind, extra, options, refused):
    resident = kind in ("self", "household")
    request = Request(kind=kind, requester_person_id=1 if resident else None,
                      requester_name="" if resident else "請求者　名", documents=DOCS, **extra)
    if refused is None:
        entitlement.check(options, request)
        return
    with pytest.raises(DomainError) as err:
        entitlement.check(options, request)
    assert err.value.field == refused
    expected = (ErrorCode.CERTIFICATE_REQUEST_INCOMPLETE if refused in ("power_of_attorney", "legal_basis", "purpose")
                else ErrorCode.CERTIFICATE_NOT_ENTITLED)
    assert err.value.code == expected


def test_request_must_say_who_asks_and_what_was_checked():
    with pytest.raises(DomainError) as err:
        entitlement.check(Options(), Request(kind="self", documents=DOCS))
    assert err.value.field == "requester_person_id"
    assert err.value.code == ErrorCode.CERTIFICATE_REQUEST_INCOMPLETE
    with pytest.raises(DomainError) as err:
        entitlement.check(Options(), Request(kind="third_party", purpose="x", documents=DOCS))
    assert err.value.field == "requester_name"
    assert err.value.code == ErrorCode.CERTIFICATE_REQUEST_INCOMPLETE
    with pytest.raises(DomainError) as err:
        entitlement.check(Options(), Request(kind="self", requester_person_id=1))
    assert err.value.field == "documents"
    assert err.value.code == ErrorCode.CERTIFICATE_REQUEST_INCOMPLETE
    entitlement.check(Options(), Request(kind="self", requester_person_id=1), channel="kiosk")  # the card is the check
    with pytest.raises(DomainError) as err:
        entitlement.check(Options(), Request(kind="boss", requester_person_id=1, documents=DOCS))
    assert (err.value.code, err.value.field) == (ErrorCode.INVALID_INPUT, "kind")


def test_form_choices_name_every_form_the_content_module_builds():
    assert set(content.FORMS) <= set(dict(FORM_CHOICES))
    assert all(dict(FORM_CHOICES)[k] == v for k, v in content.FORMS.items())


# --- issuing ----------------------------------------------------------------------------------------


@needs_poppler
def test_my_number_omitted_by_default_and_printed_when_self_asks(world, sup_actor):
    fam = family(world)
    changes.my_number_record(actor=world, event_date=days_ago(0), person=ref(fam["head"]), my_number=MY_NUMBER,
                             kind="entry")
    plain = issue(sup_actor, fam, household=False)
    text = pdf_text(plain.pdf)
    assert "個人番号" not in text and MY_NUMBER not in text and "住民票コード" not in text and "本籍" not in text
    assert "青木太郎" in text

    with_number = issue(sup_actor, fam, household=False, options=Options(layout="individual", my_number=True))
    assert "123456789018" in pdf_text(with_number.pdf)
    assert with_number.issue.options["my_number"] is True
    gate_row = last_log(function="certificate.issue", outcome=AccessLog.OK)
    assert gate_row.my_number_accessed is True
    assert last_log(function="print.certificate").criteria["with_my_number"] is True


def test_my_number_needs_the_right(world):
    fam = family(world)
    with pytest.raises(AccessDenied):
        issue(world, fam, household=False, options=Options(layout="individual", my_number=True))
    assert CertificateIssue.objects.count() == 0
    assert last_log(function="certificate.issue").outcome == ErrorCode.PERMISSION_DENIED


def test_third_party_is_refused_my_number_and_nothing_is_written(world, sup_actor):
    fam = family(world)
    request = Request(kind="third_party", requester_name="株式会社　北九ファイナンス", documents=("社員証",),
                      purpose="貸金債権の回収（契約書を確認）")
    with pytest.raises(DomainError) as err:
        issue(sup_actor, fam, household=False, options=Options(layout="individual", my_number=True), request=request)
    assert err.value.code == ErrorCode.CERTIFICATE_NOT_ENTITLED
    assert CertificateIssue.objects.count() == 0 and CertificateCounter.objects.count() == 0
    row = last_log(function="certificate.issue")
    assert row.outcome == ErrorCode.CERTIFICATE_NOT_ENTITLED
    assert list(row.subjects.values_list("person_id", flat=True)) == [fam["head"]]


@needs_poppler
def test_third_party_gets_the_basic_items(world):
    fam = family(world)
    request = Request(kind="third_party", requester_name="株式会社　北九ファイナンス", documents=("社員証",),
                      purpose="貸金債権の回収（契約書を確認）")
    result = issue(world, fam, household=False, options=Options(layout="individual"), request=request)
    text = pdf_text(result.pdf)
    assert "青木太郎" in text and "昭和60年4月1日" in text and "城内" in text
    assert "続柄" not in text and "本籍" not in text and "世帯主" not in text
    from juki.audit import gate

    with gate.open(world, function="test.read", perm="certificate.issue"):
        taken = CertificateRequest.objects.get(issue=result.issue)
        assert (taken.requester_name, taken.purpose, taken.documents) == (
            "株式会社　北九ファイナンス", "貸金債権の回収（契約書を確認）", ["社員証"])


def test_self_and_household_are_checked_against_the_register(world):
    fam = family(world)
    other = move_in_family(world, members=[person_input(family_name="井上", family_name_kana="イノウエ")])
    stranger = other.persons[0]["id"]
    # 本人 must be one of the subjects …
    with pytest.raises(DomainError) as err:
        issue(world, fam, household=False, person_ids=[fam["wife"]], options=Options(layout="individual"))
    assert err.value.code == ErrorCode.CERTIFICATE_NOT_ENTITLED
    # … and 同一世帯 only for the requester's own household.
    with pytest.raises(DomainError) as err:
        issue(world, fam, request=Request(kind="household", requester_person_id=stranger, documents=DOCS))
    assert err.value.code == ErrorCode.CERTIFICATE_NOT_ENTITLED
    ok = issue(world, fam, request=Request(kind="household", requester_person_id=fam["wife"], documents=DOCS))
    assert ok.issue.person_ids == [fam["head"], fam["wife"], fam["child"]]


def test_chosen_members_must_belong_to_the_household(world):
    fam = family(world)
    other = move_in_family(world, members=[person_input(family_name="井上", family_name_kana="イノウエ")])
    with pytest.raises(DomainError) as err:
        issue(world, fam, person_ids=[fam["head"], other.persons[0]["id"]])
    assert err.value.code == ErrorCode.HOUSEHOLD_MISMATCH
    part = issue(world, fam, person_ids=[fam["child"], fam["head"]])
    assert part.issue.person_ids == [fam["head"], fam["child"]]  # [1010] order, not the order asked


def test_removed_forms_only_for_removed_persons(world):
    fam = family(world)
    with pytest.raises(DomainError) as err:
        issue(world, fam, household=False, options=Options(form="removed_copy", layout="individual"))
    assert err.value.code == ErrorCode.NOT_REMOVED
    with pytest.raises(DomainError) as err:
        issue(world, fam, options=Options(form="removed_copy", layout="household"))
    assert (err.value.code, err.value.field) == (ErrorCode.INVALID_INPUT, "layout")
    assert CertificateIssue.objects.count() == 0


def test_the_offender_of_a_support_measure_is_refused(world, support_user, terminal):
    victim = move_in_victim(world)
    protect(Actor(user=support_user, terminal=terminal), victim, provisional=False)
    offender = Request(kind="third_party", requester_name=OFFENDER.name, requester_kana=OFFENDER.kana,
                       requester_birth_date=OFFENDER.birth_date, documents=DOCS, purpose="家族の手続のため")
    staff = Actor(user=support_user, terminal=terminal)
    with pytest.raises(DomainError) as err:
        services.certificate_issue(actor=staff, options=Options(layout="individual"), household_id=None,
                                   person_ids=[victim["mother"]], request=offender)
    assert err.value.code == ErrorCode.SUPPORT_MEASURE_BLOCK
    assert CertificateIssue.objects.count() == 0
    assert last_log(function="certificate.check").outcome == ErrorCode.SUPPORT_MEASURE_BLOCK
    refused = last_log(function="certificate.issue")
    assert refused.outcome == ErrorCode.SUPPORT_MEASURE_BLOCK and "support_measure" in refused.flags
    # 本人 herself is issued (by staff who may read a protected person).
    mine = services.certificate_issue(actor=staff, options=Options(layout="individual"), household_id=None,
                                      person_ids=[victim["mother"]], request=self_request(victim["mother"]))
    assert mine.issue.person_ids == [victim["mother"]]
    assert mine.warnings  # the counter is told to check the requester's identity carefully
    assert "support_measure" in last_log(function="print.certificate").flags


def test_issue_record_fields_and_log_rows(world, clerk, terminal):
    fam = family(world)
    before = AccessLog.objects.count()
    result = issue(world, fam, options=Options(head_and_relationship=True))
    rec = result.issue
    assert re.fullmatch(rf"{TODAY.year}-\d{{6}}", rec.number) and rec.serial == 1 and rec.year == TODAY.year
    assert (rec.form, rec.household_id, rec.requester_kind, rec.channel) == ("copy", fam["household"], "self", "counter")
    assert rec.options["head_and_relationship"] is True and rec.options["layout"] == "household"
    assert rec.person_ids == [fam["head"], fam["wife"], fam["child"]]
    assert sorted(CertificateSubject.objects.filter(issue=rec).values_list("person_id", flat=True)) == sorted(rec.person_ids)
    assert (rec.fee, rec.operator, rec.terminal) == (300, clerk, terminal)
    assert rec.sha256 == hashlib.sha256(result.pdf).hexdigest()
    assert signing.signature_valid(number=rec.number, sha256=rec.sha256, issued_at=rec.issued_at, key_id=rec.key_id,
                                   signature=rec.signature)
    assert not signing.signature_valid(number=rec.number, sha256="0" * 64, issued_at=rec.issued_at, key_id=rec.key_id,
                                       signature=rec.signature)
    gate_row = last_log(function="certificate.issue")
    assert gate_row.outcome == AccessLog.OK and gate_row.criteria["number"] == rec.number
    assert sorted(gate_row.subjects.values_list("person_id", flat=True)) == sorted(rec.person_ids)
    printed = last_log(function="print.certificate")
    assert printed.category == Category.PRINT and printed.criteria["number"] == rec.number
    assert printed.subjects.count() == 3
    functions = set(AccessLog.objects.filter(pk__gt=before).values_list("function", flat=True))
    assert {"household.view", "person.view", "certificate.check"} <= functions  # the reads log themselves


def test_numbers_are_sequential_and_a_failed_render_leaves_a_void_number(world, monkeypatch):
    """ADR 0021: the number is taken before the render, so a failed render keeps it, as 欠番 with its
    reason; the next issue takes the next number (ADR 0010's gapless numbers: every number accounted for)."""
    fam = family(world)
    first = issue(world, fam).issue
    from juki.certificates import render

    def broken(*a, **kw):
        raise RuntimeError("printer font missing")

    monkeypatch.setattr(render, "render_pdf", broken)
    counts = (CertificateIssue.objects.count(), CertificateVoid.objects.count(), CertificateSubject.objects.count())
    prints = AccessLog.objects.filter(function="print.certificate").count()
    with pytest.raises(RuntimeError):
        issue(world, fam)
    assert (CertificateIssue.objects.count(), CertificateVoid.objects.count(), CertificateSubject.objects.count()) == counts
    assert AccessLog.objects.filter(function="print.certificate").count() == prints
    failed = last_log(function="certificate.issue")
    void_number = f"{TODAY.year}-{first.serial + 1:06d}"
    assert failed.outcome == "error"  # the attempt is still in the log, and names the 欠番
    assert failed.criteria["number"] == void_number and failed.criteria["number_void"] is True
    monkeypatch.undo()
    second = issue(world, fam).issue
    assert second.serial == first.serial + 2
    assert second.number == f"{TODAY.year}-{first.serial + 2:06d}"
    ledger = services.certificate_numbers(actor=world, year=TODAY.year)
    assert [(m["number"], m["state"], m["code"]) for m in ledger["missing"]] == [(void_number, "void", "error")]
    assert "RuntimeError" in ledger["missing"][0]["reason"] and "printer" not in ledger["missing"][0]["reason"]
    assert ledger["counts"] == {"issued": 2, "void": 1, "abandoned": 0, "pending": 0} and ledger["last"] == 3


@pytest.mark.django_db(transaction=True)
def test_numbers_have_no_gaps_under_concurrency(towns, terminal, stock, clerk):
    actor = Actor(user=clerk, terminal=terminal)
    fam = family(actor)
    errors = []

    def worker():
        try:
            issue(actor, fam, household=False, options=Options(layout="individual"))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(CertificateIssue.objects.values_list("serial", flat=True)) == [1, 2, 3, 4]


def test_fees_official_and_settings(world, settings):
    settings.JUKI_CERTIFICATE_FEES = {"copy": 350}
    fam = family(world)
    assert issue(world, fam).issue.fee == 350
    gov = Request(kind="government", requester_name="北九州市保健福祉局", legal_basis="生活保護法第29条")
    official = issue(world, fam, request=gov)
    assert official.issue.fee == 0 and official.issue.options["official"] is True  # 公用 [1060], free


# --- void, reissue, inquiry -------------------------------------------------------------------------


def test_void_and_reissue(world, clerk):
    fam = family(world)
    original = issue(world, fam, options=Options(head_and_relationship=True)).issue
    out = services.certificate_void(actor=world, number=original.number, reason="印刷がかすれたため")
    assert out["state"] == "voided" and out["void"]["reason"] == "印刷がかすれたため" and out["void"]["by"] == clerk.username
    row = last_log(function="certificate.void")
    assert row.category == Category.OPERATION and row.outcome == AccessLog.OK
    with pytest.raises(DomainError) as err:
        services.certificate_void(actor=world, number=original.number, reason="重ねて")
    assert err.value.code == ErrorCode.CERTIFICATE_VOIDED
    with pytest.raises(DomainError) as err:
        services.certificate_void(actor=world, number=original.number, reason="  ")
    assert err.value.field == "reason"
    assert err.value.code == ErrorCode.INVALID_INPUT

    again = services.certificate_reissue(actor=world, number=original.number)
    assert again.issue.number != original.number and again.issue.reissue_of == original
    assert again.issue.options == original.options and again.issue.person_ids == original.person_ids
    assert again.issue.fee == 0
    assert last_log(function="certificate.reissue").outcome == AccessLog.OK
    with pytest.raises(DomainError) as err:
        services.certificate_reissue(actor=world, number="2000-999999")
    assert err.value.status == 404


def test_certificate_list(world, sup_actor, supervisor):
    fam = family(world)
    a = issue(world, fam, household=False, options=Options(layout="individual")).issue
    b = issue(sup_actor, fam, person_ids=[fam["wife"]], request=self_request(fam["wife"])).issue
    services.certificate_void(actor=world, number=a.number, reason="請求の取下げ")
    rows = services.certificate_list(actor=world)
    assert [r["number"] for r in rows] == [b.number, a.number]
    assert rows[1]["state"] == "voided" and rows[1]["request"]["documents"] == list(DOCS)
    assert [r["number"] for r in services.certificate_list(actor=world, person_id=fam["wife"])] == [b.number]
    assert [r["number"] for r in services.certificate_list(actor=world, operator=supervisor.username)] == [b.number]
    assert services.certificate_list(actor=world, date_from=days_ago(-1)) == []
    assert len(services.certificate_list(actor=world, date_from=TODAY, date_to=TODAY)) == 2
    row = last_log(function="certificate.list")
    assert sorted(row.subjects.values_list("person_id", flat=True)) == sorted([fam["head"], fam["wife"]])


def test_denied_calls_are_logged(world, viewer, terminal):
    fam = family(world)
    rec = issue(world, fam).issue
    outsider = Actor(user=viewer, terminal=terminal)
    for call in (lambda: issue(outsider, fam),
                 lambda: services.certificate_list(actor=outsider),
                 lambda: services.certificate_void(actor=outsider, number=rec.number, reason="x"),
                 lambda: services.certificate_reissue(actor=outsider, number=rec.number)):
        before = AccessLog.objects.filter(user=viewer, outcome=AccessLog.DENIED).count()
        with pytest.raises(AccessDenied):
            call()
        assert AccessLog.objects.filter(user=viewer, outcome=AccessLog.DENIED).count() == before + 1
    assert CertificateIssue.objects.count() == 1 and CertificateVoid.objects.count() == 0


def test_records_are_append_only(world):
    fam = family(world)
    rec = issue(world, fam).issue
    from django.db import DatabaseError, transaction

    with pytest.raises(DatabaseError), transaction.atomic():
        CertificateIssue.objects.filter(pk=rec.pk).update(sha256="0" * 64)


# --- verification -----------------------------------------------------------------------------------


def test_verification(world):
    fam = family(world)
    result = issue(world, fam)
    number, pdf = result.number, result.pdf
    genuine = services.certificate_verify(number=number, pdf=pdf)
    assert genuine["result"] == "genuine" and genuine["form_label"] == "住民票の写し"
    assert genuine["issued_on"] == TODAY.isoformat()
    assert set(genuine) == {"result", "number", "form", "form_label", "issued_on", "issued_on_display", "state",
                            "message"}  # no personal data
    assert services.certificate_verify(number=number, sha256=hashlib.sha256(pdf).hexdigest())["result"] == "genuine"
    assert services.certificate_verify(number=f"２０{number[2:]}", pdf=pdf)["result"] == "genuine"  # typed in full width

    altered = bytearray(pdf)
    altered[len(altered) // 2] ^= 0x01  # one byte changed
    assert services.certificate_verify(number=number, pdf=bytes(altered))["result"] == "altered"
    other = issue(world, fam).pdf  # a genuine PDF shown under another number
    assert services.certificate_verify(number=number, pdf=other)["result"] == "altered"

    unknown = services.certificate_verify(number=f"{TODAY.year}-999999", pdf=pdf)
    assert unknown == {"result": "unknown", "number": f"{TODAY.year}-999999", "message": unknown["message"]}

    services.certificate_void(actor=world, number=number, reason="誤交付")
    assert services.certificate_verify(number=number, pdf=pdf)["result"] == "voided"

    with pytest.raises(DomainError) as err:
        services.certificate_verify(number="abc", pdf=pdf)
    assert (err.value.code, err.value.field) == (ErrorCode.INVALID_INPUT, "number")
    with pytest.raises(DomainError) as err:
        services.certificate_verify(number=number)
    assert (err.value.code, err.value.field) == (ErrorCode.INVALID_INPUT, "pdf")


def test_verification_fails_for_a_record_signed_with_an_unknown_key(world, settings):
    import base64
    import secrets

    fam = family(world)
    result = issue(world, fam)
    settings.JUKI_AUDIT_SIGNING_KEY = base64.b64encode(secrets.token_bytes(32)).decode()  # the old key is lost
    assert services.certificate_verify(number=result.number, pdf=result.pdf)["result"] == "altered"
