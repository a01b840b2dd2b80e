"""The 情報提供ネットワークシステム, simulated (issue 17): the network between 情報照会者 and the
providers' 中間サーバー.

A requester (`req-…`, its certificate) asks with its own 符号 of the person; the network translates it
into the provider's 符号 (J-LIS's `/fugo/translate`: neither side sees a 住民票コード), vouches for who the
requester is and which kind of body (`pki.REQUESTERS`), adds the requester's public key for the answer,
and passes the inquiry to the provider's 中間サーバー. The answer comes back sealed to the requester's
key; the network cannot read it. Requesters' X25519 keys live in the network's directory
(`<name>.x25519`, owner-only; `requester_key`).

The platform's URL is `intermediary.json` in the network's directory, written by `juki intermediary up`.
"""
from __future__ import annotations

import json
import os
import re
import secrets
from pathlib import Path

from . import pki
from .wire import App, Client, Refused, Request, Unreachable


def requester_key(directory: Path, name: str) -> tuple[str, str]:
    """(private, public) of a requester's answer key, made once."""
    from juki.intermediary import sealing  # the sealing scheme is the platform's; the key file is the network's

    path = directory / f"{name}.x25519"
    if not path.exists():
        # Written aside, then linked into place: two first uses at once keep one key, and neither reads
        # a half-written file.
        private, public = sealing.new_key()
        aside = directory / f".{name}.x25519.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump({"private": private, "public": public}, f)
        try:
            os.link(aside, path)
        except FileExistsError:
            pass  # another thread's key came first: use it
        finally:
            aside.unlink()
    data = json.loads(path.read_text())
    return data["private"], data["public"]


def _url(directory: Path, name: str, key: str) -> str | None:
    path = directory / name
    if not path.exists():
        return None
    return json.loads(path.read_text()).get(key)


def infonet(directory: Path) -> App:
    app = App("infonet")
    clients: dict[str, Client] = {}

    def client(which: str) -> Client:
        url = (_url(directory, "intermediary.json", "url") if which == "intermediary"
               else (_url(directory, "network.json", "peers") or {}).get("jlis"))
        if not url:
            raise Refused(503, f"{which}_unknown", "接続先が設定されていません。")
        if which not in clients or f"{clients[which].host}:{clients[which].port}" != url.removeprefix("https://"):
            clients[which] = Client(url, directory=directory, name="infonet")
        return clients[which]

    def requester(request: Request) -> tuple[str, str]:
        if request.peer not in pki.REQUESTERS:
            raise Refused(403, "not_a_requester", "情報照会者として登録されていません。")
        return request.peer, pki.REQUESTERS[request.peer][1]

    def call(which: str, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        try:
            return client(which).call(method, path, body)
        except Unreachable:
            raise Refused(503, f"{which}_unreachable", "接続先に届きません。") from None

    @app.route("POST", "/inquiries")
    def inquiry(request: Request) -> dict:
        name, kind = requester(request)
        provider = str(request.body.get("provider", ""))
        if not re.fullmatch(r"[0-9]{6}", provider):
            raise Refused(422, "invalid_provider", "情報提供者の団体コードは6桁の数字です。")
        status, translated = call("jlis", "POST", "/fugo/translate",
                                  {"fugo": str(request.body.get("fugo", "")), "holder": f"im-{provider}"})
        if status != 200:
            raise Refused(status, translated.get("code", "unknown_fugo"))
        body = {"message_id": f"{name}-{request.body.get('request_id') or secrets.token_hex(8)}", "requester": name,
                "requester_kind": kind, "provision": request.body.get("provision"),
                "affair": request.body.get("affair"), "items": request.body.get("items"), "fugo": translated["fugo"],
                "public_key": requester_key(directory, name)[1]}
        status, answer = call("intermediary", "POST", f"/providers/{provider}/inquiries", body)
        if status != 200:
            raise Refused(status, answer.get("code", "provider_error"))
        return {**answer, "provider": provider}

    @app.route("GET", r"/inquiries/(?P<provider>[0-9]{6})/(?P<id>[0-9]{1,18})")
    def result(request: Request) -> dict:
        name, _ = requester(request)
        status, answer = call("intermediary", "GET",
                              f"/providers/{request.params['provider']}/inquiries/{request.params['id']}?requester={name}")
        if status != 200:
            raise Refused(status, answer.get("code", "provider_error"))
        return answer

    @app.route("GET", "/health")
    def health(request: Request) -> dict:
        return {"peer": "infonet", "requesters": len(pki.REQUESTERS)}

    return app
