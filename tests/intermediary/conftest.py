"""The 中間サーバー's tests run on a PostgreSQL cluster of their own (row-level security is the point;
SQLite has none), started once per session from Debian's postgresql-15 as `juki intermediary up` does,
whichever database the register's suite runs on."""
from __future__ import annotations

import json
import shutil
import tempfile
import threading
from pathlib import Path

import psycopg
import pytest

from juki.intermediary import cluster, db
from juki.intermediary.server import build
from juki.network import pki, wire
from juki.network.infonet import infonet
from juki.network.peers import jlis

TENANTS = {"401005": "北九州市", "401307": "福岡市"}


@pytest.fixture(scope="session")
def platform_db(tmp_path_factory):
    if not cluster.available():
        pytest.fail("PostgreSQL 15 (Debian's postgresql-15) is needed: ./scripts/test installs it")
    # Not under pytest's tmp (root-only when run as root): the cluster belongs to `postgres` then.
    directory = Path(tempfile.mkdtemp(prefix="juki-intermediary-pg-"))
    pg = cluster.start(directory, fast=True)
    try:
        url = db.create_database(pg.url, "intermediary")
        db.init(url)
        for code, name in TENANTS.items():
            db.add_tenant(url, code, name)
        yield url
    finally:
        pg.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def admin(platform_db):
    """The installer's connection (a superuser); every test starts from empty tables."""
    with psycopg.connect(platform_db, autocommit=True) as conn:
        conn.execute("TRUNCATE replica, fugo, inquiry, record, feed_batch, record_purge")
        yield conn


@pytest.fixture
def applications(db):
    """The demo city's data-use applications in force (the 宛名's look-ups need them)."""
    from juki.linkage import approvals
    from tests.helpers import TEST_ACTOR

    approvals.demo_approvals(TEST_ACTOR)


@pytest.fixture
def tenant(platform_db, admin):
    """A maker of tenant connections (the service's own role for each city)."""
    conns = db.Connections(platform_db)
    yield conns.tenant
    conns.close()


def _serve(app, directory: Path, name: str):
    httpd = wire.Server(app, ("127.0.0.1", 0), pki.server_context(directory, name))
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return httpd, f"https://127.0.0.1:{httpd.server_address[1]}"


@pytest.fixture
def network(tmp_path, platform_db, admin):
    """J-LIS, the 情報提供ネットワークシステム and the platform, each its real HTTPS service with mutual TLS,
    served from this process's threads (test_e2e.py starts them as processes of their own);
    `client(name)` calls the platform as `name`, `net(name)` the network."""
    directory = tmp_path / "network"
    pki.create(directory, municipalities=tuple(TENANTS))
    servers = {}
    for name, app in (("jlis", jlis(directory)), ("infonet", infonet(directory)), ("intermediary", build(platform_db))):
        servers[name] = _serve(app, directory, name)
    (directory / "network.json").write_text(json.dumps({"peers": {"jlis": servers["jlis"][1]}}))
    (directory / "intermediary.json").write_text(json.dumps({"url": servers["intermediary"][1]}))

    class Net:
        dir = directory

        @staticmethod
        def client(name: str) -> wire.Client:
            return wire.Client(servers["intermediary"][1], directory=directory, name=name, timeout=30)

        @staticmethod
        def net(name: str) -> wire.Client:
            return wire.Client(servers["infonet"][1], directory=directory, name=name, timeout=30)

        @staticmethod
        def jlis(name: str) -> wire.Client:
            return wire.Client(servers["jlis"][1], directory=directory, name=name, timeout=30)

    yield Net
    for httpd, _ in servers.values():
        httpd.shutdown()
        httpd.server_close()
