"""A user's rights of the day travel with the user row (`Staff.rights_cache`, issue 19): a request
reads no grants, postings or contractor rows until a rights change empties the copy. The database's
triggers empty it on every write to those tables, whatever path writes them."""
from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext

from juki.accounts.models import Staff
from juki.accounts.permissions import Perm
from juki.core import clock
from juki.rights.backends import RightsBackend
from juki.rights.models import Grant, Posting, Section


def fresh(user) -> Staff:
    """The user as the next request loads it: a new object from its row."""
    return Staff.objects.get(pk=user.pk)


def rights_queries(user) -> tuple[bool, int]:
    with CaptureQueriesContext(connection) as ctx:
        held = user.has_juki_perm(Perm.PERSON_VIEW)
    return held, len(ctx.captured_queries)


def test_the_second_request_reads_its_rights_with_the_user_row(clerk):
    held, first = rights_queries(fresh(clerk))
    assert held and first >= 3  # posting, contractor check, grants (+ storing the copy)
    stored = fresh(clerk).rights_cache
    assert stored["key"].startswith(clock.today().isoformat()) and Perm.PERSON_VIEW in stored["perms"]
    assert rights_queries(fresh(clerk)) == (True, 0)


def test_a_grant_ended_by_plain_sql_empties_the_copy(clerk):
    rights_queries(fresh(clerk))
    version = fresh(clerk).rights_version
    past = clock.today() - dt.timedelta(days=10)
    assert Grant.objects.filter(user=clerk).update(valid_from=past, valid_until=past + dt.timedelta(days=1)) >= 1
    after = fresh(clerk)
    assert after.rights_cache is None and after.rights_version > version
    assert rights_queries(after)[0] is False


def test_a_grant_to_the_users_section_reaches_its_members(clerk):
    section = Section.objects.create(code="T-SEC", name="試験係")
    Posting.objects.filter(user=clerk, until__isnull=True).update(until=clock.today() - dt.timedelta(days=1))
    Posting.objects.create(user=clerk, section=section, since=clock.today())
    assert not fresh(clerk).has_juki_perm(Perm.SUPPORT_MEASURE_MANAGE)
    assert fresh(clerk).rights_cache is not None
    Grant.objects.create(section=section, perm=Perm.SUPPORT_MEASURE_MANAGE, valid_from=clock.today(),
                         valid_until=clock.today() + dt.timedelta(days=30))
    assert fresh(clerk).rights_cache is None
    assert fresh(clerk).has_juki_perm(Perm.SUPPORT_MEASURE_MANAGE)


def test_a_retirement_posting_empties_the_copy(clerk):
    rights_queries(fresh(clerk))
    Posting.objects.filter(user=clerk, until__isnull=True).update(until=clock.today() - dt.timedelta(days=1))
    Posting.objects.create(user=clerk, status=Posting.Status.RETIRED, since=clock.today())
    assert rights_queries(fresh(clerk))[0] is False


def test_a_computation_that_raced_with_a_change_is_not_stored(clerk):
    """Read the row (version v), a change comes in (v + 1), then store: the store must not land."""
    user = fresh(clerk)
    Grant.objects.create(user=clerk, perm=Perm.SUPPORT_MEASURE_MANAGE, valid_from=clock.today(),
                         valid_until=clock.today() + dt.timedelta(days=1))
    RightsBackend().juki_perms(user)  # computed from today's rows, but with the old version in hand
    assert fresh(clerk).rights_cache is None  # not kept: the next request computes again


def test_saving_an_object_loaded_earlier_does_not_put_back_an_emptied_copy(clerk):
    stale = fresh(clerk)
    stale.has_juki_perm(Perm.PERSON_VIEW)
    assert stale.rights_cache is not None
    Grant.objects.filter(user=clerk).delete()
    stale.full_name = "改姓後の氏名"
    stale.save()
    after = fresh(clerk)
    assert after.full_name == "改姓後の氏名" and after.rights_cache is None
    assert not after.has_juki_perm(Perm.PERSON_VIEW)
