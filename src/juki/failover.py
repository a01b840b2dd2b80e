"""A pg_auto_failover formation on loopback: a monitor and two PostgreSQL nodes (ADR 0027, issue 18).

    juki failover up [--dir DIR]     the demo's formation: prints the DATABASE_URL (both nodes,
                                     target_session_attrs=read-write) and runs until Ctrl-C
    juki failover state [--dir DIR]  the monitor's view of the nodes

The same formation the tests kill the primary of. Each node is a `pg_autoctl run` keeper beside its
PostgreSQL; the monitor promotes the standby when the primary is gone. The primary commits a change
only once the standby has it (pg_auto_failover sets `synchronous_standby_names` to the standby while
it is in sync), so an acknowledged change survives the primary's loss.

Loopback and `trust` with no TLS: a demo's and a test's formation only. A city's runs on three hosts
with TLS and passwords (docs/operations.md, "Failover").
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

PGBIN = Path(os.environ.get("JUKI_PGBIN", "/usr/lib/postgresql/15/bin"))
PG_AUTOCTL = shutil.which("pg_autoctl") or "/usr/bin/pg_autoctl"
# Seconds, for `fast` (tests, the demo): the monitor's health checks and its wait for a lost primary to
# demote are cut from pg_auto_failover's defaults (20 s unhealthy + 30 s demote: ~50 s measured).
FAST_MONITOR = {"pgautofailover.health_check_period": 1000, "pgautofailover.health_check_timeout": 1000,
                "pgautofailover.health_check_max_retries": 1, "pgautofailover.health_check_retry_delay": 500,
                "pgautofailover.node_considered_unhealthy_timeout": 3000,
                "pgautofailover.primary_demote_timeout": 3000, "pgautofailover.startup_grace_period": 2000}
FAST_KEEPER = {"timeout.network_partition_timeout": "3", "timeout.prepare_promotion_catchup": "3",
               "timeout.prepare_promotion_walreceiver": "1", "timeout.postgresql_restart_failure_timeout": "5"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def available() -> bool:
    return Path(PG_AUTOCTL).exists() and (PGBIN / "initdb").exists()


@dataclass
class Node:
    name: str
    port: int
    pgdata: Path
    proc: subprocess.Popen | None = None

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.pgdata / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None


@dataclass
class Formation:
    directory: Path
    monitor: Node
    nodes: list[Node] = field(default_factory=list)
    database: str = "juki"

    @property
    def url(self) -> str:
        """juki's DATABASE_URL: every node, the primary chosen by libpq at each new connection."""
        hosts = ",".join(f"127.0.0.1:{n.port}" for n in self.nodes)
        return f"postgresql://postgres@{hosts}/{self.database}?target_session_attrs=read-write&connect_timeout=2"

    def node_url(self, node: Node) -> str:
        return f"postgresql://postgres@127.0.0.1:{node.port}/{self.database}"

    def state(self) -> list[dict]:
        done = _autoctl(self.directory, ["show", "state", "--json", "--pgdata", str(self.monitor.pgdata)], check=False)
        try:
            return json.loads(done.stdout)
        except ValueError:
            return []

    def primary(self) -> Node | None:
        # wait_primary: a primary whose standby is gone (or not yet in sync) — it takes writes alone.
        writable = ("primary", "wait_primary")
        ports = {s["nodeport"] for s in self.state() if s.get("current_group_state") in writable
                 and s.get("assigned_group_state") in writable}
        return next((n for n in self.nodes if n.port in ports), None)

    def healthy(self) -> bool:
        states = sorted((s.get("current_group_state"), s.get("assigned_group_state")) for s in self.state())
        return states == [("primary", "primary"), ("secondary", "secondary")]

    def wait_healthy(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while not self.healthy():
            primary = next((n for n in self.nodes if n.postmaster_pid()), None)
            if primary is not None:  # a standby's base backup waits for a checkpoint: ask for it now
                subprocess.run(_as_postgres([str(PGBIN / "psql"), "-h", "127.0.0.1", "-p", str(primary.port), "-U",
                                             "postgres", "-Atqc", "CHECKPOINT", "postgres"]), capture_output=True)
            if time.monotonic() > deadline:
                raise RuntimeError(f"formation not healthy: {self.state()}")
            time.sleep(1)

    def kill(self, node: Node) -> None:
        """The node is lost: its keeper and its PostgreSQL killed at once (SIGKILL), nothing flushed."""
        pid = node.postmaster_pid()
        if node.proc and node.proc.poll() is None:
            os.killpg(node.proc.pid, signal.SIGKILL)
        if pid:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if node.proc:
            node.proc.wait(timeout=10)

    def stop(self) -> None:
        for node in [*self.nodes, self.monitor]:
            if node.proc and node.proc.poll() is None:
                os.killpg(node.proc.pid, signal.SIGTERM)
        for node in [*self.nodes, self.monitor]:
            if node.proc:
                try:
                    node.proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(node.proc.pid, signal.SIGKILL)
            pid = node.postmaster_pid()  # a PostgreSQL left behind by a killed keeper
            if pid:
                subprocess.run(_as_postgres([str(PGBIN / "pg_ctl"), "-D", str(node.pgdata), "-m", "immediate", "-w",
                                             "stop"]), capture_output=True)


def _as_postgres(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def _env(directory: Path) -> dict:
    return {**os.environ, "PATH": f"{PGBIN}:{os.environ.get('PATH', '')}", "PG_CONFIG": str(PGBIN.parent / "bin/pg_config"),
            "XDG_CONFIG_HOME": str(directory / "config"), "XDG_DATA_HOME": str(directory / "share"),
            "XDG_RUNTIME_DIR": str(directory / "run"), "PGHOST": "127.0.0.1"}


def _autoctl(directory: Path, args: list[str], *, check: bool = True) -> subprocess.CompletedProcess:
    env = _env(directory)
    argv = _as_postgres(["env", *(f"{k}={env[k]}" for k in ("PATH", "XDG_CONFIG_HOME", "XDG_DATA_HOME",
                                                             "XDG_RUNTIME_DIR")), PG_AUTOCTL, *args])
    done = subprocess.run(argv, capture_output=True, text=True, cwd=directory)
    if check and done.returncode:
        raise RuntimeError(f"pg_autoctl {args[0]} {args[1] if len(args) > 1 else ''}: {done.stderr.strip()[-500:]}")
    return done


def _run(directory: Path, node: Node) -> subprocess.Popen:
    env = _env(directory)
    argv = _as_postgres(["env", *(f"{k}={env[k]}" for k in ("PATH", "XDG_CONFIG_HOME", "XDG_DATA_HOME",
                                                             "XDG_RUNTIME_DIR")), PG_AUTOCTL, "run", "--pgdata",
                         str(node.pgdata)])
    log = open(directory / f"{node.name}.log", "ab")
    return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=directory, start_new_session=True)


def start(directory: Path, *, fast: bool = False, database: str = "juki") -> Formation:
    """Create (the first time) and run the monitor and two nodes under `directory`; returns once the
    primary and its synchronous standby are both up."""
    if not available():
        raise RuntimeError("pg_auto_failover が見つかりません。Debian の pg-auto-failover-cli と "
                           "postgresql-15-auto-failover を入れてください。")
    directory.mkdir(parents=True, exist_ok=True)
    for sub in ("config", "share", "run"):
        (directory / sub).mkdir(exist_ok=True)
    if os.geteuid() == 0:
        for path in (directory, *directory.iterdir()):
            shutil.chown(path, "postgres", "postgres")
    os.chmod(directory / "run", 0o700)
    ports_file = directory / "ports.json"
    ports = json.loads(ports_file.read_text()) if ports_file.exists() else \
        {"monitor": _free_port(), "node1": _free_port(), "node2": _free_port()}
    ports_file.write_text(json.dumps(ports))
    formation = Formation(directory, Node("monitor", ports["monitor"], directory / "monitor"), database=database)
    formation.nodes = [Node(name, ports[name], directory / name) for name in ("node1", "node2")]
    monitor_uri = f"postgres://autoctl_node@127.0.0.1:{ports['monitor']}/pg_auto_failover?sslmode=disable"
    try:
        if not (formation.monitor.pgdata / "PG_VERSION").exists():
            _autoctl(directory, ["create", "monitor", "--pgdata", str(formation.monitor.pgdata), "--pgport",
                                 str(ports["monitor"]), "--hostname", "127.0.0.1", "--auth", "trust", "--no-ssl"])
            if fast:
                settings = "\n".join(f"{k} = {v}" for k, v in FAST_MONITOR.items())
                with open(formation.monitor.pgdata / "postgresql.conf", "a") as conf:
                    conf.write(f"\n# juki failover --fast\n{settings}\n")
        formation.monitor.proc = _run(directory, formation.monitor)
        _wait_port(ports["monitor"])
        for node in formation.nodes:
            if not (node.pgdata / "PG_VERSION").exists():
                _autoctl(directory, ["create", "postgres", "--pgdata", str(node.pgdata), "--pgport", str(node.port),
                                     "--hostname", "127.0.0.1", "--name", node.name, "--auth", "trust", "--no-ssl",
                                     "--dbname", database, "--monitor", monitor_uri])
                if fast:
                    for key, value in FAST_KEEPER.items():
                        _autoctl(directory, ["config", "set", "--pgdata", str(node.pgdata), key, value])
            node.proc = _run(directory, node)
            if node is formation.nodes[0]:
                _wait_port(node.port)
        formation.wait_healthy()
    except BaseException:
        formation.stop()
        raise
    return formation


def _wait_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"port {port} did not open")


def default_dir() -> Path:
    var = Path(os.environ.get("JUKI_VAR_DIR", Path(__file__).resolve().parents[2] / "var"))
    return var / "failover"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="juki failover", description="自動フェイルオーバー構成（pg_auto_failover）")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="監視ノードと2台の PostgreSQL をループバックで起動する（試験・デモ用）")
    up.add_argument("--dir", type=Path, default=default_dir())
    up.add_argument("--fast", action="store_true", help="障害検知を短くする（試験用）")
    state = sub.add_parser("state", help="ノードの状態")
    state.add_argument("--dir", type=Path, default=default_dir())
    args = parser.parse_args(argv)
    if args.command == "state":
        ports = json.loads((args.dir / "ports.json").read_text())
        formation = Formation(args.dir, Node("monitor", ports["monitor"], args.dir / "monitor"))
        for s in formation.state():
            print(f"{s['nodename']}\t127.0.0.1:{s['nodeport']}\t{s['current_group_state']}\t{s['assigned_group_state']}")
        return
    formation = start(args.dir, fast=args.fast)
    print(json.dumps({"DATABASE_URL": formation.url}), flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        formation.stop()


if __name__ == "__main__":
    main()
