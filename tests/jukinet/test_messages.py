"""What a 異動 tells other cities and what they tell this one (juki.jukinet.messages, issue 15), in this
process: the messages built from the outbox, the 特例転入's certificates used once, and the 転入通知 that
confirms a 転出 by itself or is listed."""
import datetime as dt

import pytest

from juki.audit.gate import Actor
from juki.audit.models import AccessLog, Category
from juki.core import mynumber
from juki.core.errors import DomainError, ErrorCode
from juki.jukinet import messages
from juki.jukinet.models import Received, TransferRequest, UpdateError
from juki.network.wire import Unreachable
from juki.register.services import changes, inbound, outbox
from juki.register.services.people import Address
from juki.register.services.seed import my_number_for

from ..conftest import KOKURA_JOUNAI, days_ago, move_in_family, person_input
from ..register.helpers import ids, person, ref

S2 = Actor.system_actor("jukinet")
UOMACHI = "40106002000"


def events() -> list[dict]:
    return outbox.outbox_read(actor=S2, destination="jukinet", limit=100)["events"]


def test_a_move_within_the_city_notifies_each_person_s_honseki(world):
    members = [person_input(domicile="東京都千代田区千代田1番"),
               person_input(given_name="花子", given_name_kana="ハナコ", sex=2, relationship="妻",
                            domicile="福岡県北九州市小倉北区城内1番"),
               person_input(given_name="一郎", given_name_kana="イチロウ", relationship="子", domicile="ハワイ州")]
    family = ids(move_in_family(world, members=members))
    changes.move_within_city(actor=world, event_date=days_ago(1), notified_on=days_ago(1),
                             persons=[ref(p) for p in family], address=Address(UOMACHI, "8番"))
    out = messages.outgoing(events()[-1:], S2)
    assert [(m["to"], m["kind"], m["body"]["name"]) for m in out.mail] == [
        ("131016", "family_register_notice", "青木　太郎")]  # 千代田区 is another city: through the CS
    assert out.mail[0]["body"]["address"].startswith("福岡県北九州市小倉北区魚町")
    assert [k["items"]["name"] for k in out.koseki] == ["青木　花子"]  # 本籍 here: this city's 戸籍附票システム
    assert out.unknown_domicile == 1  # a 本籍地 the directory does not know: the clerk's paper notice
    assert not out.holds and not out.cards
    assert AccessLog.objects.filter(function="jukinet.send.family_register_notice",
                                    category=Category.PROVISION).exists()


def test_a_special_move_out_holds_the_certificates_with_the_number(world):
    members = [person_input(my_number=my_number_for(1, 3)),
               person_input(given_name="花子", given_name_kana="ハナコ", sex=2, relationship="妻")]
    family = ids(move_in_family(world, members=members))
    changes.move_out(actor=world, event_date=days_ago(1), notified_on=days_ago(1), persons=[ref(p) for p in family],
                     destination_address="福岡県福岡市東区箱崎一丁目1番1号", special=True)
    out = messages.outgoing(events()[-1:], S2)
    (hold,) = out.holds
    head, wife = hold["certificates"]
    assert head["special"] and wife["special"]
    assert (head["name"], head["relationship"], head["head_name"], head["my_number"]) == (
        "青木　太郎", "世帯主", "青木　太郎", my_number_for(1, 3))
    assert wife["my_number"] is None and wife["move_out_address"] == "福岡県福岡市東区箱崎一丁目1番1号"
    assert head["address"].startswith("福岡県北九州市小倉北区城内1番1号")
    log = AccessLog.objects.get(function="jukinet.send.transfer_certificate")
    assert log.my_number_accessed and log.category == Category.PROVISION


def test_an_ordinary_move_out_is_held_unmarked_and_abroad_cannot_be_special(world):
    family = ids(move_in_family(world))
    with pytest.raises(DomainError) as refused:
        changes.move_out(actor=world, event_date=days_ago(1), notified_on=days_ago(1), persons=[ref(family[0])],
                         destination_address="アメリカ合衆国", abroad=True, special=True)
    assert refused.value.code == ErrorCode.INVALID_INPUT and refused.value.field == "special"
    changes.move_out(actor=world, event_date=days_ago(1), notified_on=days_ago(1), persons=[ref(p) for p in family],
                     destination_address="福岡県福岡市東区箱崎一丁目1番1号")
    (hold,) = messages.outgoing(events()[-1:], S2).holds  # for a paper 転出証明書's look-up, not a card's
    assert [c["special"] for c in hold["certificates"]] == [False, False, False]


def received_certificates(group="g1", from_municipality="401307", number=None) -> list:
    request = TransferRequest.objects.create(group=group, resident_code="x", from_municipality=from_municipality)
    certs = [{"resident_code": "51234567890", "family_name": "加藤", "given_name": "一郎", "name": "加藤　一郎",
              "relationship": "世帯主", "address": "福岡県福岡市東区箱崎一丁目1番1号", "my_number": number}]
    inbound.transfer_certificates_received(actor=S2, group=group, from_municipality=from_municipality,
                                           certificates=certs)
    return request


def special_move_in(world, certificate_id, municipality="401307"):
    return changes.move_in(
        actor=world, event_date=days_ago(1), notified_on=days_ago(1), origin="domestic",
        persons=[{**person_input(family_name="加藤", given_name="一郎", family_name_kana="カトウ",
                                 given_name_kana="イチロウ"), "transfer_certificate": certificate_id}],
        destination=changes.NEW, address=Address(KOKURA_JOUNAI, "3番"), previous_address="福岡県福岡市東区箱崎一丁目1番1号",
        previous_municipality_code=municipality)


def test_a_special_move_in_records_the_certificate_s_code_and_number_once(world):
    from juki.register import selectors
    from juki.register.models import TransferCertificate

    number = my_number_for(2, 3)
    received_certificates(number=number)
    (cert,) = selectors.transfer_certificates(actor=world, group="g1")
    assert cert["has_my_number"] and "my_number" not in cert  # the clerk is never shown it
    result = special_move_in(world, cert["id"])
    (new,) = ids(result)
    record = person(new, reveal_my_number=True)
    assert record["resident_code"] == "51234567890" and record["my_number"] == number
    with pytest.raises(DomainError) as again:
        special_move_in(world, cert["id"])
    assert again.value.code == ErrorCode.TRANSFER_CERTIFICATE_USED
    # The number is kept sealed, as every 個人番号 is.
    with gate_read():
        stored = TransferCertificate.objects.get(pk=cert["id"])
    assert number.encode() not in bytes(stored.my_number_cipher) and stored.my_number_digest == mynumber.digest(number)


def gate_read():
    from juki.audit import gate

    return gate.open(S2, function="test.read", perm="identity.link")


@pytest.mark.parametrize("municipality,code,field", [
    ("402036", ErrorCode.NOT_FOUND, "transfer_certificate"),  # the certificate came from another city
    ("401005", ErrorCode.INVALID_INPUT, "previous_municipality_code"),  # this city itself
    ("401006", ErrorCode.INVALID_INPUT, "previous_municipality_code"),  # a wrong check digit
])
def test_a_special_move_in_is_refused_with_a_wrong_origin(world, municipality, code, field):
    received_certificates()
    from juki.register import selectors

    (cert,) = selectors.transfer_certificates(actor=world, group="g1")
    with pytest.raises(DomainError) as refused:
        special_move_in(world, cert["id"], municipality=municipality)
    assert (refused.value.code, refused.value.field) == (code, field)


def test_a_move_in_notice_confirms_the_move_out_and_an_unknown_one_is_refused(world):
    family = ids(move_in_family(world))
    changes.move_out(actor=world, event_date=days_ago(3), notified_on=days_ago(3), persons=[ref(p) for p in family],
                     destination_address="福岡県福岡市東区箱崎一丁目1番1号")
    code = person(family[0])["resident_code"]
    inbound.move_in_notice(actor=S2, resident_code=code, moved_on=days_ago(2), notice_on=dt.date.today(),
                           address="福岡県福岡市東区箱崎一丁目2番")
    record = person(family[0])
    assert record["reason"] == "move_out_confirmed"
    assert record["move_out"]["confirmed_address"] == "福岡県福岡市東区箱崎一丁目2番"
    # A resent notice with another address corrects it [690].
    inbound.move_in_notice(actor=S2, resident_code=code, moved_on=days_ago(2), notice_on=dt.date.today(),
                           address="福岡県福岡市東区箱崎一丁目3番")
    assert person(family[0])["move_out"]["confirmed_address"].endswith("3番")
    with pytest.raises(DomainError) as refused:
        inbound.move_in_notice(actor=S2, resident_code="51234567890",  # valid, and nobody's here
                               moved_on=days_ago(2), notice_on=dt.date.today(), address="x")
    assert refused.value.code == ErrorCode.NOTICE_UNMATCHED
    assert AccessLog.objects.filter(function="jukinet.receive.move_in_notice", category=Category.PROVISION).exists()


class Inbox:
    """The CS's inbox as S2 reads it, for the handlers' own tests (the real one: test_two_cities)."""

    def __init__(self, messages_):
        self.messages = messages_

    def call(self, method, path, body=None):
        after = int(path.split("after=")[1])
        return 200, {"messages": [m for m in self.messages if m["id"] > after]}


def test_pulled_notices_are_applied_or_listed_once(world):
    family = ids(move_in_family(world))
    changes.move_out(actor=world, event_date=days_ago(3), notified_on=days_ago(3), persons=[ref(family[0])],
                     destination_address="福岡県福岡市東区箱崎一丁目1番1号", new_head=family[1])
    code = person(family[0])["resident_code"]
    inbox = Inbox([
        {"id": 1, "sender": "401307", "kind": "move_in_notice", "message_id": "a",
         "body": {"resident_code": code, "moved_on": days_ago(2).isoformat(), "address": "福岡県福岡市東区箱崎一丁目2番"}},
        {"id": 2, "sender": "401307", "kind": "move_in_notice", "message_id": "b",
         "body": {"resident_code": "51234567890", "moved_on": days_ago(2).isoformat(), "address": "x"}},
        {"id": 3, "sender": "401307", "kind": "move_in_notice", "message_id": "c", "body": {"moved_on": "昨日"}},
        {"id": 4, "sender": "401307", "kind": "transfer_certificate", "message_id": "d",
         "body": {"request_id": "nobody", "found": True, "certificates": []}},
    ])
    assert messages.pull(inbox, None) == {"move_in_notice:applied": 1, "move_in_notice:unmatched": 1,
                                          "move_in_notice:failed": 1, "transfer_certificate:unmatched": 1}
    assert messages.pull(inbox, None) == {}  # from its cursor: nothing twice
    applied = Received.objects.get(message_id="a")
    assert applied.person_id == family[0] and applied.change_id
    assert Received.objects.get(message_id="c").error == "invalid_notice"
    assert Received.objects.get(message_id="b").error == "notice_unmatched"
    assert b"resident_code" not in bytes(applied.cipher)  # sealed


def test_a_corrected_name_is_notified_to_the_honseki_and_an_unchanged_one_is_not(world):
    (head,) = ids(move_in_family(world, members=[person_input(domicile="東京都千代田区千代田1番")]))
    changes.ex_officio_correction(actor=world, event_date=days_ago(1), person=ref(head), changes={"given_name": "太朗"},
                                  note="戸籍との照合")
    changes.ex_officio_correction(actor=world, event_date=days_ago(1), person=ref(head),
                                  changes={"family_name_kana": "アヲキ"}, note="フリガナのみ")
    renamed, kana_only = events()[-2:]
    out = messages.outgoing([renamed], S2)
    assert [(m["to"], m["body"]["name"]) for m in out.mail] == [("131016", "青木　太朗")]
    assert messages.outgoing([kana_only], S2).mail == []


def test_a_message_that_cannot_be_taken_is_kept_as_an_error_and_the_rest_go_on(world):
    inbox = Inbox([
        {"id": 1, "sender": "401307", "kind": "move_in_notice", "message_id": "a",
         "body": {"resident_code": "51234567890", "moved_on": days_ago(2).isoformat(), "address": "x" * 400}},
        {"id": 2, "sender": "401307", "kind": "wide_area_answer", "message_id": "b", "body": {"request_id": []}},
        {"id": 3, "sender": "401307", "kind": "move_in_notice", "message_id": "c",
         "body": {"resident_code": "51234567890", "moved_on": days_ago(2).isoformat(), "address": "y"}},
    ])
    counts = messages.pull(inbox, None)
    assert sum(counts.values()) == 3 and Received.objects.count() == 3
    assert Received.objects.get(message_id="c").state == Received.State.UNMATCHED  # read past the others


def test_a_protected_person_s_new_address_is_not_listed(world, support, sup_actor):
    from ..protection.helpers import move_in_victim, protect

    victim = move_in_victim(world)
    changes.move_out(actor=support, event_date=days_ago(3), notified_on=days_ago(3), persons=[ref(victim["mother"])],
                     destination_address="福岡県福岡市", new_head=victim["child"],
                     new_head_relationships={victim["child"]: "世帯主"})
    protect(support, victim)
    from juki.audit import gate
    from juki.register.models import Person

    with gate.open(S2, function="test.read", perm="identity.link"):
        code = Person.objects.get(pk=victim["mother"]).current.resident_code
    messages.pull(Inbox([{"id": 1, "sender": "401307", "kind": "move_in_notice", "message_id": "a", "body": {
        "resident_code": code, "name": "山田　花子", "moved_on": days_ago(2).isoformat(),
        "address": "福岡県福岡市東区箱崎一丁目2番"}}]), None)
    from juki.jukinet import operations

    (row,) = operations.received(actor=sup_actor, kind="move_in_notice", open_only=False)
    assert row["row"].person_id == victim["mother"] and row["body"]["address"] == "（支援措置のため表示しません）"


class Peer:
    """A CS or 戸籍附票システム that answers each path as told (the real ones: test_two_cities)."""

    def __init__(self, **answers):
        self.answers, self.calls = answers, []

    def call(self, method, path, body=None):
        self.calls.append(path)
        for prefix, answer in self.answers.items():
            if path.startswith(prefix.replace("_", "/")):
                return answer(body) if callable(answer) else answer
        return 200, {}


def test_a_notice_refused_for_good_is_an_error_and_the_outbox_goes_on(world, identity_manager):
    family = ids(move_in_family(world))
    changes.move_within_city(actor=world, event_date=days_ago(1), notified_on=days_ago(1),
                             persons=[ref(p) for p in family], address=Address(UOMACHI, "8番"))
    batch = events()[-1:]
    away = Peer(_fuhyo=(503, {"code": "down"}))
    with pytest.raises(Unreachable):  # away: the batch comes again
        messages.send(Peer(), away, batch, S2)
    refusing = Peer(_fuhyo=(422, {"code": "item_required"}))
    out = messages.send(Peer(), refusing, batch, S2)
    assert refusing.calls == ["/fuhyo/batch"] + ["/fuhyo"] * 3 and len(out.koseki) == 3
    errors = UpdateError.objects.filter(kind="notice").order_by("id")
    assert [e.errors[0]["code"] for e in errors] == ["item_required"] * 3
    assert {e.person_id for e in errors} == set(family)
    from juki.jukinet import operations

    manager = Actor(user=identity_manager, terminal=world.terminal)
    with pytest.raises(DomainError) as no_resend:  # not a 本人確認情報 to correct at the CS
        operations.resend(actor=manager, cs=Peer(), error_id=errors[0].id, note="再送")
    assert no_resend.value.code == ErrorCode.INVALID_INPUT


def test_the_service_reads_the_move_out_city_from_the_previous_address(world):
    """The 転入通知's address is the register's rule (住基法第9条第1項), in the service for form and API alike."""
    from juki.audit import gate
    from juki.register.models import Person

    fukuoka = ids(move_in_family(world, members=[person_input()]))[0]  # 転入前住所: 福岡県福岡市博多区…
    own = ids(changes.move_in(
        actor=world, event_date=days_ago(30), notified_on=days_ago(30), origin="domestic",
        persons=[person_input(given_name="次郎", birth_date=dt.date(1990, 1, 1))], destination=changes.NEW,
        address=Address(KOKURA_JOUNAI, "2番"), previous_address="福岡県北九州市八幡西区黒崎一丁目1番"))[0]
    with gate.open(S2, function="test.read", perm="identity.link"):
        codes = {pid: Person.objects.get(pk=pid).current.previous_municipality_code for pid in (fukuoka, own)}
    assert codes == {fukuoka: "401307", own: ""}  # this city itself names no 転出地 to notify
    with pytest.raises(DomainError) as refused:
        changes.move_out(actor=world, event_date=days_ago(1), notified_on=days_ago(1), persons=[ref(fukuoka)],
                         destination_address="アメリカ合衆国", abroad=True, special=True)
    assert (refused.value.code, refused.value.field) == (ErrorCode.INVALID_INPUT, "special")
