"""Production: every secret and every site-specific value must come from the environment.

The process refuses to start (ImproperlyConfigured, naming each missing variable) rather than fall
back to a default that is only right for the demo: a register on a SQLite file under the code's
directory, 北九州市's code, `localhost` as the only host, `http://localhost:8000` printed on every
certificate. deploy/juki.env.example lists every variable; docs/operations.md is the runbook.

juki runs behind nginx (deploy/nginx/juki.conf), which ends TLS and passes the request on to
gunicorn over a local socket with `X-Forwarded-Proto: https`; `manage.py check --deploy` with these
settings and a complete environment reports no issues (tests/deploy/).
"""
import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F401,F403
from .base import JUKI_AUDIT_SIGNING_KEY, JUKI_MYNUMBER_HMAC_KEY, JUKI_MYNUMBER_KEYS, SECRET_KEY, SPECTACULAR_SETTINGS

# Each variable, and the value production reads from it (base.py already read them); unset or empty
# is missing. Base's defaults for the last five are the demo's, never a city's.
_REQUIRED = [
    ("DJANGO_SECRET_KEY", SECRET_KEY),
    ("JUKI_MYNUMBER_KEYS", JUKI_MYNUMBER_KEYS),
    ("JUKI_MYNUMBER_HMAC_KEY", JUKI_MYNUMBER_HMAC_KEY),
    ("JUKI_AUDIT_SIGNING_KEY", JUKI_AUDIT_SIGNING_KEY),  # signs the audit log's checkpoints (ADR 0007)
    ("DATABASE_URL", os.environ.get("DATABASE_URL", "")),  # else a SQLite file under JUKI_VAR_DIR
    ("JUKI_ALLOWED_HOSTS", os.environ.get("JUKI_ALLOWED_HOSTS", "")),  # else 127.0.0.1,localhost
    ("JUKI_VAR_DIR", os.environ.get("JUKI_VAR_DIR", "")),  # else var/ beside the code (read-only under systemd)
    ("JUKI_MUNICIPALITY", os.environ.get("JUKI_MUNICIPALITY", "")),  # else 401005 (北九州市)
    ("JUKI_PUBLIC_BASE_URL", os.environ.get("JUKI_PUBLIC_BASE_URL", "")),  # printed in every certificate's QR code
]
_missing = [name for name, value in _REQUIRED if not value.strip()]
if _missing:
    raise ImproperlyConfigured(f"{', '.join(_missing)} must be set in production (see deploy/juki.env.example)")
if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith("django-insecure-"):
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be at least 50 random characters "
                               "(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')")
ALLOWED_HOSTS = [h.strip() for h in os.environ["JUKI_ALLOWED_HOSTS"].split(",") if h.strip()]
if "*" in ALLOWED_HOSTS:
    raise ImproperlyConfigured("JUKI_ALLOWED_HOSTS must name the register's host names, not '*'")
if not os.environ["JUKI_PUBLIC_BASE_URL"].startswith("https://"):
    raise ImproperlyConfigured("JUKI_PUBLIC_BASE_URL must start with https:// in production")
# Origins other than the host itself allowed to POST (e.g. a second name of the same server);
# requests to the register's own host name pass Django's origin check without being listed.
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("JUKI_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]
if any(not o.startswith("https://") for o in CSRF_TRUSTED_ORIGINS):
    raise ImproperlyConfigured("JUKI_CSRF_TRUSTED_ORIGINS must list https:// origins only")

DEBUG = False  # the debug page would show personal data in tracebacks

# HTTPS only. nginx ends TLS and sets X-Forwarded-Proto itself (a client's header is overwritten); only
# nginx can reach gunicorn (a unix socket, deploy/systemd/juki-web.socket), so the header is trusted.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = True  # nginx already redirects port 80; this catches anything that bypasses it
# HSTS for a year; the register's host has no subdomains of its own, so including them costs nothing.
# nginx sends the same header on every response, static files included (and hides this one).
SECURE_HSTS_SECONDS = 365 * 24 * 3600
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# No preload: the register lives on the city's closed network (C21); its host name is not on the
# internet, so it can never be on the browsers' preload list and asking for it would mean nothing.
SECURE_HSTS_PRELOAD = False
SILENCED_SYSTEM_CHECKS = ["security.W021"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True

# drf-spectacular's deploy check: two choice sets of fields named `sex` (the register's 1/2 and the 宛名's
# 男/女). The register's keeps the name the schema already gives it (SexDc7Enum), so the published
# schema does not change; this only states it, which silences the check's warning.
SPECTACULAR_SETTINGS = {
    **SPECTACULAR_SETTINGS,
    "ENUM_NAME_OVERRIDES": {**SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"], "SexDc7Enum": "juki.register.models.Sex"},
}

# Logging: base.py's LOGGING as it is — one stream handler on stderr, which systemd hands to journald;
# application logs carry ids and error codes only, never personal data (juki.core.logging redacts
# database errors). JUKI_LOG_LEVEL sets the level (INFO).
