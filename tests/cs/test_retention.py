"""送付先情報 gone one business day after it was sent (C24) and FILE-2 history gone after five years
(C23), each purge recorded; the clock is passed in (frozen), holidays and 年末年始 included."""
import datetime as dt

import pytest
from django.utils import timezone

from juki.core.checkdigits import mod11_check_digit
from juki.cs import file3, services
from juki.cs.models import IdentityVersion, Outbound, Purge, Recipient, RecipientFile

from .test_file2 import code, items

pytestmark = pytest.mark.django_db(databases=["default", "cs"])
NUMBER = "12345678901" + str(mod11_check_digit("12345678901"))
JST = dt.timezone(dt.timedelta(hours=9))


def number_recorded(resident_code: str, message_id: str) -> None:
    services.receive({"message_id": f"{message_id}-in", "kind": "entry", "items": items(resident_code=resident_code)})
    answer = services.receive({"message_id": message_id, "kind": "update", "items": items(
        resident_code=resident_code, my_number=NUMBER, reason="my_number_ex_officio_entry")})
    assert answer["outcome"] == "accepted"


def file_sent_on(day: dt.date) -> RecipientFile:
    """A file of the records waiting, marked sent at 17:00 on `day` (as the sender does after J-LIS took it)."""
    file = RecipientFile.objects.create(file_id=f"f{day:%m%d}", count=Recipient.objects.filter(file=None).count(),
                                        created_at=timezone.now())
    Recipient.objects.filter(file=None).update(file=file)
    RecipientFile.objects.filter(pk=file.pk).update(sent_at=dt.datetime.combine(day, dt.time(17), tzinfo=JST))
    return file


def test_a_recorded_number_makes_a_file_3_record_sealed_with_the_59_items():
    number_recorded(code(), "1-1-2")
    record = Recipient.objects.get()
    assert NUMBER.encode() not in bytes(record.cipher)
    from juki.core import mynumber
    import json

    built = json.loads(mynumber.unseal_values(record.key_id, bytes(record.cipher))[0])
    assert list(built) == [k for k, _ in file3.ITEMS] and len(built) == 59
    assert built["my_number"] == NUMBER and built["name"] == "青木　太郎" and built["name_length"] == 5
    assert built["municipality_name"] == "北九州市" and built["substitution_result"] == 0


def test_a_plain_update_or_the_initial_load_makes_no_file_3_record():
    services.receive({"message_id": "a", "kind": "entry", "items": items(my_number=NUMBER), "initial": True})
    services.receive({"message_id": "b", "kind": "update", "items": items(my_number=NUMBER, reason="minor_correction")})
    assert Recipient.objects.count() == 0


def test_gaiji_are_substituted_with_their_positions():
    record = file3.build(items(name="𠮷田　髙子", address="小倉北区𪚲町1番"), my_number=NUMBER, recipient_number="1",
                         office=file3.DEMO_OFFICE, processed_on="2026-12-01")
    assert record["substitute_name"] == "吉田　高子" and record["substitute_name_positions"] == "1,4"
    assert record["substitute_address"] == "小倉北区〓町1番" and record["substitute_address_positions"] == "5"
    assert record["substitution_result"] == 2 and record["gaiji"] is True and record["name_gaiji"] == 2


@pytest.mark.parametrize("sent_on, kept_on, gone_on", [
    (dt.date(2026, 12, 4), dt.date(2026, 12, 6), dt.date(2026, 12, 7)),   # Friday → Monday (the weekend kept)
    (dt.date(2026, 12, 28), dt.date(2027, 1, 3), dt.date(2027, 1, 4)),    # before 年末年始 → the first day after it
    (dt.date(2027, 1, 8), dt.date(2027, 1, 11), dt.date(2027, 1, 12)),    # Friday → Tuesday (成人の日 on Monday)
    (dt.date(2026, 12, 2), dt.date(2026, 12, 2), dt.date(2026, 12, 3)),   # a Wednesday → Thursday
])
def test_recipients_are_gone_on_the_next_business_day(sent_on, kept_on, gone_on):
    number_recorded(code(), "1-1-2")
    file = file_sent_on(sent_on)
    assert services.purge_recipients(today=kept_on) == []
    assert Recipient.objects.count() == 1
    done = services.purge_recipients(today=gone_on)
    assert done == [{"file_id": file.file_id, "count": 1, "sent_on": sent_on.isoformat(), "due_on": gone_on.isoformat(),
                     "purged_on": gone_on.isoformat()}]
    assert Recipient.objects.count() == 0 and RecipientFile.objects.count() == 0
    purge = Purge.objects.get(kind="recipients")
    assert purge.count == 1 and purge.due_on == gone_on and len(purge.content_sha256) == 64
    assert services.recipients_report()["purged"][0]["file_id"] == file.file_id


def test_an_unsent_file_is_never_purged():
    number_recorded(code(), "1-1-2")
    RecipientFile.objects.create(file_id="waiting", count=1, created_at=timezone.now())
    Recipient.objects.update(file=RecipientFile.objects.get())
    assert services.purge_recipients(today=dt.date(2030, 1, 1)) == []
    assert Recipient.objects.count() == 1


def test_a_five_year_old_history_version_and_removed_record_are_erased_and_reported():
    services.receive({"message_id": "1", "kind": "entry", "items": items()})
    services.receive({"message_id": "2", "kind": "update", "items": items(reason="minor_correction", name="青木　太朗")})
    other = code("2234567890")
    services.receive({"message_id": "3", "kind": "entry", "items": items(resident_code=other)})
    services.receive({"message_id": "4", "kind": "remove", "items": items(resident_code=other, reason="death")})
    Outbound.objects.update(state=Outbound.State.SENT)
    five_years = dt.datetime(2021, 12, 6, 10, tzinfo=JST)
    IdentityVersion.objects.filter(superseded_at__isnull=False).update(superseded_at=five_years)
    IdentityVersion.objects.filter(resident_code=other, kind="remove").update(received_at=five_years)
    quiet = services.purge_history(today=dt.date(2026, 12, 5))  # a day short of five years: nothing goes
    assert (quiet["superseded_versions"], quiet["removed_records"]) == (0, 0)
    assert IdentityVersion.objects.count() == 4
    report = services.purge_history(today=dt.date(2026, 12, 7))
    assert (report["superseded_versions"], report["removed_records"], report["before"]) == (2, 1, "2021-12-07")
    assert list(IdentityVersion.objects.values_list("resident_code", "kind", "superseded_at")) == [
        (code(), "update", None)]
    assert Outbound.objects.count() == 1  # the sent queue rows of the erased versions went with them
    assert services.history_report()[0]["superseded_versions"] == 2
    assert Purge.objects.filter(kind="history").count() == 2  # the empty run is recorded too


def test_a_version_not_yet_at_the_prefecture_is_kept_whatever_its_age():
    services.receive({"message_id": "1", "kind": "entry", "items": items()})
    services.receive({"message_id": "2", "kind": "update", "items": items(reason="minor_correction", name="青木　太朗")})
    IdentityVersion.objects.filter(superseded_at__isnull=False).update(superseded_at=dt.datetime(2001, 1, 1, tzinfo=JST))
    assert services.purge_history(today=dt.date(2026, 12, 7))["superseded_versions"] == 0
    assert IdentityVersion.objects.count() == 2


def test_a_file_written_to_media_is_encrypted_and_recorded():
    from juki.cs.models import MediaExport

    number_recorded(code(), "1-1-2")
    file = file_sent_on(dt.date(2026, 12, 2))
    data = services.export_recipients(file.file_id, "媒体用のパスフレーズ2026")
    assert NUMBER.encode() not in data and "青木".encode() not in data and data.startswith(services.MEDIA_MAGIC)
    back = services.read_media(data, "媒体用のパスフレーズ2026")
    assert back["file_id"] == file.file_id and back["records"][0]["my_number"] == NUMBER
    from cryptography.exceptions import InvalidTag

    with pytest.raises(InvalidTag):
        services.read_media(data, "違うパスフレーズです2026")
    with pytest.raises(ValueError):
        services.export_recipients(file.file_id, "short")
    export = MediaExport.objects.get()
    assert export.count == 1 and len(export.content_sha256) == 64
