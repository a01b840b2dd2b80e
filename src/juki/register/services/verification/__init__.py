"""Confirmation and two-person verification of changes [530][540] (C10).

- `change_preview` runs the change service for real inside a transaction that is then rolled
  back, and returns each person's items before and after. The clerk's confirmation screen and
  the reviewer's screen show exactly what committing would write, refused by exactly the same
  rules — there is no second copy of the rules to drift.
- `pending_submit` keeps a checked entry as 仮登録; nothing reaches the register, the outbox or
  certificates until `pending_approve`, by another user with the review right, commits it
  through the same service (recorded as entered by the first clerk, approved by the second).

A package by seam (issue 13): `rules` (what needs review, and why), `preview` (the before/after),
`entering` (仮登録 or committed at once), `pending` (the 仮登録 queue), `review` (本登録・差戻し),
`sealing` (the 個人番号 of an entry), with what they share in `common`. Callers use
`verification.<name>` as before."""
from .common import (
    operation_spec,
    run,
)
from .rules import (
    identity_correction,
    two_person_required,
)
from .preview import (
    COMPARED,
    change_preview,
)
from .pending import (
    PROTECTED_SUMMARY,
    pending_form,
    pending_get,
    pending_list,
    pending_payload,
    pending_submit,
    pending_withdraw,
)
from .review import (
    pending_approve,
    pending_reject,
)
from .entering import (
    change_commit,
    change_enter,
)

__all__ = [
    "operation_spec",
    "run",
    "identity_correction",
    "two_person_required",
    "COMPARED",
    "change_preview",
    "PROTECTED_SUMMARY",
    "pending_form",
    "pending_get",
    "pending_list",
    "pending_payload",
    "pending_submit",
    "pending_withdraw",
    "pending_approve",
    "pending_reject",
    "change_commit",
    "change_enter",
]
