"""The typed read models (issue 13 item 5): a person's record as of a date with the reader's item
rights applied, its 本人確認情報, and the display dict made from the record."""
import dataclasses
import datetime as dt

import pytest

from juki.audit.gate import Actor
from juki.audit.models import AccessLog
from juki.register import read_models, selectors
from juki.register.read_models import IDENTITY_FIELDS, Identity, PersonRecord
from juki.core.errors import ErrorCode, NotFoundError
from juki.register.services.verification.rules import IDENTITY_FIELDS as USED_BY_VERIFICATION
from tests.conftest import days_ago, move_in_family


def _head(result):
    return result.persons[0]["id"]


def test_a_read_gives_a_typed_record_and_its_identity(world):
    result = move_in_family(world)
    read = selectors.person_read(actor=world, person_id=_head(result))
    record = read.record
    assert isinstance(record, PersonRecord) and dataclasses.is_dataclass(record)
    assert record.name.full == "青木　太郎" and record.birth_date == dt.date(1985, 4, 1)
    assert record.address.town_code and record.address.municipality_code == "401005"
    assert record.household_number and record.resident_code and not record.place_hidden
    identity = read_models.identity_of(record)
    assert isinstance(identity, Identity)
    assert (identity.family_name, identity.given_name, identity.resident_code) == ("青木", "太郎", record.resident_code)
    assert identity.address == record.address.display and identity.previous_address.startswith("福岡県福岡市")
    assert not hasattr(identity, "my_number")  # the number is never in a read model
    # The display dict is made from the record: the same values, dates with their 和暦.
    shown = read.as_dict()
    assert shown["name"]["family_name"] == record.name.family_name
    assert shown["birth_date"] == {"date": "1985-04-01", "display": "昭和60年4月1日"}
    assert shown["household_number"] == record.household_number and shown["latest_version"] == record.version


def test_a_record_hides_the_items_the_reader_may_not_see(world, viewer, terminal):
    result = move_in_family(world)
    record = selectors.person_read(actor=Actor(user=viewer, terminal=terminal), person_id=_head(result)).record
    assert record.domicile is None and record.domicile_head is None and record.resident_code is None
    assert "本籍・筆頭者" in record.hidden_items and "住民票コード" in record.hidden_items
    assert read_models.identity_of(record).resident_code is None  # hidden in the record, hidden in its identity


def test_a_record_as_of_a_date_is_the_version_of_that_date(world):
    head = _head(move_in_family(world, event_date=days_ago(60)))
    record = selectors.person_read(actor=world, person_id=head, as_of=days_ago(30)).record
    assert record.version == 1 and record.event_date == days_ago(60)
    assert AccessLog.objects.filter(function="person.view").latest("id").criteria["as_of"] == days_ago(30).isoformat()
    with pytest.raises(NotFoundError) as refused:  # before the 転入, the register has no record of them
        selectors.person_read(actor=world, person_id=head, as_of=days_ago(90))
    assert refused.value.code == ErrorCode.NOT_FOUND


def test_identity_fields_live_with_the_read_models():
    assert USED_BY_VERIFICATION is IDENTITY_FIELDS
    assert {"family_name", "birth_date", "sex", "town_code", "resident_code", "alias_name"} <= IDENTITY_FIELDS


def test_a_system_actors_change_is_shown_by_what_the_job_does():
    """The history's 操作者 for a change with no staff user: the system actor's listed label."""
    from juki.register.models import Change
    from juki.register.selectors import _operator_display

    assert _operator_display(Change(system="demo_setup", operation="move_in")) == "自動処理（デモの市の作成）"
    assert _operator_display(Change(system="seed", operation="seed")) == "移行データ"
    assert _operator_display(Change(system="old-job", operation="move_in")) == "自動処理（old-job）"
