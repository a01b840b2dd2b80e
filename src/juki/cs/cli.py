"""`juki cs …`: the city's 市町村CS, a process of its own with its own database (settings juki.conf.cs).

    juki cs serve [--port 8450] [--network DIR]   migrate its database, then serve S2 and send to the prefecture
    juki cs status [--network DIR]                the queue, as S2 sees it

The network's description (`juki network up` writes DIR/network.json) says where the prefecture is.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path


def _setup() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "juki.conf.cs"
    import django

    django.setup()


def main(argv: list[str] | None = None) -> None:
    from juki.network.cli import default_dir

    parser = argparse.ArgumentParser(prog="juki cs", description="市町村CS")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="市町村CSを起動する")
    serve.add_argument("--network", type=Path, default=default_dir())
    serve.add_argument("--port", type=int, default=8450)
    sub.add_parser("migrate", help="CSのデータベースを作成・更新する")
    args = parser.parse_args(argv)
    _setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if args.command == "migrate":
        return
    from juki.network import pki, wire

    from . import server

    network = json.loads((args.network / "network.json").read_text())
    pki.create(args.network, municipalities=(settings.MUNICIPALITY,))
    sender = server.Sender(server.prefecture_client(args.network, network["peers"]["prefecture"]))
    sender.start()
    name = pki.cs_name(settings.MUNICIPALITY)

    def ready(port: int) -> None:
        (args.network / f"{name}.port").write_text(str(port))
        print(f"{name}: https://127.0.0.1:{port}", flush=True)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    wire.serve(server.app(sender), directory=args.network, name=name, port=args.port, ready=ready)
