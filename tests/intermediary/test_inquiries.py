"""C18 over the real servers (J-LIS, the 情報提供ネットワークシステム and the platform, mutual TLS): an
inquiry answered with exactly the permitted items and sealed to the requester's key; an unpermitted
requester, 事務 or item refused with its reason and recorded; a 支援措置 person's inquiry held for the
city's staff; the 情報提供等記録 of each step."""
from __future__ import annotations

import base64

import pytest
from cryptography.exceptions import InvalidTag

from juki.core.checkdigits import mod11_check_digit
from juki.intermediary import inquiries, permits, sealing
from juki.network.infonet import requester_key

HEAD = {"unified_number": "100000000010", "status": "resident", "is_head": True, "head_name": "", "relationship": ""}
CHILD = {"unified_number": "100000000028", "status": "resident", "is_head": False, "head_name": "北九　太郎",
         "relationship": "子"}


def _code(serial: int) -> str:
    body = f"{serial:010d}"
    return body + str(mod11_check_digit(body))


def _person(net, record: dict, serial: int, *, city: str = "401005", no_auto: bool = False) -> str:
    """The 副本 row and the city's 符号 (P5's end: J-LIS's 符号 for the city's holder, tied by the city);
    returns the resident code the requesters know the person by."""
    code = _code(serial)
    status, made = net.jlis(f"cs-{city}").call("POST", "/fugo", {"resident_code": code, "holder": f"im-{city}"})
    assert status == 200
    im = net.client(f"im-{city}")
    assert im.call("POST", "/replica/changes", {"position": serial, "records": [{**record, "no_auto": no_auto}]})[0] == 200
    assert im.call("POST", "/fugo", {"unified_number": record["unified_number"], "fugo": made["fugo"]}) == (200, {"new": True})
    return code


def _ask(net, requester: str, code: str, *, provision=48, affair="048-1", items=("is_head", "head_name", "relationship"),
         provider="401005"):
    own = net.jlis(requester).call("POST", "/requesters/fugo", {"resident_code": code})[1]["fugo"]
    return net.net(requester).call("POST", "/inquiries", {"provider": provider, "provision": provision, "affair": affair,
                                                          "items": list(items), "fugo": own})


def _open(net, requester: str, answer: dict) -> dict:
    private, _ = requester_key(net.dir, requester)
    return sealing.open_sealed(private, answer["answer"], context=str(answer["inquiry_id"]))


def test_a_permitted_inquiry_is_answered_with_exactly_the_permitted_items_sealed_to_the_requester(network, tenant):
    code = _person(network, CHILD, 1)
    status, answer = _ask(network, "req-mhlw", code)
    assert status == 200 and answer["state"] == "answered" and answer["reason"] == ""
    assert _open(network, "req-mhlw", answer) == {"is_head": False, "head_name": "北九　太郎", "relationship": "子"}
    # Only that requester's key opens it: the network and another requester cannot.
    other_private, _ = requester_key(network.dir, "req-jasso")
    with pytest.raises(InvalidTag):
        sealing.open_sealed(other_private, answer["answer"], context=str(answer["inquiry_id"]))
    # Asked for one item, it gets one; a head is told he is one, no name.
    assert _open(network, "req-mhlw", _ask(network, "req-mhlw", code, items=["relationship"])[1]) == {"relationship": "子"}
    head = _person(network, HEAD, 2)
    assert _open(network, "req-jasso", _ask(network, "req-jasso", head, provision=106, affair="106-1")[1]) == {
        "is_head": True, "head_name": "", "relationship": ""}
    # The platform keeps no clear answer: the stored one is the sealed text.
    stored = tenant("401005").execute("SELECT answer FROM inquiry WHERE id = %s", (answer["inquiry_id"],)).fetchone()[0]
    assert stored == answer["answer"] and "北九" not in stored


@pytest.mark.parametrize(("requester", "provision", "affair", "items", "reason"), [
    ("req-jasso", 48, "048-1", ["is_head"], "requester_not_permitted"),  # 学生支援機構 is not 48's 照会者
    ("req-mhlw", 48, "106-1", ["is_head"], "affair_not_permitted"),  # another provision's 事務
    ("req-mhlw", 48, "048-1", ["is_head", "address"], "item_not_permitted"),  # 住所 is not 住民票関係情報 here
    ("req-mhlw", 5, "005-1", ["is_head"], "provision_not_permitted"),  # not one of the city's provisions
    ("req-mhlw", 48, "048-1", [], "items_required"),
    ("req-401307", 27, "027-1", ["is_head"], None),  # 福岡市長 (市町村長) for 地方税: permitted
])
def test_an_unpermitted_requester_affair_or_item_is_refused_with_its_reason_and_recorded(
        network, tenant, requester, provision, affair, items, reason):
    code = _person(network, CHILD, 3)
    status, answer = _ask(network, requester, code, provision=provision, affair=affair, items=items)
    assert status == 200
    if reason is None:
        assert answer["state"] == "answered"
        return
    assert (answer["state"], answer["reason"], answer["answer"]) == ("refused", reason, None)
    events = inquiries.records(tenant("401005"))
    assert [(e["event"], e["requester"], e["provision"], e["affair"], e["reason"]) for e in events] == [
        ("inquiry", requester, provision, affair, ""), ("refusal", requester, provision, affair, reason)]
    assert events[0]["items"] == sorted(items) and events[0]["unified_number"] == CHILD["unified_number"]


def test_a_support_measure_persons_inquiry_waits_for_the_staff_and_is_released_once(network, tenant):
    code = _person(network, CHILD, 4, no_auto=True)
    status, answer = _ask(network, "req-mhlw", code)
    assert (status, answer["state"], answer["answer"]) == (200, "held", None)
    asked = network.net("req-mhlw")
    assert asked.call("GET", f"/inquiries/401005/{answer['inquiry_id']}")[1]["state"] == "held"
    im = network.client("im-401005")
    queue = im.call("GET", "/inquiries?state=held")[1]["inquiries"]
    assert [(q["id"], q["requester"], q["provision"], q["unified_number"]) for q in queue] == [
        (answer["inquiry_id"], "req-mhlw", 48, CHILD["unified_number"])]
    # Another city's connector does not see it, nor can it decide it.
    assert network.client("im-401307").call("GET", "/inquiries?state=held")[1]["inquiries"] == []
    other = network.client("im-401307").call("POST", f"/inquiries/{answer['inquiry_id']}/review",
                                             {"staff": "suzuki", "release": True})
    assert (other[0], other[1]["code"]) == (422, "inquiry_not_found")
    assert im.call("POST", f"/inquiries/{answer['inquiry_id']}/review", {"staff": "tanaka", "release": True}) == (
        200, {"inquiry_id": answer["inquiry_id"], "state": "released", "reason": ""})
    twice = im.call("POST", f"/inquiries/{answer['inquiry_id']}/review", {"staff": "tanaka", "release": False})
    assert (twice[0], twice[1]["code"]) == (422, "not_held")
    released = asked.call("GET", f"/inquiries/401005/{answer['inquiry_id']}")[1]
    assert released["state"] == "released"
    assert _open(network, "req-mhlw", released) == {"is_head": False, "head_name": "北九　太郎", "relationship": "子"}
    # Another requester cannot fetch it.
    stranger = network.net("req-jasso").call("GET", f"/inquiries/401005/{answer['inquiry_id']}")
    assert (stranger[0], stranger[1]["code"]) == (422, "inquiry_not_found")
    events = [(e["event"], e["staff"]) for e in inquiries.records(tenant("401005"))]
    assert events == [("inquiry", ""), ("hold", ""), ("release", "tanaka")]


def test_a_held_inquiry_declined_is_refused_and_recorded(network, tenant):
    code = _person(network, CHILD, 5, no_auto=True)
    answer = _ask(network, "req-mhlw", code)[1]
    im = network.client("im-401005")
    assert im.call("POST", f"/inquiries/{answer['inquiry_id']}/review", {"staff": "tanaka"})[1]["state"] == "declined"
    assert network.net("req-mhlw").call("GET", f"/inquiries/401005/{answer['inquiry_id']}")[1] == {
        "inquiry_id": answer["inquiry_id"], "state": "declined", "reason": "declined", "answer": None}
    assert [e["event"] for e in inquiries.records(tenant("401005"))][-1] == "decline"


def test_unknown_or_removed_persons_are_refused_and_a_repeat_gets_the_first_outcome(network, tenant):
    code = _person(network, {**CHILD, "status": "removed"}, 6)
    assert _ask(network, "req-mhlw", code)[1]["reason"] == "not_resident"
    other = _code(7)  # a person J-LIS knows but this city's 副本 does not
    network.jlis("cs-401005").call("POST", "/fugo", {"resident_code": other, "holder": "im-401005"})
    assert _ask(network, "req-mhlw", other)[1]["reason"] == "not_found"
    body = _body(network)
    first = inquiries.receive(tenant("401005"), body)
    assert inquiries.receive(tenant("401005"), body) == first
    assert tenant("401005").execute("SELECT count(*) FROM inquiry WHERE message_id = 'm-1'").fetchone()[0] == 1


def test_only_the_network_asks_only_a_tenant_feeds_and_only_the_operator_sees_the_platform(network):
    body = {"message_id": "x", "requester": "req-mhlw"}
    assert network.client("im-401005").call("POST", "/providers/401005/inquiries", body)[1]["code"] == "network_only"
    assert network.client("infonet").call("GET", "/replica/status")[1]["code"] == "not_a_tenant"
    assert network.client("cs-401005").call("POST", "/replica/export", {})[1]["code"] == "not_a_tenant"
    assert network.client("im-401005").call("GET", "/operator/status")[1]["code"] == "operator_only"
    assert network.client("infonet").call("POST", "/providers/999999/inquiries", body)[1]["code"] == "unknown_provider"
    assert network.net("cs-401005").call("POST", "/inquiries", {})[1]["code"] == "not_a_requester"
    status, seen = network.client("im-operator").call("GET", "/operator/status")
    assert status == 200 and [t["tenant"] for t in seen["tenants"]] == ["401005", "401307"]
    assert set(seen["tenants"][0]) == {"tenant", "name", "replica", "no_auto", "fugo", "held", "inquiries_24h",
                                       "refused_24h", "last_feed", "last_full", "position"}


def test_bad_input_gets_a_precise_code_and_stores_nothing(network, tenant):
    im = network.client("im-401005")
    bad = [{**CHILD, "unified_number": "12"}, {**CHILD, "status": "gone"}, {**CHILD, "is_head": "yes"},
           {**CHILD, "relationship": "子" * 41}]
    codes = [im.call("POST", "/replica/changes", {"position": 1, "records": [HEAD, record]})[1]["code"] for record in bad]
    assert codes == ["invalid_unified_number", "invalid_status", "invalid_is_head", "too_long"]
    assert im.call("POST", "/replica/changes", {"position": "x", "records": []})[1]["code"] == "invalid_request"
    assert im.call("POST", "/fugo", {"unified_number": HEAD["unified_number"], "fugo": "zz"})[1]["code"] == "invalid_fugo"
    assert tenant("401005").execute("SELECT count(*) FROM replica").fetchone()[0] == 0  # not even the good first row
    assert network.client("infonet").call("POST", "/providers/401005/inquiries", {"provision": 48})[1]["code"] == \
        "invalid_inquiry"
    counts = tenant("401005").execute("SELECT (SELECT count(*) FROM fugo), (SELECT count(*) FROM inquiry), "
                                      "(SELECT count(*) FROM record)").fetchone()
    assert counts == (0, 0, 0)


def test_the_permit_list_holds_the_pias_provisions_each_with_requesters_affairs_and_items():
    listed = permits.provisions()
    assert sorted(listed) == [1, 2, 3, 4, 6, 8, 9, 11, 16, 18, 20, 21, 23, 27, 30, 31, 34, 35, 37, 38, 39, 40, 42, 48,
                              53, 54, 57, 58, 59, 61, 62, 66, 67, 70, 77, 80, 84, 89, 91, 92, 94, 96, 101, 102, 103,
                              105, 106, 108, 111, 112, 113, 114, 116, 117, 120]
    for entry in listed.values():
        assert entry.requesters and entry.affairs and entry.items == set(permits.ITEMS)
        assert all(code.startswith(f"{entry.number:03d}-") for code in entry.affairs)
    assert permits.check(provision=42, requester_kind="国民健康保険組合", affair="042-2", items=["head_name"]) is None


def _body(network, **over) -> dict:
    body = {"message_id": "m-1", "requester": "req-mhlw", "requester_kind": "厚生労働大臣", "provision": 48,
            "affair": "048-1", "items": ["is_head"], "fugo": "0" * 32,
            "public_key": requester_key(network.dir, "req-mhlw")[1]}
    return {**body, **over}


def test_a_message_id_used_again_for_another_question_is_refused(network, tenant):
    first = inquiries.receive(tenant("401005"), _body(network))
    with pytest.raises(inquiries.Invalid) as reused:
        inquiries.receive(tenant("401005"), _body(network, fugo="1" * 32))
    assert reused.value.code == "message_id_reused"
    assert inquiries.receive(tenant("401005"), _body(network)) == first


def _at_once(platform_db, calls) -> list:
    """Each call(conn) in a thread of its own with its own tenant connection, released together; each
    one's result, or the code of its refusal."""
    import threading

    from juki.intermediary import db

    outcomes: list = [None] * len(calls)
    barrier = threading.Barrier(len(calls), timeout=10)

    def run(k: int) -> None:
        conns = db.Connections(platform_db)
        try:
            barrier.wait()
            outcomes[k] = calls[k](conns.tenant("401005"))
        except inquiries.Invalid as exc:
            outcomes[k] = exc.code
        except Exception as exc:  # noqa: BLE001 - the assertions name what was expected instead
            outcomes[k] = exc
        finally:
            conns.close()

    threads = [threading.Thread(target=run, args=(k,)) for k in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_one_message_delivered_twice_at_once_is_stored_once_and_both_get_its_outcome(network, platform_db, admin):
    results = _at_once(platform_db, [lambda conn: inquiries.receive(conn, _body(network, message_id="twice"))] * 4)
    assert all(isinstance(r, dict) for r in results) and all(r == results[0] for r in results), [type(r).__name__ + str(r)[:200] for r in results]
    assert results[0]["state"] == "refused"
    assert admin.execute("SELECT count(*) FROM inquiry WHERE message_id = 'twice'").fetchone()[0] == 1
    assert admin.execute("SELECT count(*) FROM record").fetchone()[0] == 2  # one inquiry, one refusal


def test_two_staff_releasing_one_held_inquiry_at_once_release_it_once(network, tenant, platform_db):
    code = _person(network, CHILD, 8, no_auto=True)
    held = _ask(network, "req-mhlw", code)[1]
    outcomes = _at_once(platform_db, [
        lambda conn, staff=staff: inquiries.review(conn, held["inquiry_id"], staff=staff, release=True)["state"]
        for staff in ("tanaka", "suzuki")])
    assert sorted(outcomes) == ["not_held", "released"]
    assert [e["event"] for e in inquiries.records(tenant("401005"))].count("release") == 1


def test_a_protected_person_who_moved_away_is_held_not_refused_automatically(network):
    code = _person(network, {**CHILD, "status": "removed"}, 9, no_auto=True)
    assert _ask(network, "req-mhlw", code)[1]["state"] == "held"
    im = network.client("im-401005")
    queue = im.call("GET", "/inquiries?state=held")[1]["inquiries"]
    # Released, there is nothing to answer with: the staff are told, and may decline.
    gone = im.call("POST", f"/inquiries/{queue[0]['id']}/review", {"staff": "tanaka", "release": True})
    assert (gone[0], gone[1]["code"]) == (422, "not_resident")
    assert im.call("POST", f"/inquiries/{queue[0]['id']}/review", {"staff": "tanaka", "release": False}) == (
        200, {"inquiry_id": queue[0]["id"], "state": "declined", "reason": "declined"})


def test_a_member_without_a_head_is_held(network):
    code = _person(network, {**CHILD, "head_name": "", "relationship": "子"}, 10)
    assert _ask(network, "req-mhlw", code)[1]["state"] == "held"


def test_out_of_range_numbers_weak_keys_and_a_string_release_get_precise_codes(network, tenant):
    infonet = network.client("infonet")
    too_big = _body(network, provision=2 ** 40)
    assert infonet.call("POST", "/providers/401005/inquiries", too_big)[1]["code"] == "invalid_inquiry"
    weak = _body(network, message_id="weak", public_key=base64.b64encode(bytes(32)).decode())
    assert infonet.call("POST", "/providers/401005/inquiries", weak)[1]["code"] == "invalid_inquiry"
    im = network.client("im-401005")
    assert im.call("POST", "/replica/changes", {"position": 2 ** 70, "records": [HEAD]})[1]["code"] == "invalid_request"
    assert im.call("POST", "/records", {})[0] == 200  # the connection is usable after the refusal
    code = _person(network, CHILD, 11, no_auto=True)
    held = _ask(network, "req-mhlw", code)[1]
    assert im.call("POST", f"/inquiries/{held['inquiry_id']}/review", {"staff": "tanaka", "release": "false"})[1][
        "state"] == "declined"  # only a true is a release
    assert network.net("req-mhlw").call("POST", "/inquiries", {"provider": "../x", "fugo": "0" * 32})[1]["code"] == \
        "invalid_provider"
    assert tenant("401005").execute("SELECT count(*) FROM inquiry WHERE message_id = 'weak'").fetchone()[0] == 0
    assert tenant("401005").execute("SELECT count(*) FROM inquiry").fetchone()[0] == 1  # the held one only
