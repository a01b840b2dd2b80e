"""Test settings: throwaway random keys per run, fast hashing is NOT used (Argon2 stays)."""
import base64
import secrets

from .base import *  # noqa: F401,F403

SECRET_KEY = secrets.token_urlsafe(50)
JUKI_MYNUMBER_KEYS = "t2:" + base64.b64encode(secrets.token_bytes(32)).decode() + ",t1:" + base64.b64encode(
    secrets.token_bytes(32)
).decode()
JUKI_MYNUMBER_HMAC_KEY = base64.b64encode(secrets.token_bytes(32)).decode()
JUKI_AUDIT_SIGNING_KEY = base64.b64encode(secrets.token_bytes(32)).decode()  # any 32 bytes are an Ed25519 key
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]

import os
import tempfile

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    # A file, not :memory:, so that tests with real threads get separate connections to one
    # database and SQLite's locking behaves as it does in production.
    DATABASES["default"]["TEST"] = {"NAME": os.path.join(tempfile.gettempdir(), f"juki-test-{os.getpid()}.sqlite3")}  # noqa: F405

# The 市町村CS's models in a database of their own (alias `cs`), as in its own process (juki.conf.cs):
# tests of the CS ask for it with django_db(databases=["default", "cs"]).
INSTALLED_APPS = [*INSTALLED_APPS, "juki.cs"]  # noqa: F405
DATABASE_ROUTERS = ["juki.cs.router.CsRouter"]
DATABASES["cs"] = {**DATABASES["default"], "TEST": {}}  # noqa: F405
if DATABASES["cs"]["ENGINE"].endswith("sqlite3"):
    DATABASES["cs"]["NAME"] = os.path.join(tempfile.gettempdir(), f"juki-cs-{os.getpid()}.sqlite3")
    DATABASES["cs"]["TEST"] = {"NAME": os.path.join(tempfile.gettempdir(), f"juki-test-cs-{os.getpid()}.sqlite3")}
else:
    DATABASES["cs"]["NAME"] = DATABASES["default"]["NAME"] + "_cs"
JUKI_CONSISTENCY_KEY = secrets.token_bytes(32)  # the CS's in-process tests (in its process: the network's key)
