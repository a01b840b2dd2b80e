"""Removing a file that held personal data (C25): overwritten with zeros, flushed, then unlinked.

What the software can do: on a plain file system over a disk that writes in place, the old blocks are
gone. A copy-on-write or journaling file system, or an SSD's own remapping, can keep old blocks that no
overwrite reaches; there the answer is the disk's encryption at rest (docs/operations.md), and this
still removes the name and the readable content.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

_BLOCK = 1 << 20


def shred(path: Path) -> int:
    """Overwrite and remove `path`; returns the bytes overwritten (0 if it was already gone). Never follows
    a symbolic link and never writes to anything but a regular file: a link planted in a folder juki
    cleans (a destination's) must not make it zero what the link points to."""
    try:
        seen = os.lstat(path)
    except FileNotFoundError:
        return 0
    if stat.S_ISLNK(seen.st_mode):  # the link goes, its target stays untouched
        os.unlink(path)
        return 0
    if not stat.S_ISREG(seen.st_mode):
        raise ValueError(f"{path.name}: 通常のファイルではないため消去しません。")
    fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW | os.O_NONBLOCK)  # swapped for a link since: ELOOP
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_ino != seen.st_ino:
            raise ValueError(f"{path.name}: 確認した後に置き換えられたため消去しません。")
        size = info.st_size
        zeros = bytes(_BLOCK)
        written = 0
        while written < size:
            written += os.write(fd, zeros[: min(_BLOCK, size - written)])
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.unlink(path)
    except FileNotFoundError:  # another run removed it meanwhile
        pass
    return size
