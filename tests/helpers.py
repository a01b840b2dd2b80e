"""Small assertions shared by the test packages (log rows and refusals)."""
from __future__ import annotations

import re
import subprocess

import pytest

from juki.accounts.permissions import ALL_PERMS
from juki.audit.gate import Actor
from juki.audit.models import AccessLog
from juki.core.errors import DomainError

# The tests' stand-in for whoever sets a scene up: every right, listed. Only the tests have such an
# actor; every system actor of juki holds a listed set of its own (ADR 0019).
TEST_ACTOR = Actor(system="test", rights=ALL_PERMS)


def last_log(function: str | None = None, **filters) -> AccessLog | None:
    """The newest access-log row matching `function` and/or `filters`."""
    if function is not None:
        filters["function"] = function
    return AccessLog.objects.filter(**filters).order_by("-id").first()


def log_rows(function: str) -> list[AccessLog]:
    """Every access-log row of `function`, oldest first."""
    return list(AccessLog.objects.filter(function=function).order_by("id"))


def refused(code, call, *args, **kwargs) -> DomainError:
    """`call(*args, **kwargs)` must raise a DomainError with `code`; returns it for more checks."""
    with pytest.raises(DomainError) as exc:
        call(*args, **kwargs)
    assert exc.value.code == code, exc.value.message
    return exc.value


def pdf_text(pdf: bytes) -> str:
    """The text of a PDF (pdftotext), with every whitespace removed so a value wrapped or spaced out still matches."""
    out = subprocess.run(["pdftotext", "-", "-"], input=pdf, check=True, capture_output=True).stdout.decode()
    return re.sub(r"\s+", "", out)


def pdf_fonts(pdf: bytes) -> str:
    """The pdffonts listing of a PDF: two header lines, then one line per font."""
    return subprocess.run(["pdffonts", "-"], input=pdf, check=True, capture_output=True).stdout.decode()


def assert_fonts_embedded(pdf: bytes) -> str:
    """Every font of the PDF is embedded (the `emb` column); returns the pdffonts listing for more checks."""
    fonts = pdf_fonts(pdf)
    rows = fonts.splitlines()[2:]
    assert rows, fonts
    # columns: name, type (may hold spaces), encoding, emb, sub, uni, object ID (two numbers)
    assert all(line.split()[-5] == "yes" for line in rows), fonts
    return fonts
