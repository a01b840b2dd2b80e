"""異動の取消し ([990]): the change undone by a new version, never by deleting one."""
from __future__ import annotations

import datetime as dt

from juki.audit import gate
from juki.audit.gate import Actor
from juki.accounts.permissions import Perm
from juki.core.errors import DomainError, ErrorCode, NotFoundError

from ...models import Change, Household, Person, PersonVersion, Status
from ...reasons import Category, Operation, Reason, category, label
from ...versions import version_data
from ..writer import ChangeResult, ChangeWriter, PersonRef, change_scope
from .common import _distinct_people

# --- 異動の取消し -----------------------------------------------------------------------------


def cancel(
    *,
    actor: Actor,
    event_date: dt.date,
    notified_on: dt.date | None = None,
    change_id: int,
    persons: list[PersonRef],
    note: str = "",
) -> ChangeResult:
    """異動の取消し [980][990]: a new version that restores each person's state before the change.

    Nothing is deleted: the cancelled change and the cancellation both stay in the history.
    The restoring versions take the cancelled change's 異動日, so "as of" any date after it the
    register reads as if the cancelled change had never been made.
    """
    with gate.open(actor, function="change.cancel_lookup", perm=Perm.PERSON_CHANGE, criteria={"change_id": change_id}):
        target = Change.objects.filter(pk=change_id).first()
        if target is None:
            raise NotFoundError("取り消す異動が見つかりません。")
    with change_scope(actor=actor, operation=Operation.CANCEL, event_date=event_date, notified_on=notified_on,
                      note=note, cancels=target, criteria={"change_id": change_id}) as w:
        refs = _distinct_people(persons)
        for ref in refs:
            person, latest = w.person(ref, require=None)
            ours = list(PersonVersion.objects.filter(person=person, change=target).order_by("seq"))
            if not ours:
                raise DomainError(ErrorCode.CANNOT_CANCEL, "選ばれた方はこの異動の異動者ではありません。", field="persons")
            if latest.change_id != target.id:
                raise DomainError(
                    ErrorCode.CANNOT_CANCEL,
                    "この異動の後に別の異動があります。後の異動から順に取り消してください。",
                    field="change_id",
                )
            prior = PersonVersion.objects.filter(person=person, seq__lt=ours[0].seq).order_by("-seq").first()
            if prior is not None:
                data = version_data(prior)
                if prior.status == Status.RESIDENT and latest.status != Status.RESIDENT:
                    reason = Reason.CANCEL_INCREASE
                else:
                    reason = Reason.CANCEL_CORRECTION if prior.status == latest.status else Reason.CANCEL_DECREASE
            else:
                data = version_data(latest) | {"status": Status.REMOVED, "removal_reason": label(Reason.CANCEL_DECREASE),
                                               "removed_on": ours[0].event_date}
                reason = Reason.CANCEL_DECREASE
            if category(reason) == Category.ENTRY and data["resident_code"]:
                clash = Person.objects.filter(current__resident_code=data["resident_code"]).exclude(pk=person.pk)
                if clash.exists():
                    raise DomainError(ErrorCode.DUPLICATE_RESIDENT_CODE, "復元する住民票コードが他の方に記載されています。")
            if data["status"] == Status.RESIDENT:
                _check_restored_address(w, data, restoring={r.id for r in refs})
            if prior is not None and ours[0].event_date < prior.event_date:
                # The cancelled version was dated before the one it followed (a 転入通知 completing a
                # planned 転出 earlier [50]): restore the state before that one from the cancelled
                # date, then that one again from its own date, so every "as of" reads right.
                before_prior = PersonVersion.objects.filter(person=person, seq__lt=prior.seq).order_by("-seq").first()
                if before_prior is not None:
                    w.write(person, version_data(before_prior), Reason.CANCEL_CORRECTION, event_date=ours[0].event_date)
                w.write(person, data, reason, event_date=prior.event_date)
                continue
            w.write(person, data, reason, event_date=ours[0].event_date)
        return w.finish()


def _check_restored_address(w: ChangeWriter, data: dict, restoring: set[int]) -> None:
    """A person restored into a household must find it at the address they are restored to (F1)."""
    others = [v for p, v in w.current_members(Household(id=data["household_id"])) if p.id not in restoring]
    if others and any((v.town_id, v.banchi, v.katagaki) != (data["town_id"], data["banchi"], data["katagaki"]) for v in others):
        raise DomainError(
            ErrorCode.CANNOT_CANCEL,
            "元の世帯はその後住所が変わっています。世帯の異動を先に取り消すか、転入・転居として処理してください。",
            field="change_id",
        )
