"""The access log is a hash chain with signed checkpoints: `juki audit verify` finds tampering (ADR 0007)."""
import base64
import datetime as dt
import io
import json
import threading
import time
from contextlib import contextmanager

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from juki.audit import chain, checkpoints, events
from juki.audit.gate import Actor
from juki.audit.models import AccessLog, AccessLogSubject, Checkpoint
from juki.register import selectors

from ..conftest import move_in_family
from ..register.helpers import ids
from tests.helpers import TEST_ACTOR

LOG, SUBJECT, CHECKPOINT = "audit_accesslog", "audit_accesslogsubject", "audit_checkpoint"


def _pg() -> bool:
    return connection.vendor == "postgresql"


@contextmanager
def attacker(*tables):
    """Someone with the database owner's rights edits rows directly, past the append-only triggers."""
    with connection.cursor() as cur:
        saved = {}
        if _pg():  # ALTER TABLE refuses while the test transaction has deferred FK checks pending
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for t in tables:
            if _pg():
                cur.execute(f"ALTER TABLE {t} DISABLE TRIGGER {t}_append_only")
            else:
                cur.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = %s", [f"{t}_append_only"])
                saved[t] = cur.fetchone()[0]
                cur.execute(f"DROP TRIGGER {t}_append_only")
        yield cur
        for t in tables:
            cur.execute(f"ALTER TABLE {t} ENABLE TRIGGER {t}_append_only" if _pg() else saved[t])
        if _pg():
            cur.execute("SET CONSTRAINTS ALL DEFERRED")


def _verify(*args) -> str:
    out = io.StringIO()
    call_command("audit", "verify", *args, stdout=out)
    return out.getvalue()


def _verify_fails(*args) -> str:
    with pytest.raises(CommandError) as err:
        _verify(*args)
    assert err.value.returncode == 1
    return str(err.value)


def _rows():
    """Every row, linked: the chainer runs first, as `juki audit chain --follow` does within a second."""
    chain.link()
    return list(AccessLog.objects.order_by("seq"))


def _events(actor, n, **kw):
    written = [events.record(actor, function="test.event", person_ids=[i, i + 100], criteria={"i": i}, **kw)
               for i in range(n)]
    chain.link()
    return [AccessLog.objects.get(pk=e.pk) for e in written]


# --- the chain ------------------------------------------------------------------------------------


def test_reads_and_changes_are_linked_in_one_chain(world, family):
    head = ids(family)[0]
    selectors.person_get(actor=world, person_id=head)
    events.record(world, function="auth.login")
    checkpoints.checkpoint()  # `juki audit verify` passes only on a chain anchored by a signed checkpoint
    rows = _rows()
    functions = {r.function for r in rows}
    assert {"change.move_in", "person.view", "auth.login"} <= functions
    assert [r.seq for r in rows] == list(range(rows[0].seq, rows[0].seq + len(rows)))  # no gaps
    assert rows[0].seq == 1 and rows[0].prev_hash == chain.GENESIS
    for before, after in zip(rows, rows[1:]):
        assert after.prev_hash == before.row_hash
    view = next(r for r in rows if r.function == "person.view")
    subjects = AccessLogSubject.objects.filter(log=view).values_list("person_id", flat=True)
    assert view.row_hash == chain.digest(view.__dict__, subjects, view.prev_hash)
    result = chain.verify()
    assert result.ok and result.rows == len(rows) and result.last_seq == rows[-1].seq
    out = _verify()
    assert "検証に成功しました" in out and f"記録 {len(rows)} 件" in out and f"最終 seq {rows[-1].seq}" in out


def test_a_failed_change_is_linked_after_the_rollback_without_a_gap(world, family):
    from juki.core.errors import DomainError, ErrorCode

    from ..conftest import person_input

    with pytest.raises(DomainError) as err:
        move_in_family(world, members=[person_input(relationship="祖父")])
    assert err.value.code == ErrorCode.INVALID_RELATIONSHIP
    rows = _rows()
    assert rows[-1].outcome == "invalid_relationship"
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
    assert chain.verify().ok


def test_verify_without_any_checkpoint_fails_with_a_clear_message(actor):
    """Issue 11: `juki audit verify` passed on a log nobody had ever signed — a chain rewritten as
    a whole would pass too. It now fails (exit 1, so the cron alert fires) and says what to do."""
    _events(actor, 3)
    result = chain.verify()
    assert result.ok and result.unanchored.code == "no_checkpoints"  # the chain itself is intact
    message = _verify_fails()
    assert "[no_checkpoints]" in message and "チェックポイントが1件もありません" in message
    assert "juki audit checkpoint" in message
    checkpoints.checkpoint()
    assert "検証に成功しました" in _verify() and "チェックポイント 1 件" in _verify()


def test_an_edited_row_is_named(actor):
    logs = _events(actor, 5)
    target = logs[2]
    checkpoints.checkpoint()
    assert _verify()
    with attacker(LOG) as cur:
        cur.execute(f"UPDATE {LOG} SET outcome = 'denied' WHERE id = %s", [target.id])
    result = chain.verify()
    assert result.problem.code == "row_altered"
    assert (result.problem.seq, result.problem.id) == (target.seq, target.id)
    message = _verify_fails()
    assert f"seq={target.seq} id={target.id}" in message and "[row_altered]" in message and "書き換えられています" in message


def test_an_edited_subject_is_named(actor):
    logs = _events(actor, 4)
    with attacker(SUBJECT) as cur:
        cur.execute(f"UPDATE {SUBJECT} SET person_id = 999999 WHERE log_id = %s AND person_id = %s", [logs[1].id, 1])
    problem = chain.verify().problem
    assert (problem.code, problem.seq, problem.id) == ("row_altered", logs[1].seq, logs[1].id)


def test_a_subject_moved_to_another_time_is_named(actor):
    """`log_at` is not hashed but a person's history is looked up by it (ADR 0030): changing it
    would hide the row from the person's 開示請求 answer, so verify compares it with its row."""
    logs = _events(actor, 4)
    with attacker(SUBJECT) as cur:
        cur.execute(f"UPDATE {SUBJECT} SET log_at = %s WHERE log_id = %s", [logs[2].at - dt.timedelta(days=400), logs[2].id])
    problem = chain.verify().problem
    assert (problem.code, problem.seq, problem.id) == ("row_altered", logs[2].seq, logs[2].id)
    assert "対象者の記録の日時" in problem.message


def test_a_deleted_row_is_named_as_a_gap(actor):
    logs = _events(actor, 5)
    gone, after = logs[2], logs[3]
    with attacker(LOG, SUBJECT) as cur:
        cur.execute(f"DELETE FROM {SUBJECT} WHERE log_id = %s", [gone.id])
        cur.execute(f"DELETE FROM {LOG} WHERE id = %s", [gone.id])
    problem = chain.verify().problem
    assert (problem.code, problem.seq, problem.id) == ("gap", after.seq, after.id)
    assert f"seq {gone.seq} の記録が削除されています" in problem.message


def test_rewriting_the_rest_of_the_chain_is_caught_by_the_checkpoint(actor):
    _events(actor, 3)
    cp = checkpoints.checkpoint()
    logs = _rows()
    target = logs[1]
    # A careful attacker edits a row and re-computes every hash after it.
    with attacker(LOG) as cur:
        cur.execute(f"UPDATE {LOG} SET outcome = 'denied' WHERE id = %s", [target.id])
        prev = logs[0].row_hash
        for row in AccessLog.objects.filter(seq__gte=target.seq).order_by("seq"):
            subjects = AccessLogSubject.objects.filter(log=row).values_list("person_id", flat=True)
            new = chain.digest(row.__dict__, subjects, prev)
            cur.execute(f"UPDATE {LOG} SET prev_hash = %s, row_hash = %s WHERE id = %s", [prev, new, row.id])
            prev = new
    problem = chain.verify().problem
    assert problem.code == "checkpoint_mismatch" and problem.seq == cp.seq
    assert "[checkpoint_mismatch]" in _verify_fails()


def test_rewriting_one_row_and_its_hash_breaks_the_next_link(actor):
    logs = _events(actor, 4)
    target, following = logs[1], logs[2]
    with attacker(LOG) as cur:
        cur.execute(f"UPDATE {LOG} SET outcome = 'denied', row_hash = %s WHERE id = %s", ["f" * 64, target.id])
    problem = chain.verify().problem
    # The edited row's own hash no longer matches its content: named first.
    assert (problem.code, problem.seq) == ("row_altered", target.seq)
    with attacker(LOG) as cur:
        row = AccessLog.objects.get(pk=target.id)
        subjects = AccessLogSubject.objects.filter(log=row).values_list("person_id", flat=True)
        cur.execute(f"UPDATE {LOG} SET row_hash = %s WHERE id = %s", [chain.digest(row.__dict__, subjects, row.prev_hash), row.id])
    problem = chain.verify().problem
    assert (problem.code, problem.seq, problem.id) == ("link_broken", following.seq, following.id)


def test_deleting_the_newest_rows_after_a_checkpoint_is_caught(actor):
    _events(actor, 3)
    cp = checkpoints.checkpoint()
    with attacker(LOG, SUBJECT) as cur:
        cur.execute(f"DELETE FROM {SUBJECT} WHERE log_id IN (SELECT id FROM {LOG} WHERE seq >= %s)", [cp.seq - 1])
        cur.execute(f"DELETE FROM {LOG} WHERE seq >= %s", [cp.seq - 1])
    problem = chain.verify().problem
    assert problem.code == "truncated" and problem.seq == cp.seq - 1


def test_deleting_rows_newer_than_the_last_checkpoint_is_caught_by_the_chain_head(actor):
    checkpoints.checkpoint()
    newest = _events(actor, 2)[-1]
    with attacker(LOG, SUBJECT) as cur:
        cur.execute(f"DELETE FROM {SUBJECT} WHERE log_id = %s", [newest.id])
        cur.execute(f"DELETE FROM {LOG} WHERE id = %s", [newest.id])
    problem = chain.verify().problem
    assert (problem.code, problem.seq) == ("truncated", newest.seq)
    assert f"チェーンの先頭は seq {newest.seq}" in problem.message


def test_a_forged_or_unknown_checkpoint_is_caught(actor):
    _events(actor, 2)
    cp = checkpoints.checkpoint()
    assert chain.verify().ok
    with attacker(CHECKPOINT) as cur:  # claims another hash under the real key id
        cur.execute(f"UPDATE {CHECKPOINT} SET row_hash = %s WHERE id = %s", ["a" * 64, cp.id])
    problem = chain.verify().problem
    assert (problem.code, problem.seq, problem.id) == ("checkpoint_signature", cp.seq, cp.id)
    assert "[checkpoint_signature]" in _verify_fails()
    with attacker(CHECKPOINT) as cur:
        cur.execute(f"UPDATE {CHECKPOINT} SET row_hash = %s WHERE id = %s", [cp.row_hash, cp.id])
    assert chain.verify().ok
    other = Ed25519PrivateKey.generate()  # signed with a key the city does not hold
    at = timezone.now()
    forged = Checkpoint.objects.create(
        seq=cp.seq, row_hash=cp.row_hash, at=at, kind=Checkpoint.PURGE, key_id=chain.key_id(other.public_key()),
        signature=base64.b64encode(other.sign(chain.message(kind="purge", seq=cp.seq, row_hash=cp.row_hash, at=at))).decode())
    problem = chain.verify().problem
    assert (problem.code, problem.id) == ("checkpoint_key_unknown", forged.id)


def test_a_periodic_checkpoint_cannot_excuse_deleting_the_oldest_rows(actor):
    _events(actor, 3)
    cp = checkpoints.checkpoint()
    later = _events(actor, 1)[0]
    with attacker(LOG, SUBJECT) as cur:
        cur.execute(f"DELETE FROM {SUBJECT} WHERE log_id IN (SELECT id FROM {LOG} WHERE seq <= %s)", [cp.seq])
        cur.execute(f"DELETE FROM {LOG} WHERE seq <= %s", [cp.seq])
    problem = chain.verify().problem
    assert (problem.code, problem.seq, problem.id) == ("head_missing", later.seq, later.id)


# --- append-only in the database --------------------------------------------------------------------


@pytest.mark.parametrize("table", [LOG, SUBJECT])
def test_update_and_delete_on_the_log_are_refused_by_the_database(actor, table):
    _events(actor, 2)
    count = AccessLog.objects.count(), AccessLogSubject.objects.count()
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(f"UPDATE {table} SET id = id")
    if _pg():
        with pytest.raises(DatabaseError, match="append-only"):
            with transaction.atomic(), connection.cursor() as cur:
                cur.execute(f"DELETE FROM {table}")
    else:
        # SQLite: the test runner empties tables with DELETE, so only UPDATE has a trigger; the
        # chain still names a deleted row (test_a_deleted_row_is_named_as_a_gap).
        assert connection.vendor == "sqlite"
    assert (AccessLog.objects.count(), AccessLogSubject.objects.count()) == count


def test_the_only_update_allowed_is_the_chainers_link_of_an_unlinked_row(actor):
    """ADR 0007: a row is written without its place in the chain; filling seq and hashes once is
    the one UPDATE the database lets through. Changing anything else with it, or re-linking a
    linked row, is refused like any other UPDATE."""
    row = events.record(actor, function="test.event", person_ids=[1], criteria={"i": 1})
    assert AccessLog.objects.get(pk=row.pk).seq is None
    for sql, params in ((f"UPDATE {LOG} SET outcome = 'denied' WHERE id = %s", [row.pk]),
                        (f"UPDATE {LOG} SET seq = 999, prev_hash = 'x', row_hash = 'y', outcome = 'denied' WHERE id = %s",
                         [row.pk])):
        with pytest.raises(DatabaseError, match="append-only"):
            with transaction.atomic(), connection.cursor() as cur:
                cur.execute(sql, params)
    done = chain.link()
    assert done.rows >= 1
    linked = AccessLog.objects.get(pk=row.pk)
    assert linked.seq is not None and len(linked.row_hash) == 64 and linked.outcome == "ok"
    with pytest.raises(DatabaseError, match="append-only"):  # linked once, fixed for good
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(f"UPDATE {LOG} SET seq = %s, row_hash = 'y' WHERE id = %s", [linked.seq + 1000, row.pk])
    assert chain.verify().ok


def test_checkpoints_are_append_only(actor):
    _events(actor, 1)
    checkpoints.checkpoint()
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(f"UPDATE {CHECKPOINT} SET seq = 1")
    if _pg():
        with pytest.raises(DatabaseError, match="append-only"):
            with transaction.atomic(), connection.cursor() as cur:
                cur.execute("SET LOCAL juki.audit_purge = 'on'")  # the purge switch does not cover checkpoints
                cur.execute(f"DELETE FROM {CHECKPOINT}")


# --- concurrency ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_and_the_chainer_leave_one_valid_chain_that_names_any_tampering(
        towns, terminal, stock, clerk, clerk2):
    """Issue 19 item 3: writers take no lock for the chain; a chainer links what has committed while
    they run. Afterwards the chain is gapless and verifies, every row is linked within a second, and
    a row dropped, inserted or moved is named by `juki audit verify` (PostgreSQL in CI's second run)."""
    a, b = Actor(user=clerk, terminal=terminal), Actor(user=clerk2, terminal=terminal)
    family = move_in_family(a)
    head = ids(family)[0]
    before = AccessLog.objects.count()
    start = threading.Barrier(5)
    writing = threading.Event()
    writing.set()
    errors, lags = [], []

    def run(actor, n, read):
        try:
            start.wait(timeout=10)
            for i in range(n):
                if read:
                    selectors.person_get(actor=actor, person_id=head)
                else:
                    events.record(actor, function="test.event", person_ids=[i], criteria={"i": i})
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))
        finally:
            connection.close()

    def chainer():
        try:
            start.wait(timeout=10)
            while writing.is_set():
                lags.append(chain.link().max_lag)
                time.sleep(0.02)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))
        finally:
            connection.close()

    link = threading.Thread(target=chainer)
    link.start()
    writers = [threading.Thread(target=run, args=(actor, 15, read)) for actor in (a, b) for read in (True, False)]
    for t in writers:
        t.start()
    for t in writers:
        t.join(timeout=120)
    writing.clear()
    link.join(timeout=30)
    assert errors == []
    lags.append(chain.link().max_lag)  # what the chainer had not reached yet: written just now
    assert max(lags) <= 1.0, f"a row waited {max(lags):.2f} s to be linked"
    assert not AccessLog.objects.filter(seq__isnull=True).exists()
    seqs = list(AccessLog.objects.order_by("seq").values_list("seq", flat=True))
    assert len(seqs) == before + 60 and seqs == list(range(1, len(seqs) + 1))
    checkpoints.checkpoint()
    result = chain.verify()
    assert result.ok and result.rows == len(seqs) + 1
    assert "検証に成功しました" in _verify()

    rows = {r.seq: r for r in AccessLog.objects.exclude(seq=None)}
    # Dropped: a row from the middle, written by one of the concurrent writers.
    gone = rows[before + 30]
    with attacker(LOG, SUBJECT) as cur:
        saved_subjects = list(AccessLogSubject.objects.filter(log_id=gone.id).values_list("person_id", flat=True))
        cur.execute(f"DELETE FROM {SUBJECT} WHERE log_id = %s", [gone.id])
        cur.execute(f"DELETE FROM {LOG} WHERE id = %s", [gone.id])
    assert "[gap]" in _verify_fails() and f"seq={gone.seq + 1} id={rows[gone.seq + 1].id}" in _verify_fails()
    # Inserted: a forged row put where the dropped one was, with the right seq and link.
    with attacker(LOG, SUBJECT) as cur:
        forged = AccessLog(function="person.view", outcome="ok", seq=gone.seq, prev_hash=gone.prev_hash,
                           user=gone.user, terminal=gone.terminal, at=gone.at, criteria={"forged": True},
                           row_hash=gone.row_hash)
        forged.save()
        cur.execute(f"INSERT INTO {SUBJECT} (log_id, log_at, person_id) VALUES "
                    + ", ".join(["(%s, %s, %s)"] * len(saved_subjects)), [v for p in saved_subjects for v in (forged.id, gone.at, p)])
    problem = chain.verify().problem
    assert (problem.code, problem.seq, problem.id) == ("row_altered", gone.seq, forged.id)
    with attacker(LOG, SUBJECT) as cur:
        cur.execute(f"DELETE FROM {SUBJECT} WHERE log_id = %s", [forged.id])
        cur.execute(f"DELETE FROM {LOG} WHERE id = %s", [forged.id])
    # Reordered: two neighbours swap their places (seq) in the chain.
    first, second = rows[before + 10], rows[before + 11]
    with attacker(LOG) as cur:
        cur.execute(f"UPDATE {LOG} SET seq = -1 WHERE id = %s", [first.id])
        cur.execute(f"UPDATE {LOG} SET seq = %s WHERE id = %s", [first.seq, second.id])
        cur.execute(f"UPDATE {LOG} SET seq = %s WHERE id = %s", [second.seq, first.id])
    problem = chain.verify().problem
    assert problem.code in {"row_altered", "link_broken"} and problem.seq == first.seq and problem.id == second.id


# --- checkpoints and export -----------------------------------------------------------------------


def test_checkpoint_and_export_can_be_checked_by_an_outside_party(actor, tmp_path):
    _events(actor, 3)
    out = io.StringIO()
    call_command("audit", "checkpoint", stdout=out)
    cp = Checkpoint.objects.get()
    assert f"seq {cp.seq}" in out.getvalue()
    assert AccessLog.objects.get(seq=cp.seq).function == "batch.audit_checkpoint"  # the run covers its own row
    target = tmp_path / "checkpoints.json"
    call_command("audit", "export-checkpoints", "--out", str(target), stdout=io.StringIO(), stderr=io.StringIO())
    data = json.loads(target.read_text(encoding="utf-8"))
    assert AccessLog.objects.filter(function="export.audit_checkpoints").count() == 1
    (exported,) = data["checkpoints"]
    assert exported["seq"] == cp.seq and exported["row_hash"] == cp.row_hash
    # What an outside party does with the file alone: check the signature with the public key.
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(data["public_key"]))
    signed = data["message"].format(**exported).encode()
    public.verify(base64.b64decode(exported["signature"]), signed)  # raises if wrong
    assert data["key_id"] == exported["key_id"] == chain.key_id(public)
    assert "検証に成功しました" in _verify("--checkpoints", str(target))
    # Deleting the newest rows together with the checkpoints in the database is caught by the copy.
    with attacker(LOG, SUBJECT, CHECKPOINT) as cur:
        cur.execute(f"DELETE FROM {CHECKPOINT}")
        cur.execute(f"DELETE FROM {SUBJECT} WHERE log_id IN (SELECT id FROM {LOG} WHERE seq >= %s)", [cp.seq - 1])
        cur.execute(f"DELETE FROM {LOG} WHERE seq >= %s", [cp.seq - 1])
        cur.execute("UPDATE audit_chainhead SET seq = %s", [cp.seq - 2])
    assert chain.verify().ok  # the database alone no longer shows it …
    assert "[truncated]" in _verify_fails("--checkpoints", str(target))  # … the exported copy does


def test_an_export_re_signed_with_another_key_is_not_trusted(actor):
    """Only keys from settings count: a rewritten file cannot bring its own key along."""
    _events(actor, 3)
    cp = checkpoints.checkpoint()
    data = checkpoints.export_checkpoints()
    # The attacker deletes the newest rows and the checkpoints, then re-signs the copy at the new
    # head with a key of their own, listed in the file's "public_keys".
    with attacker(LOG, SUBJECT, CHECKPOINT) as cur:
        cur.execute(f"DELETE FROM {CHECKPOINT}")
        cur.execute(f"DELETE FROM {SUBJECT} WHERE log_id IN (SELECT id FROM {LOG} WHERE seq >= %s)", [cp.seq - 1])
        cur.execute(f"DELETE FROM {LOG} WHERE seq >= %s", [cp.seq - 1])
        cur.execute("UPDATE audit_chainhead SET seq = %s", [cp.seq - 2])
    head = AccessLog.objects.get(seq=cp.seq - 2)
    other = Ed25519PrivateKey.generate()
    at = timezone.now()
    kid = chain.key_id(other.public_key())
    signature = other.sign(chain.message(kind="periodic", seq=head.seq, row_hash=head.row_hash, at=at))
    forged = dict(data, key_id=kid, public_key=base64.b64encode(chain.public_raw(other.public_key())).decode(),
                  public_keys={kid: base64.b64encode(chain.public_raw(other.public_key())).decode()},
                  checkpoints=[{"id": 1, "seq": head.seq, "row_hash": head.row_hash, "at": chain.timestamp(at),
                                "kind": "periodic", "key_id": kid, "signature": base64.b64encode(signature).decode()}])
    assert chain.verify().ok  # the database alone no longer shows the deletion …
    problem = chain.verify(exported=json.loads(json.dumps(forged))).problem
    assert problem is not None and problem.code == "checkpoint_key_unknown"  # … and the forged copy is refused
    assert chain.verify(exported=json.loads(json.dumps(data))).problem.code == "truncated"  # the true copy shows it


def test_checkpoint_refuses_without_a_key(actor, settings):
    settings.JUKI_AUDIT_SIGNING_KEY = ""
    with pytest.raises(CommandError, match="JUKI_AUDIT_SIGNING_KEY"):
        call_command("audit", "checkpoint", stdout=io.StringIO())
    assert not AccessLog.objects.filter(function="batch.audit_checkpoint").exists()


def test_signing_key_can_be_a_file(actor, settings, tmp_path):
    path = tmp_path / "audit-signing.key"
    path.write_text(settings.JUKI_AUDIT_SIGNING_KEY + "\n")
    before = chain.key_id(chain.signing_key().public_key())
    settings.JUKI_AUDIT_SIGNING_KEY = str(path)
    assert checkpoints.checkpoint().key_id == before


# --- retention ------------------------------------------------------------------------------------


def _at(moment, monkeypatch, fn):
    monkeypatch.setattr(timezone, "now", lambda: moment)
    try:
        return fn()
    finally:
        monkeypatch.undo()


def test_purge_removes_an_old_prefix_but_keeps_provision_rows_for_seven_years(db, settings, monkeypatch):
    actor = TEST_ACTOR  # no fixture rows written today ahead of the old ones
    settings.JUKI_AUDIT_RETENTION_YEARS = 1
    now = timezone.now()

    def years(n):
        return now - dt.timedelta(days=366 * n)

    old = _at(years(9), monkeypatch, lambda: _events(actor, 2) + _events(actor, 1, category="provision"))
    provision = _at(years(3), monkeypatch, lambda: _events(actor, 1, category="provision"))[0]  # 3 years: kept
    after = _at(years(2), monkeypatch, lambda: _events(actor, 1))[0]  # past 1 year, but after a kept row
    _events(actor, 1)
    total = AccessLog.objects.count()

    out = io.StringIO()
    call_command("audit", "purge", "--dry-run", stdout=out)
    assert f"seq {old[0].seq}–{old[-1].seq}、記録 3 件" in out.getvalue() and "削除していません" in out.getvalue()
    assert AccessLog.objects.count() == total

    out = io.StringIO()
    call_command("audit", "purge", "--execute", stdout=out)
    assert "削除しました" in out.getvalue()
    remaining = set(AccessLog.objects.values_list("id", flat=True))
    assert not remaining & {r.id for r in old}
    assert {provision.id, after.id} <= remaining
    assert not AccessLogSubject.objects.filter(log_id__in=[r.id for r in old]).exists()
    anchor = Checkpoint.objects.get(kind=Checkpoint.PURGE)
    assert (anchor.seq, anchor.row_hash) == (old[-1].seq, old[-1].row_hash)
    log = AccessLog.objects.get(function="batch.audit_purge")
    assert log.category == "batch" and log.criteria["through_seq"] == old[-1].seq and log.criteria["rows"] == 3
    result = chain.verify()
    assert result.ok and result.first_seq == provision.seq
    assert "検証に成功しました" in _verify()

    # Deleting the kept provision row (the new first row) is not a purge: verify names it.
    with attacker(LOG, SUBJECT) as cur:
        cur.execute(f"DELETE FROM {SUBJECT} WHERE log_id = %s", [provision.id])
        cur.execute(f"DELETE FROM {LOG} WHERE id = %s", [provision.id])
    problem = chain.verify().problem
    assert (problem.code, problem.seq, problem.id) == ("head_missing", after.seq, after.id)


def test_purge_of_everything_old_still_verifies(db, settings, monkeypatch):
    actor = TEST_ACTOR
    settings.JUKI_AUDIT_RETENTION_YEARS = 7
    _at(timezone.now() - dt.timedelta(days=366 * 8), monkeypatch, lambda: _events(actor, 3))
    checkpoints.purge(execute=True)
    assert list(AccessLog.objects.values_list("function", flat=True)) == ["batch.audit_purge"]
    assert chain.verify().ok
    assert checkpoints.purge(execute=True).through_seq is None  # nothing left to remove
    assert chain.verify().ok


def test_purge_refuses_a_provision_retention_under_seven_years(actor, settings):
    settings.JUKI_AUDIT_PROVISION_RETENTION_YEARS = 5
    with pytest.raises(CommandError, match="improperly_configured"):
        call_command("audit", "purge", "--dry-run", stdout=io.StringIO())


def test_purge_refuses_a_broken_chain(db, settings, monkeypatch):
    actor = TEST_ACTOR
    settings.JUKI_AUDIT_RETENTION_YEARS = 1
    old = _at(timezone.now() - dt.timedelta(days=800), monkeypatch, lambda: _events(actor, 3))
    with attacker(LOG) as cur:
        cur.execute(f"UPDATE {LOG} SET outcome = 'x' WHERE id = %s", [old[1].id])
    count = AccessLog.objects.count()
    with pytest.raises(CommandError) as err:
        call_command("audit", "purge", "--execute", stdout=io.StringIO())
    assert err.value.returncode == 1 and "[row_altered]" in str(err.value)
    assert AccessLog.objects.count() == count  # the evidence stays


def test_incremental_verify_walks_from_the_newest_checkpoint_and_still_catches_what_follows(actor):
    _events(actor, 5)
    checkpoints.checkpoint()
    later = _events(actor, 3)
    full, since = chain.verify(), chain.verify(incremental=True)
    assert full.ok and since.ok and since.rows < full.rows
    cp = Checkpoint.objects.order_by("-seq").first()
    assert (since.from_checkpoint, since.first_seq, since.last_seq) == (cp.seq, cp.seq, full.last_seq)
    assert "差分検証: 署名済みチェックポイント seq" in _verify("--incremental")

    # After the checkpoint: an edited row is named by the incremental walk too.
    with attacker(LOG) as cur:
        cur.execute(f"UPDATE {LOG} SET outcome = 'x' WHERE id = %s", [later[1].id])
    problem = chain.verify(incremental=True).problem
    assert (problem.code, problem.id) == ("row_altered", later[1].id)
    assert "[row_altered]" in _verify_fails("--incremental")


def test_incremental_verify_leaves_rows_before_the_checkpoint_to_the_full_walk(actor):
    first = _events(actor, 4)
    checkpoints.checkpoint()
    with attacker(LOG) as cur:
        cur.execute(f"UPDATE {LOG} SET outcome = 'x' WHERE id = %s", [first[1].id])
    assert chain.verify(incremental=True).ok  # documented: the weekly full walk finds this one
    assert chain.verify().problem.code == "row_altered"


def test_incremental_verify_after_a_purge_starts_after_the_anchor(db, settings, monkeypatch):
    settings.JUKI_AUDIT_RETENTION_YEARS = 1
    _at(timezone.now() - dt.timedelta(days=800), monkeypatch, lambda: _events(TEST_ACTOR, 3))
    checkpoints.checkpoint()  # signed before the purge, at a row the purge keeps
    checkpoints.purge(execute=True)
    _events(TEST_ACTOR, 2)
    result = chain.verify(incremental=True)
    assert result.ok and result.from_checkpoint == Checkpoint.objects.filter(kind="periodic").latest("id").seq
