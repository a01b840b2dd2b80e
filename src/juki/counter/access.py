"""Who is at the counter: session login with a terminal, and the idle lock (C20).

Every counter view is wrapped by `counter_view`, which
- sends a visitor without a session (or without a terminal) to the login screen,
- locks the session after `JUKI_IDLE_LOCK_SECONDS` without activity: a locked session sees
  only the unlock screen (no personal data) until the same user enters the password again,
- builds the `Actor` the services' access gate logs, and
- turns a refused rule (`DomainError`) into a Japanese message on the page, never a trace.
"""
from __future__ import annotations

import time
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from juki.accounts.models import Terminal
from juki.accounts.permissions import Perm
from juki.audit.gate import Actor
from juki.core.errors import DomainError

SESSION_TERMINAL = "juki_terminal_id"
SESSION_LAST_SEEN = "juki_last_seen"
SESSION_LOCKED = "juki_locked"


def idle_seconds() -> int:
    return settings.JUKI_IDLE_LOCK_SECONDS


def safe_next(request, default: str = "counter:search") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}) and target.startswith("/counter/"):
        return target
    return reverse(default)


def _redirect(request, name: str, next_path: str | None = None):
    url = reverse(name)
    if next_path:
        url += "?" + urlencode({"next": next_path})
    if getattr(request, "htmx", False):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url  # htmx replaces the whole page, not a fragment
        return response
    return redirect(url)


def _page_path(request) -> str:
    # For an htmx fragment, come back to the page it was on, not to the fragment's URL.
    if getattr(request, "htmx", False) and request.htmx.current_url_abs_path:
        return request.htmx.current_url_abs_path
    return request.get_full_path() if request.method == "GET" else reverse("counter:search")


def start_session(request, terminal: Terminal) -> None:
    request.session[SESSION_TERMINAL] = terminal.pk
    request.session[SESSION_LAST_SEEN] = time.time()
    request.session[SESSION_LOCKED] = False


def lock(request) -> None:
    request.session[SESSION_LOCKED] = True


def unlock(request) -> None:
    request.session[SESSION_LOCKED] = False
    request.session[SESSION_LAST_SEEN] = time.time()


def is_locked(request) -> bool:
    if request.session.get(SESSION_LOCKED):
        return True
    last = request.session.get(SESSION_LAST_SEEN)
    return last is None or time.time() - last > idle_seconds()


def session_terminal(request) -> Terminal | None:
    tid = request.session.get(SESSION_TERMINAL)
    if tid is None:
        return None
    return Terminal.objects.select_related("ward").filter(pk=tid, is_active=True).first()


def counter_view(perm: Perm | None = None):
    def decorate(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return _redirect(request, "counter:login", _page_path(request))
            terminal = session_terminal(request)
            if terminal is None:
                return _redirect(request, "counter:login", _page_path(request))
            if is_locked(request):
                lock(request)
                return _redirect(request, "counter:lock", _page_path(request))
            request.session[SESSION_LAST_SEEN] = time.time()
            request.terminal = terminal
            request.actor = Actor(user=request.user, terminal=terminal)
            if perm is not None and not request.user.has_juki_perm(perm):
                return render(request, "counter/denied.html", {"title": "権限がありません"}, status=403)
            try:
                return view(request, *args, **kwargs)
            except DomainError as exc:
                return error_response(request, exc)

        return wrapped

    return decorate


def error_response(request, exc: DomainError):
    """A refused request: the rule's Japanese message, in the fragment or as a page."""
    context = {"title": "処理できませんでした", "message": exc.message, "code": str(exc.code),
               "fields": exc.details.get("fields") if exc.details else None}
    template = "counter/_error.html" if getattr(request, "htmx", False) else "counter/error.html"
    response = render(request, template, context, status=exc.status)
    if getattr(request, "htmx", False):
        # htmx does not swap error responses by default; this one is meant to be shown.
        response["HX-Retarget"] = request.headers.get("X-Juki-Error-Target", "#messages")
        response["HX-Reswap"] = "innerHTML"
        response.status_code = 200
    return response
