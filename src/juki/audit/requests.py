"""Who acts in an HTTP request: the one way every entry (the API, the counter and the screens on
its login — rights, audit, protection, admin) builds its `Actor`, so that the terminal, the second
factor and the work application are in every log row (C01, C04). The kiosk is not here: its actor
is the device's (`kiosk.devices.device_actor`, ADR 0011).

Where each comes from: the terminal is the one authentication bound to the request (the API's
`X-Terminal-Id`, set by `BearerTokenAuthentication`, or the counter session's, set by
`counter_view`); the second factor is the token's (issued after the TOTP step) or, in a session,
django-otp's verified device; the work application is the token's or the `X-Work-Application`
header's (checked by the authentication) or the one chosen at the counter's login.

A destination's connector logs in to the API with its account (role 連携システム, username = the
destination's code) and acts as that destination's system actor: it holds the destination's listed
rights that the account holds today, never one more (a grant added to the account gives it nothing,
a grant ended or a retirement ends what it may do), and the log names the destination (ADR 0019).
At the counter the same account is a staff user (it may only change its password there).
"""
from __future__ import annotations

from juki.accounts.destinations import destination_get

from .gate import Actor

LINKAGE_ROLE = "linkage"

# The counter session's work application (作業申請番号), chosen at login for a contractor (C04).
SESSION_WORK_APPLICATION = "juki_work_application"


# A 庁内連携 destination's cursor and items are the linkage consumer's (juki.linkage, in the server):
# over the API its account may query the 宛名, never read or acknowledge its outbox (an ack would skip
# events the consumer has not delivered, and the block markers would tell it who is protected).
_CONSUMER_ONLY = frozenset({"outbox.consume", "linkage.read"})


def destination_actor(code: str, user, terminal=None) -> Actor:
    """The destination's system actor, as far as its connector's account still holds each right."""
    actor = Actor.system_actor(code, terminal=terminal)
    found = destination_get(code)
    kept = actor.rights - _CONSUMER_ONLY if found is not None and found.delivery else actor.rights
    return Actor(system=actor.system, terminal=terminal, rights=frozenset(r for r in kept if user.has_juki_perm(r)))


def actor_of(request, terminal=None, *, system: str = "") -> Actor:
    """The `Actor` of a request; `terminal` when the caller has just looked it up. A request with no
    signed-in user (an error page, a refused login) acts as nobody, under `system` when given."""
    terminal = terminal or getattr(request, "terminal", None)
    user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return Actor(user=None, terminal=terminal, system=system)
    token = getattr(request, "auth", None)
    if token is not None and getattr(user, "role", "") == LINKAGE_ROLE \
            and (destination := destination_get(user.username)) is not None:
        return destination_actor(destination.code, user, terminal)
    if token is not None and hasattr(token, "second_factor"):  # the API: a bearer token
        second_factor = bool(token.second_factor)
        work_application = getattr(request, "work_application", "") or ""
    else:  # a counter session
        verified = getattr(request.user, "is_verified", None)
        second_factor = bool(verified and verified())
        session = getattr(request, "session", None)
        work_application = (session.get(SESSION_WORK_APPLICATION, "") if session is not None else "") or ""
    return Actor(user=user, terminal=terminal, second_factor=second_factor, work_application=work_application)
