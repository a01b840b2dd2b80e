"""`juki intermediary-link load|run|once|reconcile`: the city's feed of the 中間サーバー's 副本.

    load        the full load (after `juki linkage setup` numbered everyone), cursor to its position
    run         follow the outbox (stops with --while-pid's process); when idle, copy the platform's
                情報提供等記録 and get 符号 (P5) through the CS for whoever lacks one
    once        one batch; prints what it sent
    reconcile   C28: the 副本 against the register; prints the differences (統一識別番号 and items)
    records     copy the platform's new 情報提供等記録 (the 開示請求 answer lists them)
    fugo        P5: 符号 through the CS for the persons the platform has none for
    sweep       the 自動応答不可フラグ of 支援措置 begun or ended without a 異動
"""
from __future__ import annotations

import json
import threading

from django.core.management.base import BaseCommand, CommandError

from juki.core.processes import alive
from juki.intermediary_link import connection, feed, runner
from juki.jukinet.connection import cs_client
from juki.network.wire import Unreachable


class Command(BaseCommand):
    help = "中間サーバーの副本を住民記録から更新する"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["load", "run", "once", "reconcile", "records", "fugo", "sweep"])
        parser.add_argument("--while-pid", type=int)

    def handle(self, *args, action, while_pid=None, **options):
        try:
            if action == "load":
                self.stdout.write(json.dumps(feed.load(connection.platform()), ensure_ascii=False))
            elif action == "once":
                self.stdout.write(json.dumps(feed.run_once(connection.platform()).__dict__))
            elif action == "sweep":
                self.stdout.write(json.dumps(feed.sweep(connection.platform())))
            elif action == "records":
                self.stdout.write(json.dumps({"copied": feed.pull_records(connection.platform())}))
            elif action == "fugo":
                from juki.intermediary_link import codes

                self.stdout.write(json.dumps(codes.acquire(connection.platform(), cs_client())))
            elif action == "reconcile":
                found = feed.reconcile(connection.platform())
                self.stdout.write(json.dumps({"checked": found.checked, "differences": found.differences,
                                              "missing": found.missing[:100], "extra": found.extra[:100],
                                              "differing": dict(list(found.differing.items())[:100])},
                                             ensure_ascii=False))
            else:
                stopping = threading.Event()

                def stop(wait: float = 0.0) -> bool:
                    if while_pid and not alive(while_pid):
                        stopping.set()
                    if wait:
                        stopping.wait(wait)
                    return stopping.is_set()

                runner.run_until(connection.platform, stop=stop, cs_factory=cs_client)
        except (Unreachable, feed.PlatformRefused) as exc:
            raise CommandError(f"中間サーバーに送れませんでした: {exc}") from None
