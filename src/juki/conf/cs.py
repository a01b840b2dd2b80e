"""Settings of the 市町村CS process (`juki cs serve`): its own database and its own keys, nothing of
the register's. JUKI_CS_DATABASE_URL (PostgreSQL in production); SQLite under var/cs/ by default."""
import base64
import json
import os
import secrets
from pathlib import Path

import dj_database_url

VAR_DIR = Path(os.environ.get("JUKI_VAR_DIR", Path(__file__).resolve().parents[3] / "var"))
CS_DIR = Path(os.environ.get("JUKI_CS_DIR", VAR_DIR / "cs"))
CS_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)
MUNICIPALITY = os.environ.get("JUKI_MUNICIPALITY", "401005")

INSTALLED_APPS = ["juki.cs"]
DATABASES = {"default": dj_database_url.parse(os.environ.get("JUKI_CS_DATABASE_URL")
                                              or f"sqlite:///{CS_DIR / 'cs.sqlite3'}")}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE",
                                       "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"}
USE_TZ = True
TIME_ZONE = "Asia/Tokyo"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The CS seals the 個人番号 with keys of its own (ADR 0002's scheme), generated once when not given.
_secrets = CS_DIR / "cs-secrets.json"
if not _secrets.exists():
    fd = os.open(_secrets, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"secret_key": secrets.token_urlsafe(50),
                   "mynumber_keys": "c1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
                   "mynumber_hmac_key": base64.b64encode(secrets.token_bytes(32)).decode()}, f)
_local = json.loads(_secrets.read_text())
SECRET_KEY = os.environ.get("JUKI_CS_SECRET_KEY") or _local["secret_key"]
JUKI_MYNUMBER_KEYS = os.environ.get("JUKI_CS_MYNUMBER_KEYS") or _local["mynumber_keys"]
JUKI_MYNUMBER_HMAC_KEY = os.environ.get("JUKI_CS_MYNUMBER_HMAC_KEY") or _local["mynumber_hmac_key"]

# 整合性確認's shared HMAC key: `juki cs serve` reads it from the network's directory (network.consistency).
JUKI_CONSISTENCY_KEY: bytes | None = None

LOGGING = {"version": 1, "disable_existing_loggers": False,
           "handlers": {"console": {"class": "logging.StreamHandler"}},
           "loggers": {"juki.cs": {"handlers": ["console"], "level": "INFO"}}}
