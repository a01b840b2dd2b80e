from django.core.exceptions import ObjectDoesNotExist
from django.db import connection
from django.utils import timezone
from rest_framework import authentication, exceptions

from juki.audit import events
from juki.audit.gate import Actor
from juki.core import sql
from juki.core.errors import ErrorCode

from .login import work_application_check
from .models import ApiToken, staff_terminals

# Every API request reads its token: the statement is built once (core.sql.Joined).
_TOKEN = sql.Joined(ApiToken, "user", "terminal", "terminal__kiosk_device",
                    where="t.key_hash = %s AND t.expires_at > %s")

OTHER_TERMINAL = ("このトークンは別の端末で発行されたものです。"
                  "この端末でトークンを発行し直してください。")


class TokenRefused(exceptions.AuthenticationFailed):
    """A 401 with juki's own error code (see `juki.core.api.problem_exception_handler`)."""

    def __init__(self, code: ErrorCode, message: str):
        super().__init__(message)
        self.juki_code, self.juki_message = code, message


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <token>` plus `X-Terminal-Id` naming the registered terminal the token
    was issued on (C01: a token is bound to its user and its terminal).

    The token remembers whether it was issued after the second factor (`ApiToken.second_factor`).
    """

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != b"bearer":
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed()
        token = _TOKEN.first([ApiToken.hash_key(header[1].decode(errors="replace")),
                              connection.ops.adapt_datetimefield_value(timezone.now())])
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed()
        code = request.META.get("HTTP_X_TERMINAL_ID", "")
        # A kiosk's terminal is the device's own: refused like an unknown one. The token's own
        # terminal came with it (the usual case: no query); any other is looked up to log the refusal.
        bound = token.terminal
        if bound is not None and code and bound.code == code:
            terminal = bound if bound.is_active and _kiosk_device(bound) is None else None
        else:
            terminal = staff_terminals().filter(code=code).first() if code else None
        if terminal is None:
            raise exceptions.AuthenticationFailed()
        if token.terminal_id != terminal.pk:
            # A token carried to another terminal (or issued before tokens were bound): logged, refused.
            events.record(Actor(user=token.user, terminal=terminal), function="auth.token_refused",
                          outcome="other_terminal",
                          criteria={"username": token.user.username, "token_id": token.pk})
            raise TokenRefused(ErrorCode.TOKEN_TERMINAL_MISMATCH, OTHER_TERMINAL)
        request.terminal = terminal
        # A contractor may name the work application per request; it is checked on every request, so
        # a token outliving its work application's period stops working with it (C04).
        number = request.META.get("HTTP_X_WORK_APPLICATION", "").strip() or token.work_application
        request.work_application = work_application_check(token.user, number) if number else ""
        return token.user, token

    def authenticate_header(self, request):
        return "Bearer"


def _kiosk_device(terminal):
    try:
        return terminal.kiosk_device
    except ObjectDoesNotExist:
        return None
