"""Who is at the counter: session login with a terminal, and the idle lock (C20).

Every counter view is wrapped by `counter_view`, which
- sends a visitor without a session (or without a terminal) to the login screen,
- ends a session that a newer login of the same user or on the same terminal replaced (C01),
- sends a user whose password has expired to the password change screen first,
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
from django.contrib.auth import logout
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from juki.accounts import login as login_rules
from juki.accounts.models import Terminal, staff_terminal
from juki.accounts.passwords import password_expired
from juki.accounts.permissions import Perm
from juki.audit import events, requests
from juki.audit.gate import Actor
from juki.audit.models import AccessLog
from juki.core.errors import DomainError

from . import menu

SESSION_TERMINAL = "juki_terminal_id"
SESSION_LAST_SEEN = "juki_last_seen"
SESSION_LOCKED = "juki_locked"
SESSION_WORK_APPLICATION = requests.SESSION_WORK_APPLICATION


def idle_seconds() -> int:
    return settings.JUKI_IDLE_LOCK_SECONDS


# The staff screens' apps; a `next` outside them is ignored (no open redirect).
STAFF_PREFIXES = ("/counter/", "/rights/", "/protection/", "/audit/", "/disclosure/", "/admin/", "/jukinet/",
                  "/linkage/", "/atena/")
# Where a user without any first screen of `menu` lands (it refuses them with the 403 screen).
DEFAULT_HOME = "counter:search"


def home_for(user) -> str:
    """A user's first screen: the first of the registered ones (`menu.Home`) their rights open."""
    if user is not None and user.is_authenticated and (url := menu.home_url_for(user)):
        return url
    return reverse(DEFAULT_HOME)


def safe_next(request, default: str | None = None) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}) \
            and target.startswith(STAFF_PREFIXES):
        return target
    return reverse(default) if default else home_for(getattr(request, "user", None))


def _redirect(request, name: str, next_path: str | None = None, **query):
    url = reverse(name)
    if next_path:
        query["next"] = next_path
    if query:
        url += "?" + urlencode(query)
    return go(request, url)


def go(request, url: str):
    """To `url`: htmx replaces the whole page (HX-Redirect), not a fragment; a plain request redirects."""
    if getattr(request, "htmx", False):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def _page_path(request) -> str:
    # For an htmx fragment, come back to the page it was on, not to the fragment's URL.
    if getattr(request, "htmx", False) and request.htmx.current_url_abs_path:
        return request.htmx.current_url_abs_path
    return request.get_full_path() if request.method == "GET" else reverse("counter:search")


def start_session(request, terminal: Terminal, work_application: str = "") -> None:
    """After `django.contrib.auth.login`: this session becomes the user's and the terminal's only one."""
    request.session[SESSION_TERMINAL] = terminal.pk
    request.session[SESSION_LAST_SEEN] = time.time()
    request.session[SESSION_LOCKED] = False
    request.session[SESSION_WORK_APPLICATION] = work_application
    if request.session.session_key is None:
        request.session.save()
    login_rules.counter_session_start(user=request.user, terminal=terminal, session_key=request.session.session_key)


def second_factor(request) -> bool:
    """True when this session passed the TOTP step (django-otp's OTPMiddleware keeps the device)."""
    verified = getattr(request.user, "is_verified", None)
    return bool(verified and verified())


def actor_of(request, terminal: Terminal | None = None) -> Actor:
    """The one factory (`audit.requests.actor_of`), with the session's terminal."""
    return requests.actor_of(request, terminal or session_terminal(request))


def lock(request) -> None:
    if not request.session.get(SESSION_LOCKED):
        login_rules.screen_lock(actor_of(request))
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
    return staff_terminal(tid)


def end_session(request) -> None:
    """Logout: log it and forget this session's live-session record."""
    if request.user.is_authenticated:
        login_rules.counter_logout(user=request.user, terminal=session_terminal(request),
                                   session_key=request.session.session_key, second_factor=second_factor(request))
    logout(request)


def _seen(request) -> None:
    """Note the activity for the idle lock, at most every tenth of the lock's time (30 s at most):
    a session row written on every request was one UPDATE per screen (issue 19). The lock can come
    that much early, never late."""
    now = time.time()
    step = min(30.0, settings.JUKI_IDLE_LOCK_SECONDS / 10)
    if now - request.session.get(SESSION_LAST_SEEN, 0) >= step:
        request.session[SESSION_LAST_SEEN] = now


def counter_view(perm: Perm | tuple[Perm, ...] | None = None, *, allow_expired_password: bool = False):
    """A staff screen: logged in at a terminal, and holding `perm` (or any one of a tuple of rights)."""
    alternatives = perm if isinstance(perm, tuple) else (perm,) if perm is not None else ()

    def decorate(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                if request.session.pop(login_rules.SESSION_REPLACED, False):
                    return _redirect(request, "counter:login", reason="replaced")
                return _redirect(request, "counter:login", _page_path(request))
            terminal = session_terminal(request)
            if terminal is None:
                return _redirect(request, "counter:login", _page_path(request))
            if not login_rules.counter_session_is_live(user=request.user, session_key=request.session.session_key):
                logout(request)  # the newer login logged the replacement already
                return _redirect(request, "counter:login", reason="replaced")
            if is_locked(request):
                lock(request)
                return _redirect(request, "counter:lock", _page_path(request))
            if number := request.session.get(SESSION_WORK_APPLICATION, ""):
                try:  # a contractor's session ends with the work application's period (C04)
                    login_rules.work_application_check(request.user, number)
                except DomainError:
                    end_session(request)
                    return _redirect(request, "counter:login", reason="work_ended")
            if not allow_expired_password and password_expired(request.user):
                return _redirect(request, "counter:password_change", _page_path(request))
            _seen(request)
            request.terminal = terminal
            request.actor = actor_of(request, terminal)
            if alternatives and not any(request.actor.can(p) for p in alternatives):
                if request.path == reverse(DEFAULT_HOME) and request.method == "GET":
                    home = home_for(request.user)  # the counter's front page is not everybody's
                    if home != request.path:
                        return redirect(home)
                return refuse(request, alternatives[0])
            try:
                return view(request, *args, **kwargs)
            except DomainError as exc:
                return error_response(request, exc)

        return wrapped

    return decorate


def refuse(request, perm: Perm | str):
    """The 403 screen for a right the user lacks; the refused attempt is recorded like any other (C06/C07)."""
    events.record(request.actor, function=f"screen.{request.resolver_match.url_name}", outcome=AccessLog.DENIED,
                  criteria={"screen": request.resolver_match.view_name, "perm": str(perm)})
    return render(request, "ui/denied.html", {"title": "権限がありません"}, status=403)


def error_response(request, exc: DomainError):
    """A refused request: the rule's Japanese message, in the fragment or as a page."""
    context = {"title": "処理できませんでした", "message": exc.message, "code": str(exc.code),
               "fields": exc.errors or (exc.details.get("fields") if exc.details else None)}
    template = "ui/_error.html" if getattr(request, "htmx", False) else "ui/error.html"
    response = render(request, template, context, status=exc.status)
    if getattr(request, "htmx", False):
        # htmx does not swap error responses by default; this one is meant to be shown.
        response["HX-Retarget"] = request.headers.get("X-Juki-Error-Target", "#messages")
        response["HX-Reswap"] = "innerHTML"
        response.status_code = 200
    return response
