"""The feed's loop (`juki intermediary-link run`): a batch whenever the outbox moved; when idle, the
platform's new 情報提供等記録 copied and P5's 符号 asked for whoever lacks one (when the CS answers).
The platform away → wait and try again: nothing is acknowledged that it did not store."""
from __future__ import annotations

from juki.core.errors import DomainError
from juki.network.wire import Unreachable

from . import codes, feed


def run_until(client_factory, *, stop, interval: float = 0.5, cs_factory=None) -> None:
    client = None
    while not stop():
        try:
            client = client or client_factory()
            done = feed.run_once(client)
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
