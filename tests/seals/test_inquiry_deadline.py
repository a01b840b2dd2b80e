"""The 照会書 of a pending registration cannot be printed once its 回答期限 has passed: its 回答書 could
no longer register anything (seal_inquiry_answer refuses it)."""
import datetime as dt

from django.utils import timezone

from juki.core.errors import ErrorCode
from juki.seals import services
from juki.seals.models import RegistrationMethod
from tests.helpers import last_log, refused

from .helpers import seal_png


def test_no_inquiry_letter_after_the_deadline(actor, fam, settings, monkeypatch):
    services.seal_register(actor=actor, person_id=fam["head"], method=RegistrationMethod.INQUIRY, image=seal_png(15),
                           seal_text="青木", documents=[], seal_checked=True)
    assert services.seal_inquiry_letter(actor=actor, person_id=fam["head"]).startswith(b"%PDF")  # within the period
    later = timezone.localdate() + dt.timedelta(days=settings.JUKI_SEAL_ANSWER_DAYS + 1)
    monkeypatch.setattr(services.registration, "today", lambda: later)
    error = refused(ErrorCode.SEAL_STATE, services.seal_inquiry_letter, actor=actor, person_id=fam["head"])
    assert "回答期限" in error.message and "照会書は印刷できません" in error.message
    assert last_log("print.seal_inquiry").outcome == ErrorCode.SEAL_STATE
