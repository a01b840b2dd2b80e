"""C14: a direct correction of 本人確認情報 needs the 本人確認情報管理責任者's approval, and is kept."""
import datetime as dt

import pytest

from juki.accounts.models import Terminal
from juki.audit.gate import Actor
from juki.audit.models import AccessLog
from juki.core.errors import AccessDenied, DomainError, ErrorCode
from juki.register.models import PendingChange
from juki.register.services import verification

from ..conftest import KOKURA_JOUNAI, days_ago
from .helpers import history, ids, person, ref
from .test_verification import _change, _pending, correction


@pytest.fixture(autouse=True)
def _direct_changes(settings):
    # These tests commit through POST /api/v1/changes/<op>, which a city allows only with
    # two-person verification turned off (else: review_required, tested in test_api.py).
    settings.JUKI_TWO_PERSON_VERIFICATION = False


@pytest.fixture
def head(family):
    return ids(family)[0]


@pytest.fixture
def sup_terminal(db):
    return Terminal.objects.create(code="T-02", name="審査端末", location="小倉北区役所 市民課")

MY_NUMBER = "123456789018"


@pytest.mark.parametrize(("operation", "payload", "expected"), [
    ("ex_officio_correction", {"changes": {"given_name": "太朗"}}, True),
    ("erratum_correction", {"changes": {"birth_date": "1985-04-02"}}, True),
    ("minor_correction", {"changes": {"banchi": "1番2号"}}, True),
    ("ex_officio_correction", {"changes": {"domicile": "福岡県北九州市門司区1番"}}, False),
    ("minor_correction", {"changes": {"alias_name": "青山"}}, True),  # 通称 (foreign residents)
    ("minor_correction", {"changes": {"alias_name_kana": "アオヤマ"}}, True),
    ("my_number", {"kind": "correction"}, True),
    ("my_number", {"kind": "entry"}, False),
    ("my_number", {"kind": "change"}, False),  # the resident's 変更請求 is a normal 異動
    ("move_within_city", {"changes": {"given_name": "x"}}, False),  # a normal 異動 is not a direct correction
])
def test_which_entries_are_direct_corrections_of_identity_information(operation, payload, expected):
    assert verification.identity_correction(operation, payload) is expected


def test_only_the_identity_manager_can_approve_and_the_approval_is_kept(world, head, supervisor, identity_manager,
                                                                          sup_terminal, clerk):
    pending = verification.pending_submit(actor=world, operation="ex_officio_correction", payload=correction(head))
    assert verification.pending_list(actor=world)[0]["identity_correction"] is True
    with pytest.raises(AccessDenied) as err:
        verification.pending_approve(actor=Actor(user=supervisor, terminal=sup_terminal), pending_id=pending.id)
    assert "本人確認情報管理責任者" in err.value.message
    assert person(head)["name"]["given_name"] == "太郎" and _pending(pending.id).state == PendingChange.State.PENDING
    result = verification.pending_approve(actor=Actor(user=identity_manager, terminal=sup_terminal), pending_id=pending.id)
    assert person(head)["name"]["given_name"] == "太朗"
    change = _change(result.change_id)
    assert change.operator == clerk and change.approved_by == identity_manager
    approval = AccessLog.objects.get(function="pending.approve", outcome="ok")
    assert approval.user == identity_manager and approval.flags == ["identity_correction"]


def test_identity_corrections_are_always_reviewed_even_without_two_person_verification(world, head, settings):
    settings.JUKI_TWO_PERSON_VERIFICATION = False
    entered = verification.change_enter(actor=world, operation="ex_officio_correction", payload=correction(head))
    assert isinstance(entered, PendingChange)
    assert person(head)["name"]["given_name"] == "太郎"
    other = verification.change_enter(actor=world, operation="ex_officio_correction",
                                      payload=correction(head, domicile="福岡県北九州市門司区1番"))
    assert not isinstance(other, PendingChange) and other.change_id


def test_a_direct_commit_of_an_identity_correction_is_refused_and_writes_nothing(world, head):
    with pytest.raises(DomainError) as err:
        verification.change_commit(actor=world, operation="erratum_correction",
                                   kwargs={"event_date": dt.date.today(), "person": None,
                                           "changes": {"birth_date": "1985-04-02"}})
    assert err.value.code == ErrorCode.IDENTITY_APPROVAL_REQUIRED
    assert person(head)["birth_date"]["date"] == "1985-04-01"


# --- 異動の取消し of a change to 本人確認情報 (C14 cannot be undone round the approval) ------------------


def _approved_correction(world, head, identity_manager, sup_terminal) -> int:
    pending = verification.pending_submit(actor=world, operation="ex_officio_correction", payload=correction(head))
    result = verification.pending_approve(actor=Actor(user=identity_manager, terminal=sup_terminal), pending_id=pending.id)
    assert person(head)["name"]["given_name"] == "太朗"
    return result.change_id


def _cancel(change_id: int, *pids: int) -> dict:
    return {"event_date": days_ago(0).isoformat(), "change_id": change_id,
            "persons": [{"id": pid, "version": ref(pid).version} for pid in pids]}


def test_cancelling_an_identity_correction_needs_the_identity_manager(world, head, supervisor, identity_manager,
                                                                       sup_terminal, settings):
    change_id = _approved_correction(world, head, identity_manager, sup_terminal)
    payload = _cancel(change_id, head)
    # Committed at once (the API's way): refused, nothing written.
    with pytest.raises(DomainError) as err:
        verification.change_commit(actor=world, operation="cancel",
                                   kwargs=verification.operation_spec("cancel").kwargs(payload))
    assert err.value.code == ErrorCode.IDENTITY_APPROVAL_REQUIRED
    assert person(head)["name"]["given_name"] == "太朗"
    assert verification.identity_correction("cancel", payload, actor=world) is True
    assert verification.identity_correction("cancel", payload) is True  # no gate, no actor: ask for approval
    # At the counter, even with two-person verification off: 仮登録, approved only by the manager.
    settings.JUKI_TWO_PERSON_VERIFICATION = False
    pending = verification.change_enter(actor=world, operation="cancel", payload=payload)
    assert isinstance(pending, PendingChange)
    assert verification.pending_list(actor=world)[0]["identity_correction"] is True
    with pytest.raises(AccessDenied):
        verification.pending_approve(actor=Actor(user=supervisor, terminal=sup_terminal), pending_id=pending.id)
    assert person(head)["name"]["given_name"] == "太朗"
    verification.pending_approve(actor=Actor(user=identity_manager, terminal=sup_terminal), pending_id=pending.id)
    assert person(head)["name"]["given_name"] == "太郎"
    approval = AccessLog.objects.filter(function="pending.approve", outcome="ok").latest("id")
    assert approval.user == identity_manager and approval.flags == ["identity_correction"]


def test_cancelling_a_change_that_moved_the_address_or_a_my_number_change_is_one_too(world, family, head):
    from juki.register.services import changes
    from juki.register.services.people import Address

    moved = changes.move_within_city(actor=world, event_date=days_ago(0), notified_on=days_ago(0),
                                     persons=[ref(pid) for pid in ids(family)], address=Address(KOKURA_JOUNAI, "9番9号"))
    assert verification.identity_correction("cancel", _cancel(moved.change_id, *ids(family)), actor=world) is True
    number = changes.my_number_record(actor=world, event_date=days_ago(0), person=ref(head), my_number=MY_NUMBER,
                                      kind="entry")
    assert verification.identity_correction("cancel", _cancel(number.change_id, head), actor=world) is True


def test_cancelling_a_change_that_left_identity_alone_is_an_ordinary_entry(world, family, settings):
    from juki.register.services import changes

    head, _wife, child = ids(family)
    split = changes.household_split(actor=world, event_date=days_ago(0), notified_on=days_ago(0), persons=[ref(child)],
                                    relationships_in_new={child: "世帯主"})
    payload = _cancel(split.change_id, child)
    assert verification.identity_correction("cancel", payload, actor=world) is False
    # A new person's entry: cancelling it removes the record, it restores no earlier values.
    assert verification.identity_correction("cancel", _cancel(family.change_id, head), actor=world) is False
    result = verification.change_commit(actor=world, operation="cancel",
                                        kwargs=verification.operation_spec("cancel").kwargs(payload))
    assert result.change_id and person(child)["household_id"] == person(head)["household_id"]


def test_api_refuses_the_cancel_of_an_identity_correction(world, head, identity_manager, sup_terminal, api):
    change_id = _approved_correction(world, head, identity_manager, sup_terminal)
    versions = len(history(head))
    r = api.post("/api/v1/changes/cancel", _cancel(change_id, head), format="json")
    assert r.status_code == 400 and r.json()["code"] == "identity_approval_required"
    assert person(head)["name"]["given_name"] == "太朗" and len(history(head)) == versions
