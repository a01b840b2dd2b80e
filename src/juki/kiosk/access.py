"""Who is at the kiosk: the device credential on every request, and the resident's short session.

- The device: an HttpOnly, SameSite=Strict cookie, signed with the server's key, carries the code
  and the secret the installer typed once on the setup screen; its path is /kiosk/, so the staff
  screens and the API never receive it. A missing, altered, wrong or stopped credential gets
  「この端末は自動交付機として登録されていません。」 and nothing else.
- The resident: one dict in the (server-side) session under `STATE`, holding the card holder, the
  choice, the money put in and, after the issue, the PDF until the card is taken back. It ends
  after the issue, on 「やめる」 and after `JUKI_KIOSK_IDLE_SECONDS` without a request (checked here,
  on the server; the page's timer only saves the resident a tap). Ending drops the state and
  cycles the session key, so the next resident starts afresh.
"""
from __future__ import annotations

import time
from functools import wraps

from django.conf import settings
from django.core import signing
from django.shortcuts import redirect, render

from juki.core.errors import DomainError

from . import devices, services

COOKIE = "juki_kiosk_device"
COOKIE_SALT = "juki.kiosk.device"
COOKIE_PATH = "/kiosk/"
STATE = "juki_kiosk"
ENDED = "juki_kiosk_ended"  # what the end screen says, kept across one redirect


def set_device_cookie(response, code: str, secret: str) -> None:
    response.set_signed_cookie(COOKIE, f"{code}:{secret}", salt=COOKIE_SALT, path=COOKIE_PATH,
                               max_age=settings.JUKI_KIOSK_DEVICE_COOKIE_DAYS * 86400, httponly=True,
                               samesite="Strict", secure=settings.SESSION_COOKIE_SECURE)


def device_of(request):
    """The registered, active device this request comes from, or None (the refusal is logged when
    a credential was presented; a browser without one is just not a kiosk)."""
    try:
        value = request.get_signed_cookie(COOKIE, default=None, salt=COOKIE_SALT)
    except signing.BadSignature:
        value = ""
    if value is None:
        return None
    code, _, secret = value.partition(":")
    try:
        return devices.device_check(code, secret)
    except DomainError:
        return None


def not_registered(request):
    return render(request, "kiosk/not_registered.html", {"title": devices.NOT_REGISTERED}, status=403)


def state(request) -> dict | None:
    return request.session.get(STATE)


def save(request, data: dict) -> None:
    request.session[STATE] = data
    request.session.modified = True


def write_nothing(request) -> None:
    """This response leaves the session as it is stored. For the second request of a double tap:
    it loaded the state before the first request saved its certificate there, and writing its
    copy back would drop that certificate."""
    request.session.modified = False


def _forget(request) -> None:
    """Drop the resident's state and take a new session key, so nothing of one resident's session
    (not even its key) carries over to the next. Only the kiosk's keys go: a staff login in the
    same browser (a demo) is left alone."""
    request.session.pop(STATE, None)
    request.session.pop(ENDED, None)
    request.session.cycle_key()


def begin(request) -> dict:
    """A new resident's session (after 「はじめる」)."""
    _forget(request)
    data = {"seen": time.time(), "paid": 0}
    save(request, data)
    return data


def take_certificate(request, index: int = 0) -> None:
    """A certificate (copy `index`) was taken away (downloaded): its PDF leaves the session at once;
    once every copy is taken, what is left (numbers, change) is no personal data. Shown on the done
    screen, a copy stays until the session ends (「終わる」, 「やめる」, idle), or `cleanup` removes
    it from an abandoned session."""
    issued = (request.kiosk or {}).get("issued") or {}
    copies = issued.get("copies") or []
    if index < len(copies) and copies[index].pop("pdf", None) is not None:
        copies[index]["taken"] = True
        if all(c.get("taken") for c in copies):
            issued.pop("person_ids", None)
            issued["taken"] = True
        save(request, request.kiosk)


def scrubbed(data: dict) -> dict:
    """What an abandoned session keeps once cleaned: when it was last seen and the money, so that
    the kiosk's next request still ends it with the timeout message (and the money given back);
    no card, holder, choice or certificate."""
    kept = {"seen": data.get("seen"), "paid": data.get("paid", 0), "scrubbed": True}
    issued = data.get("issued")
    if issued:
        kept["issued"] = {k: issued[k] for k in ("form", "fee", "change") if k in issued}
        kept["issued"]["numbers"] = [c["number"] for c in issued.get("copies") or ()]
    return kept


def unspent(data: dict | None) -> int:
    """The money that goes back when a session ends: what was paid, unless a certificate was issued."""
    data = data or {}
    return 0 if data.get("issued") else data.get("paid", 0)


def end(request, message: str = "", *, returned: int = 0, issued: bool = False):
    """End the resident's session and show 「カードをお取りください」 (with the money given back)."""
    _forget(request)
    request.session[ENDED] = {"message": message, "returned": returned, "issued": issued}
    return redirect("kiosk:end")


def kiosk_view(*, needs: tuple[str, ...] = (), missing: str = "kiosk:start", touch: bool = True):
    """Every kiosk screen: the device first, then (for `needs`) the resident's live session holding
    those keys. A missing session goes to the start; one without those keys to `missing` (before
    anything is written); an expired one ends with the timeout message.

    `touch=False`: the screen neither ends an idle session nor writes the session (the wait for
    an issue still running in another request, which saves the session itself)."""

    def decorate(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            device = device_of(request)
            if device is None:
                return not_registered(request)
            request.kiosk_device = device
            request.kiosk_actor = devices.device_actor(device)
            data = state(request)
            now = time.time()
            if needs and (data is None or any(data.get(k) is None for k in needs)):
                return redirect("kiosk:start" if data is None else missing)
            if touch and data is not None and services.idle_expired(data.get("seen"), now):
                return end(request, services.TIMED_OUT, returned=unspent(data))
            if touch and data is not None:
                data["seen"] = now
                save(request, data)
            request.kiosk = data
            try:
                return view(request, *args, **kwargs)
            except DomainError as exc:  # whatever the rule, the resident reads the kiosk's own words
                return end(request, services.refusal(exc).message, returned=unspent(data))

        return wrapped

    return decorate
