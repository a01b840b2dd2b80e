from django.conf import settings
from django.utils.cache import add_never_cache_headers


class NoStoreMiddleware:
    """Nothing this system serves may be kept in a browser or proxy cache (C20)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith("/static/"):
            add_never_cache_headers(response)
            response["Cache-Control"] = "no-store, no-cache, must-revalidate, private, max-age=0"
        return response


def _content_length(request) -> int:
    try:
        return max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0  # as Django reads it: an unreadable length is an empty body


class RequestLimitsMiddleware:
    """A body over the limit is refused with 413 before any view, parser or form reads it
    (JUKI_MAX_JSON_BYTES for JSON, JUKI_MAX_REQUEST_BYTES for anything else such as an upload).
    Under WSGI the body stream is cut at Content-Length, so the declared length is what is read."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        length = _content_length(request)
        is_json = "json" in request.META.get("CONTENT_TYPE", "").lower()
        limit = settings.JUKI_MAX_JSON_BYTES if is_json else settings.JUKI_MAX_REQUEST_BYTES
        if length > limit:
            from .views import too_large

            return too_large(request, limit)
        return self.get_response(request)
