"""法務省 (issue 15, P4, [960][970]) end to end on loopback: the 法務省's system and the network's exchange
and this city's CS are processes; the register and its link in this process. A 法務大臣からの通知 updates
a foreign resident's 在留期間 after the clerk's check; an unmatched one is listed; a 市町村通知 goes out
for a foreign resident's 転居."""
import pytest

from juki.audit.models import AccessLog
from juki.core.errors import DomainError, ErrorCode
from juki.jukinet import connection, messages, operations
from juki.jukinet.models import Received
from juki.network.wire import Client
from juki.register.services import changes
from juki.register.services.people import Address

from ..conftest import KOKURA_JOUNAI, days_ago
from ..network_fixtures import drain, net, until  # noqa: F401 (net: a fixture)
from ..register.helpers import ids, person, ref
from ..register.test_entries import FOREIGN

pytestmark = pytest.mark.django_db(transaction=True)


def moj(net) -> Client:
    return Client(net.url("moj"), directory=net.dir, name="operator", timeout=10)


def notify(net, message_id: str, **items) -> None:
    status, answer = moj(net).call("POST", "/notices", {"to": "401005", "message_id": message_id, "items": items})
    assert status == 200, answer


def pulled(net, message_id: str) -> Received | None:
    messages.pull(net.s2(), connection.koseki_client())
    return Received.objects.filter(kind="immigration_notice", message_id=message_id).first()


def test_a_notice_is_checked_and_applied_and_an_unknown_one_listed(world, sup_actor, net):
    (nguyen,) = ids(changes.foreign_move_in(actor=world, event_date=days_ago(30), notified_on=days_ago(30),
                                            persons=[FOREIGN], destination=changes.NEW,
                                            address=Address(KOKURA_JOUNAI, "5番"), previous_address=""))
    notify(net, "n-1", kind="change", residence_card_number="AB12345678CD", name="NGUYEN VAN AN",
           birth_date="1995-03-03", sex="1", period_of_stay="3年", stay_expires_on="2033-03-31",
           event_date=days_ago(1).isoformat())
    notify(net, "n-2", kind="change", residence_card_number="ZZ00000000ZZ", name="SOMEONE ELSE",
           birth_date="1990-01-01", sex="2", period_of_stay="1年")
    row = until(lambda: pulled(net, "n-1"), timeout=30, step=0.3)
    assert (row.state, row.person_id) == (Received.State.PENDING, nguyen)  # matched, waiting for the check
    unknown = until(lambda: pulled(net, "n-2"), timeout=30, step=0.3)
    assert unknown.state == Received.State.UNMATCHED
    assert [r["row"].message_id for r in operations.received(actor=sup_actor, kind="immigration_notice")] == ["n-2", "n-1"]

    clerk = sup_actor  # 係長: the 法務省通知 queue is a 住基ネット連携 screen (jukinet.operate)
    check = operations.immigration_check(actor=clerk, received_id=row.id)
    assert check["changes"] == {"period_of_stay": "3年", "stay_expires_on": "2033-03-31"}
    assert person(nguyen)["foreign"]["period_of_stay"] == "5年"  # nothing changes before the check
    change_id = operations.immigration_apply(actor=clerk, received_id=row.id)
    record = person(nguyen)
    assert record["foreign"]["period_of_stay"] == "3年" and record["foreign"]["stay_expires_on"]["date"] == "2033-03-31"
    assert record["change_id"] == change_id and record["reason"] == "ex_officio_correction"
    with pytest.raises(DomainError) as again:
        operations.immigration_apply(actor=clerk, received_id=row.id)
    assert again.value.code == ErrorCode.ALREADY_PROCESSED
    assert AccessLog.objects.filter(function="jukinet.receive.immigration_notice").exists()


def test_a_foreign_resident_s_move_is_notified_to_the_moj(world, net):
    (nguyen,) = ids(changes.foreign_move_in(actor=world, event_date=days_ago(30), notified_on=days_ago(30),
                                            persons=[FOREIGN], destination=changes.NEW,
                                            address=Address(KOKURA_JOUNAI, "5番"), previous_address=""))
    drain(net)
    changes.move_within_city(actor=world, event_date=days_ago(1), notified_on=days_ago(1), persons=[ref(nguyen)],
                             address=Address("40106002000", "8番"))
    drain(net)

    def received():
        status, answer = moj(net).call("GET", "/received?municipality=401005")
        return [n["items"] for n in answer["notices"] if n["items"]["reason"] == "転居"]

    (notice,) = until(received, timeout=30, step=0.3)
    assert notice["residence_card_number"] == "AB12345678CD" and notice["nationality"] == "ベトナム"
    assert notice["address"].startswith("福岡県北九州市小倉北区魚町一丁目8番")
    assert notice["event_date"] == days_ago(1).isoformat()
    assert AccessLog.objects.filter(function="jukinet.send.municipal_notice").exists()
