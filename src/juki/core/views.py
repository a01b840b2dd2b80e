import logging
import sys

from django.http import JsonResponse
from django.shortcuts import render

from .errors import ErrorCode
from .storage import STORAGE_MESSAGE, UNAVAILABLE_MESSAGE, database_gone, storage_failure

log = logging.getLogger("juki.errors")


def home(request):
    return render(request, "core/home.html")


def _wants_json(request) -> bool:
    return request.path.startswith("/api/")


def _problem(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse({"type": f"urn:juki:error:{code}", "title": code, "status": status, "code": code,
                         "detail": detail}, status=status, content_type="application/problem+json")


def not_found(request, exception=None):
    # The path is not echoed back: URLs may have been typed with personal data in them.
    if _wants_json(request):
        return _problem(404, "not_found", "該当する記録がありません。")
    return render(request, "core/error.html", {"title": "ページが見つかりません", "status": 404}, status=404)


def too_large(request, limit: int):
    """413 for a body past the limits (RequestLimitsMiddleware)."""
    detail = f"送信内容が大きすぎます（{limit // 1024:,} KiB まで）。内容を分けて送信してください。"
    if _wants_json(request):
        return _problem(413, ErrorCode.REQUEST_TOO_LARGE, detail)
    return render(request, "core/error.html", {"title": "送信内容が大きすぎます", "status": 413, "detail": detail},
                  status=413)


def record_error(request, where: str) -> None:
    """The error log of [1370]: which screen or endpoint failed, for whom, from which terminal —
    never the exception's text, which may quote data."""
    from juki.audit import events
    from juki.audit.requests import actor_of

    user = getattr(request, "user", None)
    match = getattr(request, "resolver_match", None)
    try:
        events.record(actor_of(request, system="" if user else "web"),
                      function=f"error.{where}", outcome="error", criteria={"view": match.view_name if match else ""})
    except Exception:  # the database may be what failed; the application log still has the event
        log.exception("could not record an error row")


def server_error(request):
    # Called by Django inside the `except` that caught the failure: a full or read-only database
    # gets 「保存できません」 and 503 (try again later), not a bare system error.
    if storage_failure(sys.exc_info()[1]):
        log.error("storage unavailable: the database refused a write (disk full or read-only)")
        record_error(request, "storage")  # fails too, most likely; then only the application log has it
        if _wants_json(request):
            return _problem(503, ErrorCode.STORAGE_UNAVAILABLE, STORAGE_MESSAGE)
        return render(request, "core/error.html", {"title": "保存できません", "status": 503, "detail": STORAGE_MESSAGE},
                      status=503)
    if database_gone(sys.exc_info()[1]):  # restarting or failing over: the log row cannot be written either
        log.error("database unavailable: a request failed while the database restarted or failed over")
        if _wants_json(request):
            return _problem(503, ErrorCode.DATABASE_UNAVAILABLE, UNAVAILABLE_MESSAGE)
        # The page says what to do, once: the title does not repeat the message's first words.
        return render(request, "core/error.html", {"title": "ただいま処理できません", "status": 503,
                                                   "detail": UNAVAILABLE_MESSAGE,
                                                   "then": "数分たっても同じ画面になるときは、システム担当へ連絡してください。"},
                      status=503)
    record_error(request, "server")
    if _wants_json(request):
        return _problem(500, "internal_error", "システムエラーが発生しました。処理は行われていません。")
    return render(request, "core/error.html", {"title": "システムエラー", "status": 500}, status=500)
