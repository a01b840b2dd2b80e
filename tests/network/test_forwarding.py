"""The prefecture server passes what it applies on to the national server (juki.network.peers'
Forwarder): in its own gapless order, in batches, backing off while the national server is away,
each update once. The prefecture in this process, the national server a process of its own (so that
stopping it closes its connections, as an outage does); loopback, mutual TLS; no database."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import pytest

from juki.core.checkdigits import mod11_check_digit
from juki.network import cli, peers, pki, wire

from ..network_fixtures import until


def code(body: str) -> str:
    return body + str(mod11_check_digit(body))


def items(**over) -> dict:
    base = {"name": "青木　太郎", "name_kana": "アオキ　タロウ", "birth_date": "1985-04-01", "sex": "1",
            "municipality_code": "401005", "town_code": "40106001000", "address": "小倉北区城内1番1号"}
    return {**base, **over}


class Running:
    def __init__(self, directory, app, name, port=0):
        self.app = app
        self.httpd = wire.Server(app, ("127.0.0.1", port), pki.server_context(directory, name))
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.port = self.httpd.server_address[1]
        self.url = f"https://127.0.0.1:{self.port}"

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class Process:
    """`juki network serve national`, as `juki network up` starts it."""

    def __init__(self, directory, name, port=0):
        ready = directory / f"{name}.port"
        ready.unlink(missing_ok=True)
        self.proc = subprocess.Popen([sys.executable, "-m", "juki.network.cli", "serve", name, "--dir", str(directory),
                                      "--port", str(port)])
        deadline = time.monotonic() + 30
        while not ready.exists() or not ready.read_text().strip():
            assert self.proc.poll() is None and time.monotonic() < deadline, f"{name} did not start"
            time.sleep(0.05)
        self.port = int(ready.read_text())
        self.url = f"https://127.0.0.1:{self.port}"

    def stop(self):
        cli.stop([self.proc])


@pytest.fixture
def net(tmp_path, monkeypatch):
    monkeypatch.setattr(peers, "FORWARD_MAX_BACKOFF", 0.4)  # the tests wait for a retry, not for half a minute
    pki.create(tmp_path)

    class Net:
        dir = tmp_path
        national: Process | None = None
        prefecture: Running | None = None

        def start_national(self, port=0):
            self.national = Process(tmp_path, "national", port)
            return self.national

        def publish(self):  # what `juki network up` writes once every peer is up
            (tmp_path / "network.json").write_text(json.dumps({"peers": {"national": self.national.url}}))

        def start_prefecture(self):
            self.prefecture = Running(tmp_path, peers.prefecture(tmp_path), "prefecture")
            return self.prefecture

        def client(self, running, name):
            return wire.Client(running.url, directory=tmp_path, name=name, timeout=5)

        def send(self, *messages):
            return self.client(self.prefecture, "cs-401005").call("POST", "/updates", {"messages": list(messages)})

        def status(self):
            return self.client(self.prefecture, "cs-401005").call("GET", "/status")[1]

        def national_log(self):
            status, log = self.client(self.national, "prefecture").call("GET", "/updates?prefecture=40&after=0")
            assert status == 200
            return log["updates"]

    network = Net()
    yield network
    if network.prefecture:
        network.prefecture.app.forwarder.stop()
        network.prefecture.stop()
    if network.national:
        network.national.stop()


def entry(seq, resident_code, **over):
    return {"seq": seq, "resident_code": resident_code, "kind": "entry", "items": items(**over)}


def test_applied_updates_reach_the_national_server_in_order(net):
    net.start_national()
    net.publish()
    net.start_prefecture()
    a, b = code("1234567890"), code("2234567890")
    status, answer = net.send(entry(1, a), entry(2, b, name="加藤　一郎"), entry(3, code("3234567890"), sex=""),
                              {"seq": 4, "resident_code": a, "kind": "update", "items": items(address="小倉北区魚町一丁目8番")})
    assert answer["accepted"] == [1, 2, 4] and [r["seq"] for r in answer["refused"]] == [3]
    log = until(lambda: len(net.national_log()) == 3 and net.national_log())
    # The prefecture's own numbers, gapless: the refused city update 3 was never applied, so never forwarded.
    assert [(u["seq"], u["resident_code"], u["kind"], u["outcome"]) for u in log] == [
        (1, a, "entry", "applied"), (2, b, "entry", "applied"), (3, a, "update", "applied")]
    assert {u["municipality"] for u in log} == {"401005"}
    status = until(lambda: (s := net.status())["forward_last"] == 3 and s)
    assert (status["forward_pending"], status["forward_refused"], status["forward_head"]) == (0, 0, None)
    found = net.client(net.national, "cs-401005").call("POST", "/identify", {"resident_code": a})[1]["matches"]
    assert found[0]["address"] == "小倉北区魚町一丁目8番" and found[0]["status"] == "update"
    # A city's retry of what was applied is a duplicate at the prefecture: nothing new is forwarded.
    assert net.send(entry(1, a))[1]["duplicates"] == [1]
    assert net.status()["forward_last"] == 3 and len(net.national_log()) == 3


def test_national_down_the_queue_grows_and_back_each_delivered_once_in_order(net):
    port = net.start_national().port
    net.publish()
    net.start_prefecture()
    codes = [code(f"{i:010d}") for i in range(1, 31)]
    net.send(*[entry(i + 1, c) for i, c in enumerate(codes[:5])])
    until(lambda: net.status()["forward_last"] == 5)
    net.national.stop()
    net.send(*[entry(i + 1, c) for i, c in enumerate(codes[5:20], start=5)])
    status = until(lambda: (s := net.status())["forward_head"] and s["forward_head"]["attempts"] >= 2 and s)
    assert (status["forward_pending"], status["forward_last"]) == (15, 5)
    assert status["forward_head"]["seq"] == 6 and status["forward_head"]["error"].startswith("unreachable")
    net.send(*[entry(i + 1, c) for i, c in enumerate(codes[20:], start=20)])
    assert net.status()["forward_pending"] == 25
    net.start_national(port)  # back, on its address of network.json, with its own store
    until(lambda: net.status()["forward_pending"] == 0, timeout=30)
    log = net.national_log()
    assert [u["seq"] for u in log] == list(range(1, 31))  # contiguous: nothing lost, nothing twice
    assert [u["resident_code"] for u in log] == codes
    assert net.status()["forward_last"] == 30
    status, national_status = net.client(net.national, "cs-401005").call("GET", "/status")
    assert national_status["prefectures"] == {"40": 30} and national_status["records"] == 30


def test_no_national_server_in_network_json_yet_then_delivered(net):
    net.start_prefecture()  # the network is still starting: no network.json at all
    net.send(entry(1, code("1234567890")))
    status = until(lambda: (s := net.status())["forward_head"] and s["forward_head"]["attempts"] >= 1 and s)
    assert status["forward_pending"] == 1 and status["forward_head"]["error"] == "no_national_server"
    net.start_national()
    net.publish()
    until(lambda: net.status()["forward_pending"] == 0, timeout=30)
    assert [u["seq"] for u in net.national_log()] == [1]


def test_a_national_server_that_moved_is_found_again_in_network_json(net):
    net.start_national()
    net.publish()
    net.start_prefecture()
    net.send(entry(1, code("1234567890")))
    until(lambda: net.status()["forward_last"] == 1)
    net.national.stop()
    net.start_national()  # another port, the same store
    net.publish()
    net.send(entry(2, code("2234567890")))
    until(lambda: net.status()["forward_last"] == 2, timeout=30)
    assert [u["seq"] for u in net.national_log()] == [1, 2]


def test_network_up_starts_the_national_server_before_the_prefecture_and_they_connect(tmp_path):
    assert list(peers.PEERS).index("national") < list(peers.PEERS).index("prefecture")
    procs, description = cli.start(tmp_path / "network", ports=dict.fromkeys(peers.PEERS, 0))
    try:
        assert set(description["peers"]) == {"national", "prefecture", "jlis", "cards", "koseki", "moj", "infonet"}

        def client(peer):
            return wire.Client(description["peers"][peer], directory=tmp_path / "network", name="cs-401005", timeout=5)

        resident_code = code("1234567890")
        assert client("prefecture").call("POST", "/updates", {"messages": [entry(1, resident_code)]})[1]["accepted"] == [1]
        found = until(lambda: client("national").call("POST", "/identify", {"resident_code": resident_code})[1]["matches"])
        assert found[0]["municipality"] == "401005" and found[0]["status"] == "entry"
        assert client("cards").call("POST", f"/cards/{resident_code}/issue")[1]["state"] == "active"
        assert client("prefecture").call("GET", "/status")[1]["forward_last"] == 1
    finally:
        cli.stop(procs)
