"""The PDFs a staff screen hands out after the request that made them (every certificate form's,
seals' too).

The services keep no PDF (it is personal data; a reissue renders it again), but the browser fetches
it in a request of its own (the preview's <iframe>, the download link). So the one latest preview
and the last few issued PDFs of this counter session (`ISSUED_KEEP`, for `ISSUED_SECONDS`) are kept
server-side with the session: the session holds what they are (number, persons, warnings, time), and
the PDFs themselves are `accounts.sessions`' documents beside it, deleted with the session at logout,
so that the session every request loads stays small (issue 18). URLs carry only a random token
(preview) or the issue number, never personal data."""
from __future__ import annotations

import secrets
import time

from juki.accounts import sessions

SESSION_PREVIEW = "juki_certificate_preview"  # {"token"}; the PDF: document "preview"
SESSION_ISSUED = "juki_certificate_issued"  # [{"number", "person_ids", "warnings", "at"}], newest first; PDFs by number
_PREVIEW = "preview"
# What this clerk's session keeps of what it issued, to print again after moving on (a jammed
# printer noticed at the next resident): the last few, for a while. Logout ends them with the
# session; past them, a spoiled paper is voided and reissued.
ISSUED_KEEP = 5
ISSUED_SECONDS = sessions.DOCUMENT_SECONDS
KEPT_FOR = f"交付から{ISSUED_SECONDS // 60}分以内（直近{ISSUED_KEEP}件）"


def _key(request) -> str:
    if request.session.session_key is None:  # a screen behind login always has one; be sure it is stored
        request.session.save()
    return request.session.session_key


def keep_preview(request, pdf: bytes) -> str:
    """Keep a sample PDF in this session's one preview slot; its token opens it (`preview_pdf`)."""
    token = secrets.token_urlsafe(16)
    sessions.keep_document(_key(request), _PREVIEW, pdf, keep_slots=[s["number"] for s in _issued_slots(request)])
    request.session[SESSION_PREVIEW] = {"token": token}
    return token


def preview_pdf(request, token: str) -> bytes | None:
    """The kept preview whose token this is, or None."""
    slot = request.session.get(SESSION_PREVIEW) or {}
    if not slot or not secrets.compare_digest(str(slot.get("token", "")), token):
        return None
    return sessions.document(request.session.session_key, _PREVIEW)


def keep_issued(request, result) -> None:
    """Keep an issued PDF (an `IssueResult`: number, pdf, issue.person_ids, warnings) in this
    session's recent issues: its screen and the 交付履歴 hand it out (each download logged) while
    it is among the last `ISSUED_KEEP` and younger than `ISSUED_SECONDS`. The preview goes."""
    request.session.pop(SESSION_PREVIEW, None)
    kept = [s for s in _issued_slots(request) if s["number"] != result.number][:ISSUED_KEEP - 1]
    sessions.keep_document(_key(request), result.number, result.pdf, keep_slots=[s["number"] for s in kept])
    kept.insert(0, {"number": result.number, "person_ids": list(result.issue.person_ids),
                    "warnings": list(result.warnings), "at": time.time()})
    request.session[SESSION_ISSUED] = kept


def _stored_slots(request) -> list[dict]:
    slots = request.session.get(SESSION_ISSUED) or []
    return [slots] if isinstance(slots, dict) else slots  # a dict: a session from before the list


def _issued_slots(request) -> list[dict]:
    now = time.time()
    return [s for s in _stored_slots(request) if now - s.get("at", 0) <= ISSUED_SECONDS]


def issued_slot(request, number: str) -> dict:
    """This session's kept issue `number` ({} when not kept, or no longer): what it is, not its PDF."""
    return next((s for s in _issued_slots(request) if s["number"] == number), {})


def issued_pdf(request, number: str) -> bytes | None:
    """The PDF of this session's kept issue `number`, or None."""
    if not issued_slot(request, number):
        return None
    return sessions.document(request.session.session_key, number)


def forget_issued(request, number: str) -> None:
    slots = _stored_slots(request)
    kept = [s for s in slots if s.get("number") != number]
    if len(kept) != len(slots):
        request.session[SESSION_ISSUED] = kept
    if request.session.session_key:
        sessions.forget_document(request.session.session_key, number)
