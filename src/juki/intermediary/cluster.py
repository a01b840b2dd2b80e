"""A PostgreSQL cluster of the intermediary's own, for the demo and the tests (ADR 0026).

The platform's isolation between cities is PostgreSQL's row-level security, so it never runs on
SQLite: `juki intermediary up` and the tests start a cluster from Debian's `postgresql-15` in a
directory of their own (`initdb` once, `pg_ctl start` on a free loopback port), as `.ci/run` does for
the register. In production `JUKI_INTERMEDIARY_DATABASE_URL` names the platform's own server and this
module is not used.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

PGBIN = Path(os.environ.get("JUKI_PGBIN", "/usr/lib/postgresql/15/bin"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(argv: list[str]) -> list[str]:
    # initdb refuses to run as root: the cluster belongs to Debian's `postgres` user then.
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@dataclass
class Cluster:
    directory: Path
    port: int

    @property
    def url(self) -> str:
        """The superuser's URL (trust on loopback: a demo's and a test's cluster only)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        subprocess.run(_as_postgres([str(PGBIN / "pg_ctl"), "-D", str(self.directory / "data"), "-m", "fast",
                                     "-w", "stop"]), capture_output=True, check=False)


def _run(argv: list[str]) -> None:
    done = subprocess.run(_as_postgres(argv), capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"{Path(argv[0]).name}: {done.stderr.strip() or done.stdout.strip()}")


def available() -> bool:
    return (PGBIN / "initdb").exists()


def start(directory: Path, *, port: int | None = None, fast: bool = False) -> Cluster:
    """Start the cluster in `directory` (made by initdb the first time). `fast` turns off fsync, for
    tests only. A cluster already running there is stopped first (a demo that was killed)."""
    if not available():
        raise RuntimeError(f"PostgreSQL 15 が見つかりません（{PGBIN}）。Debian の postgresql-15 を入れてください。")
    directory.mkdir(parents=True, exist_ok=True)
    data = directory / "data"
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    if not (data / "PG_VERSION").exists():
        _run([str(PGBIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8"])
    if (data / "postmaster.pid").exists():
        subprocess.run(_as_postgres([str(PGBIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
                       capture_output=True, check=False)
    port = port or _free_port()
    options = f"-p {port} -k {directory} -c listen_addresses=127.0.0.1"
    if fast:
        options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    _run([str(PGBIN / "pg_ctl"), "-D", str(data), "-l", str(directory / "server.log"), "-w", "-o", options, "start"])
    return Cluster(directory, port)
