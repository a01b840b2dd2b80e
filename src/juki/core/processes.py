"""Small helpers about processes of this server (no Django)."""
from __future__ import annotations

import os


def alive(pid: int) -> bool:
    """Is process `pid` running (the demo's helpers stop with the server they watch)?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # running, under another user
        return True
    return True
