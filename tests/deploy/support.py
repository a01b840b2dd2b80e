"""What the deployment tests share: the repository's deploy/ files and a complete production environment."""
from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"

# What juki.conf.production refuses to start without, in the order its message names them.
REQUIRED = ["DJANGO_SECRET_KEY", "JUKI_MYNUMBER_KEYS", "JUKI_MYNUMBER_HMAC_KEY", "JUKI_AUDIT_SIGNING_KEY",
            "DATABASE_URL", "JUKI_ALLOWED_HOSTS", "JUKI_VAR_DIR", "JUKI_MUNICIPALITY", "JUKI_PUBLIC_BASE_URL"]


def _b64(n: int = 32) -> str:
    return base64.b64encode(secrets.token_bytes(n)).decode()


def production_env(var_dir: Path, **extra: str) -> dict[str, str]:
    """A process environment as /etc/juki/juki.env gives it: production settings, fresh keys, a scratch
    SQLite database under `var_dir`; nothing of the test run's own settings leaks in."""
    env = {k: v for k, v in os.environ.items() if not (k.startswith("JUKI_") or k.startswith("DJANGO_")
                                                         or k == "DATABASE_URL")}
    env.update({
        "DJANGO_SETTINGS_MODULE": "juki.conf.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "JUKI_MYNUMBER_KEYS": "k1:" + _b64(),
        "JUKI_MYNUMBER_HMAC_KEY": _b64(),
        "JUKI_AUDIT_SIGNING_KEY": _b64(),
        "DATABASE_URL": f"sqlite:///{var_dir / 'juki.sqlite3'}",
        "JUKI_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "JUKI_VAR_DIR": str(var_dir),
        "JUKI_MUNICIPALITY": "401005",
        "JUKI_PUBLIC_BASE_URL": "https://127.0.0.1",
        "PYTHONUNBUFFERED": "1",
        **extra,
    })
    return env
