"""The forms that issue differently from the 住民票の写し等, and the functions that do it: filled in
by each app's `ready()` (certificates for its kept forms, seals for its 印鑑登録証明書), so that the
issue and reissue services call them by name of form without importing the apps built on them.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class SnapshotForm:
    """A form kept as first printed (`snapshot`): how to print it and check a reissue again."""

    render: Callable  # (content, *, verification_url) -> the PDF
    recheck: Callable  # (session, original, content) -> warnings: the first issue's checks as they stand now
    under_lock: Callable | None = None  # (original, numbers of the copies replaced): checks under record_issue's lock
    replaces: bool = False  # the reissue voids the earlier copies: only one may be valid


# form code -> SnapshotForm
SNAPSHOT_FORMS: dict[str, SnapshotForm] = {}
# form code -> (*, actor, number) -> IssueResult: forms of other apps that reissue through their own
# service (the 交付履歴's 再交付 button is shared).
REISSUERS: dict[str, Callable] = {}


def register_snapshot_form(form: str, entry: SnapshotForm) -> None:
    _add(SNAPSHOT_FORMS, form, entry)


def register_reissuer(form: str, reissue: Callable) -> None:
    _add(REISSUERS, form, reissue)


def _add(table: dict, form: str, entry) -> None:
    if table.get(form, entry) is not entry and table[form] != entry:
        raise ValueError(f"certificate form {form!r} is registered twice")
    table[form] = entry
