"""`juki seals-sweep`: the daily batch, logged, printing counts and internal ids only."""
from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from juki.audit.models import AccessLog
from juki.seals import services
from juki.seals.models import RegistrationMethod

from .helpers import seal_png


def test_the_sweep_ends_overdue_inquiries_and_prints_no_names(actor, fam, capsys, settings):
    reg = services.seal_register(actor=actor, person_id=fam["head"], method=RegistrationMethod.INQUIRY,
                                 image=seal_png(15), seal_text="青木", seal_checked=True)
    on = timezone.localdate() + dt.timedelta(days=settings.JUKI_SEAL_ANSWER_DAYS + 1)
    call_command("seals_sweep", "--on", on.isoformat())
    out = capsys.readouterr().out
    assert f"回答期限の経過による終了 1件: {reg['id']}" in out and "住民登録の消除による職権廃止 0件" in out
    assert "青木" not in out
    log = AccessLog.objects.filter(function="seal.sweep").latest("id")
    assert log.system == "seals-sweep" and log.outcome == AccessLog.OK
    assert list(log.subjects.values_list("person_id", flat=True)) == [fam["head"]]
    call_command("seals_sweep", "--on", on.isoformat())  # again: nothing left to do
    assert "回答期限の経過による終了 0件" in capsys.readouterr().out


def test_the_sweep_refuses_a_bad_date(db):
    with pytest.raises(CommandError):
        call_command("seals_sweep", "--on", "R8.1.1")
