"""Confirmation (change_preview) and two-person verification (仮登録 → 本登録, C10)."""
import json
import re

import pytest

from juki.accounts.models import Terminal
from juki.accounts.permissions import Perm
from juki.audit import gate
from juki.audit.gate import Actor
from juki.audit.models import AccessLog
from juki.core import mynumber
from juki.core.errors import DomainError
from juki.register.models import (
    Change,
    OutboxEvent,
    PendingChange,
    Person,
    PersonVersion,
    SearchKey,
)
from juki.register.services import changes, verification

from ..conftest import days_ago, person_input
from .helpers import TEST, person, ref

MY_NUMBER = "123456789018"
TODAY = days_ago(0).isoformat()


def _counts() -> dict:
    with gate.open(TEST, function="test.read", perm=Perm.PERSON_VIEW):
        return {"versions": PersonVersion.objects.count(), "changes": Change.objects.count(),
                "outbox": OutboxEvent.objects.count(), "keys": SearchKey.objects.count(),
                "persons": Person.objects.count()}


def _pending(pid: int) -> PendingChange:
    with gate.open(TEST, function="test.read", perm=Perm.PERSON_VIEW):
        return PendingChange.objects.select_related("change").get(pk=pid)


def _change(change_id: int) -> Change:
    with gate.open(TEST, function="test.read", perm=Perm.PERSON_VIEW):
        return Change.objects.select_related("operator", "approved_by", "terminal").get(pk=change_id)


def _ref(pid: int) -> dict:
    r = ref(pid)
    return {"id": r.id, "version": r.version}


def correction(pid: int, **values) -> dict:
    return {"event_date": TODAY, "person": _ref(pid), "changes": values or {"given_name": "太朗"}}


def _raises(code: str, fn, **kw) -> DomainError:
    with pytest.raises(DomainError) as exc:
        fn(**kw)
    assert exc.value.code == code, exc.value
    return exc.value


@pytest.fixture
def head(family):
    return family.persons[0]["id"]


@pytest.fixture
def sup_terminal(db):
    return Terminal.objects.create(code="T-02", name="審査席", location="小倉北区役所 市民課")


@pytest.fixture
def reviewer(identity_manager, sup_terminal):
    # The entries below correct a 氏名, which only the 本人確認情報管理責任者 may approve (C14).
    return Actor(user=identity_manager, terminal=sup_terminal)


@pytest.fixture
def clerk2_actor(clerk2, terminal):
    return Actor(user=clerk2, terminal=terminal)


# --- preview --------------------------------------------------------------------------------------


def test_preview_writes_nothing_and_shows_before_and_after(world, head):
    before = _counts()
    preview = verification.change_preview(actor=world, operation="ex_officio_correction",
                                          payload=correction(head, given_name="太朗", given_name_kana="タロウ"))
    assert _counts() == before
    assert person(head)["name"]["given_name"] == "太郎"
    assert preview["operation"] == "ex_officio_correction" and preview["person_ids"] == [head]
    (p,) = preview["people"]
    assert p["person_id"] == head and p["is_new"] is False and p["name"] == "青木　太朗"
    rows = {r["label"]: r for r in p["rows"]}
    assert rows["氏名"] == {"label": "氏名", "before": "青木　太郎", "after": "青木　太朗", "changed": True}
    assert rows["生年月日"]["changed"] is False and rows["住所"]["changed"] is False
    assert [r["label"] for r in p["rows"] if r["changed"]] == ["氏名"]
    log = AccessLog.objects.filter(function="change.preview").latest("id")
    assert log.outcome == "ok" and list(log.subjects.values_list("person_id", flat=True)) == [head]
    assert not AccessLog.objects.filter(function="change.ex_officio_correction").exists()  # the dry run left no trace


def test_preview_of_new_persons(world):
    before = _counts()
    payload = {"event_date": TODAY, "notified_on": TODAY, "origin": "domestic", "destination": "new",
               "address": {"town_code": "40106001000", "banchi": "7番"}, "previous_address": "東京都千代田区丸の内一丁目9番",
               "persons": [{**person_input(), "birth_date": "1985-04-01"}]}
    preview = verification.change_preview(actor=world, operation="move_in", payload=payload)
    assert _counts() == before
    (p,) = preview["people"]
    assert p["is_new"] is True and p["person_id"] is None and preview["person_ids"] == []
    assert all(r["before"] == "" and r["changed"] for r in p["rows"])


def test_preview_of_an_invalid_change_raises_and_only_logs_the_refusal(world, head):
    payloads = [correction(head, given_name="太郎"), {**correction(head), "event_date": days_ago(-2).isoformat()}]
    before, last = _counts(), AccessLog.objects.latest("id").id
    _raises("nothing_changed", verification.change_preview, actor=world, operation="ex_officio_correction",
            payload=payloads[0])
    _raises("event_date_in_future", verification.change_preview, actor=world, operation="ex_officio_correction",
            payload=payloads[1])
    _raises("invalid_input", verification.change_preview, actor=world, operation="ex_officio_correction",
            payload={"person": payloads[0]["person"]})  # a shape error: refused before any data is read
    new = AccessLog.objects.filter(id__gt=last).order_by("id")
    assert [(e.function, e.outcome) for e in new] == [
        ("change.preview", "nothing_changed"), ("change.preview", "event_date_in_future")]
    assert _counts() == before
    with pytest.raises(DomainError) as exc:
        verification.change_preview(actor=world, operation="no_such_thing", payload={})
    assert exc.value.status == 404


# --- submit and approve ---------------------------------------------------------------------------


def test_submit_keeps_the_register_unchanged(world, head):
    before = _counts()
    pending = verification.pending_submit(actor=world, operation="ex_officio_correction", payload=correction(head))
    assert _counts() == before
    assert person(head)["name"]["given_name"] == "太郎"
    p = _pending(pending.id)
    assert p.state == PendingChange.State.PENDING and p.person_ids == [head] and p.change is None
    assert p.summary == "職権修正 青木　太朗" and p.entered_by.username == "clerk1"
    listed = verification.pending_list(actor=world)
    assert [r["id"] for r in listed] == [pending.id] and listed[0]["state_label"] == "審査待ち（仮登録）"
    view = verification.pending_get(actor=world, pending_id=pending.id)
    assert view["preview_error"] is None and view["preview"]["people"][0]["name"] == "青木　太朗"


def test_approval_by_a_reviewer_commits_as_entered_by_the_clerk(world, head, reviewer, clerk, identity_manager, terminal):
    pending = verification.pending_submit(actor=world, operation="ex_officio_correction", payload=correction(head))
    before = _counts()
    result = verification.pending_approve(actor=reviewer, pending_id=pending.id)
    after = _counts()
    assert after["changes"] == before["changes"] + 1 and after["outbox"] == before["outbox"] + 1
    assert after["versions"] == before["versions"] + 1
    assert person(head)["name"]["given_name"] == "太朗"
    change = _change(result.change_id)
    assert change.operator == clerk and change.approved_by == identity_manager and change.terminal == terminal
    p = _pending(pending.id)
    assert p.state == PendingChange.State.APPROVED and p.change_id == result.change_id
    assert p.reviewed_by == identity_manager and p.reviewed_at is not None
    with gate.open(TEST, function="test.read", perm=Perm.PERSON_VIEW):
        event = OutboxEvent.objects.get(change_id=result.change_id)
    assert event.payload["persons"][0]["person_id"] == head
    history = verification.pending_list(actor=world, states=("approved",))
    assert [r["change_id"] for r in history] == [result.change_id]


def test_self_approval_is_refused(family, sup_actor):
    pid = family.persons[0]["id"]
    pending = verification.pending_submit(actor=sup_actor, operation="ex_officio_correction", payload=correction(pid))
    before = _counts()
    _raises("self_approval", verification.pending_approve, actor=sup_actor, pending_id=pending.id)
    _raises("self_approval", verification.pending_reject, actor=sup_actor, pending_id=pending.id, comment="自分で")
    assert _counts() == before and _pending(pending.id).state == PendingChange.State.PENDING


def test_a_clerk_without_the_review_right_cannot_approve_or_reject(world, head, clerk2_actor, clerk2):
    pending = verification.pending_submit(actor=world, operation="ex_officio_correction", payload=correction(head))
    before = _counts()
    _raises("permission_denied", verification.pending_approve, actor=clerk2_actor, pending_id=pending.id)
    _raises("permission_denied", verification.pending_reject, actor=clerk2_actor, pending_id=pending.id, comment="x")
    assert _counts() == before and _pending(pending.id).state == PendingChange.State.PENDING
    denied = AccessLog.objects.filter(user=clerk2, outcome="denied").values_list("function", flat=True)
    assert sorted(denied) == ["pending.approve", "pending.reject"]


def test_a_second_approval_is_refused_and_nothing_is_written_twice(world, head, reviewer, sup_terminal):
    pending = verification.pending_submit(actor=world, operation="ex_officio_correction", payload=correction(head))
    verification.pending_approve(actor=reviewer, pending_id=pending.id)
    after_first = _counts()
    _raises("pending_closed", verification.pending_approve, actor=reviewer, pending_id=pending.id)
    _raises("pending_closed", verification.pending_reject, actor=reviewer, pending_id=pending.id, comment="遅れて")
    _raises("pending_closed", verification.pending_withdraw, actor=world, pending_id=pending.id)
    assert _counts() == after_first and _pending(pending.id).state == PendingChange.State.APPROVED


def test_reject_needs_a_comment_and_writes_nothing_to_the_register(world, head, reviewer, identity_manager):
    pending = verification.pending_submit(actor=world, operation="ex_officio_correction", payload=correction(head))
    before = _counts()
    err = _raises("invalid_input", verification.pending_reject, actor=reviewer, pending_id=pending.id, comment="  ")
    assert err.field == "comment" and _pending(pending.id).state == PendingChange.State.PENDING
    verification.pending_reject(actor=reviewer, pending_id=pending.id, comment="フリガナの確認が必要です。")
    assert _counts() == before
    p = _pending(pending.id)
    assert p.state == PendingChange.State.REJECTED and p.reviewed_by == identity_manager
    assert p.review_comment == "フリガナの確認が必要です。" and p.change is None
    mine = verification.pending_list(actor=world, states=("rejected",), entered_by=world.user)
    assert [r["id"] for r in mine] == [pending.id]
    _raises("pending_closed", verification.pending_approve, actor=reviewer, pending_id=pending.id)
    verification.pending_withdraw(actor=world, pending_id=pending.id)  # the clerk may withdraw a rejected entry
    assert _pending(pending.id).state == PendingChange.State.WITHDRAWN


def test_withdraw_only_by_the_entering_clerk(world, head, reviewer, clerk2_actor):
    pending = verification.pending_submit(actor=world, operation="ex_officio_correction", payload=correction(head))
    _raises("permission_denied", verification.pending_withdraw, actor=clerk2_actor, pending_id=pending.id)
    _raises("permission_denied", verification.pending_withdraw, actor=reviewer, pending_id=pending.id)
    assert _pending(pending.id).state == PendingChange.State.PENDING
    before = _counts()
    verification.pending_withdraw(actor=world, pending_id=pending.id)
    assert _counts() == before and _pending(pending.id).state == PendingChange.State.WITHDRAWN
    _raises("pending_closed", verification.pending_withdraw, actor=world, pending_id=pending.id)
    _raises("pending_closed", verification.pending_approve, actor=reviewer, pending_id=pending.id)
    again = verification.pending_submit(actor=world, operation="ex_officio_correction", payload=correction(head))
    assert again.state == PendingChange.State.PENDING  # withdrawn: a new entry for the person is allowed


def test_a_second_pending_entry_for_the_same_person_is_refused(world, head, family, clerk2_actor):
    verification.pending_submit(actor=world, operation="ex_officio_correction", payload=correction(head))
    with gate.open(TEST, function="test.read", perm=Perm.PERSON_VIEW):
        count = PendingChange.objects.count()
    _raises("pending_exists", verification.pending_submit, actor=clerk2_actor, operation="my_number",
            payload={"event_date": TODAY, "person": _ref(head), "my_number": MY_NUMBER, "kind": "entry"})
    household_move = {"event_date": TODAY, "persons": [_ref(p["id"]) for p in family.persons],
                      "address": {"town_code": "40106002000", "banchi": "2番"}}
    _raises("pending_exists", verification.pending_submit, actor=world, operation="move_within_city", payload=household_move)
    with gate.open(TEST, function="test.read", perm=Perm.PERSON_VIEW):
        assert PendingChange.objects.count() == count
    wife = family.persons[1]["id"]
    verification.pending_submit(actor=world, operation="ex_officio_correction", payload=correction(wife))  # another person: fine


def test_an_invalid_entry_is_refused_at_submission(world, head):
    with gate.open(TEST, function="test.read", perm=Perm.PERSON_VIEW):
        count = PendingChange.objects.count()
    _raises("nothing_changed", verification.pending_submit, actor=world, operation="ex_officio_correction",
            payload=correction(head, given_name="太郎"))
    _raises("invalid_my_number", verification.pending_submit, actor=world, operation="my_number",
            payload={"event_date": TODAY, "person": _ref(head), "my_number": "123456789012", "kind": "entry"})
    with gate.open(TEST, function="test.read", perm=Perm.PERSON_VIEW):
        assert PendingChange.objects.count() == count


# --- 個人番号 in an entry -------------------------------------------------------------------------


def _no_plain_number(value) -> bool:
    return not re.search(r"\d{12}", json.dumps(value, ensure_ascii=False))


def test_a_my_number_in_a_pending_entry_is_sealed_yet_recorded_on_approval(world, head, reviewer):
    pending = verification.pending_submit(actor=world, operation="my_number",
                                          payload={"event_date": TODAY, "person": _ref(head), "my_number": MY_NUMBER,
                                                   "kind": "entry"})
    p = _pending(pending.id)
    assert _no_plain_number(p.payload) and p.payload["my_number"].startswith("__sealed__")
    assert p.sealed and len(bytes(p.sealed)) > 12 and MY_NUMBER.encode() not in bytes(p.sealed) and p.sealed_key_id
    view = verification.pending_get(actor=reviewer, pending_id=pending.id)
    assert _no_plain_number(view["payload"]) and view["preview_error"] is None
    rows = {r["label"]: r for r in view["preview"]["people"][0]["rows"]}
    assert rows["個人番号"] == {"label": "個人番号", "before": "", "after": "記載あり", "changed": True}
    assert verification.pending_payload(actor=world, pending_id=pending.id)["my_number"] == MY_NUMBER  # the clerk's own
    _raises("permission_denied", verification.pending_payload, actor=reviewer, pending_id=pending.id)
    verification.pending_approve(actor=reviewer, pending_id=pending.id)
    with gate.open(TEST, function="test.read", perm=Perm.PERSON_VIEW):
        digest = Person.objects.select_related("current").get(pk=head).current.my_number_digest
    assert digest == mynumber.digest(MY_NUMBER)
    assert _no_plain_number(list(AccessLog.objects.values_list("criteria", flat=True)))


def test_numbers_nested_in_a_move_in_entry_are_sealed_too(world, reviewer):
    second = "234567890121"
    members = [{**person_input(), "birth_date": "1985-04-01", "my_number": MY_NUMBER},
               {**person_input(given_name="花子", given_name_kana="ハナコ", sex=2, relationship="妻"),
                "birth_date": "1987-06-02", "my_number": second}]
    payload = {"event_date": TODAY, "notified_on": TODAY, "origin": "domestic", "persons": members, "destination": "new",
               "address": {"town_code": "40106001000", "banchi": "7番"}, "previous_address": "東京都千代田区丸の内一丁目9番"}
    pending = verification.pending_submit(actor=world, operation="move_in", payload=payload)
    p = _pending(pending.id)
    assert _no_plain_number(p.payload) and p.person_ids == []
    assert [m["my_number"] for m in p.payload["persons"]] == ["__sealed__0", "__sealed__1"]
    result = verification.pending_approve(actor=reviewer, pending_id=pending.id)
    with gate.open(TEST, function="test.read", perm=Perm.PERSON_VIEW):
        digests = [Person.objects.select_related("current").get(pk=q["id"]).current.my_number_digest for q in result.persons]
    assert digests == [mynumber.digest(MY_NUMBER), mynumber.digest(second)]


# --- a stale entry ------------------------------------------------------------------------------


def test_a_stale_entry_fails_approval_with_conflict_and_stays_pending(world, head, reviewer, clerk2_actor):
    pending = verification.pending_submit(actor=world, operation="ex_officio_correction", payload=correction(head))
    changes.ex_officio_correction(actor=clerk2_actor, event_date=days_ago(0), person=ref(head),
                                  changes={"domicile_head": "青木　太郎（修正）"})  # the register moves on meanwhile
    before = _counts()
    err = _raises("conflict", verification.pending_approve, actor=reviewer, pending_id=pending.id)
    assert err.status == 409
    assert _counts() == before
    p = _pending(pending.id)
    assert p.state == PendingChange.State.PENDING and p.change is None and p.reviewed_by is None
    assert person(head)["name"]["given_name"] == "太郎"
    view = verification.pending_get(actor=reviewer, pending_id=pending.id)
    assert view["preview"] is None and "他の職員" in view["preview_error"]
