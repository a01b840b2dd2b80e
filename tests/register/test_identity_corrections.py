"""C14: a direct correction of 本人確認情報 needs the 本人確認情報管理責任者's approval, and is kept."""
import datetime as dt

import pytest

from juki.accounts.models import Terminal
from juki.audit.gate import Actor
from juki.audit.models import AccessLog
from juki.core.errors import AccessDenied, DomainError, ErrorCode
from juki.register.models import PendingChange
from juki.register.services import verification

from .helpers import ids, person
from .test_verification import _change, _pending, correction


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
    ("my_number", {"kind": "correction"}, True),
    ("my_number", {"kind": "entry"}, False),
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
