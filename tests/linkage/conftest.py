"""A city's 庁内連携 in a test: its own folder, its 庁内 CA, a receiving service per 随時 destination
(juki.linkage.receiver, in this process on loopback with mutual TLS) and the demo city's applications."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from juki.accounts import destinations
from juki.accounts.destinations import Delivery as Mode
from juki.linkage import approvals, config, receiver, signing
from juki.network import pki, wire
from tests.helpers import TEST_ACTOR


@dataclass
class Linkage:
    root: Path
    servers: dict[str, wire.Server] = field(default_factory=dict)

    def client(self, code: str) -> wire.Client:
        return wire.Client(f"https://127.0.0.1:{config.port_file(code).read_text()}", directory=config.pki_dir(),
                           name=config.sender(), timeout=30)

    def received(self, code: str) -> list[dict]:
        """Every delivery the destination's service took, in order (its own copy)."""
        status, body = self.client(code).call("GET", "/deliveries?after=0")
        assert status == 200, body
        return body["deliveries"]

    def records(self, code: str) -> list[dict]:
        return [r for d in self.received(code) for r in d["payload"]["records"]]

    def stop(self, code: str) -> None:
        httpd = self.servers.pop(code)
        httpd.shutdown()
        httpd.server_close()

    def start(self, code: str, port: int = 0) -> None:
        store = receiver.Store(self.root / "receivers" / f"{code}.sqlite3")
        pem = signing.public_pem(config.signing_key())
        app = receiver.build_app(code, store, {signing.key_id(pem): pem}, config.sender())
        httpd = wire.Server(app, ("127.0.0.1", port), pki.server_context(config.pki_dir(), code))
        threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.servers[code] = httpd
        config.port_file(code).parent.mkdir(parents=True, exist_ok=True)
        config.port_file(code).write_text(str(httpd.server_address[1]))


JSON_CODES = [d.code for d in destinations.LINKAGE if d.delivery == Mode.JSON]


@pytest.fixture(scope="session")
def linkage_pki(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("linkage") / "pki"
    pki.create_set(directory, ca_name="juki 庁内連携 CA", servers=[d.code for d in destinations.LINKAGE],
                   clients=["juki-401005"])
    return directory


@pytest.fixture
def linkage(settings, tmp_path, linkage_pki, world):
    settings.JUKI_LINKAGE_DIR = tmp_path / "linkage"
    (tmp_path / "linkage").mkdir()
    (tmp_path / "linkage" / "pki").symlink_to(linkage_pki)
    city = Linkage(root=tmp_path / "linkage")
    for code in JSON_CODES:
        city.start(code)
    approvals.demo_approvals(TEST_ACTOR)
    yield city
    for code in list(city.servers):
        city.stop(code)
