"""Production: every secret must come from the environment."""
from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F401,F403
from .base import JUKI_AUDIT_SIGNING_KEY, JUKI_MYNUMBER_HMAC_KEY, JUKI_MYNUMBER_KEYS, SECRET_KEY

for _name, _value in [
    ("DJANGO_SECRET_KEY", SECRET_KEY),
    ("JUKI_MYNUMBER_KEYS", JUKI_MYNUMBER_KEYS),
    ("JUKI_MYNUMBER_HMAC_KEY", JUKI_MYNUMBER_HMAC_KEY),
    ("JUKI_AUDIT_SIGNING_KEY", JUKI_AUDIT_SIGNING_KEY),  # signs the audit log's checkpoints (ADR 0007)
]:
    if not _value:
        raise ImproperlyConfigured(f"{_name} must be set in production")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
