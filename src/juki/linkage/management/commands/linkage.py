"""`juki linkage`: the 庁内連携 and the 団体内統合宛名.

    juki linkage setup        the 庁内 CA and certificates, the signing key, the demo city's applications,
                              and the 宛名's first load (every person gets a 統一識別番号)
    juki linkage receivers    a receiving service per 随時 destination (the demo's and tests' stand-ins
                              for the business systems), each its own process, until Ctrl+C
    juki linkage run          the consumers: every destination at its rhythm, and the 宛名, until stopped
    juki linkage once         one turn of each, the outcome as JSON
    juki linkage status       the destinations' state (no personal data)
"""
from __future__ import annotations

import json
import subprocess
import sys
import time

from django.core.management.base import BaseCommand

from juki.accounts import destinations
from juki.accounts.destinations import Delivery as Mode
from juki.atena import services as atena
from juki.audit.gate import Actor
from juki.core import processes
from juki.linkage import approvals, config, engine, signing


def _receivers() -> list[subprocess.Popen]:
    key = config.signing_key()
    pem = config.root() / "signing.pub.pem"
    pem.write_text(signing.public_pem(key))
    procs = []
    for found in destinations.LINKAGE:
        if found.delivery != Mode.JSON:
            continue
        procs.append(subprocess.Popen([
            sys.executable, "-m", "juki.linkage.receiver", "--destination", found.code, "--pki", str(config.pki_dir()),
            "--store", str(config.root() / "receivers" / f"{found.code}.sqlite3"), "--sender-key", str(pem),
            "--sender", config.sender(), "--port-file", str(config.port_file(found.code))]))
    return procs


SWEEP_SECONDS = 60  # 支援措置・抑止 that began or ended: the 宛名's stored data follows within a minute


class Command(BaseCommand):
    help = "庁内連携・団体内統合宛名: 連携先への送信、受信サービス（デモ）、宛名の付番"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["setup", "receivers", "run", "once", "status"])
        parser.add_argument("--interval", type=float, default=0.2, help="run: 変更がないときの待ち秒数")
        parser.add_argument("--only", help="run・once: この連携先だけ（カンマ区切り、atena で宛名の付番）")
        parser.add_argument("--while-pid", type=int, help="run・receivers: このプロセスが終了したら停止します（デモ用）")

    def handle(self, *args, action, interval, while_pid=None, only=None, **options):
        codes = set(only.split(",")) if only else None
        if action == "setup":
            config.ensure_pki([d.code for d in destinations.LINKAGE])
            config.signing_key()
            made = approvals.demo_approvals(Actor.system_actor("demo_setup"))
            issued = atena.load()
            self.stdout.write(f"庁内連携: 利用申請 {made} 件を登録、統一識別番号 {issued} 件を付番しました。")
            return
        if action == "receivers":
            from juki.network.cli import run_until_stopped

            config.ensure_pki([d.code for d in destinations.LINKAGE])
            self.stdout.write("庁内連携: 受信サービスを起動します（停止は Ctrl+C）")
            procs = _receivers()
            if while_pid is not None:  # the demo: a watcher ends them with the server
                while processes.alive(while_pid) and all(p.poll() is None for p in procs):
                    time.sleep(1)
                for p in procs:
                    p.terminate()
                return
            run_until_stopped(procs)
            return
        if action == "status":
            for found in destinations.LINKAGE:
                s = engine.status_of(found.code)
                self.stdout.write(json.dumps({"destination": found.code, "cursor": s["cursor"], "lag": s["lag_events"],
                                              "pending": s["pending"], "dead": s["dead"], "error": s["error"],
                                              "approval": s["approval"].number if s["approval"] else None},
                                             ensure_ascii=False))
            return
        swept = 0.0
        while while_pid is None or processes.alive(while_pid):
            synced = atena.Sync()
            if codes is None or "atena" in codes:
                try:  # the 宛名's fault never stops the destinations
                    synced = atena.sync()
                    if time.monotonic() - swept > SWEEP_SECONDS:
                        atena.sweep()
                        swept = time.monotonic()
                except Exception as exc:  # noqa: BLE001 - shown, and tried again next turn
                    self.stderr.write(f"団体内統合宛名: {type(exc).__name__}: {exc}")
            outcomes = engine.run_all(codes=codes)
            if action == "once":
                self.stdout.write(json.dumps({"atena": synced.__dict__, **{k: v.__dict__ for k, v in outcomes.items()}},
                                             ensure_ascii=False))
                return
            if not synced.events and not any(o.collected or o.sent for o in outcomes.values()):
                time.sleep(interval)
