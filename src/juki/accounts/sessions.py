"""Django's database sessions, with the one read every staff screen makes built once.

`SESSION_ENGINE` points here. The store is Django's own (`sessions.backends.db`); only the load is
a statement written once (`core.sql.Joined`) instead of an ORM query compiled on every request
(issue 19: per-request cost). Sessions stay in the database so that a logout or a replaced login
ends them in every server process at once.
"""
from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.db import connection
from django.utils import timezone

from juki.core import sql

_LOAD = sql.Joined(Session, where="t.session_key = %s AND t.expire_date > %s")


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        found = _LOAD.first([self.session_key, connection.ops.adapt_datetimefield_value(timezone.now())])
        if found is None:
            self._session_key = None
        return found
