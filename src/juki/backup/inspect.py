"""Read a restored copy: its fingerprint and the audit chain's own verification.

The copy is read by a `juki backup inspect` subprocess whose DATABASE_URL names it, so the very
code that checks the live register (`juki.audit.chain.verify()`) checks the copy, and this process's
connection to the live database is never redirected.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

from juki.audit import chain

from .errors import VERIFY_FAILED, BackupError
from .fingerprint import Fingerprint, take


@dataclass
class CopyReport:
    fingerprint: Fingerprint
    chain_ok: bool
    chain_summary: str


def inspect_current() -> dict:
    """In the subprocess: the fingerprint of the database it was started on, then chain.verify()."""
    with connection.cursor() as cur:
        fp = take(cur, connection.vendor)
    result = chain.verify()
    return {**fp.to_json(), "chain_ok": result.ok, "chain_summary": result.summary()}


def inspect_copy(database_url: str, *, timeout: float = 600) -> CopyReport:
    env = {**os.environ, "DATABASE_URL": database_url,
           "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE") or settings.SETTINGS_MODULE}
    done = subprocess.run([sys.executable, "-m", "juki.cli", "backup", "inspect"], env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)
    lines = done.stdout.strip().splitlines()
    if done.returncode or not lines:
        last = (done.stderr.strip().splitlines() or ["（出力なし）"])[-1]
        raise BackupError("copy_unreadable", f"復元したコピーを読めませんでした（バックアップの破損の可能性）: {last}",
                          status=VERIFY_FAILED)
    data = json.loads(lines[-1])
    return CopyReport(Fingerprint.from_json(data), bool(data["chain_ok"]), data["chain_summary"])
