"""Where the 庁内連携 keeps its things (settings JUKI_LINKAGE_DIR, default var/linkage):

    pki/                  the 庁内 network's CA, each destination's server certificate, the register's client one
    signing.key           the register's Ed25519 key; every JSON delivery is signed with it
    receivers/<code>.port where each destination's receiving service listens (written by the service)
    spool/<code>/         a file delivery written before its commit, until it is handed over
    outbound/<code>/      the destination's folder: the files it takes
"""
from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings

from juki.network import pki, wire

from . import signing


def root() -> Path:
    return Path(settings.JUKI_LINKAGE_DIR)


def pki_dir() -> Path:
    return root() / "pki"


def sender() -> str:
    """The name of the register's client certificate on the 庁内 network."""
    return f"juki-{settings.JUKI_MUNICIPALITY}"


def ensure_pki(codes) -> None:
    pki.create_set(pki_dir(), ca_name="juki 庁内連携 CA", servers=list(codes), clients=[sender()])


def signing_key():
    return signing.load_or_create(root() / "signing.key")


def port_file(code: str) -> Path:
    return root() / "receivers" / f"{code}.port"


def private_dir(path: Path) -> Path:
    """`path` and every folder up to the linkage's root, created owner-only (0700): they hold files of
    residents' data. `mkdir(mode=)` does not apply to the parents it creates, hence the chmod."""
    path.mkdir(parents=True, exist_ok=True)
    top = root().resolve()
    current = path.resolve()
    while True:
        os.chmod(current, 0o700)
        if current == top or top not in current.parents:
            break
        current = current.parent
    return path


def spool(code: str) -> Path:
    return root() / "spool" / code


def outbound(code: str) -> Path:
    return root() / "outbound" / code


def client(code: str, *, timeout: float = 10.0) -> wire.Client:
    """The destination's receiving service, as its port file says; Unreachable when it is not running."""
    try:
        port = port_file(code).read_text().strip()
    except OSError:
        raise wire.Unreachable(f"{code}: 受信サービスが起動していません。") from None
    return wire.Client(f"https://127.0.0.1:{port}", directory=pki_dir(), name=sender(), timeout=timeout)
