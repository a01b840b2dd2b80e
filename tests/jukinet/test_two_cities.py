"""Two cities on one network (issue 15), end to end on loopback: 北九州市 (this test's register, its CS a
process) and 福岡市 (its register, CS and 住基ネット連携 each a process, driven by tests/city_driver.py).
A family of four moves from 北九州市 to 福岡市 by 特例転入."""
import datetime as dt
from pathlib import Path

import pytest

from juki.audit.gate import Actor
from juki.jukinet import connection, messages, services
from juki.jukinet.models import Received
from juki.register import selectors
from juki.register.services import changes
from juki.register.services.seed import my_number_for

from ..conftest import days_ago, move_in_family, person_input
from ..network_fixtures import B_CODE, cities, codes_of, drain, net, until  # noqa: F401 (fixtures)
from ..register.helpers import ids, ref

pytestmark = pytest.mark.django_db(transaction=True)
A_CODE = "401005"
PIN = "4321"


def family_of_four(world, salt: int = 15):
    members = [
        person_input(),
        person_input(given_name="花子", given_name_kana="ハナコ", sex=2, relationship="妻", birth_date=dt.date(1987, 6, 2)),
        person_input(given_name="一郎", given_name_kana="イチロウ", relationship="子", birth_date=dt.date(2015, 8, 3)),
        person_input(given_name="二葉", given_name_kana="フタバ", sex=2, relationship="子", birth_date=dt.date(2018, 2, 9)),
    ]
    for i, member in enumerate(members):
        member["my_number"] = my_number_for(7_000_000 + i, salt)
    return ids(move_in_family(world, members=members))


def card_for(net, code: str) -> str:
    status, card = net.s2().call("POST", f"/cards/{code}/issue", {"pin": PIN})
    assert status == 200, card
    return card["card_number"]


def a_pull(net) -> dict:
    return messages.pull(net.s2(), connection.koseki_client())


def notices_applied(net) -> int:
    """Read this city's inbox once, then count the 転入通知 applied as 転出確定."""
    a_pull(net)
    return Received.objects.filter(kind="move_in_notice", state=Received.State.APPLIED).count()


def national_records(net, code: str) -> dict[str, dict]:
    status, answer = net.client("national").call("POST", "/identify", {"resident_code": code})
    assert status == 200, answer
    return {m["municipality"]: m for m in answer["matches"]}


def test_a_family_moves_from_kitakyushu_to_fukuoka_by_special_move_in(world, net, cities):
    persons = family_of_four(world)
    assert drain(net).sent == 4
    codes = codes_of(persons)
    head_code = codes[persons[0]]
    card = card_for(net, head_code)

    # 北九州市: 特例転出 of the whole household; its 転出証明書情報 goes to the CS, not on paper.
    changes.move_out(actor=world, event_date=days_ago(1), notified_on=days_ago(1), persons=[ref(p) for p in persons],
                     destination_address="福岡県福岡市東区箱崎一丁目1番1号", special=True)
    run = drain(net)
    assert (run.events, run.sent, run.rejected, run.unreachable) == (1, 4, 0, False)

    # 福岡市: the clerk reads the card with its PIN; the 転出証明書情報 comes from 北九州市's CS.
    asked = cities.drive("request_transfer", card_number=card, pin=PIN)
    assert asked["state"] == "answered" and asked["from"] == A_CODE
    town = cities.drive("town")
    moved = cities.drive("special_move_in", group=asked["group"], town_code=town["code"], banchi="1番1号",
                         event_date=dt.date.today().isoformat())
    certificates = {c["resident_code"]: c for c in moved["certificates"]}
    assert set(certificates) == set(codes.values())
    assert certificates[head_code]["head_name"] == "青木　太郎" and certificates[head_code]["has_my_number"]
    assert certificates[head_code]["address"].startswith("福岡県北九州市小倉北区城内1番1号")
    # The same 住民票コード and 個人番号 in 福岡市's register, typed by no one (C12); the 転出地 named.
    at_b = cities.drive("persons", codes=list(codes.values()))
    assert {c: (r["status"], r["reason"], r["previous_municipality_code"], r["has_my_number"])
            for c, r in at_b.items()} == {c: ("resident", "domestic_move_in", A_CODE, True) for c in codes.values()}

    # 北九州市: the 転入通知 arrives and the 転出 is confirmed (転出確定) without a clerk [690].
    until(lambda: notices_applied(net) == 4, timeout=40, step=0.3)
    for person_id in persons:
        record = selectors.person_get(actor=world, person_id=person_id)
        assert record["reason"] == "move_out_confirmed"
        assert record["move_out"]["confirmed_address"].startswith(f"福岡県福岡市{town['name']}1番1号")
    # The 附票 notice of the new address reached the 本籍地 (北九州市 itself) and its 戸籍附票システム.
    fuhyo = Received.objects.filter(kind="family_register_notice", sender=B_CODE)
    assert fuhyo.count() == 4 and set(fuhyo.values_list("state", flat=True)) == {Received.State.FORWARDED}
    koseki = connection.koseki_client()
    status, entries = koseki.call("GET", f"/fuhyo?resident_code={head_code}")
    assert status == 200 and entries["entries"][-1]["source"] == B_CODE
    assert entries["entries"][-1]["items"]["address"].startswith("福岡県福岡市")
    # The card stays usable: the card management system now has it with 福岡市 [番号法第17条第2項].
    status, state = cities.client().call("GET", f"/cards/{head_code}")
    assert status == 200 and (state["state"], state["municipality"]) == ("active", B_CODE)

    # Both cities' 本人確認情報 agree with the prefecture's and the national server's.
    assert drain(net).sent == 4  # 北九州市's 転出確定 updates
    for client in (net.s2(), cities.client()):
        for peer in ("prefecture", "national"):
            try:
                until(lambda: _consistent(client, peer), timeout=20, step=0.5)
            except AssertionError:
                raise AssertionError((peer, _last_run(client))) from None
    national = until(lambda: (r := national_records(net, head_code)) and len(r) == 2
                     and r[A_CODE]["status"] == "remove" and r)
    assert national[B_CODE]["status"] == "entry" and national[B_CODE]["address"].startswith("福岡市")


def _last_run(client):
    return client.call("GET", "/consistency/runs")[1]["runs"][0]


def _consistent(client, peer):
    status, result = client.call("POST", "/consistency/run", {"peer": peer})
    return (status, result) if status == 200 and result["differing"] == 0 else None


def test_the_move_completes_when_each_city_comes_back(world, net, cities):
    """北九州市's CS down while 福岡市 asks: the request waits at the exchange. 福岡市's CS down while its
    転入 is recorded: the 転入通知 waits in its outbox. Each comes back, and the move completes."""
    persons = family_of_four(world, salt=16)
    drain(net)
    codes = codes_of(persons)
    card = card_for(net, codes[persons[0]])
    changes.move_out(actor=world, event_date=days_ago(1), notified_on=days_ago(1), persons=[ref(p) for p in persons],
                     destination_address="福岡県福岡市東区箱崎一丁目1番1号", special=True)
    drain(net)

    net.kill_cs()
    asked = cities.drive("request_transfer", card_number=card, pin=PIN, timeout=3)
    assert asked["state"] == "requested"  # no answer while 北九州市's CS is away
    net.start_cs()
    assert cities.drive("transfer_state", group=asked["group"], until="answered", timeout=40)["state"] == "answered"

    cities.stop_cs()
    town = cities.drive("town")
    cities.drive("special_move_in", group=asked["group"], town_code=town["code"], banchi="2番",
                 event_date=dt.date.today().isoformat())
    # 福岡市's link cannot hand its 転入通知 to its CS: the 転入 waits in its outbox, nothing reaches 北九州市.
    assert cities.drive("unsent_events", at_least=1, timeout=20)["events"] >= 1
    for _ in range(3):
        a_pull(net)
    assert not Received.objects.filter(kind="move_in_notice").exists()
    cities.start_cs()
    until(lambda: notices_applied(net) == 4, timeout=60, step=0.5)
    assert {selectors.person_get(actor=world, person_id=p)["reason"] for p in persons} == {"move_out_confirmed"}


def test_a_fukuoka_counter_issues_a_kitakyushu_residents_copy_and_a_domicile_is_refused(world, net, cities):
    """広域交付 (住基法第12条の4): 福岡市 asks, 北九州市 answers exactly the items allowed (never the 本籍), and
    福岡市 issues the copy under its own number and mayor; an item the law does not allow is refused by
    北九州市, and both cities log it."""
    import base64

    from juki.audit.models import AccessLog, Category

    from ..helpers import pdf_text

    persons = family_of_four(world, salt=17)
    drain(net)
    code = codes_of(persons)[persons[0]]
    card = card_for(net, code)

    def answered(**request):
        import threading

        done = {}
        thread = threading.Thread(target=lambda: done.update(cities.drive("wide_area", card_number=card, pin=PIN,
                                                                            **request)))
        thread.start()
        while thread.is_alive():  # this city is 北九州市: its link answers while 福岡市's clerk waits
            a_pull(net)
            thread.join(timeout=0.3)
        return done

    issued = answered(household=True, items=["head_and_relationship"])
    assert issued["state"] == "answered"
    pdf = base64.b64decode(issued["pdf"])
    artifacts = Path(__file__).parents[2] / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "wide-area-copy.pdf").write_bytes(pdf)  # to look at, as a resident would
    text = pdf_text(pdf)
    assert "住民票の写し" in text and "青木太郎" in text and "二葉" in text and "世帯主" in text
    assert "福岡市長" in text and "第12条の4" in text and "北九州市" in text  # issued by 福岡市 for 北九州市
    assert "本籍" not in text and "城内1番" in text  # the address, never the 本籍 (city: 城内1番)
    sent = AccessLog.objects.get(function="jukinet.send.wide_area", outcome="ok")
    assert sent.category == Category.PROVISION and sent.criteria["items"] == ["head_and_relationship"]

    refused = answered(household=False, items=["domicile"])
    assert (refused["state"], refused["reason"]) == ("refused", "item_not_permitted")
    assert AccessLog.objects.filter(function="jukinet.send.wide_area", outcome="item_not_permitted").exists()
    fukuoka = [(r["function"], r["criteria"].get("refused"), r["criteria"].get("items")) for r in refused["log"]]
    assert ("jukinet.wide_area_request", None, ["domicile"]) in fukuoka  # 福岡市 logged what it asked
    assert ("jukinet.receive.wide_area_answer", "item_not_permitted", ["domicile"]) in fukuoka  # and the refusal


def test_an_ordinary_move_in_looks_the_paper_certificate_up(world, net, cities):
    """[600]: a paper 転出証明書 (an ordinary 転出) looked up at 北九州市 by its 住民票コード and 生年月日."""
    persons = family_of_four(world, salt=18)
    drain(net)
    code = codes_of(persons)[persons[0]]
    changes.move_out(actor=world, event_date=days_ago(1), notified_on=days_ago(1), persons=[ref(p) for p in persons],
                     destination_address="福岡県福岡市東区箱崎一丁目1番1号")
    drain(net)
    wrong = cities.drive("request_by_paper", municipality=A_CODE, resident_code=code, birth_date="1985-04-02")
    assert wrong == {"state": "not_found", "names": []}
    found = cities.drive("request_by_paper", municipality=A_CODE, resident_code=code, birth_date="1985-04-01")
    assert found["state"] == "answered" and len(found["names"]) == 4 and "青木　太郎" in found["names"]
