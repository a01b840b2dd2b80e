"""End to end on loopback, every part its own process: the register's feed and P5 (register → 宛名 →
住基ネット連携 → CS → J-LIS) into the 中間サーバー (`juki intermediary serve`), and a requester's inquiry
through the 情報提供ネットワークシステム (`infonet`), answered — or held for the staff."""
from __future__ import annotations

import pytest

from juki.atena import services as atena
from juki.intermediary import cli as platform_cli
from juki.intermediary_link import codes, feed
from juki.network.requester import ask
from juki.network.wire import Client

from ..conftest import move_in_family
from ..helpers import last_log
from ..network_fixtures import codes_of, net  # noqa: F401 (net: a fixture)
from ..protection.helpers import move_in_victim, protect
from ..register.helpers import ids


pytestmark = pytest.mark.usefixtures("applications")


@pytest.fixture
def platform(net, platform_db, admin):
    proc, url = platform_cli.start_server(platform_db, net.dir)
    yield Client(url, directory=net.dir, name="im-401005", timeout=30)
    proc.terminate()
    proc.wait(timeout=10)


def test_a_residents_inquiry_is_answered_and_a_protected_ones_waits_for_review(world, support, net, platform):
    head, wife, child = ids(move_in_family(world))
    victim = move_in_victim(world)
    protect(support, victim)
    atena.load()
    assert feed.load(platform)["sent"] == 5
    got = codes.acquire(platform, net.s2())
    assert got == {"asked": 5, "tied": 5}
    assert codes.acquire(platform, net.s2()) == {"asked": 0, "tied": 0}
    assert last_log("jukinet.fugo").criteria["holder"] == "im-401005"
    residents = codes_of([wife, victim["mother"]])

    answered = ask(net.dir, requester="req-mhlw", provider="401005", resident_code=residents[wife], provision=48,
                   affair="048-1", items=["is_head", "head_name", "relationship"])
    assert answered["state"] == "answered"
    assert answered["opened"] == {"is_head": False, "head_name": "青木　太郎", "relationship": "妻"}

    held = ask(net.dir, requester="req-mhlw", provider="401005", resident_code=residents[victim["mother"]],
               provision=48, affair="048-1", items=["is_head"])
    assert (held["state"], "opened" in held) == ("held", False)
    queue = platform.call("GET", "/inquiries?state=held")[1]["inquiries"]
    assert [q["id"] for q in queue] == [held["inquiry_id"]]
    assert platform.call("POST", f"/inquiries/{held['inquiry_id']}/review", {"staff": "tanaka", "release": True})[0] == 200
    later = ask(net.dir, requester="req-mhlw", provider="401005", resident_code="", provision=48, affair="048-1",
                items=[], inquiry=held["inquiry_id"])
    assert later["state"] == "released" and later["opened"] == {"is_head": True}

    refused = ask(net.dir, requester="req-jasso", provider="401005", resident_code=residents[wife], provision=48,
                  affair="048-1", items=["is_head"])
    assert (refused["state"], refused["reason"]) == ("refused", "requester_not_permitted")
