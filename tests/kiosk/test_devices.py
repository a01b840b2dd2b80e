"""The kiosk's device credential: registration, the secret shown once, stop/resume, the check."""
from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from juki.accounts.models import Terminal
from juki.audit.gate import Actor
from juki.audit.models import AccessLog
from juki.core.errors import AccessDenied, ConflictError, DomainError, ErrorCode
from juki.kiosk import devices
from juki.kiosk.models import KioskDevice
from tests.helpers import TEST_ACTOR


def test_add_registers_the_device_and_its_terminal_and_keeps_only_a_hash(kiosk):
    device = KioskDevice.objects.get(code="KIOSK-01")
    assert len(kiosk.secret) >= 30
    assert device.secret_hash == hashlib.sha256(kiosk.secret.encode()).hexdigest()
    assert kiosk.secret not in str(KioskDevice.objects.filter(pk=device.pk).values().get())
    terminal = Terminal.objects.get(code="KIOSK-01")
    assert device.terminal == terminal and terminal.location == "小倉北区役所 1階ロビー" and terminal.is_active
    row = AccessLog.objects.get(function="kiosk.device_add")
    assert row.category == "settings" and row.criteria == {"code": "KIOSK-01"} and row.system == "test"
    assert kiosk.secret not in str(AccessLog.objects.values_list("criteria", flat=True))


def test_adding_needs_kiosk_manage(db, clerk, rights_admin, terminal):
    with pytest.raises(AccessDenied):
        devices.device_add(actor=Actor(user=clerk, terminal=terminal), code="KIOSK-02", name="2号機", location="本庁")
    assert not KioskDevice.objects.exists()
    denied = AccessLog.objects.get(function="kiosk.device_add")
    assert denied.outcome == AccessLog.DENIED and denied.user == clerk
    made = devices.device_add(actor=Actor(user=rights_admin, terminal=terminal), code="kiosk-02", name="2号機",
                              location="本庁")
    assert made.device.code == "KIOSK-02"  # codes are upper case


@pytest.mark.parametrize("code, name, location, field", [
    ("K1", "1号機", "本庁", "code"), ("KIOSK 01", "1号機", "本庁", "code"), ("KIOSK-09", "", "本庁", "name"),
    ("KIOSK-09", "1号機", "", "location"),
])
def test_add_refuses_bad_input(db, code, name, location, field):
    with pytest.raises(DomainError) as refused:
        devices.device_add(actor=TEST_ACTOR, code=code, name=name, location=location)
    assert refused.value.code == ErrorCode.INVALID_INPUT and refused.value.field == field
    assert not KioskDevice.objects.exists() and not Terminal.objects.exists()


def test_a_code_already_used_by_a_terminal_is_refused(kiosk, terminal):
    for code in ("KIOSK-01", terminal.code):
        with pytest.raises(ConflictError):
            devices.device_add(actor=TEST_ACTOR, code=code, name="重複", location="本庁")
    assert KioskDevice.objects.count() == 1


def test_check_accepts_the_secret_and_refuses_everything_else_alike(kiosk):
    assert devices.device_check("KIOSK-01", kiosk.secret) == kiosk.device
    assert devices.device_check("kiosk-01", kiosk.secret) == kiosk.device
    # The secret is random: change its last character to one it cannot already be.
    wrong = kiosk.secret[:-1] + ("x" if kiosk.secret[-1] != "x" else "y")
    for code, secret in [("KIOSK-01", wrong), ("KIOSK-99", kiosk.secret), ("KIOSK-01", ""), ("", "")]:
        with pytest.raises(DomainError) as refused:
            devices.device_check(code, secret)
        assert refused.value.code == ErrorCode.KIOSK_DEVICE
        assert refused.value.message == "この端末は自動交付機として登録されていません。"
    rows = AccessLog.objects.filter(function="auth.kiosk_device").order_by("id")
    assert [r.criteria["reason"] for r in rows] == ["secret", "unknown", "secret", "unknown"]
    assert all(r.outcome == "refused" and r.category == "auth" for r in rows)
    assert kiosk.secret not in str([r.criteria for r in rows])


def test_a_stopped_device_is_refused_until_resumed(kiosk):
    devices.device_stop(actor=TEST_ACTOR, code="KIOSK-01")
    device = KioskDevice.objects.get()
    assert not device.is_active and device.stopped_at and not device.terminal.is_active
    with pytest.raises(DomainError) as refused:
        devices.device_check("KIOSK-01", kiosk.secret)
    assert refused.value.code == ErrorCode.KIOSK_DEVICE
    assert AccessLog.objects.filter(function="auth.kiosk_device").last().criteria["reason"] == "stopped"
    with pytest.raises(DomainError) as err:
        devices.device_stop(actor=TEST_ACTOR, code="KIOSK-01")  # already stopped
    assert err.value.code == ErrorCode.INVALID_INPUT
    devices.device_resume(actor=TEST_ACTOR, code="KIOSK-01")
    assert devices.device_check("KIOSK-01", kiosk.secret).is_active
    assert list(AccessLog.objects.filter(function__startswith="kiosk.device_").values_list("function", flat=True)
                .order_by("id")) == ["kiosk.device_add", "kiosk.device_stop", "kiosk.device_resume"]


def test_a_new_secret_replaces_the_old_one(kiosk):
    made = devices.device_new_secret(actor=TEST_ACTOR, code="KIOSK-01")
    assert made.secret != kiosk.secret
    assert devices.device_check("KIOSK-01", made.secret) == kiosk.device
    with pytest.raises(DomainError) as err:
        devices.device_check("KIOSK-01", kiosk.secret)
    assert err.value.code == ErrorCode.KIOSK_DEVICE


def test_the_command_prints_the_secret_once_and_stops_the_device(db, capsys):
    call_command("kiosk_device", "add", "KIOSK-05", "--name", "5号機", "--location", "八幡西区役所")
    out = capsys.readouterr().out
    secret = next(line.split(":", 1)[1].strip() for line in out.splitlines() if "秘密鍵:" in line)
    assert devices.device_check("KIOSK-05", secret).name == "5号機"
    assert "/kiosk/setup/" in out
    call_command("kiosk_device", "list")
    listed = capsys.readouterr().out
    assert "KIOSK-05" in listed and "利用中" in listed and secret not in listed
    call_command("kiosk_device", "stop", "KIOSK-05")
    assert "停止しました" in capsys.readouterr().out
    with pytest.raises(CommandError, match="すでに停止"):
        call_command("kiosk_device", "stop", "KIOSK-05")
    with pytest.raises(CommandError, match="ありません"):
        call_command("kiosk_device", "resume", "KIOSK-77")
    call_command("kiosk_device", "resume", "KIOSK-05")
    call_command("kiosk_device", "secret", "KIOSK-05")
    new_secret = next(line.split(":", 1)[1].strip() for line in capsys.readouterr().out.splitlines() if "秘密鍵:" in line)
    assert new_secret != secret and devices.device_check("KIOSK-05", new_secret)


def test_a_refused_credential_logs_only_a_registered_code(kiosk):
    """What was typed into the code field reaches the log only when it is a registered device's code:
    an installer who types the secret there must not leave it in the log."""
    for code in ("kiosk-01", "KIOSK-99", "秘密鍵を入れた", ""):
        with pytest.raises(DomainError) as err:
            devices.device_check(code, "wrong")
        assert err.value.code == ErrorCode.KIOSK_DEVICE
    rows = AccessLog.objects.filter(function="auth.kiosk_device").order_by("id")
    assert [r.criteria["code"] for r in rows] == ["KIOSK-01", "(未登録の端末ID)", "(不正な形式)", "(不正な形式)"]


def test_the_secret_typed_as_the_code_on_the_setup_screen_stays_out_of_the_log(kiosk, client):
    for secret in (kiosk.secret, "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"):  # the second one is well-formed as a code
        r = client.post("/kiosk/setup/", {"code": secret, "secret": secret})
        assert r.status_code == 400
    rows = list(AccessLog.objects.filter(function="auth.kiosk_device").values_list("criteria", flat=True))
    assert len(rows) == 2 and all(r["code"] in ("(未登録の端末ID)", "(不正な形式)") for r in rows)
    logged = str(rows)
    assert kiosk.secret not in logged and kiosk.secret.upper() not in logged and "ABCDEFGHJKLMNPQRSTUVWXYZ" not in logged


@pytest.mark.parametrize("field, value, message", [
    ("code", "kiosk 01!", "端末IDは英大文字で始まる3〜32文字の英数字とハイフンで指定してください（例: KIOSK-01）。"),
    ("name", "  ", "名称を入力してください。"),
    ("name", "あ" * 61, "名称は60文字以内で入力してください。"),
    ("location", "", "設置場所を入力してください。"),
    ("location", "い" * 61, "設置場所は60文字以内で入力してください。"),
])
def test_bad_device_input_is_refused_field_by_field(db, field, value, message):
    values = {"code": "KIOSK-02", "name": "自動交付機2号機", "location": "八幡西区役所", field: value}
    with pytest.raises(DomainError) as bad:
        devices.device_add(actor=TEST_ACTOR, **values)
    assert (bad.value.code, bad.value.field, bad.value.message) == (ErrorCode.INVALID_INPUT, field, message)
    assert not KioskDevice.objects.exists()


# --- the setup screen is throttled (issue 11, C20) ------------------------------------------------


def test_setup_refuses_an_address_after_five_wrong_secrets(kiosk, client, settings):
    settings.JUKI_KIOSK_SETUP_ATTEMPTS, settings.JUKI_KIOSK_SETUP_LOCK_MINUTES = 5, 15
    for _ in range(5):
        r = client.post("/kiosk/setup/", {"code": "KIOSK-01", "secret": "guess"})
        assert r.status_code == 400 and devices.SETUP_REFUSED in r.content.decode()
    # The sixth try, even with the right secret, is refused without looking at it.
    r = client.post("/kiosk/setup/", {"code": "KIOSK-01", "secret": kiosk.secret})
    body = r.content.decode()
    assert r.status_code == 429 and f'data-code="{ErrorCode.KIOSK_SETUP_THROTTLED}"' in body
    assert "しばらく設定できません" in body and "15分" in body and "juki_kiosk_device" not in r.cookies
    throttled = AccessLog.objects.get(function="auth.kiosk_setup_throttled")
    assert throttled.outcome == ErrorCode.KIOSK_SETUP_THROTTLED and throttled.category == "auth"
    assert throttled.criteria == {"address": "127.0.0.1"}
    assert AccessLog.objects.filter(function="auth.kiosk_device").count() == 5
    with pytest.raises(devices.SetupThrottled) as exc:
        devices.device_enrol("KIOSK-01", kiosk.secret, address="127.0.0.1")
    assert exc.value.code == ErrorCode.KIOSK_SETUP_THROTTLED and exc.value.status == 429

    # Another address is not affected; the first one may try again once the failures are old enough.
    assert devices.device_enrol("KIOSK-01", kiosk.secret, address="10.0.0.7") == kiosk.device
    # (the log is append-only: the period is shortened instead of the rows aged)
    assert not devices.setup_throttled("127.0.0.1", now=timezone.now() + dt.timedelta(minutes=16))
    settings.JUKI_KIOSK_SETUP_LOCK_MINUTES = 0
    r = client.post("/kiosk/setup/", {"code": "KIOSK-01", "secret": kiosk.secret})
    assert r.status_code == 302 and "juki_kiosk_device" in r.cookies


def test_the_setup_throttle_does_not_touch_a_running_kiosk(kiosk, kc, client, settings):
    settings.JUKI_KIOSK_SETUP_ATTEMPTS = 2
    for _ in range(3):
        client.post("/kiosk/setup/", {"code": "KIOSK-01", "secret": "guess"})
    assert devices.setup_throttled("127.0.0.1")
    assert kc.get("/kiosk/").status_code == 200  # the enrolled cookie is checked as before
