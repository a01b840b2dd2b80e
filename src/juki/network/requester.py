"""A 情報照会者 of the simulated 情報提供ネットワークシステム (`juki network ask`): its own 符号 of the person
from J-LIS, the inquiry through `infonet`, and the answer opened with its own key."""
from __future__ import annotations

import json
from pathlib import Path

from .infonet import requester_key
from .wire import Client


def ask(directory: Path, *, requester: str, provider: str, resident_code: str, provision: int, affair: str,
        items: list[str], inquiry: int | None = None) -> dict:
    peers = json.loads((directory / "network.json").read_text())["peers"]
    net = Client(peers["infonet"], directory=directory, name=requester)
    if inquiry:
        status, answer = net.call("GET", f"/inquiries/{provider}/{inquiry}")
    else:
        status, own = Client(peers["jlis"], directory=directory, name=requester).call(
            "POST", "/requesters/fugo", {"resident_code": resident_code})
        if status != 200:
            return {"status": status, **own}
        status, answer = net.call("POST", "/inquiries", {"provider": provider, "provision": provision, "affair": affair,
                                                         "items": items, "fugo": own["fugo"]})
    if status == 200 and answer.get("answer"):
        from juki.intermediary import sealing

        answer["opened"] = sealing.open_sealed(requester_key(directory, requester)[0], answer.pop("answer"),
                                               context=str(answer["inquiry_id"]))
    return {"status": status, **answer}
