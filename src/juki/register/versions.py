"""A person's version as plain data: what the writer compares and copies forward, and what the
search keys are built from. Below both the writer and the search (ADR 0018), so neither imports
the other for it."""
from __future__ import annotations

from .models import DATA_FIELDS, PersonVersion


def version_data(version: PersonVersion) -> dict:
    """The version's data fields (`DATA_FIELDS`) by name: a new version starts from these."""
    return {name: getattr(version, name) for name in DATA_FIELDS}
