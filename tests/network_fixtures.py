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
        assert time.monotonic() < deadline, "timed out waiting"  # never the value: it may be a person's record
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


# --- two cities (issue 15) -------------------------------------------------------------------------

B_CODE = "401307"  # 福岡市: the second city, its register, CS and 住基ネット連携 each a process of its own
_B_TEMPLATE: dict[str, Path] = {}


class SecondCity:
    """福岡市 beside the test's own city: its register set up once per session (a small demo city, copied
    for each test), its CS and its 住基ネット連携 (`juki jukinet run`) started on the test's network."""

    def __init__(self, network: Network, root: Path, template: Path):
        import shutil

        from juki.cities import City

        shutil.copytree(template, root)
        self.network = network
        self.city = City(B_CODE, root, network.dir)
        self.cs_proc: subprocess.Popen | None = None
        self.link_proc: subprocess.Popen | None = None
        self.cs_port = 0

    def start_cs(self) -> None:
        self.cs_proc = self.city.start_cs(self.cs_port)
        self.cs_port = int((self.network.dir / f"{pki.cs_name(B_CODE)}.port").read_text())

    def stop_cs(self, sig=signal.SIGKILL) -> None:
        self.cs_proc.send_signal(sig)
        self.cs_proc.wait(timeout=10)

    def start_link(self) -> None:
        self.link_proc = self.city.start_link()

    def stop_link(self) -> None:
        self.link_proc.send_signal(signal.SIGKILL)
        self.link_proc.wait(timeout=10)

    def client(self) -> Client:
        """This city's S2 towards its CS (for what a test asks the CS directly)."""
        return Client(f"https://127.0.0.1:{self.cs_port}", directory=self.network.dir, name=pki.s2_name(B_CODE),
                      timeout=10)

    def drive(self, step: str, **args) -> dict:
        done = subprocess.run([sys.executable, str(Path(__file__).parent / "city_driver.py"), step,
                               json.dumps(args, ensure_ascii=False, default=str)],
                              env={**self.city.env, "PYTHONPATH": str(Path(__file__).parents[1])},
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    def stop(self) -> None:
        network_cli.stop([p for p in (self.link_proc, self.cs_proc) if p is not None])


def second_city_template(base: Path) -> Path:
    """The second city's register, migrated and seeded once per test session."""
    if "root" not in _B_TEMPLATE:
        from juki.cities import City

        root = base / "b-template"
        city = City(B_CODE, root, base / "unused-network")
        city.root.mkdir(parents=True)
        city.run("migrate", "--no-input", "-v", "0")
        city.run("demo_setup", "--persons", "20")
        city.run("demo_staff")
        _B_TEMPLATE["root"] = root
    return _B_TEMPLATE["root"]


@pytest.fixture
def cities(net, tmp_path, tmp_path_factory):
    """This city (北九州市: the test's register, its CS a process) and 福岡市 (all of it processes), on one
    network. The second city's CS is loaded from its register's snapshot and its link runs."""
    b = SecondCity(net, tmp_path / "fukuoka", second_city_template(tmp_path_factory.getbasetemp()))
    try:
        b.start_cs()
        b.city.load()
        b.start_link()
        yield b
    finally:
        b.stop()
