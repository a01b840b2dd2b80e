"""`juki cs …`: the city's 市町村CS, a process of its own with its own database (settings juki.conf.cs).

    juki cs serve [--port 8450] [--network DIR]   migrate its database, then serve S2 and send to the prefecture
    juki cs export-recipients FILE_ID --out PATH  送付先情報 to media, encrypted (JUKI_MEDIA_PASSPHRASE), recorded
    juki cs purge                                 daily (cron): 転出証明書情報 after 90 days,
                                                  送付先情報 one business day after sending (C24),
                                                  本人確認情報 five years after it stopped being current (C23)

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
    media = sub.add_parser("export-recipients", help="送付先情報のファイルを暗号化して媒体に書き出す（パスフレーズは JUKI_MEDIA_PASSPHRASE）")
    media.add_argument("file_id")
    media.add_argument("--out", type=Path, required=True)
    sub.add_parser("purge", help="保存期間を過ぎた送付先情報（送信の翌営業日）・本人確認情報（5年）・転出証明書情報（90日）を削除する（日次）")
    sub.add_parser("rekey", help="個人番号の暗号鍵の切替え: 有効な鍵（JUKI_CS_MYNUMBER_KEYS の先頭）で暗号化し直す")
    args = parser.parse_args(argv)
    _setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if args.command == "migrate":
        return
    if args.command == "export-recipients":
        from . import services

        data = services.export_recipients(args.file_id, os.environ.get("JUKI_MEDIA_PASSPHRASE", ""))
        fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        print(f"{args.out}: 暗号化して書き出しました（{len(data)} バイト）。記録しました。")
        return
    if args.command == "rekey":
        from juki.core import rekey

        from .services import rekey_stores

        done = rekey.rekey(rekey_stores())
        print(json.dumps({"active_key": rekey.active_key(), "resealed": done, "by_key": rekey.status(rekey_stores())},
                         ensure_ascii=False, indent=2))
        return
    if args.command == "purge":
        from . import services

        from . import mail

        print(json.dumps({"recipients": services.purge_recipients(), "history": services.purge_history(),
                          "transfer_certificates": mail.purge_transfers()}, ensure_ascii=False, indent=2))
        return
    from juki.network import pki, wire

    from . import server

    network = json.loads((args.network / "network.json").read_text())
    pki.create(args.network, municipalities=(settings.MUNICIPALITY,))
    from juki.network import consistency

    settings.JUKI_CONSISTENCY_KEY = consistency.key(args.network)
    peers = network["peers"]
    cards = server.peer_client(args.network, peers["cards"]) if "cards" in peers else None
    # The exchange of messages between cities is the national server's (juki.network.mail).
    exchange = server.peer_client(args.network, peers["national"]) if "national" in peers else None
    sender = server.Sender(server.peer_client(args.network, peers["prefecture"]), cards, exchange)
    sender.start()
    receiver = None
    if exchange is not None:
        receiver = server.Receiver(server.peer_client(args.network, peers["national"], timeout=35.0), sender)
        receiver.start()
    name = pki.cs_name(settings.MUNICIPALITY)

    def ready(port: int) -> None:
        wire.write_ready(args.network / f"{name}.port", str(port))
        print(f"{name}: https://127.0.0.1:{port}", flush=True)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    jlis = server.peer_client(args.network, peers["jlis"]) if "jlis" in peers else None
    holders = {p: server.peer_client(args.network, peers[p]) for p in ("prefecture", "national") if p in peers}
    national = server.peer_client(args.network, peers["national"]) if "national" in peers else None
    wire.serve(server.app(sender, jlis, holders, national, cards, receiver), directory=args.network, name=name,
               port=args.port, ready=ready)
