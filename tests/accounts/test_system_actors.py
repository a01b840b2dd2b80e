"""System actors hold exactly their listed rights; none holds every right (ADR 0019)."""
import pathlib
import re

import pytest

from juki.accounts import system_actors
from juki.accounts.destinations import DESTINATIONS
from juki.accounts.permissions import ALL_PERMS, Perm
from juki.audit.gate import Actor
from juki.audit.models import AccessLog
from juki.cards.services import card_sweep_removed
from juki.core.errors import AccessDenied, ErrorCode

SRC = pathlib.Path(__file__).resolve().parents[2] / "src" / "juki"


def test_each_system_actor_holds_exactly_its_listed_rights():
    for job in system_actors.JOBS:
        actor = Actor.system_actor(job.name)
        assert actor.rights == job.rights and actor.user is None and actor.system == job.name
        assert {p for p in ALL_PERMS if actor.can(p)} == set(job.rights), job.name
    for destination in DESTINATIONS:
        actor = Actor.system_actor(destination.code)
        assert {p for p in ALL_PERMS if actor.can(p)} == set(destination.rights), destination.code


def test_no_system_actor_holds_every_right_and_the_old_batch_is_gone():
    assert all(rights < ALL_PERMS for rights in system_actors.RIGHTS.values())
    # S2 reads FILE-2 itself (住民票コード, 個人番号): the one actor with five.
    assert system_actors.RIGHTS["jukinet"] == {Perm.OUTBOX_CONSUME, Perm.IDENTITY_LINK, Perm.FIELD_RESIDENT_CODE,
                                               Perm.MY_NUMBER_VIEW, Perm.JUKINET_INBOUND}
    # The 庁内連携 destinations and the 宛名 hold three (issue 16: their items, the 宛名 or the 個人番号); every other at most two.
    assert max(len(r) for name, r in system_actors.RIGHTS.items() if name != "jukinet") <= 3
    assert all(len(r) <= 2 for r in (j.rights for j in system_actors.JOBS))
    assert not hasattr(Actor, "batch") and not hasattr(Actor, "is_batch")
    assert Actor().can(Perm.PERSON_VIEW) is False  # no user, no listed rights: nothing


def test_names_are_unique_and_an_unlisted_name_is_refused():
    names = [j.name for j in system_actors.JOBS] + [d.code for d in DESTINATIONS]
    assert len(names) == len(set(names)) == len(system_actors.RIGHTS)
    with pytest.raises(LookupError, match="is not a registered system actor"):
        Actor.system_actor("every-right")


def test_every_system_actor_named_in_the_code_is_registered():
    used = {m for path in SRC.rglob("*.py") for m in re.findall(r'Actor\.system_actor\("([^"]+)"',
                                                                    path.read_text(encoding="utf-8"))}
    assert len(used) >= 10, used  # the pattern still finds the jobs named in the code
    used |= {"juki audit"}  # audit.checkpoints names it through its BATCH constant
    assert used <= set(system_actors.RIGHTS), used - set(system_actors.RIGHTS)


@pytest.mark.django_db
def test_a_right_outside_the_list_is_refused_and_logged():
    sweep = Actor.system_actor("seals-sweep")  # seal.manage only
    with pytest.raises(AccessDenied) as refused:
        card_sweep_removed(actor=sweep)
    assert refused.value.code == ErrorCode.PERMISSION_DENIED
    row = AccessLog.objects.filter(system="seals-sweep").order_by("-id").first()
    assert row is not None and row.function == "card.sweep" and row.outcome == AccessLog.DENIED


@pytest.mark.django_db
def test_a_destination_logging_in_acts_as_its_system_actor_and_holds_nothing_more(
        destination_account, terminal, world, db):
    """ADR 0019: the connector's account (role 連携システム, username = the destination's code) acts as the
    destination's system actor over HTTP, so a right granted to the account later is of no use to it."""
    import datetime as dt

    from juki.core import clock
    from juki.rights.models import Grant
    from tests.conftest import api_for

    account = destination_account("atena")
    today = clock.today()
    Grant.objects.create(user=account, perm=Perm.PERSON_SEARCH, valid_from=today,
                         valid_until=today + dt.timedelta(days=30), source="initial")
    assert account.has_juki_perm(Perm.PERSON_SEARCH)  # the account holds it …
    client = api_for(account, terminal)
    assert client.get("/api/v1/outbox?consumer=atena").status_code == 200
    row = AccessLog.objects.filter(function="outbox.read").latest("id")
    assert (row.user_id, row.system) == (None, "atena")
    refused = client.post("/api/v1/persons/search", {"name": "青木", "birth_date": "1985-04-01"}, format="json")  # … the destination's actor does not
    assert refused.status_code == 403
    assert refused.json()["code"] == ErrorCode.PERMISSION_DENIED
    denied = AccessLog.objects.filter(system="atena", function="person.search", outcome=AccessLog.DENIED).latest("id")
    assert denied.user_id is None


@pytest.mark.django_db
def test_a_destination_whose_account_lost_the_right_reads_nothing(destination_account, terminal, world):
    """… and holds no more than its account does today: a grant ended (a retirement, a period run out)
    ends the connector's reads, though the destination still lists the right."""
    import datetime as dt

    from juki.core import clock
    from juki.rights.models import Grant
    from tests.conftest import api_for

    account = destination_account("atena")
    client = api_for(account, terminal)
    assert client.get("/api/v1/outbox?consumer=atena").status_code == 200
    past = clock.today() - dt.timedelta(days=10)
    ended = Grant.objects.filter(user=account).update(valid_from=past, valid_until=past + dt.timedelta(days=9))
    assert ended >= 1
    refused = client.get("/api/v1/outbox?consumer=atena")
    assert refused.status_code == 403 and refused.json()["code"] == ErrorCode.PERMISSION_DENIED
    row = AccessLog.objects.filter(function="outbox.read").latest("id")
    assert (row.user_id, row.system, row.outcome) == (None, "atena", AccessLog.DENIED)
