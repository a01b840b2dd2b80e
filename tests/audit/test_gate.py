import pytest

from juki.audit.gate import Actor, UngatedAccess
from juki.audit.models import AccessLog, AccessLogSubject
from juki.core.errors import AccessDenied, NotFoundError
from juki.register import selectors
from juki.register.models import Household, OutboxEvent, Person, PersonVersion

from ..conftest import move_in_family
from ..register.helpers import ids


@pytest.mark.parametrize("model", [Person, PersonVersion, Household, OutboxEvent])
def test_personal_data_cannot_be_queried_outside_the_gate(db, model):
    with pytest.raises(UngatedAccess):
        list(model.objects.all())


def test_related_access_is_guarded_too(world, family):
    from juki.audit import gate
    from juki.accounts.permissions import Perm

    with gate.open(world, function="test", perm=Perm.PERSON_VIEW):
        version = PersonVersion.objects.first()
    version = PersonVersion(person_id=version.person_id)  # a fresh instance: nothing cached
    with pytest.raises(UngatedAccess):
        _ = version.person


def _logs(function):
    return list(AccessLog.objects.filter(function=function).order_by("id"))


def test_every_read_writes_an_access_log_row_with_the_persons(world, family):
    head, wife, child = ids(family)
    selectors.person_get(actor=world, person_id=head)
    (log,) = _logs("person.view")
    assert log.user == world.user and log.terminal == world.terminal and log.outcome == "ok"
    assert list(log.subjects.values_list("person_id", flat=True)) == [head]
    assert not log.my_number_accessed
    selectors.household_get(actor=world, household_id=family.households[0]["id"])
    (hlog,) = _logs("household.view")
    assert sorted(hlog.subjects.values_list("person_id", flat=True)) == sorted([head, wife, child])
    selectors.person_history(actor=world, person_id=head)
    assert _logs("person.history")[0].person_count == 1


def test_not_found_and_empty_results_are_logged(world):
    with pytest.raises(NotFoundError):
        selectors.person_get(actor=world, person_id=999999)
    (log,) = _logs("person.view")
    assert log.outcome == "not_found" and log.criteria["person_id"] == 999999
    selectors.households_without_head(actor=world)
    assert _logs("household.head_absent_list")[0].outcome == "empty"


def test_refused_reads_are_logged(world, family, auditor, terminal):
    nosy = Actor(user=auditor, terminal=terminal)  # auditors read logs, not residents
    with pytest.raises(AccessDenied):
        selectors.person_get(actor=nosy, person_id=ids(family)[0])
    (log,) = _logs("person.view")
    assert log.outcome == "denied" and log.user == auditor


def test_refused_change_is_logged_after_the_rollback(world, family):
    from juki.core.errors import DomainError, ErrorCode
    from ..conftest import person_input

    with pytest.raises(DomainError) as err:
        move_in_family(world, members=[person_input(relationship="祖父")])
    assert err.value.code == ErrorCode.INVALID_RELATIONSHIP
    failed = _logs("change.move_in")[-1]
    assert failed.outcome == "invalid_relationship" and failed.user == world.user


def test_successful_change_log_is_in_the_same_transaction(world, family):
    log = _logs("change.move_in")[0]
    assert log.outcome == "ok" and log.person_count == 3
    assert AccessLogSubject.objects.filter(log=log).count() == 3


def test_access_log_criteria_never_hold_a_my_number(world):
    from juki.audit import gate
    from juki.accounts.permissions import Perm

    with gate.open(world, function="test.criteria", perm=Perm.PERSON_VIEW, criteria={"my_number": "123456789018"}):
        pass
    assert _logs("test.criteria")[0].criteria == {"my_number": "***"}


def test_a_refused_read_of_a_person_is_recorded_against_that_person(family, auditor, terminal):
    pid = ids(family)[0]
    with pytest.raises(AccessDenied):
        selectors.person_get(actor=Actor(user=auditor, terminal=terminal), person_id=pid)
    row = AccessLog.objects.get(user=auditor, function="person.view")
    assert row.outcome == "denied"
    # …so that the person's disclosure report lists the attempt too.
    assert list(AccessLogSubject.objects.filter(log=row).values_list("person_id", flat=True)) == [pid]


def test_a_device_and_a_system_job_hold_only_their_listed_rights(clerk, terminal, db):
    """A kiosk, like a system job, has no user: each holds its listed rights and nothing else (ADR 0011, 0019)."""
    from juki.core.errors import DomainError
    from juki.register.services.verification import change_commit

    device = Actor.device("kiosk:T", frozenset({"person.view"}))
    sweep = Actor.system_actor("seals-sweep")
    assert sweep.can("seal.manage") and not sweep.can("change.move_in") and not sweep.can("person.view")
    assert device.can("person.view")
    assert not device.can("change.move_in") and not device.can("person.change")
    # The API's direct commit: a device is refused (logged): it holds no change right.
    with pytest.raises(DomainError) as refused:
        change_commit(actor=device, operation="death", kwargs={})
    assert refused.value.code == "permission_denied"
    assert AccessLog.objects.filter(system="kiosk:T", function="change.death").exists()
