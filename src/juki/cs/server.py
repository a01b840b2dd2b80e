"""The CS's HTTPS API towards the register's 住基ネット連携 (S2), mutual TLS like the network (C17):
only the client certificate of this city's S2 may call it. And its sender: a thread that drains the
queue to the prefecture server, woken by each accepted update and backing off while it is away."""
from __future__ import annotations

import threading
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections, connections

from juki.network import pki
from juki.network.wire import App, Client, Refused, Request

from . import services


def _db(handler):
    """Each request runs in a thread of its own: its database connection is closed with it."""
    def wrapped(request: Request) -> dict:
        close_old_connections()
        try:
            return handler(request)
        finally:
            connections.close_all()
    return wrapped


class Sender(threading.Thread):
    def __init__(self, prefecture: Client):
        super().__init__(name="cs-sender", daemon=True)
        self.prefecture, self.wake, self.stopping = prefecture, threading.Event(), threading.Event()
        self.last: dict = {}

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.last = result = services.send_batch(self.prefecture)
            except Exception as exc:  # noqa: BLE001 - the sender must outlive a bad moment of the database
                self.last = result = {"sent": 0, "error": type(exc).__name__}
                connections.close_all()
            if result.get("sent") or result.get("dead"):
                continue  # more may be waiting right behind
            self.wake.wait(timeout=0.5 if result.get("waiting") else 5.0)
            self.wake.clear()


def app(sender: Sender | None) -> App:
    cs = App("cs")
    s2 = pki.s2_name(settings.MUNICIPALITY)

    def caller(request: Request) -> None:
        if request.peer != s2:
            raise Refused(403, "not_this_city_s2", "この市町村の住基ネット連携システムの証明書ではありません。")

    @cs.route("POST", "/updates")
    @_db
    def updates(request: Request) -> dict:
        caller(request)
        answer = services.receive(request.body)
        if answer["outcome"] == "accepted" and sender is not None:
            sender.wake.set()
        return answer

    @cs.route("POST", "/updates/batch")
    @_db
    def batch(request: Request) -> dict:
        caller(request)
        answers = services.receive_many(list(request.body.get("messages", []))[:1000])
        if sender is not None:
            sender.wake.set()
        return {"answers": answers}

    @cs.route("GET", "/status")
    @_db
    def status(request: Request) -> dict:
        caller(request)
        return {**services.status(), "sender": sender.last if sender else None,
                "refused_handshakes": cs.refused_handshakes}

    @cs.route("POST", r"/dead-letters/(?P<seq>[0-9]+)/retry")
    @_db
    def retry(request: Request) -> dict:
        caller(request)
        answer = services.retry_dead(int(request.params["seq"]))
        if answer["outcome"] != "queued":
            raise Refused(404, "not_found", "送信不能の更新が見つかりません。")
        if sender is not None:
            sender.wake.set()
        return answer

    return cs


def prefecture_client(network: Path, url: str) -> Client:
    return Client(url, directory=network, name=pki.cs_name(settings.MUNICIPALITY))
