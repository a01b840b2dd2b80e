"""`juki intermediary …`: the 中間サーバー platform, a process of its own with its own PostgreSQL.

    juki intermediary up [--dir DIR] [--tenant 401005=北九州市 …]
        the demo's and the tests' platform: a PostgreSQL cluster of its own under DIR/pg (Debian's
        postgresql-15), the schema, the tenants, then `serve`; writes the network directory's
        intermediary.json so the 情報提供ネットワークシステム finds it. Foreground; Ctrl-C stops it all.
    juki intermediary init --url ADMIN_URL [--tenant CODE=NAME …]    roles, schema and tenants (production)
    juki intermediary serve --url URL [--network DIR] [--port N]     the HTTPS API (mutual TLS)
    juki intermediary status [--network DIR]                         the operator's view: counts per tenant
    juki intermediary purge --url ADMIN_URL [--dry-run]              daily: 情報提供等記録 past 7 years (issue 18)

URL is the platform's database; the service logs in as each tenant's role on the same server
(`im_t_<code>`), never as the owner. DIR defaults to $JUKI_VAR_DIR/intermediary.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from juki.network import pki
from juki.network.cli import default_dir as network_dir
from juki.network.wire import serve as serve_app
from juki.network.wire import write_ready

from . import cluster, db

JST = dt.timezone(dt.timedelta(hours=9), "JST")
DEMO_TENANTS = {"401005": "北九州市", "401307": "福岡市"}  # the two cities of Juki-net II


def default_dir() -> Path:
    return network_dir().parent / "intermediary"  # beside the network's: $JUKI_VAR_DIR/intermediary


def _tenants(values: list[str] | None) -> dict[str, str]:
    if not values:
        return dict(DEMO_TENANTS)
    found = {}
    for value in values:
        code, _, name = value.partition("=")
        found[code] = name or code
    return found


def prepare(admin_url: str, tenants: dict[str, str]) -> None:
    db.init(admin_url)
    for code, name in tenants.items():
        db.add_tenant(admin_url, code, name)


def start_server(url: str, network: Path, *, port: int = 0, timeout: float = 20) -> tuple[subprocess.Popen, str]:
    """`serve` as a process of its own; returns it and its URL once it listens."""
    ready = network / "intermediary.port"
    ready.unlink(missing_ok=True)
    proc = subprocess.Popen([sys.executable, "-m", "juki.intermediary.cli", "serve", "--url", url,
                             "--network", str(network), "--port", str(port)])
    deadline = time.monotonic() + timeout
    while not ready.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("中間サーバーが起動しませんでした。")
        time.sleep(0.05)
    base = f"https://127.0.0.1:{ready.read_text().strip()}"
    write_ready(network / "intermediary.json", json.dumps({"url": base}))
    return proc, base


def operator_status(network: Path) -> str:
    """The platform operator's view (`im-operator`): health, and per tenant counts and batch times."""
    from juki.network.wire import Client, Unreachable

    try:
        url = json.loads((network / "intermediary.json").read_text())["url"]
        status, seen = Client(url, directory=network, name="im-operator").call("GET", "/operator/status")
    except (OSError, ValueError, KeyError, Unreachable):
        return "中間サーバーに接続できません（juki intermediary up）。"
    if status != 200:
        return f"中間サーバーが状況を返しませんでした（{seen.get('code', status)}）。"
    lines = [f"稼働: {seen['health']}（起動から {seen['uptime_seconds']} 秒）",
             "団体　　　　副本　自動応答不可　符号　確認待ち　照会(24h)　不可(24h)　最終更新　　　　　　最終全件"]
    def when(value: str | None) -> str:  # the platform's time in Japan's, as its operators read it
        return dt.datetime.fromisoformat(value).astimezone(JST).strftime("%Y-%m-%d %H:%M") if value else "—"

    for t in seen["tenants"]:
        lines.append(f"{t['tenant']} {t['name']:<5} {t['replica']:>8} {t['no_auto']:>8} {t['fugo']:>8} {t['held']:>6} "
                     f"{t['inquiries_24h']:>8} {t['refused_24h']:>8}  {when(t['last_feed'])}  {when(t['last_full'])}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="juki intermediary", description="中間サーバー（情報提供ネットワークシステム）")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="試験用の中間サーバーを PostgreSQL とともに起動する")
    up.add_argument("--dir", type=Path, default=default_dir())
    up.add_argument("--network", type=Path, default=network_dir())
    up.add_argument("--tenant", action="append")
    up.add_argument("--port", type=int, default=8460)
    init = sub.add_parser("init", help="ロール・スキーマ・利用団体を作成する")
    init.add_argument("--url", required=True)
    init.add_argument("--tenant", action="append")
    status = sub.add_parser("status", help="基盤の運用者として稼働状況を見る（団体ごとの件数のみ）")
    status.add_argument("--network", type=Path, default=network_dir())
    purge = sub.add_parser("purge", help="保存期間（7年）を過ぎた情報提供等記録を削除する（毎日）")
    purge.add_argument("--url", required=True)
    purge.add_argument("--dry-run", action="store_true")
    serve = sub.add_parser("serve", help="中間サーバーの API を起動する")
    serve.add_argument("--url", default=os.environ.get("JUKI_INTERMEDIARY_DATABASE_URL"))
    serve.add_argument("--network", type=Path, default=network_dir())
    serve.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    if args.command == "init":
        prepare(args.url, _tenants(args.tenant))
        print("中間サーバー: ロール・スキーマ・利用団体を用意しました")
    elif args.command == "purge":
        rows = db.purge(args.url, today=dt.datetime.now(JST).date(), execute=not args.dry_run)
        verb = "対象" if args.dry_run else "削除"
        for row in rows:
            print(f"{row['tenant']}: 情報提供等記録 {verb} {row['records']} 件（保存期限 {row['before']} より前）、"
                  f"照会 {verb} {row['inquiries']} 件（{row['inquiries_before']} より前に受付、確認待ちを除く）")
    elif args.command == "status":
        print(operator_status(args.network))
    elif args.command == "serve":
        if not args.url:
            parser.error("--url か JUKI_INTERMEDIARY_DATABASE_URL を指定してください")
        from .server import build

        app = build(args.url)

        def ready(port: int) -> None:
            write_ready(args.network / "intermediary.port", str(port))
            print(f"intermediary: https://127.0.0.1:{port}", flush=True)

        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        serve_app(app, directory=args.network, name="intermediary", port=args.port, ready=ready)
    else:
        tenants = _tenants(args.tenant)
        pki.create(args.network, municipalities=tuple(tenants))
        pg = cluster.start(args.dir / "pg")
        url = db.create_database(pg.url, "intermediary")
        try:
            prepare(url, tenants)
            proc, base = start_server(url, args.network, port=args.port)
            print(json.dumps({"url": base, "database": f"127.0.0.1:{pg.port}/intermediary",
                              "tenants": tenants}, ensure_ascii=False), flush=True)
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
            try:
                while proc.poll() is None:
                    time.sleep(1)
            except KeyboardInterrupt:
                pass
            finally:
                if proc.poll() is None:
                    proc.terminate()
                    proc.wait(timeout=10)
        finally:
            pg.stop()


if __name__ == "__main__":
    main()
