"""発行番号 taken on their own before the PDF renders (issue 19 item 4, ADR 0021): the ledger's rules,
欠番 and their report, and two certificates rendered at the same time by two workers (PostgreSQL)."""
from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from juki.accounts.permissions import Perm
from juki.audit import gate
from juki.audit.gate import Actor
from juki.audit.models import AccessLog
from juki.certificates import issuing, numbering, render, services
from juki.certificates.content import Options
from juki.certificates.entitlement import Request
from juki.certificates.models import (
    CertificateCounter,
    CertificateIssue,
    CertificateNumber,
    CertificateNumberVoid,
)
from juki.core.errors import AccessDenied, ConflictError, DomainError, ErrorCode
from tests.certificates.test_issue import family, issue
from tests.conftest import TODAY
from tests.helpers import last_log

NOW = timezone.now()
MINUTE = dt.timedelta(minutes=1)


# --- the rule of a number's state (pure) ----------------------------------------------------------


@pytest.mark.parametrize("issued, voided, age, expected", [
    (True, False, MINUTE, numbering.ISSUED),
    (True, True, MINUTE, numbering.ISSUED),  # a certificate carries it: issued, whatever else
    (False, True, MINUTE, numbering.VOID),
    (False, True, 60 * MINUTE, numbering.VOID),
    (False, False, MINUTE, numbering.PENDING),  # an issue still rendering
    (False, False, 11 * MINUTE, numbering.ABANDONED),  # the process stopped: 欠番 after the timeout
])
def test_state_of_a_number(issued, voided, age, expected):
    assert numbering.state(issued=issued, voided=voided, reserved_at=NOW - age, now=NOW,
                           limit=dt.timedelta(minutes=10)) == expected


def test_timeout_comes_from_the_settings(settings):
    assert numbering.timeout() == dt.timedelta(minutes=10)
    settings.JUKI_CERTIFICATE_NUMBER_TIMEOUT = 30
    assert numbering.timeout() == dt.timedelta(seconds=30)
    assert numbering.state(issued=False, voided=False, reserved_at=NOW - MINUTE, now=NOW) == numbering.ABANDONED


# --- taking numbers -------------------------------------------------------------------------------


def _take(at=None, **kw) -> numbering.Taken:
    with transaction.atomic():
        return numbering.reserve(at=at or timezone.now(), form="copy", channel="counter", **kw)


def test_numbers_are_consecutive_per_year_and_each_has_a_row(db):
    new_year = dt.datetime(2027, 1, 1, 0, 0, 1, tzinfo=dt.timezone(dt.timedelta(hours=9)))
    taken = [_take(), _take(), _take(at=new_year), _take()]
    assert [(t.year, t.serial) for t in taken] == [(TODAY.year, 1), (TODAY.year, 2), (2027, 1), (TODAY.year, 3)]
    assert taken[2].number == "2027-000001"
    assert dict(CertificateCounter.objects.values_list("year", "last")) == {TODAY.year: 3, 2027: 1}
    row = CertificateNumber.objects.get(number=taken[0].number)
    assert (row.year, row.serial, row.form, row.channel, row.reserved_at) == (TODAY.year, 1, "copy", "counter", taken[0].at)


def test_a_number_is_taken_inside_a_transaction_only(transactional_db):
    with pytest.raises(RuntimeError, match="inside a transaction"):
        numbering.reserve(at=timezone.now(), form="copy", channel="counter")


def test_void_keeps_a_refusals_message_and_names_a_failure_by_its_class_only(db):
    refused, failed = _take(), _take()
    with transaction.atomic():
        numbering.void(refused, DomainError(ErrorCode.CERTIFIER_MISSING, "認証者が登録されていません。"))
        numbering.void(failed, RuntimeError("/srv/fonts/ipaexm.ttf: 田中様の証明書"))  # text may hold anything
    rows = {v.number.number: (v.code, v.reason) for v in CertificateNumberVoid.objects.select_related("number")}
    assert rows[refused.number] == ("certifier_missing", "認証者が登録されていません。")
    assert rows[failed.number] == ("error", f"{numbering.FAILED_REASON}（RuntimeError）")


def test_the_ledger_rows_are_append_only(db):
    taken = _take()
    with transaction.atomic():
        numbering.void(taken, RuntimeError("x"))
    with pytest.raises(DatabaseError), transaction.atomic():
        CertificateNumber.objects.filter(number=taken.number).update(serial=99)
    with pytest.raises(DatabaseError), transaction.atomic():
        CertificateNumberVoid.objects.filter(number__number=taken.number).update(reason="")


# --- 欠番 and their report --------------------------------------------------------------------------


def test_a_refusal_after_the_number_is_a_void_number_with_its_code(world, monkeypatch):
    fam = family(world)

    def refused(*a, **kw):
        raise DomainError(ErrorCode.CERTIFIER_MISSING, "認証者が登録されていません。")

    monkeypatch.setattr(render, "render_pdf", refused)
    with pytest.raises(DomainError) as e:
        issue(world, fam)
    assert e.value.code == ErrorCode.CERTIFIER_MISSING
    row = last_log(function="certificate.issue")
    assert row.outcome == ErrorCode.CERTIFIER_MISSING and row.criteria["number"] == f"{TODAY.year}-000001"
    [missing] = services.certificate_numbers(actor=world, year=TODAY.year)["missing"]
    assert (missing["state"], missing["code"], missing["reason"]) == ("void", "certifier_missing", "認証者が登録されていません。")
    assert missing["operator"] == world.user.username and missing["terminal"] == world.terminal.code
    assert services.certificate_verify(number=missing["number"], sha256="0" * 64)["result"] == "unknown"


def test_an_interrupted_issue_is_listed_as_void_after_the_timeout(world):
    fam = family(world)
    issue(world, fam)
    stale = _take(at=timezone.now() - numbering.timeout() - MINUTE)  # taken, then the process died
    running = _take()  # another issue, still rendering
    ledger = services.certificate_numbers(actor=world, year=TODAY.year)
    assert [(m["number"], m["state"], m["code"]) for m in ledger["missing"]] == [(stale.number, "abandoned", "abandoned")]
    assert ledger["missing"][0]["reason"] == numbering.ABANDONED_REASON
    assert [p["number"] for p in ledger["pending"]] == [running.number]
    assert ledger["counts"] == {"issued": 1, "void": 0, "abandoned": 1, "pending": 1} and ledger["unrecorded"] == []
    log = last_log(function="certificate.numbers")
    assert (log.outcome, log.criteria) == (AccessLog.EMPTY, {"year": TODAY.year})  # logged, no person in it


def test_a_number_without_a_row_is_reported(world):
    _take()
    CertificateCounter.objects.filter(year=TODAY.year).update(last=3)  # rows lost, or taken outside the ledger
    ledger = services.certificate_numbers(actor=world, year=TODAY.year)
    assert ledger["unrecorded"] == [f"{TODAY.year}-000002", f"{TODAY.year}-000003"] and ledger["last"] == 3


def test_the_report_needs_the_counters_or_the_auditors_right_and_a_year(world, viewer, auditor, terminal):
    with pytest.raises(AccessDenied):
        services.certificate_numbers(actor=Actor(user=viewer, terminal=terminal), year=TODAY.year)
    assert last_log(function="certificate.numbers").outcome == AccessLog.DENIED
    assert services.certificate_numbers(actor=Actor(user=auditor, terminal=terminal), year=TODAY.year)["last"] == 0
    with pytest.raises(DomainError) as e:
        services.certificate_numbers(actor=world, year=20260)
    assert e.value.code == ErrorCode.INVALID_INPUT


def test_the_report_over_the_api(world, api):
    fam = family(world)
    issue(world, fam)
    body = api.get("/api/v1/certificates/numbers", {"year": TODAY.year}).json()
    assert (body["last"], body["counts"]["issued"], body["missing"]) == (1, 1, [])
    refused = api.get("/api/v1/certificates/numbers", {"year": "x"})
    assert refused.status_code == 400 and refused.json()["code"] == ErrorCode.INVALID_INPUT


def test_a_check_under_the_lock_that_refuses_gives_the_number_back(world):
    """A form checked against every issue before it (one 転出証明書 per 転出届) keeps the number
    under the lock to its commit, as before ADR 0021: its refusal takes no number."""

    def conflict():
        raise ConflictError("この転出届の転出証明書は交付済みです。")

    with gate.open(world, function="test.issue", perm=Perm.CERTIFICATE_ISSUE) as session:
        with pytest.raises(ConflictError):
            issuing.record_issue(session, form="copy", options={}, make_pdf=lambda n, d: (b"%PDF", []),
                                 request=Request(kind="self"), channel="counter", under_lock=conflict)
        assert "number" not in session.criteria
    assert not CertificateNumber.objects.exists() and not CertificateNumberVoid.objects.exists()
    fam = family(world)
    assert issue(world, fam).issue.serial == 1


# --- two workers (PostgreSQL) ----------------------------------------------------------------------


def _workers(actor, fam, n=2, *, fail_one=False, monkeypatch):
    """``n`` issues by ``n`` threads, each with its own connection, whose renders all wait for each
    other: they pass only if no issue holds a lock that another needs while it renders."""
    barrier = threading.Barrier(n, timeout=10)
    real = render.render_pdf
    failed = threading.Event()

    def render_together(*a, **kw):
        barrier.wait()
        if fail_one and not failed.is_set():
            failed.set()
            raise RuntimeError("printer jammed")
        return real(*a, **kw)

    monkeypatch.setattr(render, "render_pdf", render_together)
    results: list[CertificateIssue] = []
    errors: list[BaseException] = []

    def worker():
        try:
            results.append(issue(actor, fam, household=False, options=Options(layout="individual")).issue)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    monkeypatch.setattr(render, "render_pdf", real)
    return results, errors


needs_pg = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers (PostgreSQL)")


@needs_pg
@pytest.mark.django_db(transaction=True)
def test_two_certificates_render_at_the_same_time(towns, terminal, stock, clerk, monkeypatch):
    """Before ADR 0021 the second worker waited on the year's counter row while the first rendered,
    and the barrier broke (BrokenBarrierError in both)."""
    actor = Actor(user=clerk, terminal=terminal)
    fam = family(actor)
    results, errors = _workers(actor, fam, monkeypatch=monkeypatch)
    assert errors == []
    assert sorted(r.serial for r in results) == [1, 2]
    assert sorted(CertificateIssue.objects.values_list("number", flat=True)) == [f"{TODAY.year}-000001",
                                                                                f"{TODAY.year}-000002"]
    ledger = numbering.ledger(TODAY.year)
    assert ledger["counts"] == {"issued": 2, "void": 0, "abandoned": 0, "pending": 0} and ledger["missing"] == []


@needs_pg
@pytest.mark.django_db(transaction=True)
def test_a_render_failing_beside_another_leaves_one_void_number(towns, terminal, stock, clerk, monkeypatch):
    actor = Actor(user=clerk, terminal=terminal)
    fam = family(actor)
    results, errors = _workers(actor, fam, fail_one=True, monkeypatch=monkeypatch)
    assert [type(e) for e in errors] == [RuntimeError] and len(results) == 1
    ledger = numbering.ledger(TODAY.year)
    [void] = ledger["missing"]
    assert {void["serial"], results[0].serial} == {1, 2}
    assert (void["state"], void["code"]) == ("void", "error") and "RuntimeError" in void["reason"]
    failed = AccessLog.objects.filter(function="certificate.issue", outcome="error").get()
    assert failed.criteria["number"] == void["number"] and failed.criteria["number_void"] is True
    third = issue(actor, fam, household=False, options=Options(layout="individual")).issue
    assert third.serial == 3  # numbers stay unique: the 欠番 is not handed out again
    assert sorted(CertificateNumber.objects.values_list("serial", flat=True)) == [1, 2, 3]
