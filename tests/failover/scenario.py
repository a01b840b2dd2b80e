"""The failover scenario, shared by the test and bench/bench_failover.py: a register on the formation,
a writer (tests/failover/writer.py) making changes, the primary killed once `before` changes were
acknowledged, and the run goes on until `after` more were acknowledged on the new primary."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from juki import failover
from tests.backup.conftest import DEMO_TOWNS, Juki

ROOT = Path(__file__).resolve().parents[2]


class Acks:
    """The writer's acknowledged change ids, with the moment each arrived."""

    def __init__(self, proc: subprocess.Popen):
        self.items: list[tuple[float, int]] = []
        threading.Thread(target=self._read, args=(proc,), daemon=True).start()

    def _read(self, proc):
        for line in proc.stdout:
            if line.strip().isdigit():
                self.items.append((time.monotonic(), int(line)))

    def wait(self, count: int, *, after: float = 0.0, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while sum(1 for t, _ in self.items if t > after) < count:
            assert time.monotonic() < deadline, f"{len(self.items)} changes acknowledged, waited for {count} after {after}"
            time.sleep(0.05)


@dataclass
class Run:
    acks: list[tuple[float, int]]
    killed: float
    old: failover.Node

    @property
    def acked(self) -> list[int]:
        return [change for _, change in self.acks]

    def outage(self) -> float:
        """The longest wait between two acknowledgements around the kill (one in flight may land just after it)."""
        times = [t for t, _ in self.acks if t > self.killed - 5]
        return max(b - a for a, b in zip(times, times[1:]))

    def normal(self) -> float:
        """The median wait between acknowledgements before the kill: the same run's baseline."""
        import statistics

        before = [t for t, _ in self.acks if t <= self.killed]
        return statistics.median(b - a for a, b in zip(before, before[1:]))


def register_on(formation: failover.Formation, directory: Path, *, persons: int) -> dict[str, str]:
    """juki's environment on the formation, migrated and seeded."""
    env = {"DATABASE_URL": formation.url, "JUKI_VAR_DIR": str(directory / "var"), "DJANGO_SETTINGS_MODULE": "juki.conf.dev"}
    juki = Juki(env)
    juki("migrate", "-v0")
    juki("load-towns", DEMO_TOWNS)
    juki("seed", "--persons", str(persons), "--seed", "1", "--no-progress")
    return env


def kill_under_writes(formation: failover.Formation, env: dict, directory: Path, *, before: int, after: int,
                      timeout: float) -> Run:
    old = formation.primary()
    errors = directory / "writer.err"
    with open(errors, "w") as err:
        writer = subprocess.Popen([sys.executable, "-m", "tests.failover.writer"], cwd=ROOT, text=True,
                                  env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=err)
    try:
        acks = Acks(writer)
        acks.wait(before)
        killed = time.monotonic()
        formation.kill(old)
        try:
            acks.wait(after, after=killed, timeout=timeout)  # the writer goes on, on the new primary, by itself
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{formation.state()}\n{errors.read_text()[-3000:]}") from None
        return Run(list(acks.items), killed, old)
    finally:
        writer.kill()
        writer.wait(timeout=10)
