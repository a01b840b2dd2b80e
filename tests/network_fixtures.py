"""The simulated network and the city's CS as real processes on loopback, for the tests that need them."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from juki.audit.gate import Actor
from juki.jukinet import services
from juki.network import cli as network_cli
from juki.network import pki
from juki.network.wire import Client
from juki.register import selectors

MUNICIPALITY = "401005"


class Network:
    def __init__(self, root: Path):
        self.root, self.dir = root, root / "network"
        self.procs, self.description = network_cli.start(self.dir, ports=dict.fromkeys(network_cli.PEERS, 0))
        self.peers = dict(zip(network_cli.PEERS, self.procs))
        self.cs_proc: subprocess.Popen | None = None
        self.cs_port = 0

    def url(self, peer: str) -> str:
        return json.loads((self.dir / "network.json").read_text())["peers"][peer]

    def client(self, peer: str, name: str = pki.cs_name(MUNICIPALITY)) -> Client:
        url = f"https://127.0.0.1:{self.cs_port}" if peer == "cs" else self.url(peer)
        return Client(url, directory=self.dir, name=name, timeout=5)

    def s2(self) -> Client:
        return self.client("cs", pki.s2_name(MUNICIPALITY))

    def start_cs(self) -> None:
        ready = self.dir / f"{pki.cs_name(MUNICIPALITY)}.port"
        ready.unlink(missing_ok=True)
        env = {**os.environ, "JUKI_VAR_DIR": str(self.root), "JUKI_CS_DIR": str(self.root / "cs"),
               "JUKI_MUNICIPALITY": MUNICIPALITY}
        env.pop("JUKI_CS_DATABASE_URL", None)  # the CS's own SQLite file, as in the demo
        self.cs_proc = subprocess.Popen([sys.executable, "-m", "juki.cli", "cs", "serve", "--network", str(self.dir),
                                         "--port", str(self.cs_port)], env=env)
        _wait(ready, self.cs_proc, "cs")
        self.cs_port = int(ready.read_text())

    def kill_cs(self) -> None:
        self.cs_proc.send_signal(signal.SIGKILL)
        self.cs_proc.wait(timeout=10)

    def stop_peer(self, peer: str) -> None:
        proc = self.peers[peer]
        proc.terminate()
        proc.wait(timeout=10)

    def restart_peer(self, peer: str) -> None:
        port = self.url(peer).rsplit(":", 1)[1]
        ready = self.dir / f"{peer}.port"
        ready.unlink(missing_ok=True)
        proc = subprocess.Popen([sys.executable, "-m", "juki.network.cli", "serve", peer, "--dir", str(self.dir),
                                 "--port", port])
        _wait(ready, proc, peer)
        self.peers[peer] = proc
        self.procs.append(proc)

    def stop(self) -> None:
        network_cli.stop([*self.peers.values(), *([self.cs_proc] if self.cs_proc else [])])


def _wait(ready: Path, proc: subprocess.Popen, name: str) -> None:
    deadline = time.monotonic() + 30
    while not ready.exists():
        assert proc.poll() is None, f"{name} exited with {proc.returncode}"
        assert time.monotonic() < deadline, f"{name} did not start"
        time.sleep(0.05)


def until(predicate, *, timeout: float = 20.0, step: float = 0.05):
    """Poll until `predicate()` is truthy and return its value; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(step)


def codes_of(person_ids) -> dict[int, str]:
    """The persons' 住民票コード as the CS got them (through S2's own read)."""
    linked = selectors.linked_identities(actor=Actor.system_actor("jukinet"),
                                         versions=[(pid, v) for pid in person_ids for v in range(1, 5)])
    return {pid: li.identity.resident_code for (pid, _), li in linked.items()}


def at_prefecture(net, code):
    status, record = net.client("prefecture").call("GET", f"/records/{code}")
    return record if status == 200 else None


def drain(net, *, chunk: int = 500) -> services.Run:
    total = services.Run()
    while True:
        run = services.consume(net.s2(), chunk=chunk)
        total.events += run.events
        total.sent += run.sent
        total.rejected += run.rejected
        total.errors += run.errors
        if not run.events or run.unreachable:
            total.unreachable = run.unreachable
            return total


@pytest.fixture
def net(tmp_path, settings):
    """The peers and the city's CS as processes on loopback; the register's screens talk to this CS."""
    network = Network(tmp_path)
    settings.JUKI_NETWORK_DIR = network.dir
    try:
        network.start_cs()
        yield network
    finally:
        network.stop()
