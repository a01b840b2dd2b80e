import logging

from django.http import JsonResponse
from django.shortcuts import render

log = logging.getLogger("juki.errors")


def home(request):
    return render(request, "core/home.html")


def _wants_json(request) -> bool:
    return request.path.startswith("/api/")


def not_found(request, exception=None):
    # The path is not echoed back: URLs may have been typed with personal data in them.
    if _wants_json(request):
        return JsonResponse({"type": "urn:juki:error:not_found", "status": 404, "code": "not_found",
                             "detail": "該当する記録がありません。"}, status=404, content_type="application/problem+json")
    return render(request, "core/error.html", {"title": "ページが見つかりません", "status": 404}, status=404)


def record_error(request, where: str) -> None:
    """The error log of [1370]: which screen or endpoint failed, for whom, from which terminal —
    never the exception's text, which may quote data."""
    from juki.audit import events
    from juki.audit.gate import Actor

    user = getattr(request, "user", None)
    match = getattr(request, "resolver_match", None)
    try:
        events.record(Actor(user=user if getattr(user, "is_authenticated", False) else None,
                            terminal=getattr(request, "terminal", None), system="" if user else "web"),
                      function=f"error.{where}", outcome="error", criteria={"view": match.view_name if match else ""})
    except Exception:  # the database may be what failed; the application log still has the event
        log.exception("could not record an error row")


def server_error(request):
    record_error(request, "server")
    if _wants_json(request):
        return JsonResponse({"type": "urn:juki:error:internal_error", "status": 500, "code": "internal_error",
                             "detail": "システムエラーが発生しました。処理は行われていません。"},
                            status=500, content_type="application/problem+json")
    return render(request, "core/error.html", {"title": "システムエラー", "status": 500}, status=500)
