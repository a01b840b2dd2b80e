"""`juki network …`: the simulated national network for the demo and the tests.

    juki network ca [--dir DIR]              the test CA and every certificate (once)
    juki network serve PEER [--port N]       one peer in the foreground (national, prefecture, jlis, cards,
                                             koseki, moj)
    juki network up [--dir DIR]              every peer, each its own process; writes DIR/network.json

`up` stays in the foreground and stops its peers on Ctrl-C or SIGTERM. DIR defaults to
`$JUKI_VAR_DIR/network` (`var/network`).
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from . import pki
from .peers import PEERS
from .wire import serve, write_ready

PORTS = {"prefecture": 8441, "jlis": 8442, "national": 8443, "cards": 8444, "koseki": 8445, "moj": 8446, "infonet": 8447}


def default_dir() -> Path:
    var = os.environ.get("JUKI_VAR_DIR") or str(Path(__file__).resolve().parents[3] / "var")
    return Path(var) / "network"


def start(directory: Path, ports: dict[str, int] | None = None) -> tuple[list[subprocess.Popen], dict]:
    """Start every peer as its own process; return them and the network's description
    (`network.json`: each peer's URL). Waits until each has bound its port."""
    pki.create(directory)
    ports = {**PORTS, **(ports or {})}
    procs, urls = [], {}
    for name in PEERS:
        ready = directory / f"{name}.port"
        ready.unlink(missing_ok=True)
        procs.append(subprocess.Popen([sys.executable, "-m", "juki.network.cli", "serve", name, "--dir", str(directory),
                                       "--port", str(ports[name])]))
        deadline = time.monotonic() + 20
        while not ready.exists():
            if procs[-1].poll() is not None or time.monotonic() > deadline:
                stop(procs)
                raise RuntimeError(f"peer {name} did not start (port {ports[name]})")
            time.sleep(0.05)
        urls[name] = f"https://127.0.0.1:{ready.read_text().strip()}"
    description = {"directory": str(directory), "peers": urls}
    (directory / "network.json").write_text(json.dumps(description, indent=2))
    return procs, description


def stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="juki network", description="住基ネットの試験用ネットワーク")
    sub = parser.add_subparsers(dest="command", required=True)
    ca = sub.add_parser("ca", help="試験用認証局と証明書を作成する")
    ca.add_argument("--dir", type=Path, default=default_dir())
    one = sub.add_parser("serve", help="一つの相手方サーバを起動する")
    one.add_argument("peer", choices=sorted(PEERS))
    one.add_argument("--dir", type=Path, default=default_dir())
    one.add_argument("--port", type=int, default=0)
    up = sub.add_parser("up", help="すべての相手方サーバを起動する")
    up.add_argument("--dir", type=Path, default=default_dir())
    ask = sub.add_parser("ask", help="情報照会者として情報提供ネットワークシステムに照会する（試験用）")
    ask.add_argument("--dir", type=Path, default=default_dir())
    ask.add_argument("--as", dest="requester", choices=sorted(pki.REQUESTERS), default="req-mhlw")
    ask.add_argument("--provider", default="401005", help="情報提供者の地方公共団体コード")
    ask.add_argument("--resident-code", required=True, help="照会者が符号を得るための住民票コード（試験用）")
    ask.add_argument("--provision", type=int, default=48, help="別表第二の項番")
    ask.add_argument("--affair", default="048-1", help="事務の番号（照会許可用照合リスト）")
    ask.add_argument("--items", default="is_head,head_name,relationship")
    ask.add_argument("--inquiry", type=int, help="保留中の照会の番号（結果をもう一度たずねる）")
    args = parser.parse_args(argv)
    if args.command == "ca":
        written = pki.create(args.dir)
        print(f"{args.dir}: {', '.join(written) or '作成済み（変更なし）'}")
    elif args.command == "serve":
        app = PEERS[args.peer](args.dir)

        def ready(port: int) -> None:
            write_ready(args.dir / f"{args.peer}.port", str(port))
            print(f"{args.peer}: https://127.0.0.1:{port}", flush=True)

        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        serve(app, directory=args.dir, name=args.peer, port=args.port, ready=ready)
    elif args.command == "ask":
        from .requester import ask as asking

        print(json.dumps(asking(args.dir, requester=args.requester, provider=args.provider,
                                resident_code=args.resident_code, provision=args.provision, affair=args.affair,
                                items=[i for i in args.items.split(",") if i], inquiry=args.inquiry),
                         ensure_ascii=False, indent=2))
    else:
        procs, description = start(args.dir)
        print(json.dumps(description, ensure_ascii=False, indent=2), flush=True)
        run_until_stopped(procs)


def run_until_stopped(procs: list[subprocess.Popen]) -> None:
    """Stay in the foreground while every process runs; stop them all on Ctrl-C, SIGTERM, or one's end."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # SystemExit: the finally below stops them
    try:
        while all(p.poll() is None for p in procs):
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        stop(procs)


if __name__ == "__main__":
    main()
