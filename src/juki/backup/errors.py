"""The backup commands' one exception: a stable code, a Japanese message and the exit status.

Exit statuses: 1 a backup failed verification (or a restore did not reach what was recorded),
2 the request was refused (bad input, no --yes, missing setting), 3 an outside tool failed
(pgBackRest, pg_ctl). Messages name files, tables and settings, never personal data.
"""
from __future__ import annotations

VERIFY_FAILED = 1
REFUSED = 2
TOOL_FAILED = 3


class BackupError(Exception):
    def __init__(self, code: str, message: str, *, status: int = REFUSED):
        super().__init__(f"[{code}] {message}")
        self.code = code
        self.message = message
        self.status = status
