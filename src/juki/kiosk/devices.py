"""Kiosk devices: register, stop, resume, a new secret, and the device check on every kiosk request.

The secret is shown once, when it is made (`juki kiosk-device add` / `secret`); only its SHA-256 is
kept. Management needs `kiosk.manage` (the CLI runs as a batch actor: shell access to the server).
Every step is logged (`kiosk.device_*`, settings); a device credential that fails is logged too
(`auth.kiosk_device`), without the secret.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from juki.accounts.models import Terminal
from juki.accounts.permissions import Perm
from juki.audit import events
from juki.audit.gate import Actor
from juki.audit.models import AccessLog, Category
from juki.core.errors import (
    AccessDenied,
    ConflictError,
    DomainError,
    ErrorCode,
    NotFoundError,
    required_text,
)

from .models import KioskDevice

__all__ = ["KIOSK_RIGHTS", "NOT_REGISTERED", "SETUP_REFUSED", "DeviceSecret", "SetupThrottled", "device_actor",
           "device_add", "device_check", "device_enrol", "device_list", "device_new_secret", "device_resume",
           "device_stop", "setup_throttled"]

# What a kiosk may do, and nothing else: read the card holder's 住民票 (and household, for
# 世帯全員 and 世帯主・続柄), print 本籍・筆頭者 when the resident asks for it, and issue.
# No search, no change, no 個人番号, 住民票コード or 在留資格等, no logs, no 支援措置.
KIOSK_RIGHTS: frozenset[str] = frozenset({Perm.PERSON_VIEW, Perm.CERTIFICATE_ISSUE, Perm.FIELD_DOMICILE})

NOT_REGISTERED = "この端末は自動交付機として登録されていません。"
_CODE = re.compile(r"^[A-Z][A-Z0-9-]{2,31}$")


@dataclass(frozen=True)
class DeviceSecret:
    device: KioskDevice
    secret: str  # shown once; never stored


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _new_secret() -> str:
    return secrets.token_urlsafe(24)


def _require(actor: Actor, function: str, criteria: dict) -> None:
    if not actor.can(Perm.KIOSK_MANAGE):
        events.record(actor, function=function, outcome=AccessLog.DENIED, criteria=criteria, category=Category.SETTINGS)
        raise AccessDenied("自動交付機を登録・停止する権限がありません。")


def _code(typed: str) -> str:
    """A terminal code as stored: 「 kiosk-01」 is KIOSK-01."""
    return (typed or "").strip().upper()


def _load(code: str) -> KioskDevice:
    device = KioskDevice.objects.select_related("terminal").filter(code=_code(code)).first()
    if device is None:
        raise NotFoundError("この端末IDの自動交付機はありません。")
    return device


def device_actor(device: KioskDevice) -> Actor:
    """Who acts at the kiosk: the device, with only `KIOSK_RIGHTS`, on its own terminal."""
    return Actor.device(f"kiosk:{device.code}", KIOSK_RIGHTS, terminal=device.terminal)


def device_add(*, actor: Actor, code: str, name: str, location: str) -> DeviceSecret:
    """Register a kiosk and its terminal (same code); returns the secret, to be shown once."""
    code, name, location = _code(code), (name or "").strip(), (location or "").strip()
    criteria = {"code": code}
    _require(actor, "kiosk.device_add", criteria)
    if not _CODE.match(code):
        raise DomainError(ErrorCode.INVALID_INPUT, "端末IDは英大文字で始まる3〜32文字の英数字とハイフンで指定してください"
                          "（例: KIOSK-01）。", field="code")
    name = required_text(name, "name", "名称", 60)
    location = required_text(location, "location", "設置場所", 60)
    secret = _new_secret()
    now = timezone.now()
    try:
        with transaction.atomic():
            if Terminal.objects.filter(code=code).exists():
                raise ConflictError("この端末IDはすでに使われています。別の端末IDを指定してください。")
            terminal = Terminal.objects.create(code=code, name=name, location=location)
            device = KioskDevice.objects.create(code=code, name=name, location=location, secret_hash=_hash(secret),
                                                terminal=terminal, secret_set_at=now)
            events.record(actor, function="kiosk.device_add", criteria=criteria, category=Category.SETTINGS)
    except IntegrityError:  # registered by someone else a moment ago
        raise ConflictError("この端末IDはすでに使われています。別の端末IDを指定してください。") from None
    return DeviceSecret(device=device, secret=secret)


def _set_active(actor: Actor, code: str, active: bool) -> KioskDevice:
    function = "kiosk.device_resume" if active else "kiosk.device_stop"
    criteria = {"code": _code(code)}
    _require(actor, function, criteria)
    with transaction.atomic():
        device = _load(code)
        if device.is_active == active:
            raise DomainError(ErrorCode.INVALID_INPUT, "この自動交付機はすでに利用中です。" if active
                              else "この自動交付機はすでに停止しています。")
        device.is_active = active
        device.stopped_at = None if active else timezone.now()
        device.save(update_fields=["is_active", "stopped_at"])
        # The terminal follows: a stopped kiosk's code cannot be used to log in at a counter either.
        device.terminal.is_active = active
        device.terminal.save(update_fields=["is_active"])
        events.record(actor, function=function, criteria=criteria, category=Category.SETTINGS)
    return device


def device_stop(*, actor: Actor, code: str) -> KioskDevice:
    """停止: from the next request on, the device gets only 「この端末は…登録されていません。」."""
    return _set_active(actor, code, False)


def device_resume(*, actor: Actor, code: str) -> KioskDevice:
    return _set_active(actor, code, True)


def device_new_secret(*, actor: Actor, code: str) -> DeviceSecret:
    """A new secret (the old one stops working at once): the device has to be enrolled again."""
    criteria = {"code": _code(code)}
    _require(actor, "kiosk.device_secret", criteria)
    secret = _new_secret()
    with transaction.atomic():
        device = _load(code)
        device.secret_hash = _hash(secret)
        device.secret_set_at = timezone.now()
        device.save(update_fields=["secret_hash", "secret_set_at"])
        events.record(actor, function="kiosk.device_secret", criteria=criteria, category=Category.SETTINGS)
    return DeviceSecret(device=device, secret=secret)


def device_list(*, actor: Actor) -> list[dict]:
    _require(actor, "kiosk.device_list", {})
    return [{"code": d.code, "name": d.name, "location": d.location, "active": d.is_active,
             "secret_set_at": d.secret_set_at.isoformat(), "stopped_at": d.stopped_at.isoformat() if d.stopped_at else None}
            for d in KioskDevice.objects.order_by("code")]


def device_check(code: str, secret: str, *, log: bool = True, extra: dict | None = None) -> KioskDevice:
    """The device credential of one kiosk request: a registered, active device and its secret.

    Refuses with one message for an unknown code, a wrong secret and a stopped device alike."""
    device = KioskDevice.objects.select_related("terminal").filter(code=_code(code)).first()
    ok = (device is not None and device.is_active and device.terminal.is_active
          and secrets.compare_digest(device.secret_hash, _hash(secret or "")))
    if not ok:
        if log:
            reason = ("unknown" if device is None else "stopped" if not (device.is_active and device.terminal.is_active)
                      else "secret")
            # Only a registered code is logged as typed: an installer may type the secret into the
            # code field, and that must not reach the log.
            typed = device.code if device is not None else "(未登録の端末ID)" if _CODE.match(_code(code)) else "(不正な形式)"
            events.record(Actor.system_actor("kiosk.device_check"), function="auth.kiosk_device", outcome="refused",
                          criteria={"code": typed, "reason": reason, **(extra or {})})
        raise DomainError(ErrorCode.KIOSK_DEVICE, NOT_REGISTERED)
    return device


# --- the setup screen: throttled per address ---------------------------------------------------------

SETUP_REFUSED = "端末IDまたは秘密鍵が正しくないか、この端末は停止されています。"
CHECK_FUNCTION = "auth.kiosk_device"
THROTTLED_FUNCTION = "auth.kiosk_setup_throttled"
SETUP = "setup"


def setup_throttled_message() -> str:
    return (f"設定の失敗が続いたため、この端末からはしばらく設定できません。{settings.JUKI_KIOSK_SETUP_LOCK_MINUTES}分ほど"
            "時間をおいてからやり直すか、システム管理者に連絡してください。")


class SetupThrottled(DomainError):
    status = 429

    def __init__(self):
        super().__init__(ErrorCode.KIOSK_SETUP_THROTTLED, setup_throttled_message())


def setup_throttled(address: str, now: dt.datetime | None = None) -> bool:
    """Has `address` typed `JUKI_KIOSK_SETUP_ATTEMPTS` wrong codes or secrets on the setup screen
    within the last `JUKI_KIOSK_SETUP_LOCK_MINUTES`? Counted from the access log's own refusal rows
    (`auth.kiosk_device`, `via: setup`), so every server process sees the same count."""
    since = (now or timezone.now()) - dt.timedelta(minutes=settings.JUKI_KIOSK_SETUP_LOCK_MINUTES)
    failures = AccessLog.objects.filter(function=CHECK_FUNCTION, at__gte=since, criteria__via=SETUP,
                                        criteria__address=address).count()
    return failures >= settings.JUKI_KIOSK_SETUP_ATTEMPTS


def device_enrol(code: str, secret: str, *, address: str) -> KioskDevice:
    """The setup screen's check of a code and secret typed by the installer (C20): the same check
    as on every kiosk request, but refused outright (`SetupThrottled`, logged as
    `auth.kiosk_setup_throttled`, the secret not even looked at) while `address` is throttled, so
    that a secret cannot be guessed there. A wrong one is logged with the address, which counts."""
    address = address or "unknown"
    if setup_throttled(address):
        events.record(Actor.system_actor("kiosk.setup"), function=THROTTLED_FUNCTION, outcome=ErrorCode.KIOSK_SETUP_THROTTLED,
                      criteria={"address": address}, category=Category.AUTH)
        raise SetupThrottled()
    return device_check(code, secret, extra={"via": SETUP, "address": address})
