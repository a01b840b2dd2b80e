"""Removing a file that held personal data (C25): overwritten with zeros, flushed, then unlinked.

What the software can do: on a plain file system over a disk that writes in place, the old blocks are
gone. A copy-on-write or journaling file system, or an SSD's own remapping, can keep old blocks that no
overwrite reaches; there the answer is the disk's encryption at rest (docs/operations.md), and this
still removes the name and the readable content.
"""
from __future__ import annotations

import os
from pathlib import Path

_BLOCK = 1 << 20


def shred(path: Path) -> int:
    """Overwrite and remove `path`; returns the bytes overwritten (0 if it was already gone)."""
    try:
        fd = os.open(path, os.O_WRONLY)
    except FileNotFoundError:
        return 0
    try:
        size = os.fstat(fd).st_size
        zeros = bytes(_BLOCK)
        written = 0
        while written < size:
            written += os.write(fd, zeros[: min(_BLOCK, size - written)])
        os.fsync(fd)
    finally:
        os.close(fd)
    os.unlink(path)
    return size
