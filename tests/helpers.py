"""Small assertions shared by the test packages (log rows and refusals)."""
from __future__ import annotations

import pytest

from juki.audit.models import AccessLog
from juki.core.errors import DomainError


def last_log(function: str | None = None, **filters) -> AccessLog | None:
    """The newest access-log row matching `function` and/or `filters`."""
    if function is not None:
        filters["function"] = function
    return AccessLog.objects.filter(**filters).order_by("-id").first()


def log_rows(function: str) -> list[AccessLog]:
    """Every access-log row of `function`, oldest first."""
    return list(AccessLog.objects.filter(function=function).order_by("seq"))


def refused(code, call, *args, **kwargs) -> DomainError:
    """`call(*args, **kwargs)` must raise a DomainError with `code`; returns it for more checks."""
    with pytest.raises(DomainError) as exc:
        call(*args, **kwargs)
    assert exc.value.code == code, exc.value.message
    return exc.value
