from __future__ import annotations

from juki.accounts.permissions import Perm

from . import gate
from .gate import Actor
from .models import AccessLog


def access_log_for_person(*, actor: Actor, person_id: int, limit: int = 500) -> list[dict]:
    """Every recorded access to one person, newest first (for review and disclosure requests)."""
    with gate.open(actor, function="accesslog.view", perm=Perm.ACCESS_LOG_VIEW, criteria={"person_id": person_id}):
        rows = (
            AccessLog.objects.select_related("user", "terminal")
            .filter(subjects__person_id=person_id)
            .order_by("-at", "-id")[:limit]
        )
        return [
            {
                "id": r.id,
                "at": r.at.isoformat(),
                "user": r.user.username if r.user else None,
                "system": r.system,
                "terminal": r.terminal.code if r.terminal else None,
                "function": r.function,
                "outcome": r.outcome,
                "person_count": r.person_count,
                "my_number_accessed": r.my_number_accessed,
            }
            for r in rows
        ]
