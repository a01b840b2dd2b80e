"""The feed's loop (`juki intermediary-link run`), each duty on its own clock and with its own errors,
so that none starves another:

- the 副本: a batch whenever the outbox moved (0.5 s idle poll; no log row when nothing is new);
- the 自動応答不可フラグ: swept every 30 s (a 支援措置 begun or ended without a 異動), whatever the
  batches do;
- the 情報提供等記録: the platform's new ones copied (no log row when there are none);
- P5: 符号 through the CS for whoever lacks one, every 60 s (when the CS answers).

The platform away → wait and try again: nothing is acknowledged that it did not store. A batch the
platform refuses is logged by its code (never its content) and retried; it holds the feed, not the
sweep.
"""
from __future__ import annotations

import logging
import time

from juki.core.errors import DomainError
from juki.network.wire import Unreachable

from . import codes, feed

log = logging.getLogger("juki.intermediary_link")
SWEEP_SECONDS = 30.0  # a 支援措置 begun without a 異動 is flagged within this (ADR 0026)
CODES_SECONDS = 60.0


def run_until(client_factory, *, stop, interval: float = 0.5, cs_factory=None, sweep_seconds: float = SWEEP_SECONDS,
              codes_seconds: float = CODES_SECONDS) -> None:
    client, swept, coded, copied = None, 0.0, 0.0, None

    def duty(name: str, step) -> object:
        nonlocal client
        try:
            return step()
        except Unreachable:
            client = None
        except feed.PlatformRefused as exc:
            log.error("中間サーバー連携: %s was refused (%s)", name, exc.code)
        except DomainError as exc:
            log.error("中間サーバー連携: %s failed (%s)", name, exc.code)
        return None

    def _codes(platform, make_cs) -> None:
        try:
            codes.acquire(platform, make_cs())
        except Unreachable:
            pass  # the CS (or the platform) away: the 符号 wait; the next duty finds out which

    while not stop():
        try:
            client = client or client_factory()
        except Unreachable:
            stop(wait=5.0)
            continue
        done = duty("batch", lambda: feed.run_once(client)) or feed.Batch()
        if client is not None and time.monotonic() - swept >= sweep_seconds:
            duty("sweep", lambda: feed.sweep(client))
            swept = time.monotonic()
        if client is not None and not done.events:
            reached = duty("records", lambda: feed.pull_records(client, after=copied))
            copied = copied if reached is None else reached
        if client is not None and cs_factory is not None and time.monotonic() - coded >= codes_seconds:
            duty("fugo", lambda: _codes(client, cs_factory))
            coded = time.monotonic()
        if client is None:
            stop(wait=5.0)
        elif not done.events:
            stop(wait=interval)
