"""`juki demo-kiosk`: KIOSK-01 with a fresh secret on every start, and demo cards that work at it."""
from __future__ import annotations

import re

from django.core.management import call_command

from juki.kiosk import devices, services


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
    for number, pin in cards:
        assert services.authenticate(actor=actor, number=number, pin=pin).number == number
    again, same_cards = _run(capsys)
    assert again != secret and same_cards == cards
    assert devices.device_check("KIOSK-01", again) == device
