from django.utils import timezone
from rest_framework import authentication, exceptions

from .models import ApiToken, Terminal


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <token>` plus `X-Terminal-Id` naming a registered terminal."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != b"bearer":
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed()
        token = (
            ApiToken.objects.select_related("user")
            .filter(key_hash=ApiToken.hash_key(header[1].decode(errors="replace")), expires_at__gt=timezone.now())
            .first()
        )
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed()
        code = request.META.get("HTTP_X_TERMINAL_ID", "")
        terminal = Terminal.objects.filter(code=code, is_active=True).first() if code else None
        if terminal is None:
            raise exceptions.AuthenticationFailed()
        request.terminal = terminal
        return token.user, token

    def authenticate_header(self, request):
        return "Bearer"
