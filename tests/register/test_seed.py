import datetime as dt
from collections import Counter

import pytest

from juki.audit import gate
from juki.accounts.permissions import Perm
from juki.core.checkdigits import is_valid_my_number, is_valid_resident_code
from juki.core import mynumber
from juki.register import selectors
from juki.register.models import Household, Person, PersonVersion, Town
from juki.register.services.seed import CityGenerator, my_number_for, resident_code_for, seed_city

from ..conftest import move_in_family
from .helpers import TEST

REF = dt.date(2026, 11, 1)


def _rows(seed):
    towns = list(Town.objects.order_by("code"))
    gen = CityGenerator(seed=seed, today=REF, towns=towns, start_ids={
        "person": 0, "version": 0, "household": 0, "change": 0, "atena_serial": 0, "household_serial": 0,
        "person_index": 0})
    for _ in range(200):
        gen.household()
    cols, rows = gen.sink.rows["register_personversion"]
    skip = {cols.index("my_number_cipher")}  # random nonce per encryption
    return [tuple(v for i, v in enumerate(r) if i not in skip) for r in rows]


def test_same_seed_same_city_other_seed_other_city(towns):
    assert _rows(7) == _rows(7)
    assert _rows(7) != _rows(8)


def test_identifier_generators_are_valid_and_unique():
    numbers = [my_number_for(i, 3) for i in range(20000)]
    codes = [resident_code_for(i, 3) for i in range(20000)]
    assert all(map(is_valid_my_number, numbers)) and len(set(numbers)) == 20000
    assert all(map(is_valid_resident_code, codes)) and len(set(codes)) == 20000


def test_seeded_city_is_realistic(towns):
    summary = seed_city(persons=3000, seed=5, today=REF)
    assert summary.persons >= 3000
    with gate.open(TEST, function="test.read", perm=Perm.PERSON_VIEW):
        versions = list(PersonVersion.objects.filter(person__current_id=models_f("id")).select_related("person"))
        assert len(versions) == summary.persons
        digests = [v.my_number_digest for v in versions]
        assert len(set(digests)) == len(digests)
        sample = versions[:50]
        assert all(is_valid_my_number(mynumber.unseal(v.my_number_key_id, v.my_number_cipher)) for v in sample)
        codes = [v.resident_code for v in versions]
        assert len(set(codes)) == len(codes) and all(map(is_valid_resident_code, codes))
        removed = [v for v in versions if v.status == "removed"]
        foreign = [v for v in versions if v.resident_kind == "F"]
        assert 0.01 < len(removed) / len(versions) < 0.08
        assert 0.005 < len(foreign) / len(versions) < 0.04
        assert all(v.residence_card_number and v.nationality for v in foreign)
        assert PersonVersion.objects.filter(seq=2, reason="move_within_city").count() > 200
        sizes = Counter(Person.objects.filter(status="resident").values_list("household_id", flat=True)).values()
        assert 2.0 < sum(sizes) / len(sizes) < 2.8  # persons per household, as in the census
        ages = [(REF - v.birth_date).days // 365 for v in versions if v.status == "resident"]
        assert min(ages) == 0 and max(ages) > 90
        assert sum(1 for a in ages if a >= 65) / len(ages) > 0.2
        assert Counter(v.sex for v in versions)[2] / len(versions) > 0.4
        name = versions[0]
        assert name.family_name and name.family_name_kana.isprintable()
        assert Household.objects.count() == summary.households
    one = selectors.household_get(actor=TEST, household_id=versions[0].household_id)
    assert one["members"][0]["relationship"] == "世帯主"


def models_f(name):
    from django.db.models import F

    return F(name)


@pytest.mark.parametrize("bulk", [False, True], ids=["chunked", "bulk"])
def test_seeded_keys_are_the_keys_the_writer_would_have_written(towns, bulk):
    """The seeder writes search keys in bulk; they must be exactly the writer's, so a seeded
    city (the demo, the 1 M benchmark) is searchable like a city built change by change."""
    from juki.register.models import SearchKey
    from juki.register.services import search
    from juki.register.services.writer import version_data

    seed_city(persons=300, seed=5, today=REF, chunk=100, bulk=bulk)
    with gate.open(TEST, function="test.read", perm=Perm.PERSON_VIEW):
        stored = Counter((k.person_id, search.signature(vars(k))) for k in SearchKey.objects.all())
        expected = Counter()
        previous = {}
        for v in PersonVersion.objects.select_related("person").order_by("person_id", "seq"):
            data = version_data(v)
            before = previous.get(v.person_id)
            old = {search.signature(r) for r in search.key_rows(before)} if before else set()
            for row in search.key_rows(data):
                if search.signature(row) not in old:
                    expected[(v.person_id, search.signature(row))] += 1
            previous[v.person_id] = data
    assert stored and stored == expected
    # And a seeded resident is found by 4 information.
    with gate.open(TEST, function="test.read", perm=Perm.PERSON_VIEW):
        v = Person.objects.select_related("current").filter(status="resident").order_by("id").first().current
    found = search.person_search(actor=TEST, criteria=search.Criteria(
        kana=v.family_name_kana + v.given_name_kana, birth_date=v.birth_date))
    assert v.person_id in {r["person_id"] for r in found.rows}


class _Stopped(Exception):
    pass


def _stop_after(persons):
    def progress(done):
        if done >= persons:
            raise _Stopped()
    return progress


def test_a_seed_stopped_part_way_leaves_a_working_register_that_can_be_resumed(towns, actor):
    """Issue 11: a seed killed after some chunks left sequences behind the rows (every later
    異動 a 500 on a duplicate 宛名番号) and no 住民票コード stock. Chunks now commit with their
    sequences, the stock comes first, and --resume makes the rest."""
    from juki.register.models import NumberSequence
    from juki.register.services import numbers


    with pytest.raises(_Stopped):
        seed_city(persons=900, seed=11, today=REF, chunk=300, progress=_stop_after(300))
    with gate.open(TEST, function="test.read", perm=Perm.PERSON_VIEW):
        seeded = Person.objects.count()
        top = max(int(n[:-1]) for n in Person.objects.values_list("atena_number", flat=True))
    assert 300 <= seeded < 900
    assert NumberSequence.objects.get(name=numbers.ATENA).next_value == top + 1

    result = move_in_family(actor)  # a change after the stop takes the next free numbers
    assert len(result.persons) == 3

    summary = seed_city(persons=900, seed=11, today=REF, chunk=300, resume=True)
    with gate.open(TEST, function="test.read", perm=Perm.PERSON_VIEW):
        total = Person.objects.count()
        atena = list(Person.objects.values_list("atena_number", flat=True))
        current = PersonVersion.objects.filter(person__current_id=models_f("id")).count()
    assert summary.persons >= 900 - seeded - 3  # whole households: it may pass the total by a few
    assert 900 <= total < 910 and len(set(atena)) == total and current == total
    assert len(move_in_family(actor, confirmed_new_person=True).persons) == 3  # and after the resumed run


def test_a_register_left_by_an_old_stopped_seed_continues_past_its_numbers(towns, actor):
    """A register whose sequence fell behind its numbers (left by a seed stopped before this fix)
    is repaired by the next seed: it starts after the highest 宛名番号 and 世帯番号 in use."""
    from juki.register.models import NumberSequence

    seed_city(persons=200, seed=12, today=REF, chunk=100)
    NumberSequence.objects.all().delete()  # as the old seed left it: rows written, sequences not
    seed_city(persons=100, seed=13, today=REF)
    with gate.open(TEST, function="test.read", perm=Perm.PERSON_VIEW):
        atena = list(Person.objects.values_list("atena_number", flat=True))
        households = list(Household.objects.values_list("number", flat=True))
    assert len(set(atena)) == len(atena) and len(set(households)) == len(households)
    assert len(move_in_family(actor).persons) == 3


def test_demo_setup_continues_a_stopped_city_and_anchors_the_audit_log(db):
    """demo_setup after a stop tops the city up instead of saying it exists; it signs a checkpoint
    so that `juki audit verify` passes on the demo from the start (scripts/demo signs more)."""
    import io

    from django.core.management import call_command

    from juki.audit import chain
    from juki.audit.models import Checkpoint

    call_command("demo_setup", persons=150, stdout=io.StringIO())
    out = io.StringIO()
    call_command("demo_setup", persons=400, stdout=out)
    assert "続きを作成しました" in out.getvalue()
    with gate.open(TEST, function="test.read", perm=Perm.PERSON_VIEW):
        assert 400 <= Person.objects.count() < 410
    assert Checkpoint.objects.count() == 2
    verify = io.StringIO()
    call_command("audit", "verify", stdout=verify)
    assert "検証に成功しました" in verify.getvalue()
    assert chain.verify().unanchored is None


def _schema():
    """Indexes and constraints of the tables the seed fills, as the database describes them."""
    from django.db import connection

    tables = ["register_household", "register_change", "register_person", "register_personversion",
              "register_searchkey"]
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SELECT tablename, indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s)", [tables])
            indexes = set(cur.fetchall())
            cur.execute("""SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid), convalidated,
                                  condeferrable, condeferred, conindid::regclass::text
                           FROM pg_constraint WHERE conrelid = ANY(%s::regclass[])""", [tables])
            return indexes, set(cur.fetchall())
        cur.execute("SELECT tbl_name, name, sql FROM sqlite_master WHERE type IN ('index', 'table')"
                    " AND tbl_name IN (%s)" % ", ".join("%s" for _ in tables), tables)
        return set(cur.fetchall()), None


def test_a_bulk_seed_leaves_the_indexes_and_constraints_a_migrate_made(towns, actor):
    """Issue 19: the bulk load drops indexes and constraints and builds them again afterwards;
    the register must end with exactly the set the migrations made (names and definitions)."""
    migrated = _schema()
    summary = seed_city(persons=400, seed=3, today=REF, chunk=150, bulk=True, parallel=True)
    assert _schema() == migrated
    with gate.open(TEST, function="test.read", perm=Perm.PERSON_VIEW):
        assert Person.objects.count() == summary.persons
        assert PersonVersion.objects.filter(person__current_id=models_f("id")).count() == summary.persons
    assert len(move_in_family(actor).persons) == 3  # and the register takes changes after it


def test_a_bulk_seed_stopped_part_way_leaves_the_register_as_it_was(towns):
    migrated = _schema()
    with pytest.raises(_Stopped):
        seed_city(persons=600, seed=3, today=REF, chunk=200, bulk=True, progress=_stop_after(200))
    assert _schema() == migrated
    with gate.open(TEST, function="test.read", perm=Perm.PERSON_VIEW):
        assert not Person.objects.exists() and not PersonVersion.objects.exists()


def _payloads(parallel):
    from juki.register.services.seed import _produced

    towns = list(Town.objects.order_by("code"))
    gen = CityGenerator(seed=9, today=REF, towns=towns, start_ids={
        "person": 0, "version": 0, "household": 0, "change": 0, "atena_serial": 0, "household_serial": 0,
        "person_index": 0})
    out = []
    for payload, ids, counts, done in _produced(gen, 700, 200, "sqlite", parallel):
        for table, columns, rows in payload:
            # Not drawn: the nonce of each encryption and the time the seed ran.
            skip = {columns.index(c) for c in ("my_number_cipher", "created_at") if c in columns}
            out.append((table, [tuple(v for i, v in enumerate(r) if i not in skip) for r in rows]))
        out.append((ids, counts, done))
    return out


def test_the_worker_process_draws_the_same_city(towns):
    assert _payloads(parallel=True) == _payloads(parallel=False)
