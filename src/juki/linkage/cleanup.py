"""Files handed over to a destination (`outbound/<code>/`) and left there past the pick-up window: the
destination system takes its files and removes them; what it left after JUKI_LINKAGE_FILE_DAYS (30) days
is overwritten and removed (C25; `juki retention purge`). Only files of deliveries recorded as delivered
before then: a file the destination has not been handed yet is never touched."""
from __future__ import annotations

import datetime as dt

from django.conf import settings

from juki.core.files import shred

from . import config
from .models import Delivery


def days() -> int:
    return int(getattr(settings, "JUKI_LINKAGE_FILE_DAYS", 30))


def purge_files(*, now: dt.datetime, execute: bool) -> int:
    """How many handed-over files were due (and, with `execute`, removed)."""
    cutoff = now - dt.timedelta(days=days())
    root = config.root() / "outbound"
    due = 0
    if not root.is_dir():
        return 0
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        names = {p.name: p for p in folder.iterdir() if p.is_file() or p.is_symlink()}
        if not names:
            continue
        old = Delivery.objects.filter(destination=folder.name, file_name__in=list(names),
                                      state=Delivery.State.DELIVERED, delivered_at__lt=cutoff)
        for name in old.values_list("file_name", flat=True):
            due += 1
            if execute:
                shred(names[name])
    return due
