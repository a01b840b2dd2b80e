"""The register's end of the link to its CS: S2's client certificate, the CS's address as
`juki cs serve` wrote it (settings JUKI_NETWORK_DIR, JUKI_MUNICIPALITY)."""
from __future__ import annotations

import json

from django.conf import settings

from juki.network import pki
from juki.network.wire import Client, Unreachable


def cs_client(*, timeout: float = 10.0) -> Client:
    directory = settings.JUKI_NETWORK_DIR
    port_file = directory / f"{pki.cs_name(settings.JUKI_MUNICIPALITY)}.port"
    try:
        port = port_file.read_text().strip()
    except OSError:
        raise Unreachable("市町村CSが起動していません（juki cs serve）。") from None
    return Client(f"https://127.0.0.1:{port}", directory=directory, name=pki.s2_name(settings.JUKI_MUNICIPALITY),
                  timeout=timeout)


def koseki_client(*, timeout: float = 10.0) -> Client | None:
    """This city's 戸籍附票システム (the simulated 戸籍総合システム peer), as the network's description
    names it; None where it has none."""
    directory = settings.JUKI_NETWORK_DIR
    try:
        url = json.loads((directory / "network.json").read_text())["peers"]["koseki"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return Client(url, directory=directory, name=pki.s2_name(settings.JUKI_MUNICIPALITY), timeout=timeout)
