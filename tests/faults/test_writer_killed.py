"""kill -9 of a process making changes (issue 18, fault 1).

A clerk's process (tests/faults/writer.py) records changes in a loop through the services, printing each
change's id once it is acknowledged, while the chainer (`juki audit chain --follow`) links the access log
as it does in production. Both are killed with SIGKILL at random moments. Then: every acknowledged change
is in the register with its versions, its outbox event and its access-log row; no change exists without
all three; the chain links and verifies.
"""
from __future__ import annotations

import json
import random
import time
from collections import Counter

from .conftest import kill9


def _acknowledged(proc) -> list[int]:
    """The ids the writer printed before it died: whole lines only."""
    out = proc.stdout.read()
    return [int(line) for line in out.split("\n")[:-1] if line.strip()] if out else []


def test_changes_killed_mid_write_are_whole_or_absent_and_the_chain_verifies(register):
    seed = random.randrange(10**6)
    rng = random.Random(seed)
    print(f"random seed {seed}")
    before = register.one("SELECT COALESCE(MAX(id), 0) FROM register_change")
    logs_before = register.one("SELECT COUNT(*) FROM audit_accesslog")

    chainer = register.start_juki("audit", "chain", "--follow", "--interval", "0.05")
    writer = register.start_writer("--count", "0")
    # Killed at a random moment once it is writing: after its first acknowledged change, 0.2–2 s on.
    first = writer.stdout.readline()
    assert first.strip().isdigit(), f"the writer did not start: {first!r}"
    time.sleep(rng.uniform(0.2, 2.0))
    order = [writer, chainer] if rng.random() < 0.5 else [chainer, writer]
    for proc in order:
        kill9(proc)
        time.sleep(rng.uniform(0, 0.1))
    acked = [int(first), *_acknowledged(writer)]
    assert writer.returncode == -9 and chainer.returncode == -9  # killed, not ended by themselves
    register.settle()

    changes = [r[0] for r in register.rows("SELECT id FROM register_change WHERE id > %s ORDER BY id", (before,))]
    # Every acknowledged change committed; at most one more committed whose id was not printed yet.
    assert set(acked) <= set(changes) and len(acked) == len(set(acked))
    assert len(changes) - len(acked) in (0, 1), (len(changes), len(acked))
    assert len(acked) >= 2

    # Each change is whole: ≥1 version, exactly one outbox event naming exactly those versions, and
    # exactly one access-log row (its function, outcome ok, naming the change).
    versions = Counter(r[0] for r in register.rows(
        "SELECT change_id FROM register_personversion WHERE change_id > %s", (before,)))
    events = {}
    for change_id, payload in register.rows("SELECT change_id, payload FROM register_outboxevent WHERE change_id > %s",
                                            (before,)):
        assert change_id not in events, f"two outbox events for change {change_id}"
        events[change_id] = json.loads(payload) if isinstance(payload, str) else payload
    logged = Counter()
    for function, outcome, criteria in register.rows(
            "SELECT function, outcome, criteria FROM audit_accesslog WHERE id > %s AND function LIKE 'change.%%'",
            (register.one("SELECT COALESCE(MAX(id), 0) FROM audit_accesslog WHERE function = 'batch.seed'"),)):
        criteria = json.loads(criteria) if isinstance(criteria, str) else criteria
        assert outcome == "ok", (function, outcome)
        logged[criteria["change_id"]] += 1
    assert set(versions) == set(events) == set(logged) == set(changes)
    for change_id in changes:
        assert versions[change_id] >= 1 and logged[change_id] == 1
        assert len(events[change_id]["persons"]) == versions[change_id]
        assert events[change_id]["change_id"] == change_id
    # The persons' heads point at their newest version: no version without its head moved, or the reverse.
    assert register.rows(
        "SELECT p.id FROM register_person p JOIN register_personversion v ON v.id = p.current_id "
        "WHERE v.seq <> p.latest_seq OR v.person_id <> p.id "
        "OR p.latest_seq <> (SELECT MAX(seq) FROM register_personversion w WHERE w.person_id = p.id)") == []
    # No access-log row other than the changes' was written by the writer (it reads nothing else).
    assert register.one("SELECT COUNT(*) FROM audit_accesslog") == logs_before + len(changes)

    # The chain: whatever the chainer had linked when it died, the next run links the rest, and
    # verify (which needs a signed checkpoint to anchor it) passes over every row.
    register.juki("audit", "chain")
    assert register.one("SELECT COUNT(*) FROM audit_accesslog WHERE seq IS NULL") == 0
    total = register.one("SELECT COUNT(*) FROM audit_accesslog")
    assert register.one("SELECT MAX(seq) FROM audit_accesslog") == total  # gapless 1..N
    unanchored = register.juki("audit", "verify", check=False)  # no checkpoint yet: an intact chain proves nothing
    assert unanchored.returncode == 1 and "監査ログの検証に失敗しました" in unanchored.stderr, unanchored.stderr
    register.juki("audit", "checkpoint")  # logs itself: one row more, linked by verify
    verified = register.juki("audit", "verify").stdout
    total = register.one("SELECT COUNT(*) FROM audit_accesslog")
    assert "監査ログの検証に成功しました" in verified and f"記録 {total} 件（seq 1–{total}）" in verified, verified
    print(f"{len(acked)} changes acknowledged, {len(changes)} committed, {total} log rows verified")

