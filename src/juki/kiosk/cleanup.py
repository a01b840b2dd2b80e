"""Removing abandoned kiosk sessions' data (`juki kiosk-cleanup`, run from cron every few minutes).

A kiosk session ends on 「終わる」, 「やめる」 or at the next request after `JUKI_KIOSK_IDLE_SECONDS`
without one; a kiosk that stops making requests (switched off, its browser closed, the network
gone) would leave the card holder, the choice and the issued PDF in the session table until the
session expires (`SESSION_COOKIE_AGE`, hours). The cleanup scrubs every kiosk state idle longer
than `JUKI_KIOSK_IDLE_SECONDS` down to what the kiosk needs to end it (`access.scrubbed`: when it
was last seen and the money), and deletes expired sessions as Django's `clearsessions` does.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from importlib import import_module

from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from . import access, services

__all__ = ["Cleaned", "cleanup"]


@dataclass(frozen=True)
class Cleaned:
    scrubbed: int  # idle kiosk states emptied of personal data and the PDF
    expired: int  # expired sessions deleted


def cleanup(now: float | None = None) -> Cleaned:
    now = time.time() if now is None else now
    store = import_module(settings.SESSION_ENGINE).SessionStore
    expired = Session.objects.filter(expire_date__lt=timezone.now())
    gone = expired.count()
    expired.delete()
    scrubbed = 0
    for key in Session.objects.filter(session_data__isnull=False).values_list("session_key", flat=True).iterator():
        session = store(session_key=key)
        data = session.get(access.STATE)
        if not data or data.get("scrubbed") or not services.idle_expired(data.get("seen"), now):
            continue
        session[access.STATE] = access.scrubbed(data)
        session.save(must_create=False)
        scrubbed += 1
    return Cleaned(scrubbed=scrubbed, expired=gone)
