"""Issue 12 through the API: the 届出人 recorded with the change, a 届出日 before the 異動日 refused
where the law does not allow it (with its code, nothing written), 番地 stored in one width."""
from __future__ import annotations

from juki.accounts.permissions import Perm
from juki.audit import gate
from juki.register.models import Change, PersonVersion
from tests.register.helpers import count_versions

from ..conftest import days_ago
from .test_api import UOMACHI, _direct_changes, _is_problem, _refs, fam  # noqa: F401 - fixtures
from tests.helpers import TEST_ACTOR


def _move(api, refs, **over):
    body = {"event_date": days_ago(3).isoformat(), "notified_on": days_ago(2).isoformat(), "persons": refs,
            "address": {"town_code": UOMACHI, "banchi": "２番３号"}, **over}
    return api.post("/api/v1/changes/move-within-city", body, format="json")


def test_the_notifier_is_recorded_with_the_change_and_the_banchi_in_one_width(api, fam):
    r = _move(api, _refs(api, fam), notifier_name="青木　花子", notifier_relationship="世帯員")
    assert r.status_code == 201, r.content
    with gate.open(TEST_ACTOR, function="test", perm=Perm.PERSON_VIEW):
        change = Change.objects.get(pk=r.json()["change_id"])
        assert (change.notifier_name, change.notifier_relationship) == ("青木　花子", "世帯員")
        assert set(PersonVersion.objects.filter(change=change).values_list("banchi", flat=True)) == {"2番3号"}


def test_a_notification_before_the_move_is_refused_but_a_move_out_may_be_notified_in_advance(api, fam):
    refs = _refs(api, fam)
    before = count_versions()
    r = _move(api, refs, notified_on=days_ago(4).isoformat())
    body = _is_problem(r, 400, "notified_before_event")
    assert body["field"] == "notified_on" and "転出以外" in body["detail"]
    assert count_versions() == before  # nothing half-written
    out = api.post("/api/v1/changes/move-out", {"event_date": days_ago(-5).isoformat(),
                                                "notified_on": days_ago(1).isoformat(), "persons": refs,
                                                "destination_address": "東京都港区芝公園四丁目2番8号"}, format="json")
    assert out.status_code == 201, out.content


def test_a_notifier_name_too_long_is_refused_not_cut(api, fam):
    r = _move(api, _refs(api, fam), notifier_name="長" * 61)
    body = _is_problem(r, 400, "invalid_input")
    assert "notifier_name" in body["errors"]
