"""Rotation of the 個人番号 key (issue 18, ADR 0002): `juki mynumber rekey` re-seals every stored number
under the active key, changes nothing else (the append-only history included), and afterwards the old
key can leave the setting with every number still readable."""
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from juki.audit import gate
from juki.audit.models import AccessLog
from juki.certificates import snapshot
from juki.certificates.models import CertificateSnapshot
from juki.core import append_only, mynumber, rekey
from juki.core.management.commands.mynumber import stores
from juki.register.services import changes
from tests.certificates.test_issue import family
from tests.certificates.test_move_out import issue, leave
from tests.conftest import days_ago
from tests.helpers import TEST_ACTOR
from tests.register.helpers import ref

pytestmark = pytest.mark.django_db
NUMBERS = ("123456789018", "234567890121")
VERSIONS = "register_personversion"


def _keys(spec: str) -> dict[str, str]:
    return dict(part.split(":", 1) for part in spec.split(","))


def _run(action: str) -> str:
    out = io.StringIO()
    call_command("mynumber", action, stdout=out)
    return out.getvalue()


def _versions() -> list[tuple]:
    """Every column of every version but the two a re-key may change."""
    with connection.cursor() as cur:
        cur.execute(f"SELECT * FROM {VERSIONS} ORDER BY id")
        names = [c[0] for c in cur.description]
        return [tuple(v for n, v in zip(names, row) if n not in append_only.REKEYABLE[VERSIONS]) for row in cur.fetchall()]


def _key_ids() -> set[str]:
    with connection.cursor() as cur:
        cur.execute(f"SELECT DISTINCT my_number_key_id FROM {VERSIONS} WHERE my_number_cipher IS NOT NULL")
        return {r[0] for r in cur.fetchall()}


@pytest.fixture
def keys(settings) -> dict[str, str]:
    """conf/test.py's two keys (t2 first, t1 after); the city's numbers written under t1 alone."""
    found = _keys(settings.JUKI_MYNUMBER_KEYS)
    settings.JUKI_MYNUMBER_KEYS = f"t1:{found['t1']}"
    return found


@pytest.fixture
def fam(world, keys) -> dict:
    fam = family(TEST_ACTOR)
    for pid, number in zip((fam["head"], fam["wife"]), NUMBERS):
        changes.my_number_record(actor=TEST_ACTOR, event_date=days_ago(0), person=ref(pid), my_number=number, kind="entry")
    return fam


def test_rekey_moves_every_number_to_the_active_key_and_the_old_key_can_then_go(fam, keys, settings):
    shot = issue(TEST_ACTOR, leave(TEST_ACTOR, fam)).issue  # a 転出証明書 keeps its control copy, numbers sealed
    before = _versions()
    assert _key_ids() == {"t1"}

    settings.JUKI_MYNUMBER_KEYS = f"t2:{keys['t2']},t1:{keys['t1']}"  # rotation: the new key first
    status = _run("status")
    assert "住民記録（履歴）: t1:" in status and "有効な鍵（t2）以外の鍵の暗号文が" in status

    out = _run("rekey")

    assert "住民記録（履歴）: " in out and "件を鍵 t2 で暗号化し直しました" in out
    assert "すべて有効な鍵（t2）で暗号化されています" in out
    assert _key_ids() == {"t2"} and _versions() == before  # nothing else changed, no row added
    counts = rekey.status(stores())
    assert set(counts[VERSIONS]) == {"t2"} and set(counts["certificates_certificatesnapshot"]) == {"t2"}
    log = AccessLog.objects.filter(function="batch.mynumber_rekey").latest("id")
    assert log.my_number_accessed and log.person_count == sum(log.criteria["rows"].values()) > 0
    assert "123456789018" not in str(log.criteria)

    # The old key leaves the setting: every number still opens, the certificate's control copy too.
    settings.JUKI_MYNUMBER_KEYS = f"t2:{keys['t2']}"
    with connection.cursor() as cur:
        cur.execute(f"SELECT my_number_key_id, my_number_cipher FROM {VERSIONS} WHERE my_number_cipher IS NOT NULL")
        opened = {mynumber.unseal(k, bytes(c)) for k, c in cur.fetchall()}
    assert opened == set(NUMBERS)
    with gate.open(TEST_ACTOR, function="test.read", perm="certificate.issue") as session:
        restored = snapshot.restore(session, CertificateSnapshot.objects.get(issue=shot))
    assert "1234 5678 9018" in json.dumps(restored, ensure_ascii=False)
    assert "住民記録（履歴）: 0 件を鍵 t2 で暗号化し直しました" in _run("rekey")  # a second run finds nothing to do


def test_the_history_stays_append_only_after_a_rekey(fam, keys, settings):
    settings.JUKI_MYNUMBER_KEYS = f"t2:{keys['t2']},t1:{keys['t1']}"
    _run("rekey")
    for statement in (f"UPDATE {VERSIONS} SET family_name = 'x'", f"UPDATE {VERSIONS} SET my_number_key_id = 't1'"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            connection.cursor().execute(statement)
    if connection.vendor == "postgresql":
        # The re-key's own setting lets only the key columns through, and only to another key: another
        # column, or a ciphertext swapped under the same key id, is still refused.
        for statement in (f"UPDATE {VERSIONS} SET family_name = 'x', my_number_key_id = 't3'",
                          f"UPDATE {VERSIONS} SET my_number_cipher = my_number_cipher || '\\x00'::bytea"):
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
                with connection.cursor() as cur:
                    cur.execute(f"SET LOCAL {append_only.REKEY_SETTING} = 'on'")
                    cur.execute(statement)


def test_a_number_under_a_key_no_longer_listed_stops_the_rekey_with_its_code(fam, keys, settings):
    settings.JUKI_MYNUMBER_KEYS = f"t2:{keys['t2']}"  # the old key dropped too early
    with pytest.raises(CommandError) as err:
        _run("rekey")
    assert str(err.value).startswith("rekey_failed: ImproperlyConfigured") and _key_ids() == {"t1"}


def test_a_row_changed_while_the_rekey_runs_keeps_the_new_value(keys, settings, monkeypatch):
    """Compare-and-set: a clerk's change between the re-key's read and its write is not overwritten."""
    from juki.linkage.models import Delivery

    first = Delivery.objects.create(destination="zeimu", sequence=1, kind="daily", items=["name"],
                                    body_key_id=mynumber.seal_json({"n": 1})[0], body=mynumber.seal_json({"n": 1})[1])
    settings.JUKI_MYNUMBER_KEYS = f"t2:{keys['t2']},t1:{keys['t1']}"
    clerk_key, clerk_body = mynumber._keys(f"t1:{keys['t1']}")[0], None
    original = rekey._reseal

    def reseal_while_a_clerk_writes(store, key_id, cipher):
        nonlocal clerk_body
        if store.table == "linkage_delivery" and clerk_body is None:
            settings.JUKI_MYNUMBER_KEYS = f"t1:{keys['t1']}"
            clerk_body = mynumber.seal_json({"n": 2})[1]
            settings.JUKI_MYNUMBER_KEYS = f"t2:{keys['t2']},t1:{keys['t1']}"
            Delivery.objects.filter(pk=first.pk).update(body=clerk_body)
        return original(store, key_id, cipher)

    monkeypatch.setattr(rekey, "_reseal", reseal_while_a_clerk_writes)
    assert rekey.rekey(stores())["linkage_delivery"] == 0
    row = Delivery.objects.get(pk=first.pk)
    assert (row.body_key_id, bytes(row.body)) == (clerk_key, clerk_body)  # the clerk's value stands
    monkeypatch.setattr(rekey, "_reseal", original)
    assert rekey.rekey(stores())["linkage_delivery"] == 1  # and the next run re-keys it
    row = Delivery.objects.get(pk=first.pk)
    assert row.body_key_id == "t2" and json.loads(mynumber.unseal_values("t2", bytes(row.body))[0]) == {"n": 2}
