"""A peer of the simulated network served in this test's process, on loopback with mutual TLS."""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from juki.network import pki, wire


@contextmanager
def serving(app: wire.App, directory: Path, name: str) -> Iterator[Callable[[str], wire.Client]]:
    """Serve `app` under the server certificate `name`; yield a maker of clients by certificate name."""
    pki.create(directory, municipalities=("401005", "401307", "402036"))
    httpd = wire.Server(app, ("127.0.0.1", 0), pki.server_context(directory, name))
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    url = f"https://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield lambda client: wire.Client(url, directory=directory, name=client, timeout=30)
    finally:
        httpd.shutdown()
        httpd.server_close()
