"""kill -9 of `juki seed` mid-run, then `juki seed --resume` (issue 18, fault 3).

A chunked seed (its default below 100,000 persons) commits whole households chunk by chunk, with the
宛名番号・世帯番号 sequences that cover them. Killed with SIGKILL at a random moment after its first chunk
(it and its forked drawing worker), it leaves whole chunks; `--resume` makes exactly what is missing.
Then: the register holds the asked number (a seed makes whole households, so at most the last
household's size over it), every person has a current version that is its newest, every household
created has residents and exactly one 世帯主, no number is used twice, and a 異動 afterwards takes fresh
numbers.
"""
from __future__ import annotations

import json
import random
import time

from .conftest import PERSONS, kill9, until

MORE = 10_000
CHUNK = 500


def test_seed_killed_mid_run_resumes_to_the_asked_number_with_whole_households(register):
    seed = random.randrange(10**6)
    rng = random.Random(seed)
    print(f"random seed {seed}")
    base = register.one("SELECT COUNT(*) FROM register_person")
    base_household = register.one("SELECT MAX(id) FROM register_household")
    events = register.one("SELECT COUNT(*) FROM register_outboxevent")
    target = base + MORE

    proc = register.start_juki("seed", "--persons", MORE, "--chunk", CHUNK, "--seed", "2", "--no-progress")
    until(lambda: register.one("SELECT COUNT(*) FROM register_person") > base or proc.poll() is not None,
          timeout=60, what="the seed's first chunk")
    time.sleep(rng.uniform(0, 0.6))
    assert proc.poll() is None, "the seed ended before it was killed: make it larger"
    kill9(proc)
    assert proc.returncode == -9
    register.settle()
    left = register.one("SELECT COUNT(*) FROM register_person")
    assert base < left < target, (base, left, target)

    done = register.juki("seed", "--resume", "--persons", target, "--chunk", CHUNK, "--seed", "2", "--no-progress")
    persons = register.one("SELECT COUNT(*) FROM register_person")
    last_household = register.one("SELECT COUNT(*) FROM register_person WHERE household_id = "
                                  "(SELECT MAX(id) FROM register_household)")
    assert target <= persons < target + last_household, (target, persons, last_household)
    assert f"住民 {persons - left:,} 人" in done.stdout, done.stdout

    # Every person: its head points at its newest version, of the same person, household and status;
    # its versions are 1…latest_seq with none missing or extra; it has search keys.
    assert register.one(
        "SELECT COUNT(*) FROM register_person p LEFT JOIN register_personversion v ON v.id = p.current_id "
        "WHERE v.id IS NULL OR v.person_id <> p.id OR v.seq <> p.latest_seq OR v.household_id <> p.household_id "
        "OR v.status <> p.status") == 0
    assert register.one("SELECT COUNT(*) FROM register_personversion") == register.one(
        "SELECT SUM(latest_seq) FROM register_person")
    assert register.rows(
        "SELECT person_id FROM register_personversion GROUP BY person_id "
        "HAVING COUNT(*) <> MAX(seq) OR MIN(seq) <> 1") == []
    assert register.one("SELECT COUNT(*) FROM register_personversion v WHERE NOT EXISTS "
                        "(SELECT 1 FROM register_person p WHERE p.id = v.person_id)") == 0
    assert register.one("SELECT COUNT(*) FROM register_person p WHERE NOT EXISTS "
                        "(SELECT 1 FROM register_searchkey k WHERE k.person_id = p.id)") == 0
    # Every household made: residents, exactly one 世帯主 among them, and no household without persons.
    households = register.rows(
        "SELECT h.id, SUM(CASE WHEN p.status = 'resident' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN p.status = 'resident' AND v.relationship = '世帯主' THEN 1 ELSE 0 END) "
        "FROM register_household h LEFT JOIN register_person p ON p.household_id = h.id "
        "LEFT JOIN register_personversion v ON v.id = p.current_id WHERE h.id > %s GROUP BY h.id", (base_household,))
    assert len(households) == register.one("SELECT COUNT(*) FROM register_household WHERE id > %s", (base_household,))
    assert all(residents and residents >= 1 and heads == 1 for _, residents, heads in households), \
        [h for h in households if not (h[1] and h[2] == 1)][:5]
    # No number twice.
    assert register.one("SELECT COUNT(DISTINCT atena_number) FROM register_person") == persons
    assert register.one("SELECT COUNT(DISTINCT number) FROM register_household") == register.one(
        "SELECT COUNT(*) FROM register_household")
    # A seed writes no outbox events (移行データ) and logs each run that ended: the killed run's row is
    # never written (the gate logs when the batch ends), the resumed run's is.
    assert register.one("SELECT COUNT(*) FROM register_outboxevent") == events
    seeds = [json.loads(c) if isinstance(c, str) else c for c, in register.rows(
        "SELECT criteria FROM audit_accesslog WHERE function = 'batch.seed' ORDER BY id")]
    assert [(c["persons"], c["resume"]) for c in seeds] == [(PERSONS, False), (target, True)]  # the template's, the resume's

    # The register works on: a 転入 takes the next free 宛名番号 and 世帯番号 (the sequences were saved
    # with each chunk), then a few changes.
    writer = register.start_writer("--count", "4", "--move-in")
    out, _ = writer.communicate(timeout=120)
    assert writer.returncode == 0, register.log_of("writer")[-3000:]
    assert len(out.split()) == 4
    assert register.one("SELECT COUNT(*) FROM register_person") == persons + 1
    assert register.one("SELECT COUNT(DISTINCT atena_number) FROM register_person") == persons + 1
    print(f"killed with {left - base} of {MORE} made; resumed to {persons} (asked {target})")
