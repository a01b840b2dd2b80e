"""The city's client of the 中間サーバー: its certificate `im-<code>` on the network's CA (the platform's
tenant is the city the certificate names), the platform's address as `juki intermediary up` wrote it
(settings JUKI_NETWORK_DIR; JUKI_INTERMEDIARY_URL overrides it)."""
from __future__ import annotations

import json
import os

from django.conf import settings

from juki.network.wire import Client, Unreachable


def client_name() -> str:
    return f"im-{settings.JUKI_MUNICIPALITY}"


def platform(*, timeout: float = 30.0) -> Client:
    directory = settings.JUKI_NETWORK_DIR
    url = os.environ.get("JUKI_INTERMEDIARY_URL")
    if not url:
        try:
            url = json.loads((directory / "intermediary.json").read_text())["url"]
        except (OSError, ValueError, KeyError):
            raise Unreachable("中間サーバーが起動していません（juki intermediary up）。") from None
    return Client(url, directory=directory, name=client_name(), timeout=timeout)
