"""What the preview, the direct commit and 本登録 share: finding an operation, and running its
change service with the 届出人 set for the writer."""
from __future__ import annotations

from juki.audit.gate import Actor
from juki.core.errors import NotFoundError

from ...operations import OPERATIONS
from ...reasons import Operation
from ..writer import ChangeResult, Notifier, notified_by


def operation_spec(operation: str):
    try:
        return OPERATIONS[Operation(operation)]
    except ValueError:
        raise NotFoundError("指定された異動処理はありません。") from None


def run(spec, *, actor: Actor, kwargs: dict) -> ChangeResult:
    """Call the operation's service with the 届出人 (common to every 届出) set for the writer."""
    kwargs = dict(kwargs)
    notifier = Notifier(name=(kwargs.pop("notifier_name", "") or "").strip(),
                        relationship=(kwargs.pop("notifier_relationship", "") or "").strip())
    with notified_by(notifier):
        return spec.service(actor=actor, **kwargs)
