"""Local demo settings: secrets are generated once into var/ (never a fixed default)."""
import base64
import json
import secrets

from .base import *  # noqa: F401,F403
from .base import VAR_DIR

DEBUG = False  # even locally: Django's debug page would show personal data in tracebacks

VAR_DIR.mkdir(parents=True, exist_ok=True)
_secrets_file = VAR_DIR / "local-secrets.json"
if not _secrets_file.exists():
    _secrets_file.write_text(
        json.dumps(
            {
                "secret_key": secrets.token_urlsafe(50),
                "mynumber_keys": "k1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
                "mynumber_hmac_key": base64.b64encode(secrets.token_bytes(32)).decode(),
            }
        )
    )
    _secrets_file.chmod(0o600)
_local = json.loads(_secrets_file.read_text())
SECRET_KEY = SECRET_KEY or _local["secret_key"]  # noqa: F405
JUKI_MYNUMBER_KEYS = JUKI_MYNUMBER_KEYS or _local["mynumber_keys"]  # noqa: F405
JUKI_MYNUMBER_HMAC_KEY = JUKI_MYNUMBER_HMAC_KEY or _local["mynumber_hmac_key"]  # noqa: F405
# Checkpoint signing key of the demo: generated once, kept beside the other local secrets.
if not JUKI_AUDIT_SIGNING_KEY:  # noqa: F405
    _audit_key = VAR_DIR / "audit-signing.key"
    if not _audit_key.exists():
        _audit_key.touch(mode=0o600)
        _audit_key.write_text(base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
    JUKI_AUDIT_SIGNING_KEY = str(_audit_key)
# Demo-only conveniences (`juki demo-otp`): never set in production.
JUKI_DEMO_TOOLS = True
