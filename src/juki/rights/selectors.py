"""Reads for the rights screens and API. Staff and grants are not residents' personal data, so
no access gate; who may see them is checked by the caller (views, API)."""
from __future__ import annotations

from juki.core.errors import NotFoundError

from .models import Posting, RightApplication

_RELATED = ("applicant", "decided_by", "target_user", "target_section", "applying_section", "using_section")


def applications(*, applicant=None, state: str | None = None, limit: int = 200) -> list[RightApplication]:
    qs = RightApplication.objects.select_related(*_RELATED).order_by("-applied_at", "-id")
    if applicant is not None:
        qs = qs.filter(applicant=applicant)
    if state:
        qs = qs.filter(state=state)
    return list(qs[:limit])


def application(pk: int) -> RightApplication:
    item = RightApplication.objects.select_related(*_RELATED).filter(pk=pk).first()
    if item is None:
        raise NotFoundError("該当する申請がありません。")
    return item


def recent_postings(limit: int = 20) -> list[Posting]:
    return list(Posting.objects.select_related("user", "section", "recorded_by").order_by("-recorded_at", "-id")[:limit])


def as_dict(a: RightApplication) -> dict:
    """The API's view of an application (ids and labels; staff names are not resident data)."""
    return {
        "id": a.id, "number": a.number, "state": a.state, "state_label": a.get_state_display(),
        "role": a.role, "perms": a.perms, "valid_from": a.valid_from.isoformat(), "valid_until": a.valid_until.isoformat(),
        "business_name": a.business_name, "business_outline": a.business_outline, "purpose": a.purpose,
        "legal_basis": a.legal_basis, "applying_section": a.applying_section.code, "using_section": a.using_section.code,
        "target_user": a.target_user.username if a.target_user else None,
        "target_section": a.target_section.code if a.target_section else None,
        "applicant": a.applicant.username, "applied_at": a.applied_at.isoformat(),
        "decided_by": a.decided_by.username if a.decided_by else None,
        "decided_at": a.decided_at.isoformat() if a.decided_at else None, "comment": a.comment,
    }
