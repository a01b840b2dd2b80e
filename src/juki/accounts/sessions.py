"""Django's database sessions, with the one read every staff screen makes built once.

`SESSION_ENGINE` points here. The store is Django's own (`sessions.backends.db`); only the load is
a statement written once (`core.sql.Joined`) instead of an ORM query compiled on every request
(issue 19: per-request cost). Sessions stay in the database so that a logout or a replaced login
ends them in every server process at once.

The PDFs a screen hands out in a later request are kept beside the session (`SessionDocument`), not
in it: every request loads the session, and five PDFs in it made each load and save cost 18 ms of CPU
(issue 18).
"""
import datetime as dt
from collections.abc import Iterable

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.db import connection, transaction
from django.utils import timezone

from juki.core import sql

from .models import SessionDocument

_LOAD = sql.Joined(Session, where="t.session_key = %s AND t.expire_date > %s")


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        found = _LOAD.first([self.session_key, connection.ops.adapt_datetimefield_value(timezone.now())])
        if found is None:
            self._session_key = None
        return found


# --- the PDFs kept beside a session (SessionDocument; ui.documents decides what is kept) ---

DOCUMENT_SECONDS = 60 * 60  # nothing kept is handed out after an hour (ui.documents.ISSUED_SECONDS)


def keep_document(session_key: str, slot: str, pdf: bytes, *, keep_slots: Iterable[str] = ()) -> None:
    """Keep `pdf` in this session's `slot` (replacing what was there), and drop the session's other
    documents except those in `keep_slots`."""
    with transaction.atomic():  # one delete: the slot's old PDF goes with the others not kept
        SessionDocument.objects.filter(session_id=session_key).exclude(slot__in=set(keep_slots) - {slot}).delete()
        SessionDocument.objects.create(session_id=session_key, slot=slot, pdf=pdf)


def document(session_key: str, slot: str) -> bytes | None:
    found = SessionDocument.objects.filter(
        session_id=session_key, slot=slot,
        kept_at__gte=timezone.now() - dt.timedelta(seconds=DOCUMENT_SECONDS)).values_list("pdf", flat=True).first()
    return bytes(found) if found is not None else None


def forget_document(session_key: str, slot: str) -> None:
    SessionDocument.objects.filter(session_id=session_key, slot=slot).delete()


def documents_due(now: dt.datetime):
    """The kept documents past their hour (their sessions' own ends delete the rest with them)."""
    return SessionDocument.objects.filter(kept_at__lt=now - dt.timedelta(seconds=DOCUMENT_SECONDS))
