"""Login, one-time password, idle lock, logout and password change: thin callers of `juki.accounts.login`."""
from __future__ import annotations

import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import login, update_session_auth_hash
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from juki.accounts import login as login_rules
from juki.accounts import services as account_services
from juki.accounts.models import Staff, Terminal, staff_terminals
from juki.accounts.passwords import password_expired
from juki.core.errors import DomainError

from juki.ui import access
from juki.ui.access import counter_view
from .forms import UnlockForm
from .login_forms import LoginForm, OtpForm, PasswordChangeForm

# Between the password and the one-time password: who, where, and since when (not logged in yet).
SESSION_PENDING = "juki_pending_login"
PENDING_SECONDS = 300

REASONS = {
    "replaced": "別の端末または画面でログインしたため、この画面はログアウトしました。",
    "work_ended": "作業申請の期間が終わったため、ログアウトしました。",
    "locked": "現在のパスワードの誤りが続いたため、アカウントをロックしてログアウトしました。しばらくしてから、またはシステム管理者に解除を依頼してください。",
}


def _finish(request, step: login_rules.PasswordStep, device=None):
    """Start the session once every step has passed."""
    if device is not None:
        step.user.otp_device = device  # django-otp keeps it in the session on login()
    login(request, step.user)  # rotates the session key
    expired = login_rules.login_succeeded(step, second_factor=device is not None)
    access.start_session(request, step.terminal, step.work_application)
    if expired:
        return redirect(_with_next(request, "counter:password_change"))
    return redirect(access.safe_next(request))


def _with_next(request, name: str) -> str:
    return reverse(name) + "?" + urlencode({"next": access.safe_next(request)})


def login_view(request):
    terminals = staff_terminals().order_by("code")
    form = LoginForm(request.POST or None, terminals=terminals)
    error = REASONS.get(request.GET.get("reason", ""), "")
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["terminal"].strip()
        terminal = staff_terminals().select_related("ward").filter(code=code).first()
        try:
            step = login_rules.password_step(
                username=form.cleaned_data["username"], password=form.cleaned_data["password"], terminal=terminal,
                work_application=form.cleaned_data.get("work_application") or "")
        except DomainError as exc:
            error = exc.message
        else:
            if not step.needs_otp:
                return _finish(request, step)
            request.session[SESSION_PENDING] = {"user": step.user.pk, "terminal": terminal.pk,
                                                "work_application": step.work_application, "at": time.time()}
            return redirect(_with_next(request, "counter:login_otp"))
    return render(request, "counter/login.html", {"form": form, "error": error, "next": access.safe_next(request),
                                                  "title": "ログイン", "max_failures": settings.JUKI_LOGIN_MAX_FAILURES})


def login_otp(request):
    """The second step for holders of rights that need it: the 6-digit TOTP code (C01)."""
    pending = request.session.get(SESSION_PENDING)
    if not pending or time.time() - pending["at"] > PENDING_SECONDS:
        request.session.pop(SESSION_PENDING, None)
        return redirect("counter:login")
    user = Staff.objects.get(pk=pending["user"])
    terminal = Terminal.objects.select_related("ward").get(pk=pending["terminal"])
    form = OtpForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            device = login_rules.otp_step(user=user, terminal=terminal, otp=form.cleaned_data["otp"])
        except DomainError as exc:
            error = exc.message
            if exc.code == "account_locked":
                request.session.pop(SESSION_PENDING, None)
        else:
            request.session.pop(SESSION_PENDING, None)
            step = login_rules.PasswordStep(user=user, terminal=terminal, channel=login_rules.COUNTER, needs_otp=True,
                                            work_application=pending["work_application"])
            return _finish(request, step, device)
    return render(request, "counter/login_otp.html", {"form": form, "error": error, "next": access.safe_next(request),
                                                      "title": "ワンタイムパスワード", "pending_user": user})


def lock_view(request):
    """The idle lock: shows nothing personal; the same user's password unlocks it (C20)."""
    if not request.user.is_authenticated or access.session_terminal(request) is None:
        return redirect("counter:login")
    access.lock(request)
    form = UnlockForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        result = login_rules.screen_unlock(actor=access.actor_of(request), password=form.cleaned_data["password"])
        if result == login_rules.UNLOCKED:
            access.unlock(request)
            return redirect(access.safe_next(request))
        if result == login_rules.LOCKED_OUT:
            access.end_session(request)
            form = LoginForm(terminals=staff_terminals().order_by("code"))
            return render(request, "counter/login.html", {"form": form, "error": login_rules.LOCKED,
                                                          "next": access.safe_next(request), "title": "ログイン"})
        error = "パスワードが正しくありません。"
    return render(request, "counter/lock.html", {"form": form, "error": error, "next": access.safe_next(request),
                                                 "title": "画面ロック"})


@require_POST
def logout_view(request):
    access.end_session(request)
    return redirect("counter:login")


@counter_view(allow_expired_password=True)
def password_change(request):
    """The user's own password change; an expired password leads here before anything else (C01)."""
    form = PasswordChangeForm(request.POST or None)
    expired = password_expired(request.user)
    if request.method == "POST" and form.is_valid():
        try:
            account_services.password_change(actor=request.actor, current=form.cleaned_data["current"],
                                             new=form.cleaned_data["new"])
        except DomainError as exc:
            if exc.code == "account_locked":  # too many wrong current passwords: the session ends too
                access.end_session(request)
                return redirect(reverse("counter:login") + "?reason=locked")
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            old_key = request.session.session_key
            update_session_auth_hash(request, request.user)  # stays logged in; the key rotates
            login_rules.counter_session_rekey(user=request.user, old_key=old_key, new_key=request.session.session_key)
            return render(request, "counter/password_changed.html", {"title": "パスワードの変更", "help": "login",
                                                                     "next": access.safe_next(request)})
    return render(request, "counter/password_change.html", {"form": form, "expired": expired, "title": "パスワードの変更", "help": "login",
                                                            "next": access.safe_next(request)})
