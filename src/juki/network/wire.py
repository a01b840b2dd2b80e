"""JSON over HTTPS with mutual TLS: the one way the CS and the network's peers talk (C17, C29).

`Server` is a threaded HTTPS server whose handshake happens in the connection's own thread (a slow
or hostile client cannot hold up the others) and which refuses any client without a certificate of
the network's CA, or with an expired one, before a byte of HTTP is read. A handler sees the caller's
verified name (`Request.peer`), never a name the caller claims.

`Client` is the other end: keep-alive per thread, its own certificate, the CA as the only trust.
A refused handshake or a peer that is down raises `Unreachable`, so a sender can back off and retry.
"""
from __future__ import annotations

import http.client
import json
import os
import re
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from . import pki

MAX_BODY = 16 * 1024 * 1024


@dataclass
class Request:
    method: str
    path: str
    params: dict[str, str]
    query: dict[str, str]
    body: dict
    peer: str  # the verified common name of the client's certificate


class Refused(Exception):
    """A handler's refusal: the status and a precise code (and a message for the operator)."""

    def __init__(self, status: int, code: str, message: str = "", **extra):
        super().__init__(code)
        self.status, self.code, self.message, self.extra = status, code, message, extra


Handler = Callable[[Request], dict]


@dataclass
class App:
    name: str
    routes: list[tuple[str, re.Pattern, Handler]] = field(default_factory=list)
    refused_handshakes: int = 0

    def route(self, method: str, pattern: str):
        def register(handler: Handler) -> Handler:
            self.routes.append((method, re.compile(f"^{pattern}$"), handler))
            return handler
        return register

    def dispatch(self, method: str, target: str, body: bytes, peer: str) -> tuple[int, dict]:
        parts = urlsplit(target)
        for route_method, pattern, handler in self.routes:
            match = pattern.match(parts.path)
            if match and route_method == method:
                try:
                    payload = json.loads(body) if body else {}
                except ValueError:
                    return 400, {"code": "invalid_json"}
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                try:
                    return 200, handler(Request(method, parts.path, match.groupdict(), query, payload, peer))
                except Refused as exc:
                    return exc.status, {"code": exc.code, "message": exc.message, **exc.extra}
        return 404, {"code": "not_found"}


class _Handler(BaseHTTPRequestHandler):
    server: Server
    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes: with Nagle's algorithm on, the body waits for the
    # client's delayed ACK (40 ms on Linux) on every kept-alive request (measured: bench_jukinet.py).
    disable_nagle_algorithm = True

    def log_message(self, format, *args):  # noqa: A002 - the access log carries no bodies; quiet by default
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._reply(413, {"code": "too_large"})
            return
        body = self.rfile.read(length) if length else b""
        peer = pki.peer_name(self.connection.getpeercert())
        if not peer:
            self._reply(403, {"code": "no_client_certificate"})
            return
        status, payload = self.server.app.dispatch(self.command, self.path, body, peer)
        self._reply(status, payload)

    do_GET = do_POST = do_PUT = do_DELETE = _serve

    def _reply(self, status: int, payload: dict) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, app: App, address: tuple[str, int], context: ssl.SSLContext):
        self.app, self.context = app, context
        super().__init__(address, _Handler)

    def finish_request(self, request, client_address) -> None:
        # The handshake in this connection's thread; a refused client costs only its own thread.
        try:
            request = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            self.app.refused_handshakes += 1
            return
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address) -> None:
        pass  # a client that hung up mid-request; nothing to log that would help


def write_ready(path: Path, text: str) -> None:
    """A ready file (a port, a URL) that a waiting reader never sees half-written: written aside, renamed."""
    aside = path.with_name(f".{path.name}.{os.getpid()}")
    aside.write_text(text)
    os.replace(aside, path)


def serve(app: App, *, directory: Path, name: str, host: str = "127.0.0.1", port: int = 0,
          ready: Callable[[int], None] | None = None) -> None:
    server = Server(app, (host, port), pki.server_context(directory, name))
    if ready:
        ready(server.server_address[1])
    server.serve_forever()


class Unreachable(Exception):
    """The peer is down, refused our certificate, or answered with no JSON."""


class Client:
    """Calls one peer as `name` (a client certificate of `directory`)."""

    def __init__(self, base_url: str, *, directory: Path, name: str, timeout: float = 10.0):
        parts = urlsplit(base_url)
        self.host, self.port, self.timeout = parts.hostname, parts.port, timeout
        self.context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(directory / "ca.pem"))
        self.context.load_cert_chain(*pki.client_files(directory, name))
        self._local = threading.local()

    def _connection(self) -> http.client.HTTPSConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout,
                                                                  context=self.context)
        return conn

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
        for attempt in (1, 2):  # a kept-alive connection the server closed: one fresh try
            conn = self._connection()
            try:
                conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
                response = conn.getresponse()
                raw = response.read()
                return response.status, json.loads(raw or b"{}")
            except (OSError, http.client.HTTPException, ValueError) as exc:
                conn.close()
                self._local.conn = None
                if attempt == 2 or isinstance(exc, (ssl.SSLError, ConnectionRefusedError)):
                    raise Unreachable(f"{self.host}:{self.port}: {type(exc).__name__}") from None
        raise AssertionError("unreachable")

    def peer_name(self) -> str | None:
        """The verified common name of the server's certificate (connecting if need be): for a sender
        that must reach one named server, not just any server of the CA. Unreachable if it is down."""
        conn = self._connection()
        try:
            if conn.sock is None:
                conn.connect()
            return pki.peer_name(conn.sock.getpeercert())
        except OSError as exc:
            conn.close()
            self._local.conn = None
            raise Unreachable(f"{self.host}:{self.port}: {type(exc).__name__}") from None

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
