"""Every 庁内連携 destination, end to end in this process: after a 転居, a 出生, a 死亡 and a 職権修正 it
receives exactly the items its application approves — compared item by item — 随時 ones at once (a
signed JSON delivery to its receiving service), 日次 ones in the next day's file, 月次 ones in the
month's full file (the clock given to the run)."""
from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from juki.accounts import destinations
from juki.accounts.destinations import Delivery as Mode
from juki.accounts.destinations import Frequency
from juki.linkage import config, engine, files
from juki.linkage.models import Approval, Delivery
from juki.register.services import changes
from juki.register.services.people import Address

from ..conftest import days_ago, move_in_family
from ..register.helpers import href, ids, ref
from ..register.test_moves import UOMACHI

ALL = [d.code for d in destinations.LINKAGE]


def _at(day: dt.date, hour: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 30)))


def read_file(code: str, name: str) -> list[dict]:
    """A file delivery as the destination reads it: rows keyed by item key."""
    found = destinations.destination_get(code)
    path = config.outbound(code) / name
    approval = Approval.objects.get(destination=code, state=Approval.State.ACTIVE)
    envelope = found.frequency != Frequency.MONTHLY
    cols = engine.columns_of(approval.items, envelope=envelope)
    if found.delivery == Mode.FIXED:
        return files.read_fixed(path, cols)
    rows = files.read_csv(path, encoding="cp932" if found.delivery == Mode.CSV_CP932 else "utf-8")
    by_label = {c.label: c.key for c in cols}
    return [{by_label[k]: v for k, v in row.items()} for row in rows]


def delivered_items(linkage, code: str, since_sequence: int) -> list[dict]:
    """The items of every person delivered after `since_sequence`, as the destination got them."""
    found = destinations.destination_get(code)
    if found.delivery == Mode.JSON:
        return [r["items"] for d in linkage.received(code) if d["sequence"] > since_sequence
                for r in d["payload"]["records"]]
    out = []
    for d in Delivery.objects.filter(destination=code, sequence__gt=since_sequence, state=Delivery.State.DELIVERED):
        envelope = [k for k, *_ in engine._ENVELOPE_COLUMNS] if found.frequency != Frequency.MONTHLY else []
        out += [{k: v for k, v in row.items() if k not in envelope} for row in read_file(code, d.file_name)]
    return out


def _four_changes(world, family):
    head, wife, child = ids(family)
    hid = family.households[0]["id"]
    born = changes.birth(actor=world, event_date=days_ago(3), notified_on=days_ago(2),
                         child={"family_name": "青木", "given_name": "二郎", "sex": 1, "relationship": "子"},
                         destination=href(hid))
    baby = ids(born)[0]
    changes.move_within_city(actor=world, event_date=days_ago(2), notified_on=days_ago(1),
                             persons=[ref(head), ref(wife), ref(child), ref(baby)], address=Address(UOMACHI, "8番"))
    changes.death(actor=world, event_date=days_ago(1), notified_on=days_ago(1), persons=[ref(head)], new_head=wife)
    changes.ex_officio_correction(actor=world, event_date=days_ago(0), person=ref(child),
                                  changes={"given_name": "一朗"})
    return head, wife, child, baby


@pytest.mark.parametrize("code", ALL)
def test_each_destination_receives_exactly_its_approved_items_after_four_changes(linkage, world, code):
    found = destinations.destination_get(code)
    family = move_in_family(world, event_date=days_ago(30))
    today = timezone.localdate()
    engine.run_once(code, now=_at(today, 1))  # the start: a first full (not for a monthly one)
    started = Delivery.objects.filter(destination=code).count()
    if found.frequency != Frequency.MONTHLY:
        first = delivered_items(linkage, code, 0)
        assert any(i.get("name") == "青木　太郎" for i in first)  # the family was in the initial full
    head, wife, child, baby = _four_changes(world, family)

    if found.frequency == Frequency.ON_CHANGE:
        outcome = engine.run_once(code)
        assert outcome.collected and outcome.sent == outcome.collected, outcome
    elif found.frequency == Frequency.DAILY:
        assert engine.run_once(code, now=_at(today, 1)).collected == []  # before 2 a.m.: not yet
        engine.run_once(code, now=_at(today + dt.timedelta(days=1), 2))
    else:
        first_of_next = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        engine.run_once(code, now=_at(first_of_next, 3))
    items = delivered_items(linkage, code, started)
    approved = set(Approval.objects.get(destination=code, state=Approval.State.ACTIVE).items)
    assert approved == set(found.register_items)
    assert items, f"{code} received nothing"
    for got in items:  # item by item: exactly the approved keys, never another
        assert set(got) == approved, (code, set(got) ^ approved)
    names = {i["name"] for i in items}
    assert {"青木　二郎", "青木　一朗"} <= names  # the 出生 and the 職権修正
    moved = [i for i in items if i["name"] == "青木　花子"]
    assert moved and all("魚町" in i["address"] for i in moved)  # the 転居
    dead = [i for i in items if i["name"] == "青木　太郎"]
    if found.frequency == Frequency.MONTHLY:  # the month's file: the state now, the dead as 除票 of the month
        assert [i["status"] for i in dead] == ["消除"]
    else:
        assert "消除" in {i["status"] for i in dead}
    if found.frequency == Frequency.MONTHLY:  # the month's file: the state now, the corrected name only
        assert "青木　一郎" not in names
