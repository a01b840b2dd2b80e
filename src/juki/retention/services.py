"""`juki retention purge`: one daily run that removes exactly what the 保存期間表 says is due in the
register's own process, and `report()` for the auditors (C07, C22–C25, [1300], [1370]).

A run signs a checkpoint of the access log's chain first (so whatever it removes was anchored), runs each
entry in the table's order, then links the chain and verifies it whole; the run is one `PurgeRun` row and
one access-log row with the counts. An entry that fails stops nothing else: it is reported with its
error, and the run ends not ok. The CS and the 中間サーバー purge their own databases (`juki cs purge`,
`juki intermediary purge`), which the report names.
"""
from __future__ import annotations

import datetime as dt
import fcntl
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection, transaction
from django.utils import timezone

from juki.accounts import sessions
from juki.audit import chain, checkpoints
from juki.audit.events import record
from juki.audit.gate import Actor
from juki.core.wareki import years_before
from juki.backup import sqlite as sqlite_backups
from juki.intermediary_link import feed
from juki.linkage import cleanup as linkage_cleanup
from juki.register import selectors

from .models import PurgeRun
from .table import Period, period, periods

ACTOR = "juki retention"


@dataclass
class Outcome:
    code: str
    due: int = 0
    deleted: int = 0
    cutoff: str = ""
    outcome: str = "done"  # done / empty / overdue (a "check" entry with rows due) / failed
    detail: dict = field(default_factory=dict)


@dataclass
class Run:
    today: dt.date
    executed: bool
    outcomes: list[Outcome] = field(default_factory=list)
    checkpoint_seq: int | None = None
    verified: bool = False
    verify_summary: str = ""

    @property
    def ok(self) -> bool:
        return self.verified and all(o.outcome in ("done", "empty") for o in self.outcomes)


def _removed_register(p: Period, run: Run, now: dt.datetime) -> Outcome:
    cutoff = years_before(run.today, p.years)
    due, oldest = selectors.removed_before(actor=Actor.system_actor(ACTOR), day=cutoff)
    # Deletion of a 除票 is not built ([1300]'s 除票用データベース first): a due row is reported, never lost.
    return Outcome(p.code, due=due, cutoff=cutoff.isoformat(), outcome="overdue" if due else "empty",
                   detail={"oldest_removed_on": oldest.isoformat() if oldest else None})


def _access_log(p: Period, run: Run, now: dt.datetime) -> Outcome:
    result = checkpoints.purge(execute=run.executed, now=now)
    return Outcome(p.code, due=result.rows, deleted=result.rows if result.executed else 0,
                   cutoff=result.cutoff.date().isoformat(), outcome="done" if result.rows else "empty",
                   detail={"subjects": result.subjects, "first_seq": result.first_seq, "through_seq": result.through_seq,
                           "provision_cutoff": result.provision_cutoff.date().isoformat()})


def _provision_log(p: Period, run: Run, now: dt.datetime) -> Outcome:
    # Removed by the access log's own purge (one chain, one prefix): here its cut-off is stated.
    years, provision_years = checkpoints.retention_years()
    return Outcome(p.code, cutoff=years_before(now, provision_years).date().isoformat(), outcome="empty",
                   detail={"removed_with": "access_log", "years": provision_years})


def _provision_records_copy(p: Period, run: Run, now: dt.datetime) -> Outcome:
    due = feed.purge_copy(today=run.today, execute=run.executed)
    return Outcome(p.code, due=due, deleted=due if run.executed else 0, cutoff=run.today.isoformat(),
                   outcome="done" if due else "empty", detail={"rule": "keep_until < today"})


def _sessions(p: Period, run: Run, now: dt.datetime) -> Outcome:
    expired = Session.objects.filter(expire_date__lt=now)
    documents = sessions.documents_due(now)  # the PDFs kept beside a session, past their hour
    due, documents_due = expired.count(), documents.count()
    if run.executed and documents_due:
        documents.delete()
    if run.executed and due:
        expired.delete()  # with their documents (SessionDocument's CASCADE)
    return Outcome(p.code, due=due, deleted=due if run.executed else 0,
                   cutoff=f"{timezone.localtime(now):%Y-%m-%d %H:%M}", outcome="done" if due or documents_due else "empty",
                   detail={"documents": documents_due})


def _backups_sqlite(p: Period, run: Run, now: dt.datetime) -> Outcome:
    if connection.vendor != "sqlite":  # PostgreSQL's are pgBackRest's (the "backups" entry)
        return Outcome(p.code, outcome="empty", detail={"engine": connection.vendor})
    keep = int(getattr(settings, "JUKI_BACKUP_KEEP", 14))
    counts = sqlite_backups.prune(keep=keep, replaced_days=30, now=now, execute=run.executed)
    due = counts["backups"] + counts["replaced"]
    return Outcome(p.code, due=due, deleted=due if run.executed else 0, outcome="done" if due else "empty",
                   detail={**counts, "keep": keep})


def _linkage_files(p: Period, run: Run, now: dt.datetime) -> Outcome:
    due = linkage_cleanup.purge_files(now=now, execute=run.executed)
    cutoff = timezone.localtime(now - dt.timedelta(days=linkage_cleanup.days()))
    return Outcome(p.code, due=due, deleted=due if run.executed else 0, cutoff=f"{cutoff:%Y-%m-%d %H:%M}",
                   outcome="done" if due else "empty")


JOBS = {"removed_register": _removed_register, "access_log": _access_log, "provision_log": _provision_log,
        "provision_records_copy": _provision_records_copy, "sessions": _sessions,
        "backups_sqlite": _backups_sqlite, "linkage_files": _linkage_files}


class AlreadyRunning(Exception):
    pass


@contextmanager
def _one_run():
    """One purge at a time on this server (the timer and a manual run would shred the same files)."""
    path = Path(settings.VAR_DIR) / "retention.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AlreadyRunning() from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def purge(*, execute: bool, now: dt.datetime | None = None) -> Run:
    """Run every entry the register's process enforces. `now` is for tests (a frozen clock)."""
    with _one_run():
        return _purge(execute=execute, now=now)


def _purge(*, execute: bool, now: dt.datetime | None) -> Run:
    now = now or timezone.now()
    run = Run(today=timezone.localdate(now), executed=execute)
    started = timezone.now()
    if execute:
        run.checkpoint_seq = checkpoints.checkpoint().seq  # refuses before anything when no key is set
    for p in periods():
        if not p.in_register:
            continue
        try:
            with transaction.atomic():
                run.outcomes.append(JOBS[p.code](p, run, now))
        except Exception as exc:  # noqa: BLE001 - reported with its kind; the other entries still run
            # The kind and the SQLSTATE only: a database error's text can quote values (personal data).
            run.outcomes.append(Outcome(p.code, outcome="failed", detail={"error": type(exc).__name__,
                                                                           "message": _safe(exc)}))
    chain.link()
    checked = chain.verify()
    run.verified, run.verify_summary = checked.ok, checked.summary()[:300]
    counts = {o.code: {"due": o.due, "deleted": o.deleted, "outcome": o.outcome} for o in run.outcomes}
    if execute:
        PurgeRun.objects.create(started_at=started, finished_at=timezone.now(), today=run.today, executed=True,
                                results=[asdict(o) for o in run.outcomes], checkpoint_seq=run.checkpoint_seq,
                                verified=run.verified, verify_summary=run.verify_summary, ok=run.ok)
        record(Actor.system_actor(ACTOR), function="batch.retention_purge", outcome="done" if run.ok else "failed",
               criteria={"today": run.today.isoformat(), "results": counts, "verified": run.verified})
        chain.link()
    return run


def _safe(exc: Exception) -> str:
    from django.db import DatabaseError

    from juki.core.logging import sqlstate

    if isinstance(exc, DatabaseError):
        return f"database error sqlstate={sqlstate(exc) or '-'}"
    return str(exc)[:200] if isinstance(exc, chain.ChainBroken) else type(exc).__name__


OUTCOMES = {"done": "削除済み", "empty": "該当なし", "overdue": "期限経過・未削除", "failed": "失敗"}


def summary(run: Run) -> str:
    head = "保存期間を過ぎた記録の削除" + ("" if run.executed else "（--dry-run: 数えただけで、削除していません）")
    lines = [f"{head}  基準日 {run.today:%Y-%m-%d}"]
    for o in run.outcomes:
        name = period(o.code).name
        done = f"削除 {o.deleted} 件" if run.executed else f"対象 {o.due} 件"
        extra = f"（{o.detail['error']}: {o.detail['message']}）" if o.outcome == "failed" else ""
        since = f"（基準 {o.cutoff} より前）" if o.cutoff else (f"（新しい{o.detail['keep']}世代を残す）" if "keep" in o.detail else "")
        lines.append(f"  {name}: {OUTCOMES[o.outcome]}、{done}{since}{extra}")
    lines.append(("  監査ログ: " if run.verified else "  監査ログ: 【異常】") + run.verify_summary)
    return "\n".join(lines)


def report(*, runs: int = 30) -> dict:
    """For the auditors: the table, and per entry the last runs' counts (none for other processes')."""
    recent = list(PurgeRun.objects.order_by("-id")[:runs])
    table = []
    for p in periods():
        last = next(({"at": r.finished_at, "result": x} for r in recent for x in r.results if x["code"] == p.code), None)
        deleted = sum(x["deleted"] for r in recent for x in r.results if x["code"] == p.code)
        table.append({"period": p, "last": last, "deleted_recent": deleted})
    return {"table": table, "runs": recent}


def report_text(*, runs: int = 30) -> str:
    data = report(runs=runs)
    out = ["保存期間表と削除の実行状況（juki retention report）", ""]
    for row in data["table"]:
        p, last = row["period"], row["last"]
        out.append(f"■ {p.name}（{p.code}）")
        out.append(f"  保存期間: {p.period}")
        out.append(f"  根拠: {p.basis}")
        out.append(f"  管理策: {'・'.join(p.controls)}　記録の場所: {p.system}　削除: {p.job}（{_ENFORCED[p.enforced]}）")
        if p.note:  # the table's lines are folded for review: joined again without spaces (Japanese)
            out.append("  注記: " + "".join(line.strip() for line in p.note.splitlines()))
        if p.enforced == "expiry":
            out.append(f"  実行状況: {p.job} が保存世代を超えたものを消します（件数は {p.job} の記録）")
        elif not p.in_register:
            out.append(f"  実行状況: {p.system}の記録を参照（{p.job} が実行のたびに件数を記録します）")
        elif last:
            x = last["result"]
            cutoff = f"、基準 {x['cutoff']} より前" if x["cutoff"] else ""
            out.append(f"  直近の実行: {timezone.localtime(last['at']):%Y-%m-%d %H:%M} {OUTCOMES[x['outcome']]}"
                       f"（対象 {x['due']} 件、削除 {x['deleted']} 件{cutoff}）"
                       f"　直近{len(data['runs'])}回の削除 計 {row['deleted_recent']} 件")
            if x["detail"].get("oldest_removed_on"):
                out.append(f"  最も古い消除日: {x['detail']['oldest_removed_on']}")
        else:
            out.append("  実行状況: まだ実行されていません")
        out.append("")
    out.append("実行の記録（新しい順）")
    for r in data["runs"]:
        state = "正常" if r.ok else "【異常】"
        out.append(f"  {timezone.localtime(r.finished_at):%Y-%m-%d %H:%M} {state} 削除前チェックポイント seq {r.checkpoint_seq}"
                   f"　削除後の検証: {'成功' if r.verified else '失敗'}")
    if not data["runs"]:
        out.append("  （なし）")
    return "\n".join(out)


_ENFORCED = {"purge": "期限を過ぎたものを削除", "check": "期限を過ぎたものを数えて報告・削除は未実装",
             "expiry": "保存世代を超えたものが自動で消える"}
