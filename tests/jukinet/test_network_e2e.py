"""End to end on loopback: the prefecture server and J-LIS, and the city's CS, each a real process
with its own store, mutual TLS between them; the register and its 住基ネット連携 (S2) in this process."""
import threading

import pytest

from juki.audit.gate import Actor
from juki.jukinet import services
from juki.core.checkdigits import is_valid_my_number
from juki.jukinet.models import NumberRequest, UpdateError
from juki.network.wire import Unreachable
from juki.register import selectors
from juki.register.services import changes
from juki.register.services.people import Address

from ..conftest import days_ago, move_in_family, person_input
from ..network_fixtures import at_prefecture, codes_of, drain, net, until  # noqa: F401 (net: a fixture)
from ..helpers import last_log
from ..register.helpers import href, ids, ref

UOMACHI = "40106002000"


def test_a_move_at_the_counter_reaches_the_prefecture_server(world, net):
    family = move_in_family(world)
    head, wife, child = ids(family)
    assert drain(net).sent == 3
    code = codes_of([head])[head]
    assert until(lambda: at_prefecture(net, code))["items"]["address"].endswith("城内1番1号")
    changes.move_within_city(actor=world, event_date=days_ago(1), notified_on=days_ago(1),
                             persons=[ref(head), ref(wife), ref(child)], address=Address(UOMACHI, "8番"))
    run = drain(net)
    assert (run.events, run.sent, run.rejected) == (1, 3, 0)
    record = until(lambda: (r := at_prefecture(net, code)) and "魚町" in r["items"]["address"] and r)
    assert record["municipality"] == "401005" and record["items"]["reason"] == "move_within_city"
    assert record["items"]["name"] == "青木　太郎" and record["items"]["name_kana_seion"] == "アオキ　タロウ"
    # The outbox cursor moved past both events: nothing is sent twice.
    assert services.consume(net.s2()).events == 0


def test_a_refused_update_lands_in_the_error_queue(world, net):
    family = move_in_family(world)
    head, wife, child = ids(family)
    drain(net)
    code = codes_of([head])[head]
    # The CS's record and the register disagree (as after a direct correction at the CS): the CS has
    # another name, so a 転居 would change more than the address there (C13).
    status, answer = net.s2().call("POST", "/updates", {"message_id": "direct-1", "kind": "update", "items": {
        **until(lambda: at_prefecture(net, code))["items"], "name": "青木　太朗", "reason": "ex_officio_correction"}})
    assert status == 200 and answer["outcome"] == "accepted"
    changes.move_within_city(actor=world, event_date=days_ago(1), notified_on=None,
                             persons=[ref(head), ref(wife), ref(child)], address=Address(UOMACHI, "8番"))
    run = drain(net)
    assert (run.sent, run.rejected) == (2, 1)  # the wife and the child go through
    error = UpdateError.objects.get()
    assert error.person_id == head and error.state == "open" and error.reason == "move_within_city"
    assert [(e["code"], e["item"]) for e in error.errors] == [("move_changes_more_than_address", "name")]
    assert "青木" not in str(error.errors)  # codes and items' names, never their values


@pytest.mark.parametrize("name", ["expired", "forged"])
def test_a_peer_refuses_an_expired_or_forged_client_certificate(net, name):
    before = net.s2().call("GET", "/status")[1]["refused_handshakes"]
    for peer in ("prefecture", "national", "jlis", "cards", "cs"):
        with pytest.raises(Unreachable):
            net.client(peer, name).call("GET", "/status")
    # The CS counts it as a refused handshake, not as some other failure to connect.
    assert net.s2().call("GET", "/status")[1]["refused_handshakes"] == before + 1
    assert net.client("prefecture").call("GET", "/status")[0] == 200  # the real one is let in


def test_the_cs_answers_only_its_own_citys_s2(net):
    status, answer = net.client("cs", "cs-401005").call("GET", "/status")  # a valid certificate, the wrong party
    assert (status, answer["code"]) == (403, "not_this_city_s2")


def test_prefecture_down_for_a_while_nothing_lost_and_delivered_in_order(world, net):
    net.stop_peer("prefecture")
    family = move_in_family(world)
    head, wife, child = ids(family)
    changes.move_within_city(actor=world, event_date=days_ago(1), notified_on=None,
                             persons=[ref(head), ref(wife), ref(child)], address=Address(UOMACHI, "8番"))
    assert drain(net).sent == 6  # the CS took them all and queues them
    status = until(lambda: (s := net.s2().call("GET", "/status")[1])["head"] and s["head"]["attempts"] >= 2 and s)
    assert status["pending"] == 6 and status["sent"] == 0
    net.restart_peer("prefecture")
    until(lambda: net.s2().call("GET", "/status")[1]["sent"] == 6, timeout=60)
    status, log = net.client("prefecture").call("GET", "/updates?after=0")
    assert [u["seq"] for u in log["updates"]] == [1, 2, 3, 4, 5, 6]
    assert [u["kind"] for u in log["updates"]] == ["entry"] * 3 + ["update"] * 3
    code = codes_of([head])[head]
    assert "魚町" in at_prefecture(net, code)["items"]["address"]


def test_kill_9_of_the_cs_mid_batch_loses_nothing_and_applies_nothing_twice(world, net):
    for family_name in ("青木", "赤井", "黒田"):
        move_in_family(world, members=[
            person_input(family_name=family_name, given_name=f"{i}郎", given_name_kana="タロウ",
                         relationship="世帯主" if i == 0 else "子") for i in range(12)])
    expected = 36
    # S2 sends (here, in the test's transaction) while another thread kills the CS as soon as its first
    # updates went on to the prefecture: mid-batch on both of its sides.
    def killer():
        prefecture = net.client("prefecture")
        until(lambda: prefecture.call("GET", "/status")[1]["cities"].get("401005", 0) >= 3, step=0.005)
        net.kill_cs()

    watcher = threading.Thread(target=killer)
    watcher.start()
    first = drain(net, chunk=2)  # many calls, so that the kill falls between two of them
    watcher.join(timeout=30)
    assert first.unreachable and first.sent < expected
    net.start_cs()
    run = drain(net)
    assert not run.unreachable
    until(lambda: net.s2().call("GET", "/status")[1]["sent"] == expected, timeout=60)
    status = net.s2().call("GET", "/status")[1]
    assert status["records"] == expected and status["pending"] == 0 and status["dead_letters"] == []
    _, log = net.client("prefecture").call("GET", "/updates?after=0")
    assert [u["seq"] for u in log["updates"]] == list(range(1, expected + 1))  # each once, in order
    assert len({u["resident_code"] for u in log["updates"]}) == expected
    assert services.consume(net.s2()).events == 0


@pytest.mark.django_db(transaction=True)  # the snapshot takes its own transaction (REPEATABLE READ on PostgreSQL)
def test_the_cs_starts_from_the_registers_snapshot_then_follows_the_outbox(world, net):
    family = move_in_family(world)
    head, wife, child = ids(family)
    changes.death(actor=world, event_date=days_ago(2), notified_on=days_ago(1), persons=[ref(child)])
    loaded = services.load(net.s2())
    # The position is the last outbox event's id (ids are not reset between transactional tests).
    assert (loaded["accepted"], loaded["rejected"]) == (3, 0) and loaded["position"] >= 2
    status = until(lambda: (s := net.s2().call("GET", "/status")[1])["sent"] == 3 and s)
    assert status["records"] == 3
    assert services.consume(net.s2()).events == 0  # the snapshot includes both events
    codes = codes_of([head, child])
    assert until(lambda: at_prefecture(net, codes[child]))["items"]["status"] == "remove"
    changes.move_within_city(actor=world, event_date=days_ago(1), notified_on=None, persons=[ref(head), ref(wife)],
                             address=Address(UOMACHI, "8番"))
    assert drain(net).sent == 2
    assert until(lambda: (r := at_prefecture(net, codes[head])) and "魚町" in r["items"]["address"])


def test_a_birth_gets_its_my_number_from_jlis_without_anyone_typing_it(world, net):
    family = move_in_family(world)
    born = changes.birth(actor=world, event_date=days_ago(2), notified_on=days_ago(1),
                         child={"family_name": "青木", "given_name": "二郎", "sex": 1, "relationship": "子"},
                         destination=href(family.households[0]["id"]))
    baby = ids(born)[0]
    drain(net)
    # Everyone recorded without a 個人番号 is asked for (the family's 転入 here had none either).
    assert set(NumberRequest.objects.values_list("person_id", flat=True)) == {*ids(family), baby}
    assert services.answer_numbers(net.s2()) == {"answered": 4, "failed": 0, "waiting": 0}
    asked = last_log("jukinet.numbers")  # the 住民票コード went out to J-LIS: a provision (C07)
    assert asked.category == "provision" and set(asked.subjects.values_list("person_id", flat=True)) == {
        *ids(family), baby}
    request = NumberRequest.objects.get(person_id=baby)
    assert request.state == "answered" and request.change_id
    number = selectors.linked_identities(actor=Actor.system_actor("jukinet"), versions=[(baby, 2)])[(baby, 2)].my_number
    assert is_valid_my_number(number)
    row = last_log("change.my_number")
    assert row.system == "jukinet" and row.user_id is None and row.criteria["source"] == "jlis"
    assert number not in str(row.criteria)
    # The change goes out like any other: the CS and the prefecture get the number with the update.
    assert drain(net).sent == 4
    code = codes_of([baby])[baby]
    assert until(lambda: (r := at_prefecture(net, code)) and r["items"].get("my_number") == number)
    assert services.answer_numbers(net.s2()) == {"answered": 0, "failed": 0, "waiting": 0}


def test_a_number_request_without_an_answer_waits_and_is_listed(world, net):
    head = ids(move_in_family(world, members=[person_input()]))[0]
    drain(net)
    net.stop_peer("jlis")
    assert services.answer_numbers(net.s2()) == {"answered": 0, "failed": 0, "waiting": 1}
    request = NumberRequest.objects.get(person_id=head)
    assert (request.state, request.attempts, request.last_error) == ("pending", 1, "jlis_unreachable")
    net.restart_peer("jlis")
    assert services.answer_numbers(net.s2()) == {"answered": 1, "failed": 0, "waiting": 0}


def test_the_stock_of_resident_codes_comes_from_the_cs(world, net):
    from juki.register.models import ResidentCodeStock

    before = ResidentCodeStock.objects.filter(used=False).count()
    assert services.fill_stock(net.s2(), count=25) == 25
    assert ResidentCodeStock.objects.filter(used=False).count() == before + 25
    assert last_log("jukinet.inbound.resident_codes").system == "jukinet"


def test_consistency_check_lists_a_planted_difference_by_code_and_item(world, net):
    import sqlite3

    from juki.network import consistency

    head, wife, child = ids(move_in_family(world))
    drain(net)
    codes = codes_of([head, wife, child])
    until(lambda: net.s2().call("GET", "/status")[1]["sent"] == 3)
    status, answer = net.s2().call("POST", "/consistency/run", {"peer": "prefecture"})
    assert (status, answer["differing"]) == (200, 0)
    # Plant two differences in the prefecture's own store: a changed address and a missing record.
    db = sqlite3.connect(net.dir / "prefecture.sqlite3")
    (items,) = db.execute("SELECT items FROM records WHERE resident_code = ?", (codes[wife],)).fetchone()
    import json

    record = json.loads(items)
    record["address"] = "小倉北区城内9番9号"
    status_value = record.pop("status")
    db.execute("UPDATE records SET items = ?, digest = ? WHERE resident_code = ?",
               (json.dumps({**record, "status": status_value}, ensure_ascii=False),
                consistency.digest_of(record, status_value, consistency.key(net.dir)), codes[wife]))
    db.execute("DELETE FROM records WHERE resident_code = ?", (codes[child],))
    db.commit()
    db.close()
    status, answer = net.s2().call("POST", "/consistency/run", {"peer": "prefecture"})
    assert (status, answer["differing"]) == (200, 2)
    run = net.s2().call("GET", "/consistency/runs")[1]["runs"][0]
    assert sorted((d["resident_code"], d["item"], d["local"], d["remote"]) for d in run["differences"]) == sorted([
        (codes[wife], "address", "北九州市小倉北区城内1番1号", "小倉北区城内9番9号"),  # the register's, and the planted
        (codes[child], "(record)", "あり", "なし")])
    assert run["records"] == 3 and run["stats"]["round_trips"] <= 4


def test_national_identification_with_the_two_item_rule(world, net, identity_manager, terminal):
    from juki.core.errors import DomainError, ErrorCode
    from juki.jukinet import operations

    head = ids(move_in_family(world))[0]
    drain(net)
    until(lambda: net.client("national").call("GET", "/status")[1]["records"] == 3, timeout=30)
    manager = Actor(user=identity_manager, terminal=terminal)
    found = operations.identify(actor=manager, cs=net.s2(), query={"name": "青木　太郎", "birth_date": "1985-04-01"})
    assert found["count"] == 1 and found["matches"][0]["resident_code"] == codes_of([head])[head]
    assert "my_number" not in found["matches"][0]
    row = last_log("jukinet.identify")
    assert row.criteria["items"] == ["birth_date", "name"] and "青木" not in str(row.criteria)
    with pytest.raises(DomainError) as refused:
        operations.identify(actor=manager, cs=net.s2(), query={"name": "青木　太郎", "sex": "1"})
    assert refused.value.code == ErrorCode.SEARCH_CRITERIA
    with pytest.raises(DomainError) as denied:
        operations.identify(actor=world, cs=net.s2(), query={"resident_code": codes_of([head])[head]})
    assert denied.value.code == ErrorCode.PERMISSION_DENIED


def test_a_certificate_restriction_reaches_the_cs_and_its_release_too(world, net, sup_actor):
    from juki.protection import services as protection

    head, wife, child = ids(move_in_family(world))
    drain(net)
    code = codes_of([head])[head]
    made = protection.restriction_set(actor=sup_actor, person_id=head, processes=["certificate"], reason="DV等支援の申出")
    protection.restriction_set(actor=sup_actor, person_id=wife, processes=["inquiry"], reason="照会のみの抑止",
                               level="alert")
    assert services.consume_restrictions(net.s2()) == 1  # only the 証明書発行 抑止 goes to the CS
    assert net.s2().call("GET", f"/suppressions/{code}")[1]["suppressed"] is True
    assert net.s2().call("GET", "/status")[1]["suppressions"] == 1
    protection.restriction_release(actor=sup_actor, restriction_id=made["id"])
    assert services.consume_restrictions(net.s2()) == 1
    assert net.s2().call("GET", f"/suppressions/{code}")[1]["suppressed"] is False
    assert services.consume_restrictions(net.s2()) == 0  # acknowledged: nothing again


def test_a_change_request_gets_a_new_number_from_jlis_once(world, net):
    from juki.jukinet import operations

    head = ids(move_in_family(world, members=[person_input()]))[0]
    drain(net)
    assert services.answer_numbers(net.s2())["answered"] == 1
    jukinet = Actor.system_actor("jukinet")
    first = selectors.linked_identities(actor=jukinet, versions=[(head, None)])
    (old,) = [li.my_number for li in first.values()]
    request = operations.my_number_change_request(actor=world, person_id=head, note="漏えいのおそれ（本人の請求）")
    assert request.kind == "change_request" and request.state == "pending"
    assert services.answer_numbers(net.s2()) == {"answered": 1, "failed": 0, "waiting": 0}
    (new,) = [li.my_number for li in selectors.linked_identities(actor=jukinet, versions=[(head, None)]).values()]
    assert is_valid_my_number(new) and new != old
    # J-LIS answers the same request with the same number: a retry after a crash changes nothing.
    status, again = net.s2().call("POST", "/my-numbers", {"resident_code": codes_of([head])[head], "reason": "change",
                                                          "request_id": request.source})
    assert (status, again["my_number"], again["new"]) == (200, new, False)
    assert last_log("jukinet.my_number_change_request").user_id == world.user.id


def test_fugo_comes_from_jlis_per_holder_and_never_reveals_the_code(world, net):
    head = ids(move_in_family(world, members=[person_input()]))[0]
    code = codes_of([head])[head]
    pension = services.fugo(net.s2(), person_id=head, resident_code=code, holder="年金機構")
    assert pension == services.fugo(net.s2(), person_id=head, resident_code=code, holder="年金機構")
    assert pension != services.fugo(net.s2(), person_id=head, resident_code=code, holder="健康保険組合")
    assert code not in pension and len(pension) == 32
    row = last_log("jukinet.fugo")  # the request took the 住民票コード out: a provision (C07)
    assert row.category == "provision" and row.system == "jukinet" and code not in str(row.criteria)
    assert pension not in str(row.criteria)
