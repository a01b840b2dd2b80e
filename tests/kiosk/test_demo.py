"""`juki demo-kiosk`: KIOSK-01 with a fresh secret on every start, and demo cards that work at it."""
from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from juki.audit.models import AccessLog
from juki.certificates.entitlement import Request
from juki.kiosk import devices, services
from juki.kiosk.models import KioskDevice
from juki.seals.services import seal_certificate_issue


def _run(capsys) -> tuple[str, list[tuple[str, str]]]:
    call_command("demo_kiosk", "--cards", "2")
    out = capsys.readouterr().out
    secret = re.search(r"秘密鍵 (\S+) を入力", out).group(1)
    cards = re.findall(r"^\s+(\d{10})\s+暗証番号 (\d{4})", out, flags=re.MULTILINE)
    assert "http://127.0.0.1:8000/kiosk/setup/" in out and "http://127.0.0.1:8000/kiosk/" in out
    return secret, cards


def test_the_demo_kiosk_and_its_cards(household, settings, capsys):
    settings.JUKI_DEMO_TOOLS = True
    secret, cards = _run(capsys)
    device = devices.device_check("KIOSK-01", secret)
    assert len(cards) == 2
    actor = devices.device_actor(device)
    holders = [services.authenticate(actor=actor, number=number, pin=pin) for number, pin in cards]
    assert [h.number for h in holders] == [number for number, _pin in cards]
    # The first card is the 印鑑登録証 of a demo seal, so the kiosk's 印鑑登録証明書 works in the demo.
    assert holders[0].seal_registration_id is not None and holders[1].seal_registration_id is None
    sealed = seal_certificate_issue(actor=actor, card_number=cards[0][0], request=Request(kind="self"),
                                    channel="kiosk")
    assert sealed.issue.form == "seal_cert"
    again, same_cards = _run(capsys)
    assert again != secret and same_cards == cards
    assert devices.device_check("KIOSK-01", again) == device


def test_outside_the_demo_the_command_touches_nothing(kiosk, settings, capsys):
    """On a production install KIOSK-01 may be a real kiosk: no new secret printed, no change."""
    settings.JUKI_DEMO_TOOLS = False
    before = KioskDevice.objects.values("secret_hash", "secret_set_at", "is_active").get(code="KIOSK-01")
    logged = AccessLog.objects.count()
    with pytest.raises(CommandError, match="デモ環境でだけ使えます"):
        call_command("demo_kiosk", "--cards", "1")
    assert KioskDevice.objects.values("secret_hash", "secret_set_at", "is_active").get(code="KIOSK-01") == before
    assert AccessLog.objects.count() == logged
    assert "秘密鍵" not in capsys.readouterr().out
    assert devices.device_check("KIOSK-01", kiosk.secret) == kiosk.device


def test_outside_the_demo_no_kiosk_is_created(db, settings):
    settings.JUKI_DEMO_TOOLS = False
    with pytest.raises(CommandError):
        call_command("demo_kiosk")
    assert not KioskDevice.objects.exists()
