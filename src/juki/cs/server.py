"""The CS's HTTPS API towards the register's 住基ネット連携 (S2), mutual TLS like the network (C17):
only the client certificate of this city's S2 may call it. And its sender: a thread that drains the
queue to the prefecture server, woken by each accepted update and backing off while it is away."""
from __future__ import annotations

import threading
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections, connections

from juki.network import pki
from juki.network.wire import App, Client, Refused, Request, Unreachable

from . import mail, services


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
    def __init__(self, prefecture: Client, cards: Client | None = None, exchange: Client | None = None):
        super().__init__(name="cs-sender", daemon=True)
        self.prefecture, self.cards, self.exchange = prefecture, cards, exchange
        self.wake, self.stopping = threading.Event(), threading.Event()
        self.last: dict = {}
        self.last_recipients: dict = {}
        self.last_mail: dict = {}

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                if self.cards is not None:
                    self.last_recipients = services.send_recipients(self.cards)
                if self.exchange is not None:
                    self.last_mail = mail.send_pending(self.exchange)
                self.last = result = services.send_batch(self.prefecture)
            except Exception as exc:  # noqa: BLE001 - the sender must outlive a bad moment of the database
                self.last = result = {"sent": 0, "error": type(exc).__name__}
                connections.close_all()
            if result.get("sent") or result.get("dead") or self.last_mail.get("sent"):
                continue  # more may be waiting right behind
            self.wake.wait(timeout=0.5 if result.get("waiting") or self.last_mail.get("waiting") else 5.0)
            self.wake.clear()


class Receiver(threading.Thread):
    """Reads the exchange (long poll) for this city's messages; a request for 転出証明書情報 is answered
    at once, which wakes the sender."""

    def __init__(self, exchange: Client, sender: Sender | None):
        super().__init__(name="cs-receiver", daemon=True)
        self.exchange, self.sender = exchange, sender
        self.stopping = threading.Event()
        self.last: dict = {}

    def run(self) -> None:
        backoff = 0.5
        while not self.stopping.is_set():
            try:
                new = mail.receive(self.exchange)
                self.last, backoff = {"received": new}, 0.5
                if new and self.sender is not None:
                    self.sender.wake.set()
            except Exception as exc:  # noqa: BLE001 - the exchange away, or a bad moment of the database
                self.last = {"received": 0, "error": type(exc).__name__}
                connections.close_all()
                self.stopping.wait(backoff)
                backoff = min(30.0, backoff * 2)


def app(sender: Sender | None, jlis: Client | None = None, holders: dict[str, Client] | None = None,
        national: Client | None = None, cards: Client | None = None, receiver: Receiver | None = None) -> App:
    """`holders`: the peers holding copies of this city's FILE-2 (prefecture, national), for 整合性確認."""
    holders = holders or {}
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

    def batch_of(request: Request, limit: int, what: str, take) -> dict:
        """A list of messages from S2 (at most `limit`), taken in one transaction; the sender woken."""
        caller(request)
        messages = request.body.get("messages")
        if not isinstance(messages, list) or len(messages) > limit:
            raise Refused(422, "invalid_messages", f"一度に送れる{what}は{limit}件までです。")
        answers = take(messages)
        if sender is not None:
            sender.wake.set()
        return {"answers": answers}

    @cs.route("POST", "/updates/batch")
    @_db
    def batch(request: Request) -> dict:
        return batch_of(request, 5000, "更新", services.receive_many)

    @cs.route("POST", "/my-numbers")
    def my_number(request: Request) -> dict:
        """P1: a 個人番号 for a 住民票コード, asked of J-LIS (the answer goes back to the register, which
        records it as a change and sends it to the CS as an update like any other)."""
        caller(request)
        return _jlis(jlis, "/my-numbers", {"resident_code": request.body.get("resident_code"),
                                           "reason": request.body.get("reason", "entry"),
                                           "request_id": request.body.get("request_id")})

    @cs.route("POST", "/fugo")
    def fugo(request: Request) -> dict:
        """P5: a 符号 for the intermediary server, asked of J-LIS and passed back, kept nowhere here."""
        caller(request)
        return _jlis(jlis, "/fugo", {"resident_code": request.body.get("resident_code"),
                                     "holder": request.body.get("holder")})

    @cs.route("POST", "/identify")
    def identify(request: Request) -> dict:
        """P6 本人確認: the 統合端末's question to the national server, passed on as this city's CS."""
        caller(request)
        return _peer(national, "/identify", request.body, "全国サーバ")

    @cs.route("GET", r"/cards/(?P<code>[0-9]{11})")
    def card(request: Request) -> dict:
        """P10: the 個人番号カード of a person as the card management system knows it."""
        caller(request)
        return _peer(cards, f"/cards/{request.params['code']}", None, "カード管理システム", code="cards", method="GET")

    @cs.route("POST", r"/cards/(?P<code>[0-9]{11})/(?P<action>issue|suspend|resume|revoke|collect|transfer)")
    def card_action(request: Request) -> dict:
        """P10: 交付・一時停止・一時停止解除・廃止・回収 recorded at the counter, and the 継続利用 of a card
        whose holder moved in (issue 15), to the card management system. An issue may carry the PIN."""
        caller(request)
        body = {"pin": request.body["pin"]} if request.params["action"] == "issue" and request.body.get("pin") else {}
        return _peer(cards, f"/cards/{request.params['code']}/{request.params['action']}", body, "カード管理システム",
                     code="cards")

    @cs.route("POST", "/cards/verify")
    def card_verify(request: Request) -> dict:
        """特例転入 [610]: the card and its 暗証番号 as the counter read them, checked by the card
        management system, which answers the holder's 住民票コード and 住所地."""
        caller(request)
        return _peer(cards, "/cards/verify", {"card_number": request.body.get("card_number"),
                                              "pin": request.body.get("pin")}, "カード管理システム", code="cards")

    @cs.route("POST", "/mail/batch")
    @_db
    def mail_batch(request: Request) -> dict:
        """S2's messages for other cities and the 法務省 (転入通知, 附票通知, 転出証明書情報の請求 …)."""
        return batch_of(request, 1000, "電文", mail.queue)

    @cs.route("POST", "/transfer-certificates")
    @_db
    def transfer_certificates(request: Request) -> dict:
        """特例転出 [670]: the 転出証明書情報, held here for the 転入地 to ask for."""
        caller(request)
        return mail.hold_transfers(request.body)

    @cs.route("GET", "/inbox")
    @_db
    def inbox(request: Request) -> dict:
        caller(request)
        try:
            after = int(request.query.get("after", 0))
        except ValueError:
            raise Refused(422, "invalid_after", "after は整数です。") from None
        return {"messages": mail.inbox(after)}

    @cs.route("POST", r"/mail/(?P<mail_id>[0-9]+)/retry")
    @_db
    def mail_retry(request: Request) -> dict:
        caller(request)
        if not mail.resend(int(request.params["mail_id"])):
            raise Refused(404, "not_found", "再送できる電文が見つかりません。")
        if sender is not None:
            sender.wake.set()
        return {"outcome": "queued"}

    @cs.route("GET", "/mail/status")
    @_db
    def mail_status(request: Request) -> dict:
        caller(request)
        return {**mail.status(), "receiver": receiver.last if receiver else None,
                "sender": sender.last_mail if sender else None}

    @cs.route("GET", "/peers")
    def peers(request: Request) -> dict:
        """Each peer's reachability, for the operator's screen."""
        caller(request)
        out = {}
        for name, client in (("prefecture", sender.prefecture if sender else None), ("national", national),
                             ("jlis", jlis), ("cards", cards)):
            if client is None:
                out[name] = {"state": "not_configured"}
                continue
            try:
                status, _ = client.call("GET", "/status")
                out[name] = {"state": "up" if status == 200 else f"http_{status}"}
            except Unreachable:
                out[name] = {"state": "down"}
        return {"peers": out}

    @cs.route("POST", "/resident-codes")
    def resident_codes(request: Request) -> dict:
        """[870]: new 住民票コード for the register's stock, from J-LIS."""
        caller(request)
        return _jlis(jlis, "/resident-codes", {"count": request.body.get("count")})

    @cs.route("POST", "/suppressions")
    @_db
    def suppressions(request: Request) -> dict:
        caller(request)
        return services.suppress(request.body)

    @cs.route("GET", r"/suppressions/(?P<code>[0-9]{11})")
    @_db
    def suppression(request: Request) -> dict:
        caller(request)
        return {"resident_code": request.params["code"], "suppressed": services.suppressed(request.params["code"])}

    @cs.route("GET", "/status")
    @_db
    def status(request: Request) -> dict:
        caller(request)
        return {**services.status(), "sender": sender.last if sender else None,
                "recipients_sender": sender.last_recipients if sender else None,
                "refused_handshakes": cs.refused_handshakes}

    @cs.route("POST", "/consistency/run")
    @_db
    def consistency_run(request: Request) -> dict:
        caller(request)
        peer = request.body.get("peer")
        if peer not in holders:
            raise Refused(422, "unknown_peer", "整合性確認の相手方が正しくありません。")
        run = services.consistency_check(holders[peer], peer=peer)
        return {"id": run.id, "differing": run.differing, "error": run.error}

    @cs.route("GET", "/consistency/runs")
    @_db
    def consistency_runs(request: Request) -> dict:
        caller(request)
        return {"runs": services.consistency_runs(), "peers": [p for p in ("prefecture", "national") if p in holders]}

    @cs.route("GET", "/recipients")
    @_db
    def recipients(request: Request) -> dict:
        caller(request)
        return services.recipients_report()

    @cs.route("GET", "/retention")
    @_db
    def retention(request: Request) -> dict:
        caller(request)
        return {"purges": services.history_report()}

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


def _jlis(jlis: Client | None, path: str, body: dict) -> dict:
    return _peer(jlis, path, body, "J-LIS", code="jlis")


def _peer(client: Client | None, path: str, body: dict | None, label: str, code: str = "peer",
          method: str = "POST") -> dict:
    if client is None:
        raise Refused(503, f"{code}_unavailable", f"{label}への接続が設定されていません。")
    try:
        status, answer = client.call(method, path, body)
    except Unreachable:
        raise Refused(503, f"{code}_unreachable", f"{label}に接続できません。しばらくしてから再度処理してください。") from None
    if status != 200:  # the peer's refusal as it gave it (its code, message and details such as a card's state)
        extra = {k: v for k, v in answer.items() if k not in ("code", "message")}
        raise Refused(status, answer.get("code", f"{code}_refused"), answer.get("message", ""), **extra)
    return answer


def peer_client(network: Path, url: str, *, timeout: float = 10.0) -> Client:
    """The CS towards a peer of the network, as this city's CS."""
    return Client(url, directory=network, name=pki.cs_name(settings.MUNICIPALITY), timeout=timeout)
