"""A person's access history is read by (id, at) from the subjects' index (ADR 0030), in order."""
import datetime as dt

import pytest
from django.utils import timezone

from juki.audit import chain, events, selectors
from juki.audit.models import AccessLog

from tests.helpers import TEST_ACTOR


@pytest.fixture
def history(db, monkeypatch):
    """Person 7 is named by 5 rows over 5 months (one of them with another person), person 8 by one."""
    now = timezone.now()
    written = []
    for months_ago in (4, 3, 2, 1, 0):
        moment = now - dt.timedelta(days=31 * months_ago)
        monkeypatch.setattr(timezone, "now", lambda moment=moment: moment)
        written.append(events.record(TEST_ACTOR, function="person.view",
                                     person_ids=[7, 8] if months_ago == 2 else [7], criteria={"m": months_ago}))
        events.record(TEST_ACTOR, function="person.view", person_ids=[9])
        monkeypatch.undo()
    chain.link()
    return [AccessLog.objects.get(pk=w.pk) for w in written]


def test_newest_first_with_a_limit(history):
    rows = selectors.log_rows_for_person(7, limit=3)
    assert [r.id for r in rows] == [r.id for r in reversed(history)][:3]
    assert rows[0].user_id is None and rows[0].terminal is None  # the related rows come with them


def test_oldest_first_in_chunks_keeps_the_order(history, monkeypatch):
    monkeypatch.setattr(selectors, "_CHUNK", 2)  # three queries for five rows
    assert [r.id for r in selectors.log_rows_for_person(7, newest_first=False)] == [r.id for r in history]
    assert [r.criteria for r in selectors.log_rows_for_person(8)] == [{"m": 2}]
    assert selectors.log_rows_for_person(10) == []
