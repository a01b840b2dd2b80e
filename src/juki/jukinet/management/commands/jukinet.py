"""`juki jukinet run`: the 住基ネット連携 consumer (S2), polling the outbox and sending to the CS."""
from __future__ import annotations

import json
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from juki.network import pki
from juki.network.cli import default_dir
from juki.network.wire import Client, Unreachable

from ... import connection, messages, services


class Command(BaseCommand):
    help = "住基ネット連携: 異動を本人確認情報の更新として市町村CSへ送る"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["run", "once", "load", "stock"])
        parser.add_argument("--network", type=Path, default=default_dir())
        parser.add_argument("--municipality", default=settings.JUKI_MUNICIPALITY)
        parser.add_argument("--count", type=int, default=1000, help="stock: 取得する住民票コードの数")
        parser.add_argument("--interval", type=float, default=0.2, help="変更がないときの待ち秒数")

    def handle(self, *args, action, network, municipality, interval, count, **options):
        name = pki.cs_name(municipality)
        port = (network / f"{name}.port").read_text().strip()
        cs = Client(f"https://127.0.0.1:{port}", directory=network, name=pki.s2_name(municipality))
        if action == "stock":
            self.stdout.write(f"住民票コードを {services.fill_stock(cs, count=count)} 件追加しました。")
            return
        if action == "load":
            self.stdout.write(json.dumps(services.load(cs), ensure_ascii=False))
            return
        koseki = connection.koseki_client()
        while True:
            run = services.consume(cs, koseki=koseki)
            services.consume_restrictions(cs)
            numbers = services.answer_numbers(cs)
            try:
                received = messages.pull(cs, koseki)
            except Unreachable as exc:
                received = {"error": str(exc)}
            if action == "once":
                self.stdout.write(json.dumps({**run.__dict__, "numbers": numbers, "received": received},
                                             ensure_ascii=False))
                return
            if not run.events:
                time.sleep(interval if not run.unreachable else 2.0)
