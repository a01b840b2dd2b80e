"""The feed's loop (`juki intermediary-link run`): a batch whenever the outbox moved; when idle, the
platform's new 情報提供等記録 copied, P5's 符号 asked for whoever lacks one (when the CS answers), and
every 30 s the 自動応答不可フラグ swept (a 支援措置 begun or ended without a 異動).
The platform away → wait and try again: nothing is acknowledged that it did not store."""
from __future__ import annotations

import time

from juki.core.errors import DomainError
from juki.network.wire import Unreachable

from . import codes, feed


SWEEP_SECONDS = 30.0  # a 支援措置 begun without a 異動 is flagged within this (ADR 0026)


def run_until(client_factory, *, stop, interval: float = 0.5, cs_factory=None, sweep_seconds: float = SWEEP_SECONDS) -> None:
    client, swept = None, 0.0
    while not stop():
        try:
            client = client or client_factory()
            done = feed.run_once(client)
            if not done.events and time.monotonic() - swept >= sweep_seconds:
                feed.sweep(client)
                swept = time.monotonic()
            if not done.events:
                feed.pull_records(client)
                if cs_factory is not None:
                    try:
                        codes.acquire(client, cs_factory())
                    except (Unreachable, DomainError):
                        pass  # the CS away or refusing: the 符号 wait, the 副本 does not
        except (Unreachable, feed.PlatformRefused):
            client, done = None, feed.Batch()
            stop(wait=5.0)
            continue
        if not done.events:
            stop(wait=interval)
