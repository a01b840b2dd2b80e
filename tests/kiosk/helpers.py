"""Walking a kiosk client through its screens."""
from __future__ import annotations

from django.test import Client

from tests.helpers import pdf_text  # noqa: F401 - the kiosk tests import it from here

from .conftest import PIN


def sign_in(kc: Client, number: str, pin: str = PIN):
    kc.get("/kiosk/card/")
    r = kc.post("/kiosk/card/", {"number": number})
    assert r.status_code == 302 and r["Location"] == "/kiosk/pin/"
    return kc.post("/kiosk/pin/", {"pin": pin})


def choose_copy(kc: Client, *, scope: str = "self", head: bool = False, domicile: bool = False, members=()):
    r = kc.post("/kiosk/menu/", {"form": "copy"})
    assert r["Location"] == "/kiosk/copy/", r
    r = kc.post("/kiosk/copy/", {"scope": scope, "head": "yes" if head else "no", "domicile": "yes" if domicile else "no"})
    if scope == "members":
        assert r["Location"] == "/kiosk/copy/members/"
        r = kc.post("/kiosk/copy/members/", {"person": [str(p) for p in members]})
    assert r.status_code == 302 and r["Location"] == "/kiosk/confirm/", r.content.decode()[:500]
    return r


def pay(kc: Client, *coins: int):
    for coin in coins:
        r = kc.post("/kiosk/pay/", {"coin": str(coin)})
        assert r.status_code == 302, r.content.decode()[:500]
    return kc.get("/kiosk/pay/")


def issue(kc: Client):
    r = kc.post("/kiosk/issue/")
    assert r.status_code == 302 and r["Location"] == "/kiosk/done/", (r.status_code, r.content.decode()[:800])
    return kc.get("/kiosk/done/")
