"""Settings shared by every environment; everything environment-specific comes from env vars."""
import json
import os
from pathlib import Path

from . import dburl

BASE_DIR = Path(__file__).resolve().parent.parent  # src/juki
PROJECT_DIR = BASE_DIR.parent.parent
VAR_DIR = Path(os.environ.get("JUKI_VAR_DIR", PROJECT_DIR / "var"))

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
DEBUG = False
ALLOWED_HOSTS = [h for h in os.environ.get("JUKI_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]

INSTALLED_APPS = [
    "juki.core.admin_apps.JukiAdminConfig",  # the Django admin behind the counter login (ADR 0016)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "juki.core",
    "juki.accounts",
    "juki.rights",
    "juki.audit",
    "juki.ui",
    "juki.register",
    "juki.protection",
    "juki.certificates",
    "juki.seals",
    "juki.cards",
    "juki.kiosk",
    "juki.counter",
    "juki.oversight",
    "juki.jukinet",
    "juki.linkage",
    "juki.atena",
    "juki.intermediary_link",
    "juki.backup",  # backups and point-in-time restore (SQLite files, PostgreSQL via pgBackRest)
    "juki.retention",
]

MIDDLEWARE = [
    "juki.core.middleware.RequestLimitsMiddleware",  # first: an oversized body is refused before anything reads it
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "juki.core.middleware.NoStoreMiddleware",
]

ROOT_URLCONF = "juki.urls"
WSGI_APPLICATION = "juki.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "juki.ui.context.ui",
            ],
        },
    },
]

DATABASES = {
    "default": dburl.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'juki.sqlite3'}",
        conn_max_age=60,
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL lets readers proceed while a clerk's change commits; busy timeout turns a
    # concurrent writer into a wait, not an immediate "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # The register is personal data: the file is created owner-only (0600), never under the
    # process umask (usually world-readable). SQLite gives its -wal and -shm files the same mode;
    # juki.core.apps also narrows a file an older version created.
    _db_file = Path(DATABASES["default"]["NAME"])
    if _db_file.parent.is_dir() and not _db_file.exists():
        os.close(os.open(_db_file, os.O_CREAT | os.O_WRONLY, 0o600))
else:
    # Server-side binding lets psycopg prepare the statements a change repeats (measured
    # +20 % changes/s in bench/); prepared after 5 uses on a connection, and kept across the
    # previews' rollbacks by juki's backend (juki.core.db.postgresql).
    DATABASES["default"]["ENGINE"] = "juki.core.db.postgresql"
    DATABASES["default"]["OPTIONS"] = {**DATABASES["default"].get("OPTIONS", {}), "server_side_binding": True,
                                       "prepare_threshold": 5}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# 住基ネット (ADR 0022): where `juki network up` keeps the certificates and the peers' addresses, and
# this city's code (its CS is cs-<code>, its 住基ネット連携 s2-<code>).
JUKI_NETWORK_DIR = Path(os.environ.get("JUKI_NETWORK_DIR", VAR_DIR / "network"))
JUKI_MUNICIPALITY = os.environ.get("JUKI_MUNICIPALITY", "401005")
JUKI_LINKAGE_DIR = Path(os.environ.get("JUKI_LINKAGE_DIR", VAR_DIR / "linkage"))  # 庁内連携 (juki.linkage.config)
AUTH_USER_MODEL = "accounts.Staff"
# Passwords as Django's model backend checks them; rights from the grants in force (ADR 0008).
AUTHENTICATION_BACKENDS = ["juki.rights.backends.RightsBackend"]
SESSION_ENGINE = "juki.accounts.sessions"  # Django's database sessions, its load built once
FORM_RENDERER = "juki.ui.renderers.FormRenderer"  # choice options written inline (ADR 0031)

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "juki.accounts.passwords.GuessablePasswordValidator", "OPTIONS": {"min_score": 3}},
    {"NAME": "juki.accounts.passwords.PasswordHistoryValidator"},
]

LANGUAGE_CODE = "ja"
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

LOGIN_URL = "counter:login"
# The counter's session: gone when the browser closes, and never sent cross-site.
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_AGE = 9 * 3600
SESSION_COOKIE_SAMESITE = "Strict"
CSRF_COOKIE_SAMESITE = "Strict"

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["juki.accounts.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "juki.core.api.problem_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["juki.core.parsers.JSONParser"],  # DRF's, with the depth limit below
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_METADATA_CLASS": "juki.core.parsers.Metadata",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "juki API",
    "DESCRIPTION": "住民基本台帳システム juki の REST API (v1)",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # One error shape, documented on every operation (juki.core.schema, issue 13).
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "juki.core.schema.add_problem_responses"],
    # 請求者の区分, one enum for /certificates and /certificate-requests/check (issue 13).
    "ENUM_NAME_OVERRIDES": {"RequestKindEnum": "juki.certificates.entitlement.REQUEST_KINDS"},
    # Swagger UI from our own static files: the city's network has no internet (C21).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}

# Application logs never carry personal data: only ids of log rows and error codes.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"redact_db": {"()": "juki.core.logging.RedactDatabaseErrors"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_db"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("JUKI_LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's request logger prints the URL and, on 500s, local variables: keep it quiet.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
    },
}

# --- juki ---------------------------------------------------------------------------------
# 個人番号 encryption keys: "kid:base64key,kid2:base64key"; the first one encrypts new values,
# every listed key can decrypt (so keys can rotate). A separate key keys the look-up HMAC.
JUKI_MYNUMBER_KEYS = os.environ.get("JUKI_MYNUMBER_KEYS", "")
JUKI_MYNUMBER_HMAC_KEY = os.environ.get("JUKI_MYNUMBER_HMAC_KEY", "")
# A notification later than this many days after the event is accepted but flagged (住基法22条).
JUKI_NOTIFICATION_PERIOD_DAYS = int(os.environ.get("JUKI_NOTIFICATION_PERIOD_DAYS", "14"))
# Alert when fewer unused 住民票コード than this remain in stock [870].
JUKI_RESIDENT_CODE_STOCK_ALERT = int(os.environ.get("JUKI_RESIDENT_CODE_STOCK_ALERT", "1000"))
JUKI_API_TOKEN_HOURS = int(os.environ.get("JUKI_API_TOKEN_HOURS", "10"))
# A user holds at most this many live API tokens; issuing one more revokes the oldest (C01).
JUKI_API_TOKENS_PER_USER = int(os.environ.get("JUKI_API_TOKENS_PER_USER", "3"))
# The counter screen locks after this many idle seconds and hides personal data (C20).
JUKI_IDLE_LOCK_SECONDS = int(os.environ.get("JUKI_IDLE_LOCK_SECONDS", "300"))
# Two-person verification (C10) [530]: changes are 仮登録 until another user approves them.
JUKI_TWO_PERSON_VERIFICATION = os.environ.get("JUKI_TWO_PERSON_VERIFICATION", "1") not in ("0", "false", "no")
# Rights (C03): a right applied for may run at most until the end of the fiscal year this many
# years after the one it starts in; accounts made by `staff_create` get their role for this many days.
JUKI_RIGHTS_MAX_FISCAL_YEARS = int(os.environ.get("JUKI_RIGHTS_MAX_FISCAL_YEARS", "1"))
JUKI_INITIAL_GRANT_DAYS = int(os.environ.get("JUKI_INITIAL_GRANT_DAYS", "365"))
# Login (C01): the last N passwords cannot be reused; a password older than this many days must be
# changed (0: never); this many consecutive failures lock the account for this many minutes.
JUKI_PASSWORD_HISTORY = int(os.environ.get("JUKI_PASSWORD_HISTORY", "5"))
JUKI_PASSWORD_MAX_AGE_DAYS = int(os.environ.get("JUKI_PASSWORD_MAX_AGE_DAYS", "90"))
JUKI_LOGIN_MAX_FAILURES = int(os.environ.get("JUKI_LOGIN_MAX_FAILURES", "5"))
JUKI_LOGIN_LOCK_MINUTES = int(os.environ.get("JUKI_LOGIN_LOCK_MINUTES", "30"))
# The issuer shown in the authenticator app for juki's TOTP second factor.
OTP_TOTP_ISSUER = os.environ.get("JUKI_OTP_ISSUER", "juki")
# django-otp's own back-off is off: the account lockout above already bounds the guesses.
OTP_TOTP_THROTTLE_FACTOR = 0
# 抑止 [410]: a 一時解除 lasts this many minutes unless the one releasing says otherwise, then the
# restriction is in force again by itself.
JUKI_RESTRICTION_TEMPORARY_RELEASE_MINUTES = int(os.environ.get("JUKI_RESTRICTION_TEMPORARY_RELEASE_MINUTES", "30"))
# Access-log analysis [1370] (C06–C08). 深夜 is from START to END hour, Asia/Tokyo (across midnight).
JUKI_AUDIT_NIGHT_START_HOUR = int(os.environ.get("JUKI_AUDIT_NIGHT_START_HOUR", "22"))
JUKI_AUDIT_NIGHT_END_HOUR = int(os.environ.get("JUKI_AUDIT_NIGHT_END_HOUR", "6"))
# 大量検索: one search returning at least this many persons (the counter shows 50 at most) …
JUKI_AUDIT_MASS_SEARCH_ROWS = int(os.environ.get("JUKI_AUDIT_MASS_SEARCH_ROWS", "50"))
# … or a user with more than this many searches in one clock hour.
JUKI_AUDIT_SEARCHES_PER_HOUR = int(os.environ.get("JUKI_AUDIT_SEARCHES_PER_HOUR", "60"))
# Anomaly report: more than this many persons from different households viewed within the minutes.
JUKI_AUDIT_BURST_PERSONS = int(os.environ.get("JUKI_AUDIT_BURST_PERSONS", "20"))
JUKI_AUDIT_BURST_MINUTES = int(os.environ.get("JUKI_AUDIT_BURST_MINUTES", "10"))
# Tamper-evident audit log (ADR 0007). Ed25519 key that signs checkpoints: base64 of the raw 32
# bytes, or the path of a file holding it; JUKI_AUDIT_PUBLIC_KEYS lists retired public keys
# (base64, comma-separated) whose old checkpoints must still verify.
JUKI_AUDIT_SIGNING_KEY = os.environ.get("JUKI_AUDIT_SIGNING_KEY", "")
JUKI_AUDIT_PUBLIC_KEYS = os.environ.get("JUKI_AUDIT_PUBLIC_KEYS", "")
# Log rows are kept this many years (`juki audit purge`); provision rows at least 7 (C07).
JUKI_AUDIT_RETENTION_YEARS = int(os.environ.get("JUKI_AUDIT_RETENTION_YEARS", "7"))
JUKI_AUDIT_PROVISION_RETENTION_YEARS = int(os.environ.get("JUKI_AUDIT_PROVISION_RETENTION_YEARS", "7"))
if JUKI_AUDIT_PROVISION_RETENTION_YEARS < 7 or JUKI_AUDIT_RETENTION_YEARS < 1:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("JUKI_AUDIT_PROVISION_RETENTION_YEARS must be at least 7 (C07), JUKI_AUDIT_RETENTION_YEARS at least 1")
# Certificates (issue 5): the address printed in each certificate's QR code for verification
# (<base>/verify/<number>), and the fee in yen per form (JSON, e.g. {"copy": 300}); unlisted: 300.
JUKI_PUBLIC_BASE_URL = os.environ.get("JUKI_PUBLIC_BASE_URL", "http://localhost:8000").rstrip("/")
# 手数料 per form (yen); forms not named cost JUKI_CERTIFICATE_FEE_DEFAULT. The 転出証明書 and the
# 住民票コード通知票 are part of a notification's processing and free.
JUKI_CERTIFICATE_FEES = {"move_out_cert": 0, "resident_code_notice": 0,
                         **json.loads(os.environ.get("JUKI_CERTIFICATE_FEES", "{}") or "{}")}
JUKI_CERTIFICATE_FEE_DEFAULT = int(os.environ.get("JUKI_CERTIFICATE_FEE_DEFAULT", "300"))
# 市民カード: this many consecutive wrong PINs lock the card until the counter sets a new PIN.
JUKI_CARD_PIN_ATTEMPTS = int(os.environ.get("JUKI_CARD_PIN_ATTEMPTS", "3"))
# 印鑑登録: days a mailed 照会書 may take to come back as a 回答書; the resolution (dpi) a 印影 scan
# is taken to have when its file records none (the size rule is judged in millimetres).
JUKI_SEAL_ANSWER_DAYS = int(os.environ.get("JUKI_SEAL_ANSWER_DAYS", "30"))
JUKI_SEAL_SCAN_DPI = int(os.environ.get("JUKI_SEAL_SCAN_DPI", "300"))
# 証明書自動交付機 (S6): a resident's session ends after this many idle seconds (checked on the
# server); the device's enrolment cookie lasts this many days before the installer enrols it again.
JUKI_KIOSK_IDLE_SECONDS = int(os.environ.get("JUKI_KIOSK_IDLE_SECONDS", "60"))
JUKI_KIOSK_DEVICE_COOKIE_DAYS = int(os.environ.get("JUKI_KIOSK_DEVICE_COOKIE_DAYS", "365"))
# The setup screen (/kiosk/setup/): after JUKI_KIOSK_SETUP_ATTEMPTS wrong codes or secrets from one
# address within JUKI_KIOSK_SETUP_LOCK_MINUTES, it refuses that address until they are older than that.
JUKI_KIOSK_SETUP_ATTEMPTS = int(os.environ.get("JUKI_KIOSK_SETUP_ATTEMPTS", "5"))
JUKI_KIOSK_SETUP_LOCK_MINUTES = int(os.environ.get("JUKI_KIOSK_SETUP_LOCK_MINUTES", "15"))
# Request bodies (issue 11): a JSON body over JUKI_MAX_JSON_BYTES or any body over
# JUKI_MAX_REQUEST_BYTES (uploads: a 印影 scan is at most 5 MiB) is refused with 413; JSON nested
# deeper than JUKI_MAX_JSON_DEPTH with 400. No API input comes near these (a 異動 with a whole
# household is a few KiB, five levels deep).
JUKI_MAX_JSON_BYTES = int(os.environ.get("JUKI_MAX_JSON_BYTES", str(1024 * 1024)))
JUKI_MAX_REQUEST_BYTES = int(os.environ.get("JUKI_MAX_REQUEST_BYTES", str(6 * 1024 * 1024)))
JUKI_MAX_JSON_DEPTH = int(os.environ.get("JUKI_MAX_JSON_DEPTH", "32"))
# Django's own limit on a body read into memory (forms, request.body): the same as for JSON.
DATA_UPLOAD_MAX_MEMORY_SIZE = JUKI_MAX_JSON_BYTES
JUKI_DEMO_TOOLS = False  # demo-only commands (conf/dev.py turns them on)
