"""`juki cities up`: two cities on one simulated 住基ネット (issue 15), for the demo and the tests.

The same code runs as 北九州市 (401005) and 福岡市 (401307): each city its own register (database under
`var/cities/<code>/`), its own CS (`juki cs serve`, its own database) and its own 住基ネット連携
(`juki jukinet run`), and both on the one network (`juki network up`: the prefecture and national
servers, J-LIS, the card management system, the exchange, the 戸籍附票システム and the 法務省's system);
both cities are tenants of one 中間サーバー (`juki intermediary up`, its own PostgreSQL) and feed it
(`juki intermediary-link run`), and the network's 情報提供ネットワークシステム asks it (`juki network ask`).

    juki cities up [--persons 2000] [--root var]   set up what is missing, start everything, serve
                                                   北九州市 on :8000 and 福岡市 on :8001 until Ctrl-C

It only starts processes (each the documented command of its part); it imports none of them.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from juki.network import cli as network_cli

CITIES = {"401005": ("北九州市", 8000, 8450), "401307": ("福岡市", 8001, 8451)}  # code: (name, web port, CS port)
JUKI = [sys.executable, "-m", "juki.cli"]


@dataclass
class City:
    code: str
    root: Path  # var/cities/<code>: the register's database, the CS's directory
    network: Path

    @property
    def env(self) -> dict[str, str]:
        env = {**os.environ, "JUKI_MUNICIPALITY": self.code, "JUKI_VAR_DIR": str(self.root),
               "JUKI_NETWORK_DIR": str(self.network), "JUKI_CS_DIR": str(self.root / "cs"),
               # The demo's settings, whoever starts it (a test process has its own, with keys of its own).
               "DJANGO_SETTINGS_MODULE": "juki.conf.dev"}
        for name in ("DATABASE_URL", "JUKI_CS_DATABASE_URL"):  # each city its own embedded databases
            env.pop(name, None)
        return env

    def run(self, *args: str, quiet: bool = True) -> str:
        done = subprocess.run([*JUKI, *args], env=self.env, check=True, text=True,
                              stdout=subprocess.PIPE if quiet else None)
        return done.stdout or ""

    def start(self, *args: str, ready: Path | None = None, timeout: float = 60) -> subprocess.Popen:
        if ready is not None:
            ready.unlink(missing_ok=True)
        proc = subprocess.Popen([*JUKI, *args], env=self.env)
        if ready is not None:
            wait_for(ready, proc, " ".join(args), timeout)
        return proc

    def set_up(self, persons: int) -> None:
        """The register's database with the demo city and its staff (each step skips what exists)."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.run("migrate", "--no-input", "-v", "0")
        self.run("demo_setup", "--persons", str(persons), quiet=False)
        self.run("demo_staff", quiet=False)  # new passwords at each start, printed (no fixed initial ones)

    def start_cs(self, port: int = 0) -> subprocess.Popen:
        return self.start("cs", "serve", "--network", str(self.network), "--port", str(port),
                          ready=self.network / f"cs-{self.code}.port")

    def load(self) -> None:
        """The CS's first load from the register's snapshot, once (a marker file says it was done)."""
        marker = self.root / "cs" / "loaded"
        if not marker.exists():
            print(self.run("jukinet", "load", "--network", str(self.network)), end="")
            marker.write_text(time.strftime("%Y-%m-%dT%H:%M:%S"))

    def start_link(self) -> subprocess.Popen:
        return self.start("jukinet", "run", "--network", str(self.network))

    def load_intermediary(self) -> None:
        """The 宛名's numbers (`juki linkage setup`) and the 中間サーバー's first load of this city's 副本, once."""
        marker = self.root / "intermediary-loaded"
        if not marker.exists():
            self.run("linkage", "setup")
            print(f"{CITIES[self.code][0]}の副本: {self.run('intermediary-link', 'load').strip()}", flush=True)
            marker.write_text(time.strftime("%Y-%m-%dT%H:%M:%S"))


def wait_for(ready: Path, proc: subprocess.Popen, name: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not ready.exists():
        if proc.poll() is not None:
            raise RuntimeError(f"{name}: exited with {proc.returncode}")
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"{name}: did not start within {timeout:g} s")
        time.sleep(0.05)


def start_intermediary(root: Path, network: Path) -> subprocess.Popen:
    """The 中間サーバー both cities share (issue 17): its own PostgreSQL under root/intermediary."""
    ready = network / "intermediary.json"
    ready.unlink(missing_ok=True)
    proc = subprocess.Popen([*JUKI, "intermediary", "up", "--dir", str(root / "intermediary"), "--network", str(network),
                             *(arg for code, (name, _, _) in CITIES.items() for arg in ("--tenant", f"{code}={name}"))])
    wait_for(ready, proc, "juki intermediary up", timeout=120)
    return proc


def up(root: Path, persons: int) -> list[subprocess.Popen]:
    network = root / "network"
    if not (network / "network.json").exists() or not _network_alive(network):
        procs, _ = network_cli.start(network)
    else:
        procs = []
    procs.append(start_intermediary(root, network))
    cities = [City(code, root / "cities" / code, network) for code in CITIES]
    for city in cities:
        name, web, cs_port = CITIES[city.code]
        print(f"juki: {name}（{city.code}）を準備しています…", flush=True)
        city.set_up(persons)
        procs.append(city.start_cs(cs_port))
        city.load()
        procs.append(city.start_link())
        city.load_intermediary()
        procs.append(city.start("intermediary-link", "run"))
        procs.append(city.start("audit", "chain", "--follow"))
        procs.append(city.start("runserver", f"127.0.0.1:{web}", "--insecure", "--noreload"))
    return procs


def _network_alive(network: Path) -> bool:
    """Another `juki network up` already serves this directory (its peers' ports answer)."""
    import socket

    try:
        peers = json.loads((network / "network.json").read_text())["peers"]
    except (OSError, ValueError, KeyError):
        return False
    for url in peers.values():
        host, port = url.removeprefix("https://").rsplit(":", 1)
        try:
            socket.create_connection((host, int(port)), timeout=0.5).close()
        except OSError:
            return False
    return True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="juki cities", description="二つの市（北九州市・福岡市）を一つの住基ネットで動かす")
    sub = parser.add_subparsers(dest="command", required=True)
    start = sub.add_parser("up", help="二つの市の住民記録システム・CS・住基ネット連携と、試験用ネットワークを起動する")
    start.add_argument("--persons", type=int, default=int(os.environ.get("JUKI_DEMO_PERSONS", "2000")))
    start.add_argument("--root", type=Path, default=network_cli.default_dir().parent)
    args = parser.parse_args(argv)
    procs = up(args.root, args.persons)
    for code, (name, web, _) in CITIES.items():
        print(f"juki: {name}（{code}） http://127.0.0.1:{web}/", flush=True)
    print("juki: 停止は Ctrl+C。職員のパスワードは各市の準備の出力（juki demo_staff）に表示しています。", flush=True)
    network_cli.run_until_stopped(procs)


if __name__ == "__main__":
    main()
