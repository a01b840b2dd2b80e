"""`core.sql.Joined`, the hot reads' statements built once (issue 19): the instances it gives are
the ones `select_related` gives — every column, converted the same way, relations cached — on
SQLite and on PostgreSQL."""
import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from juki.accounts.models import ApiToken, Terminal
from juki.accounts.tokens import token_create
from juki.audit import gate
from juki.core import sql
from juki.protection.models import Restriction
from juki.register.models import Person, PersonVersion
from tests.conftest import move_in_family

_PATHS = ("person", "household", "town__ward__municipality")


def _values(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def test_a_version_with_its_relations_is_the_orms(world):
    ids = [p["id"] for p in move_in_family(world).persons]
    joined = sql.Joined(PersonVersion, *_PATHS, where="person.household_id = %s AND person.current_id = t.id",
                        order="t.person_id")
    with gate.open(world, function="test.read", perm="person.view"):
        household_id = Person.objects.get(pk=ids[0]).household_id
        orm = list(PersonVersion.objects.select_related(*_PATHS)
                   .filter(person__household_id=household_id, person__current_id=F("id")).order_by("person_id"))
        with CaptureQueriesContext(connection) as queries:
            got = joined.fetch([household_id])
            for v in got:  # every relation arrives with the row: no query to follow one
                assert v.town.ward.municipality.code == "401005" and v.person.atena_number and v.household.number
        assert len(queries) == 1
    assert [v.person_id for v in got] == sorted(ids)
    for a, b in zip(got, orm):
        # Dates, datetimes (aware), JSON and binary columns come back as the ORM's converters make them.
        assert _values(a) == _values(b)
        assert _values(a.person) == _values(b.person) and _values(a.household) == _values(b.household)
        assert _values(a.town.ward.municipality) == _values(b.town.ward.municipality)
        assert a._state.adding is False and a._state.db == "default"


def test_ids_expand_and_an_empty_list_reads_nothing(world):
    ids = [p["id"] for p in move_in_family(world).persons]
    joined = sql.Joined(Person, "current__town", where="t.id IN ({ids}) AND t.status = %s", lock=True)
    with gate.open(world, function="test.read", perm="person.view"), transaction.atomic():
        got = joined.fetch(["resident"], ids=ids[:2])
        assert sorted(p.id for p in got) == sorted(ids[:2])
        assert all(p.current.town.code for p in got)
        with CaptureQueriesContext(connection) as queries:
            assert joined.fetch(["resident"], ids=[]) == []
        assert len(queries) == 0
        sql_text = joined._built[connection.vendor][0]
        # Below the outer join to the (nullable) current version the 町字 is outer too, as the ORM
        # promotes it: a row re-checked after a lock wait is kept (test_concurrency's two clerks).
        assert 'LEFT OUTER JOIN "register_town" "current_town"' in sql_text
        # Rows locked as select_for_update(of=("self",)) locks them, where the database has row locks.
        assert sql_text.endswith(" FOR UPDATE OF t") == connection.features.has_select_for_update_of


def test_a_missing_reverse_one_to_one_is_cached_as_missing(world, clerk):
    call_command("kiosk_device", "add", "KIOSK-09", "--name", "9号機", "--location", "戸畑区役所")
    kiosk_terminal = Terminal.objects.get(kiosk_device__code="KIOSK-09")
    staff_terminal = Terminal.objects.get(code="T-01")
    joined = sql.Joined(Terminal, "ward", "kiosk_device", where="t.id IN ({ids})", order="t.id")
    with CaptureQueriesContext(connection) as queries:
        got = {t.pk: t for t in joined.fetch(ids=[kiosk_terminal.pk, staff_terminal.pk])}
        assert got[kiosk_terminal.pk].kiosk_device.code == "KIOSK-09"
        assert not hasattr(got[staff_terminal.pk], "kiosk_device")  # RelatedObjectDoesNotExist, no query
        assert got[staff_terminal.pk].ward is None
    assert len(queries) == 1


def test_the_token_read_compares_datetimes_as_the_orm_does(world, clerk):
    key, token = token_create(user=clerk, terminal=Terminal.objects.get(code="T-01"), second_factor=False)
    joined = sql.Joined(ApiToken, "user", "terminal", where="t.key_hash = %s AND t.expires_at > %s")
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    found = joined.first([ApiToken.hash_key(key), now])
    assert found.pk == token.pk and found.user.username == clerk.username and found.terminal.code == "T-01"
    assert found.expires_at == ApiToken.objects.get(pk=token.pk).expires_at and found.expires_at.tzinfo is not None
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timezone.timedelta(seconds=1))
    assert joined.first([ApiToken.hash_key(key), connection.ops.adapt_datetimefield_value(timezone.now())]) is None



def test_personal_data_is_not_read_outside_the_gate(world):
    """A guarded model (personal data) refuses outside the gate, as its ORM queries do; a master does not."""
    from juki.audit.gate import UngatedAccess
    from juki.core.errors import ErrorCode

    ids = [p["id"] for p in move_in_family(world).persons]
    joined = sql.Joined(Terminal, "ward", where="t.id IN ({ids})")
    assert [t.code for t in joined.fetch(ids=[Terminal.objects.get(code="T-01").pk])] == ["T-01"]
    with pytest.raises(UngatedAccess) as refused:
        sql.Joined(PersonVersion, where="t.person_id = %s").fetch([ids[0]])
    assert refused.value.code == ErrorCode.UNGATED_ACCESS
    with pytest.raises(UngatedAccess):  # a guarded model reached through a join
        sql.Joined(Restriction, "person", where="t.id = %s").fetch([1])
