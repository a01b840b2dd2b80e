"""Login rules (C01, C04, C20, [1380]): lockout, second factor (TOTP), one counter session, auth log.

No HTTP here: the counter's views and the API's token view call these and only move the
results into a session or a response. Every step writes its `auth.*` event to the access log.

A failure writes its log row and commits before the error is raised, so a refused attempt
is never rolled back out of the log nor out of the failure count.
"""
from __future__ import annotations

import datetime as dt
from base64 import b32encode
from dataclasses import dataclass
from importlib import import_module

from django.conf import settings
from django.contrib import auth
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from juki.audit import events
from juki.audit.gate import Actor
from juki.audit.models import AccessLog
from juki.core.errors import AccessDenied, DomainError, ErrorCode, NotFoundError

from .models import ApiToken, CounterSession, Staff, Terminal
from .passwords import password_expired
from .permissions import TWO_FACTOR_PERMS, Perm
from .tokens import token_create, tokens_revoke

COUNTER = "counter"
API = "api"

# One message for a wrong name, password or terminal: a guesser is not told which part was wrong,
# nor whether the user exists.
BAD_CREDENTIALS = "職員ID・パスワード・端末の組合せが正しくありません。"
LOCKED = ("ログインの失敗が続いたため、しばらくログインできません。"
          "時間をおいてやり直すか、システム管理者に連絡してください。")
NOT_ENROLLED = "二要素認証の登録がありません。システム管理者に連絡してください。"
OTP_MISSING = "ワンタイムパスワードを入力してください。"
OTP_WRONG = "ワンタイムパスワードが正しくありません。"
EXPIRED = "パスワードの有効期限が切れています。窓口画面でパスワードを変更してください。"

_FAILURE = {COUNTER: "auth.login_failure", API: "auth.token_failure"}
_SUCCESS = {COUNTER: "auth.login", API: "auth.token"}


class LoginRefused(DomainError):
    status = 401


class PasswordExpired(DomainError):
    status = 403

    def __init__(self):
        super().__init__(ErrorCode.PASSWORD_EXPIRED, EXPIRED)


def needs_second_factor(user) -> bool:
    return any(user.has_juki_perm(p) for p in TWO_FACTOR_PERMS)


def totp_device(user):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("-id").first()


def _lock_delta() -> dt.timedelta:
    return dt.timedelta(minutes=settings.JUKI_LOGIN_LOCK_MINUTES)


def is_locked(user, now: dt.datetime | None = None) -> bool:
    return user.locked_at is not None and (now or timezone.now()) < user.locked_at + _lock_delta()


def _raise_if_error(result):
    if isinstance(result, DomainError):
        raise result
    return result


def work_application_check(user, raw: str) -> str:
    """A contractor must name an approved work application (C04); others get ""."""
    for backend in auth.get_backends():  # the rights app's backend knows who is a contractor
        check = getattr(backend, "work_application_check", None)
        if check is not None:
            return check(user, (raw or "").strip())
    return ""


def _count_failure(user: Staff, actor: Actor, function: str, outcome: str, criteria: dict) -> DomainError:
    """One more consecutive failure; at the limit the account locks (the caller holds the row lock).

    Failures older than the lock window are forgotten, as they are for an unknown name
    (`_unknown_user_failure`): otherwise a guesser could tell a real ID from a made-up one by
    failing, waiting out the window and failing again."""
    # Only the lock window is looked at (an older failure is forgotten anyway): the months before
    # it are never read, however long the log (ADR 0030).
    since = timezone.now() - _lock_delta()
    last = (AccessLog.objects.filter(user=user, at__gte=since, function__startswith="auth.", function__endswith="_failure")
            .order_by("-at").values_list("at", flat=True).first())
    if last is None:
        user.failed_logins = 0
    user.failed_logins += 1
    events.record(actor, function=function, outcome=outcome, criteria=criteria)
    if user.failed_logins >= settings.JUKI_LOGIN_MAX_FAILURES:
        user.locked_at = timezone.now()
        user.save(update_fields=["failed_logins", "locked_at"])
        events.record(actor, function="auth.locked_out", outcome="locked",
                      criteria={**criteria, "failures": user.failed_logins})
        tokens_revoke(user, "lockout", actor=actor)
        return LoginRefused(ErrorCode.ACCOUNT_LOCKED, LOCKED)
    user.save(update_fields=["failed_logins"])
    return LoginRefused(ErrorCode.INVALID_CREDENTIALS, BAD_CREDENTIALS)


def _unknown_user_failure(username: str, password: str, terminal, function: str, criteria: dict) -> DomainError:
    # Hash anyway, so that the answer takes as long as for a real user; and answer "locked" after
    # as many failures as a real account takes, so the answers never tell who exists.
    Staff().set_password(password)
    since = timezone.now() - _lock_delta()
    earlier = AccessLog.objects.filter(function__in=list(_FAILURE.values()), user__isnull=True, at__gte=since,
                                       criteria__username=username).count()
    events.record(Actor(terminal=terminal), function=function, outcome="unknown_user", criteria=criteria)
    if earlier + 1 >= settings.JUKI_LOGIN_MAX_FAILURES:
        return LoginRefused(ErrorCode.ACCOUNT_LOCKED, LOCKED)
    return LoginRefused(ErrorCode.INVALID_CREDENTIALS, BAD_CREDENTIALS)


@dataclass(frozen=True)
class PasswordStep:
    """A password accepted: what the login still needs."""

    user: Staff
    terminal: Terminal | None
    channel: str
    needs_otp: bool
    work_application: str


@transaction.atomic
def _password_step(username, password, terminal, channel, work_application, require_terminal):
    function = _FAILURE[channel]
    username = (username or "").strip()[:150]
    criteria = {"username": username, "channel": channel}  # what was typed; never the password
    user = Staff.objects.select_for_update().filter(username=username).first()
    if user is None:
        return _unknown_user_failure(username, password, terminal, function, criteria)
    actor = Actor(user=user, terminal=terminal)
    now = timezone.now()
    if is_locked(user, now):
        events.record(actor, function=function, outcome="locked", criteria=criteria)
        return LoginRefused(ErrorCode.ACCOUNT_LOCKED, LOCKED)
    if user.locked_at is not None:  # the lock has run out
        user.locked_at, user.failed_logins = None, 0
        user.save(update_fields=["locked_at", "failed_logins"])
    if not user.check_password(password):
        return _count_failure(user, actor, function, "bad_password", criteria)
    if not user.is_active:
        events.record(actor, function=function, outcome="inactive", criteria=criteria)
        return LoginRefused(ErrorCode.INVALID_CREDENTIALS, BAD_CREDENTIALS)
    if require_terminal and terminal is None:
        events.record(actor, function=function, outcome="bad_terminal", criteria=criteria)
        return LoginRefused(ErrorCode.INVALID_CREDENTIALS, BAD_CREDENTIALS)
    needs_otp = needs_second_factor(user)
    if needs_otp and totp_device(user) is None:
        events.record(actor, function=function, outcome="no_second_factor", criteria=criteria)
        return LoginRefused(ErrorCode.SECOND_FACTOR_NOT_ENROLLED, NOT_ENROLLED)
    try:
        number = work_application_check(user, work_application)
    except DomainError as exc:
        events.record(actor, function=function, outcome=str(exc.code), criteria=criteria)
        return exc
    return PasswordStep(user=user, terminal=terminal, channel=channel, needs_otp=needs_otp, work_application=number)


def password_step(*, username: str, password: str, terminal: Terminal | None, channel: str = COUNTER,
                  work_application: str = "") -> PasswordStep:
    """Check the name, the password and the terminal; counts failures and locks."""
    return _raise_if_error(_password_step(username, password, terminal, channel, work_application,
                                          require_terminal=True))


@transaction.atomic
def _otp_step(user_id, terminal, channel, otp):
    user = Staff.objects.select_for_update().get(pk=user_id)
    actor = Actor(user=user, terminal=terminal)
    criteria = {"username": user.username, "channel": channel}
    if is_locked(user):
        events.record(actor, function="auth.second_factor_failure", outcome="locked", criteria=criteria)
        return LoginRefused(ErrorCode.ACCOUNT_LOCKED, LOCKED)
    device = totp_device(user)
    if device is None:
        events.record(actor, function="auth.second_factor_failure", outcome="no_second_factor", criteria=criteria)
        return LoginRefused(ErrorCode.SECOND_FACTOR_NOT_ENROLLED, NOT_ENROLLED)
    otp = (otp or "").strip()
    if not (len(otp) == 6 and otp.isdigit() and device.verify_token(otp)):
        refused = _count_failure(user, actor, "auth.second_factor_failure", "bad_otp", criteria)
        if refused.code == ErrorCode.INVALID_CREDENTIALS:
            refused = LoginRefused(ErrorCode.SECOND_FACTOR_INVALID, OTP_WRONG)
        return refused
    return device


def otp_step(*, user: Staff, terminal: Terminal | None, otp: str, channel: str = COUNTER):
    """Verify the 6-digit TOTP code; a wrong one counts as a login failure. Returns the device."""
    return _raise_if_error(_otp_step(user.pk, terminal, channel, otp))


@transaction.atomic
def login_succeeded(step: PasswordStep, *, second_factor: bool) -> bool:
    """Reset the failure count and log the login. Returns whether the password has expired."""
    user = step.user
    Staff.objects.filter(pk=user.pk).update(failed_logins=0, locked_at=None)
    user.failed_logins, user.locked_at = 0, None
    actor = Actor(user=user, terminal=step.terminal, second_factor=second_factor,
                  work_application=step.work_application)
    events.record(actor, function=_SUCCESS[step.channel], criteria={"channel": step.channel,
                                                                     "second_factor": second_factor})
    expired = password_expired(user)
    if expired:
        events.record(actor, function="auth.password_expired", outcome="expired", criteria={"channel": step.channel})
    return expired


# --- the API's token ------------------------------------------------------------------------------


def token_issue(*, username: str, password: str, otp: str = "", work_application: str = "",
                terminal: Terminal | None = None) -> tuple[str, ApiToken]:
    """A bearer token for the API; the same lockout and second factor as at the counter, and a
    registered terminal is required as at the counter (the token is bound to it)."""
    step = password_step(username=username, password=password, terminal=terminal, channel=API,
                         work_application=work_application)
    if step.needs_otp:
        if not (otp or "").strip():
            events.record(Actor(user=step.user, terminal=terminal), function="auth.token_failure",
                          outcome="otp_missing", criteria={"username": step.user.username, "channel": API})
            raise LoginRefused(ErrorCode.SECOND_FACTOR_REQUIRED, "ワンタイムパスワード（otp）を指定してください。")
        otp_step(user=step.user, terminal=terminal, otp=otp, channel=API)
    if login_succeeded(step, second_factor=step.needs_otp):
        raise PasswordExpired()
    # Bound to this terminal: a request naming another one is refused (BearerTokenAuthentication).
    return token_create(user=step.user, terminal=terminal, second_factor=step.needs_otp,
                        work_application=step.work_application)


# --- one counter session per user and per terminal --------------------------------------------------


SESSION_REPLACED = "juki_session_replaced"


def _session_store():
    return import_module(settings.SESSION_ENGINE).SessionStore


@transaction.atomic
def counter_session_start(*, user: Staff, terminal: Terminal, session_key: str) -> None:
    """Make this session the user's and the terminal's only live one; end the older ones."""
    store = _session_store()
    older = CounterSession.objects.select_for_update().filter(Q(user=user) | Q(terminal=terminal))
    for row in older.select_related("user", "terminal"):
        if row.session_key != session_key and store().exists(row.session_key):
            # Emptied rather than deleted, so its screen can say why it was logged out.
            ended = store(session_key=row.session_key)
            ended.clear()
            ended[SESSION_REPLACED] = True
            ended.save()
            events.record(Actor(user=row.user, terminal=row.terminal), function="auth.session_replaced",
                          outcome="ended", criteria={"by_user": user.username, "by_terminal": terminal.code})
        row.delete()
    CounterSession.objects.create(user=user, terminal=terminal, session_key=session_key)


def counter_session_is_live(*, user: Staff, session_key: str | None) -> bool:
    if not session_key:
        return False
    with connection.cursor() as cur:  # asked on every staff screen: plain SQL, no ORM compile
        cur.execute(f"SELECT 1 FROM {CounterSession._meta.db_table} WHERE user_id = %s AND session_key = %s",
                    [user.pk, session_key])
        return cur.fetchone() is not None


def counter_session_rekey(*, user: Staff, old_key: str | None, new_key: str) -> None:
    """The session key changed (password change cycles it): keep the session live."""
    CounterSession.objects.filter(user=user, session_key=old_key).update(session_key=new_key)


def counter_logout(*, user: Staff, terminal: Terminal | None, session_key: str | None,
                   second_factor: bool = False) -> None:
    """Ends the session and every API token of the user (a logout means the person stopped work; ADR 0015)."""
    actor = Actor(user=user, terminal=terminal, second_factor=second_factor)
    CounterSession.objects.filter(user=user, session_key=session_key).delete()
    events.record(actor, function="auth.logout")
    tokens_revoke(user, "logout", actor=actor)


# --- the idle lock (C20) ----------------------------------------------------------------------------

UNLOCKED, WRONG, LOCKED_OUT = "unlocked", "wrong", "locked_out"


def screen_lock(actor: Actor) -> None:
    events.record(actor, function="auth.lock", outcome="locked")


@transaction.atomic
def screen_unlock(*, actor: Actor, password: str) -> str:
    """Re-authentication on the locked screen; wrong passwords count towards the lockout."""
    user = Staff.objects.select_for_update().get(pk=actor.user.pk)
    criteria = {"username": user.username, "channel": COUNTER}
    if is_locked(user) or not user.is_active:
        events.record(actor, function="auth.unlock_failure", outcome="locked", criteria=criteria)
        return LOCKED_OUT
    if user.check_password(password):
        if user.failed_logins:
            user.failed_logins = 0
            user.save(update_fields=["failed_logins"])
        events.record(actor, function="auth.unlock", outcome="unlocked")
        return UNLOCKED
    refused = _count_failure(user, actor, "auth.unlock_failure", "bad_password", criteria)
    return LOCKED_OUT if refused.code == ErrorCode.ACCOUNT_LOCKED else WRONG


@transaction.atomic
def _current_password_check(actor: Actor, password: str) -> DomainError | None:
    user = Staff.objects.select_for_update().get(pk=actor.user.pk)
    criteria = {"username": user.username, "channel": COUNTER}
    if is_locked(user) or not user.is_active:
        events.record(actor, function="auth.password_change_failure", outcome="locked", criteria=criteria)
        return DomainError(ErrorCode.ACCOUNT_LOCKED, LOCKED)
    if user.check_password(password):
        if user.failed_logins:
            user.failed_logins = 0
            user.save(update_fields=["failed_logins"])
        return None
    refused = _count_failure(user, actor, "auth.password_change_failure", "bad_password", criteria)
    if refused.code == ErrorCode.ACCOUNT_LOCKED:
        return DomainError(ErrorCode.ACCOUNT_LOCKED, LOCKED)
    return DomainError(ErrorCode.INVALID_CREDENTIALS, "現在のパスワードが正しくありません。", field="current")


def current_password_check(*, actor: Actor, password: str) -> None:
    """The password-change screen's re-authentication: a wrong current password counts towards
    the lockout exactly like one on the login or lock screen (else it would be a guessing oracle).
    Its own transaction, so the count stays when the caller's refusal rolls back."""
    _raise_if_error(_current_password_check(actor, password))


# --- administration -----------------------------------------------------------------------------------


def _require_rights_admin(actor: Actor, function: str, username: str, message: str) -> None:
    # Outside the service's transaction, so that the refusal's log row stays.
    if not actor.can(Perm.RIGHTS_ADMIN):
        events.record(actor, function=function, outcome=AccessLog.DENIED, criteria={"username": username})
        raise AccessDenied(message)


def _refuse_for_approver(actor: Actor, function: str, user: Staff | None, message: str) -> None:
    """An approver's (rights.approve) lock and second factor are reset only from the server's command
    line (`juki unlock-staff`, `juki totp-enrol`), never by an administrator on screen: else the
    administrator could take over the one account that approves their own applications (C02)."""
    if user is not None and user.has_juki_perm(Perm.RIGHTS_APPROVE) and actor.user is not None:
        events.record(actor, function=function, outcome=AccessLog.DENIED, criteria={"username": user.username})
        raise AccessDenied(message)


def staff_unlock(*, actor: Actor, username: str) -> Staff:
    """Lift a lockout before its time (a holder of rights.admin, or the `juki unlock-staff` command)."""
    _require_rights_admin(actor, "auth.unlock_staff", username, "アカウントのロックを解除する権限がありません。")
    _refuse_for_approver(actor, "auth.unlock_staff", Staff.objects.filter(username=username).first(),
                         "権限承認者のロック解除は、サーバのコマンド（juki unlock-staff）で行ってください。")
    return _staff_unlock(actor, username)


@transaction.atomic
def _staff_unlock(actor: Actor, username: str) -> Staff:
    user = Staff.objects.select_for_update().filter(username=username).first()
    if user is None:
        raise NotFoundError("該当する職員がいません。")
    was_locked = is_locked(user)
    user.failed_logins, user.locked_at = 0, None
    user.save(update_fields=["failed_logins", "locked_at"])
    events.record(actor, function="auth.unlock_staff", outcome="unlocked" if was_locked else "not_locked",
                  criteria={"username": username})
    return user


@dataclass(frozen=True)
class Enrolment:
    device: object
    config_url: str
    secret: str


def totp_enrol(*, actor: Actor, user: Staff) -> Enrolment:
    """A new confirmed TOTP device for the user, replacing any older one. The secret is shown once."""
    _require_rights_admin(actor, "auth.totp_enrol", user.username, "二要素認証を登録する権限がありません。")
    _refuse_for_approver(actor, "auth.totp_enrol", user,
                         "権限承認者の二要素認証は、サーバのコマンド（juki totp-enrol）で登録してください。")
    return _totp_enrol(actor, user)


@transaction.atomic
def _totp_enrol(actor: Actor, user: Staff) -> Enrolment:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.filter(user=user).delete()
    device = TOTPDevice.objects.create(user=user, name="juki", confirmed=True)
    events.record(actor, function="auth.totp_enrol", criteria={"username": user.username})
    return Enrolment(device=device, config_url=device.config_url, secret=b32encode(device.bin_key).decode())
