"""The 保存期間表 and its daily purge (issue 18, C07 C22–C25): exactly what is due goes, the chain is
checkpointed before and verifies after, every run is recorded with its counts, and the auditors' report
reads it back."""
import datetime as dt
import io
import subprocess
import sys
from importlib import import_module
from pathlib import Path

import pytest
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from juki.accounts import sessions
from juki.accounts.models import SessionDocument
from juki.accounts.permissions import Perm
from juki.audit import chain, gate
from juki.core.wareki import years_before
from juki.audit.models import AccessLog, Checkpoint
from juki.intermediary_link import feed
from juki.intermediary_link.models import ProvisionRecord
from juki.register.models import Person, Status
from juki.retention import services, table
from juki.retention.models import PurgeRun
from tests.audit.test_chain import LOG, _at, _events, attacker
from tests.helpers import TEST_ACTOR

pytestmark = pytest.mark.django_db


def today() -> dt.date:
    return timezone.localdate()


def _purge(*args) -> str:
    out = io.StringIO()
    call_command("retention", "purge", *args, stdout=out)
    return out.getvalue()


def _records(*keep_until: dt.date) -> list[int]:
    with gate.open(feed.actor(), function="test.records", perm=Perm.ATENA_QUERY):
        first = ProvisionRecord.objects.count() + 1000
        rows = ProvisionRecord.objects.bulk_create([ProvisionRecord(
            platform_id=first + i, inquiry_id=i, at=timezone.now(), event="answer", requester="厚生労働大臣",
            provision=1, affair="001-1", items=["head"], unified_number="", keep_until=day)
            for i, day in enumerate(keep_until)])
        return [r.platform_id for r in rows]


def _kept_records() -> set[int]:
    with gate.open(feed.actor(), function="test.records", perm=Perm.ATENA_QUERY):
        return set(ProvisionRecord.objects.values_list("platform_id", flat=True))


def _session(expires: dt.datetime) -> str:
    store = import_module("django.contrib.sessions.backends.db").SessionStore()
    store["x"] = 1
    store.create()
    Session.objects.filter(pk=store.session_key).update(expire_date=expires)
    return store.session_key


def _removed(on: dt.date) -> Person:
    with gate.open(TEST_ACTOR, function="test.person", perm=Perm.BATCH_RUN):
        return Person.objects.create(atena_number=f"9{on:%Y%m%d}"[:10], status=Status.REMOVED, removed_on=on)


def test_the_table_names_a_basis_and_a_job_for_every_entry_and_the_register_runs_exactly_its_own():
    rows = table.periods()
    assert {r.code for r in rows if r.in_register} == set(services.JOBS)
    assert all(r.basis and r.period and r.controls for r in rows)
    assert table.period("removed_register").years == 150 and "施行令第34条" in table.period("removed_register").basis
    assert table.period("provision_records").years == 7 and table.period("identity_history").years == 5
    assert table.period("recipients").business_days == 1
    # The other processes' jobs are real commands: a renamed one fails here.
    others = {r.job for r in rows if not r.in_register}
    assert others == {"juki cs purge", "juki intermediary purge", "juki kiosk-cleanup", "juki backup run"}
    for job in ("juki cs purge", "juki intermediary purge"):
        done = subprocess.run([Path(sys.executable).with_name("juki"), *job.split()[1:], "--help"],
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr


def test_a_purge_removes_exactly_what_is_due_checkpoints_first_and_verifies_after(settings, monkeypatch):
    settings.JUKI_AUDIT_RETENTION_YEARS = 2
    old = _at(timezone.now() - dt.timedelta(days=366 * 3), monkeypatch, lambda: _events(TEST_ACTOR, 2))
    recent = _at(timezone.now() - dt.timedelta(days=300), monkeypatch, lambda: _events(TEST_ACTOR, 1))
    gone_records = _records(today() - dt.timedelta(days=1), today() - dt.timedelta(days=400))
    kept_records = _records(today(), today() + dt.timedelta(days=1))
    stale = _session(timezone.now() - dt.timedelta(minutes=1))
    live = _session(timezone.now() + dt.timedelta(hours=1))
    # The PDFs kept beside a session: the stale session's go with it, the live one's past their hour go too.
    sessions.keep_document(stale, "preview", b"%PDF stale")
    sessions.keep_document(live, "A-1", b"%PDF old", keep_slots=["A-2"])
    sessions.keep_document(live, "A-2", b"%PDF recent", keep_slots=["A-1"])
    SessionDocument.objects.filter(session_id=live, slot="A-1").update(
        kept_at=timezone.now() - dt.timedelta(seconds=sessions.DOCUMENT_SECONDS + 60))
    before = Checkpoint.objects.count()

    out = _purge()

    assert not AccessLog.objects.filter(id__in=[r.id for r in old]).exists()
    assert AccessLog.objects.filter(id__in=[r.id for r in recent]).count() == 1
    assert _kept_records() == set(kept_records) and not _kept_records() & set(gone_records)
    assert list(Session.objects.values_list("session_key", flat=True)) == [live] and stale != live
    assert list(SessionDocument.objects.values_list("session_id", "slot")) == [(live, "A-2")]
    run = PurgeRun.objects.get()
    results = {r["code"]: r for r in run.results}
    assert (results["access_log"]["deleted"], results["provision_records_copy"]["deleted"], results["sessions"]["deleted"]) \
        == (2, 2, 1)
    assert results["sessions"]["detail"] == {"documents": 1}
    assert results["removed_register"]["outcome"] == "empty" and run.ok and run.verified
    # Checkpoint before (periodic, signed at the run's start) and the purge's anchor; the chain verifies.
    kinds = list(Checkpoint.objects.order_by("id").values_list("kind", flat=True))[before:]
    assert kinds == [Checkpoint.PERIODIC, Checkpoint.PURGE]
    assert Checkpoint.objects.filter(kind=Checkpoint.PERIODIC).order_by("-id").first().seq == run.checkpoint_seq
    assert chain.verify().ok
    log = AccessLog.objects.get(function="batch.retention_purge")
    assert log.outcome == "done" and log.criteria["results"]["access_log"] == {"due": 2, "deleted": 2, "outcome": "done"}
    assert "アクセスログ（照会・異動・印刷・認証・設定変更等）: 削除済み、削除 2 件" in out
    assert "情報提供等の記録の写し（市）: 削除済み、削除 2 件" in out and "監査ログの検証に成功しました" in out

    # A second run the same day finds nothing due.
    again = services.purge(execute=True)
    assert all(o.deleted == 0 for o in again.outcomes) and again.ok


def test_a_dry_run_counts_and_removes_nothing(settings, monkeypatch):
    settings.JUKI_AUDIT_RETENTION_YEARS = 2
    _at(timezone.now() - dt.timedelta(days=366 * 3), monkeypatch, lambda: _events(TEST_ACTOR, 3))
    _records(today() - dt.timedelta(days=1))
    rows = AccessLog.objects.count()

    out = _purge("--dry-run")

    assert "数えただけで、削除していません" in out and "対象 3 件" in out
    assert len(_kept_records()) == 1 and PurgeRun.objects.count() == 0
    assert AccessLog.objects.filter(function="test.event").count() == 3 and AccessLog.objects.count() > rows


def test_a_removed_record_past_150_years_is_reported_overdue_and_never_deleted():
    person = _removed(years_before(today(), 151))
    _removed(years_before(today(), 149))

    with pytest.raises(CommandError) as err:
        _purge()

    assert err.value.returncode == 1 and str(err.value).startswith("retention_incomplete")
    result = next(r for r in PurgeRun.objects.get().results if r["code"] == "removed_register")
    assert (result["due"], result["deleted"], result["outcome"]) == (1, 0, "overdue")
    with gate.open(TEST_ACTOR, function="test.person", perm=Perm.BATCH_RUN):
        assert Person.objects.filter(pk=person.pk).exists()
    log = AccessLog.objects.filter(function="retention.removed_register").latest("id")
    assert log.person_count == 1 and not log.subjects.exists()  # the count, no person named


def test_a_broken_chain_stops_the_log_purge_and_the_run_reports_it(settings, monkeypatch):
    settings.JUKI_AUDIT_RETENTION_YEARS = 2
    old = _at(timezone.now() - dt.timedelta(days=366 * 3), monkeypatch, lambda: _events(TEST_ACTOR, 3))
    with attacker(LOG) as cur:
        cur.execute(f"UPDATE {LOG} SET outcome = 'x' WHERE id = %s", [old[1].id])
    gone = _records(today() - dt.timedelta(days=1))

    run = services.purge(execute=True)

    outcome = {o.code: o for o in run.outcomes}
    assert outcome["access_log"].outcome == "failed" and outcome["access_log"].detail["error"] == "ChainBroken"
    assert AccessLog.objects.filter(id__in=[r.id for r in old]).count() == 3  # the evidence stays
    assert not _kept_records() & set(gone)  # the other entries still ran
    assert not run.ok and not run.verified and "[row_altered]" in run.verify_summary
    assert PurgeRun.objects.get().ok is False
    assert AccessLog.objects.get(function="batch.retention_purge").outcome == "failed"


def test_without_a_signing_key_nothing_is_deleted(settings):
    settings.JUKI_AUDIT_SIGNING_KEY = ""
    kept = _records(today() - dt.timedelta(days=1))
    with pytest.raises(CommandError) as err:
        _purge()
    assert str(err.value).startswith("improperly_configured") and _kept_records() == set(kept)
    assert PurgeRun.objects.count() == 0


def test_the_report_reads_the_table_and_the_last_run_for_an_auditor(settings, monkeypatch):
    settings.JUKI_AUDIT_RETENTION_YEARS = 2
    _records(today() - dt.timedelta(days=1))
    out = io.StringIO()
    call_command("retention", "report", stdout=out)
    assert "実行状況: まだ実行されていません" in out.getvalue()
    services.purge(execute=True)

    out = io.StringIO()
    call_command("retention", "report", stdout=out)
    text = out.getvalue()
    assert "■ 住民票の除票（removed_register）" in text and "保存期間: 消除の日から150年" in text
    assert "根拠: 住民基本台帳法施行令第34条第1項" in text
    assert "直近の実行:" in text and "削除済み（対象 1 件、削除 1 件" in text
    assert "市町村CSの記録を参照（juki cs purge が実行のたびに件数を記録します）" in text
    assert "削除後の検証: 成功" in text


def test_two_purges_at_once_do_not_both_run(settings, tmp_path):
    import fcntl

    settings.VAR_DIR = tmp_path
    with open(tmp_path / "retention.lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # the timer's run, still going
        with pytest.raises(CommandError) as err:
            _purge()
    assert err.value.returncode == 2 and str(err.value).startswith("retention_running")
    assert PurgeRun.objects.count() == 0
