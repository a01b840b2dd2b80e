"""kill -9 of an outbox consumer mid-delivery (issue 18, fault 2).

The 庁内連携's consumer for 税制課 (`juki linkage run --only tax`, a 随時 destination: signed JSON over
mutual TLS to its receiving service, `python -m juki.linkage.receiver`, a process of its own) runs while a
clerk's process records changes; it is killed with SIGKILL again and again at random moments while it is
working — in its initial full, between a delivery's commit and its POST, between the POST and marking it
sent — and restarted. Afterwards the receiving service holds every event exactly once: its deliveries
are numbered 1…n without a gap, their outbox positions follow each other, every change after the initial
full's position arrives once per person it wrote, and none before it (the full carries those).
"""
from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import sys
import time
from collections import Counter

from juki.linkage import signing

from .conftest import kill9, stop, until

CODE = "tax"


def _received(store) -> list[dict]:
    if not store.exists():
        return []
    with sqlite3.connect(store, timeout=30) as db:
        rows = db.execute("SELECT sequence, kind, payload FROM deliveries ORDER BY sequence").fetchall()
    db.close()
    return [{"sequence": s, "kind": k, "payload": json.loads(p)} for s, k, p in rows]


def _stopped(pid: int) -> bool:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0] == "T"


def test_the_consumer_killed_again_and_again_delivers_every_event_exactly_once(register):
    seed = random.randrange(10**6)
    rng = random.Random(seed)
    print(f"random seed {seed}")
    linkage = register.var / "linkage"
    pem = linkage / "signing.pub.pem"
    pem.write_text(signing.public_pem(signing.load_or_create(linkage / "signing.key")))
    store = register.var.parent / "receivers" / f"{CODE}.sqlite3"
    port_file = linkage / "receivers" / f"{CODE}.port"
    port_file.parent.mkdir(exist_ok=True)
    receiver = register.start([sys.executable, "-m", "juki.linkage.receiver", "--destination", CODE,
                               "--pki", linkage / "pki", "--store", store, "--sender-key", pem,
                               "--sender", "juki-401005", "--port-file", port_file], stdout=None, log="receiver")
    until(lambda: port_file.exists() or receiver.poll() is not None, timeout=30, what="the receiving service")
    assert receiver.poll() is None, register.log_of("receiver")

    writer = register.start_writer("--count", "0", "--pause", "0.01")
    until(lambda: writer.stdout.readline().strip().isdigit(), timeout=30, what="the writer's first change")

    def deliveries() -> int:
        return register.one("SELECT COUNT(*) FROM linkage_delivery WHERE destination = %s", (CODE,))

    def pending() -> list[int]:
        return [r[0] for r in register.rows("SELECT sequence FROM linkage_delivery WHERE destination = %s "
                                            "AND state = 'pending'", (CODE,))]

    def stored() -> int:
        return max((d["sequence"] for d in _received(store)), default=0)

    # Where each kill lands. Two windows are looked for, by stopping the consumer (SIGSTOP) at random
    # moments until it is caught inside one: a delivery committed but not yet posted, and one posted
    # and stored by the receiver but not yet marked sent (the restarted consumer sends it again and the
    # receiver answers "duplicate"). The other kills land at random moments while it works.
    windows = {"committed, not sent": lambda: any(s > stored() for s in pending()),
               "stored, not marked sent": lambda: any(s <= stored() for s in pending())}
    plan = [*windows, "random", "random"]
    rng.shuffle(plan)
    landed = []
    for where in plan:
        consumer = register.start_juki("linkage", "run", "--only", CODE, "--interval", "0.05", stdout=None)
        made = deliveries()
        until(lambda: deliveries() > made or consumer.poll() is not None, timeout=30, what="a delivery")
        assert consumer.poll() is None, register.log_of("juki-linkage")
        if where == "random":
            time.sleep(rng.uniform(0, 0.4))
            landed.append(where)
        else:
            deadline = time.monotonic() + 8
            while time.monotonic() < deadline:
                os.kill(consumer.pid, signal.SIGSTOP)
                until(lambda: _stopped(consumer.pid), timeout=5, step=0.001, what="SIGSTOP")
                if windows[where]():
                    landed.append(where)
                    break
                os.kill(consumer.pid, signal.SIGCONT)
                time.sleep(rng.uniform(0.002, 0.03))
            else:
                landed.append(f"random (missed {where})")
        kill9(consumer)
    assert writer.poll() is None, register.log_of("writer")[-3000:]
    kill9(writer)  # the clerk stops (its last change committed or not: the outbox says which)
    register.settle()

    consumer = register.start_juki("linkage", "run", "--only", CODE, "--interval", "0.05", stdout=None)
    last = register.one("SELECT MAX(id) FROM register_outboxevent")

    def caught_up() -> bool:
        cursor = register.rows("SELECT position FROM register_outboxcursor WHERE consumer = %s", (CODE,))
        pending = register.one("SELECT COUNT(*) FROM linkage_delivery WHERE destination = %s AND state <> 'delivered'",
                               (CODE,))
        return bool(cursor) and cursor[0][0] == last and pending == 0

    until(caught_up, timeout=90, step=0.2, what="the consumer to catch up")
    stop(consumer)
    assert receiver.poll() is None

    received = _received(store)
    made = register.rows("SELECT sequence, kind, first_position, last_position, state FROM linkage_delivery "
                         "WHERE destination = %s ORDER BY sequence", (CODE,))
    # The receiving service kept each delivery once, in order, 1…n with no gap, exactly those made.
    assert [d["sequence"] for d in received] == list(range(1, len(received) + 1))
    assert [(s, k, f, la) for s, k, f, la, _ in made] == [
        (d["sequence"], d["kind"], *d["payload"]["positions"]) for d in received]
    assert {state for *_, state in made} == {"delivered"}
    assert len(received) >= 3

    # The initial full first: every resident once, at one position.
    fulls = [d for d in received if d["kind"] == "full"]
    assert fulls and fulls == received[:len(fulls)]
    full_at = fulls[0]["payload"]["positions"][0]
    full_records = [r for d in fulls for r in d["payload"]["records"]]
    atenas = [r["items"]["atena_number"] for r in full_records]
    assert len(atenas) == len(set(atenas)) == register.one(
        "SELECT COUNT(*) FROM register_person WHERE status = 'resident'")

    # Then the changes: positions follow each other, each event after the full's position exactly
    # once per person it wrote, none before it, none twice.
    changes = [d for d in received if d["kind"] == "change"]
    assert len(changes) == len(received) - len(fulls)
    previous = full_at
    for d in changes:
        first, last_position = d["payload"]["positions"]
        assert previous < first <= last_position, (previous, first, last_position)
        previous = last_position
    assert previous == last
    events = {position: json.loads(payload) if isinstance(payload, str) else payload
              for position, payload in register.rows(
                  "SELECT id, payload FROM register_outboxevent WHERE id > %s", (full_at,))}
    got = Counter((r["position"], r["change_id"], r["items"]["atena_number"])
                  for d in changes for r in d["payload"]["records"])
    want = Counter((position, e["change_id"], p["atena_number"]) for position, e in events.items()
                   for p in e["persons"])
    assert got == want  # every record exactly once: nothing lost, nothing doubled
    assert max(got.values()) == 1 and len(events) > 20
    print(f"kills: {landed}; {len(received)} deliveries ({len(fulls)} full), {len(events)} events after the full, "
          f"{sum(got.values())} records")
