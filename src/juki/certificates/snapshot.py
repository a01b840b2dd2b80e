"""The first state of a certificate, kept for its reissue (転出証明書 [660], 住民票コード通知票).

[660]: a 転出証明書 reissued after a loss says 再交付 and prints the state as it was first issued
— not the register as it reads now (実装しない: 最新の状態が印字されること). The content built
for the first issue is therefore stored with it (`CertificateSnapshot`) and printed again, with a
new number, the reissue date, 「再交付」 and the first issue's number and date. A 個人番号 is not
kept in the content: it is sealed like the register's own (`juki.core.mynumber`), and unsealed
only for a reissue by someone who may see it.

A reissue is refused where a first issue would be refused now, before anything is recorded: the
persons may not be read (支援措置), the reissuer lacks the right to an item printed (本籍・筆頭者,
住民票コード, 在留資格等: [1390]), or the form's own checks fail (`SnapshotForm.recheck`). A 転出証明書
is a document the 転入地 acts on, so only one copy may be valid: its reissue voids the copies it
replaces (「再交付のため」), and a lost original found later fails the verification. A 住民票コード
通知票 is only a notice to the person, and its reissue is refused once the code has changed, so the
original is left as it is.
"""
from __future__ import annotations

import base64
import copy

from django.db import IntegrityError, transaction
from django.utils import timezone

from juki.core import mynumber
from juki.core.errors import DomainError, ErrorCode
from juki.core.wareki import to_wareki
from juki.protection import enforcement
from juki.register import visibility

from . import registry
from .content import FOREIGN_ITEMS
from .models import (
    CertificateIssue,
    CertificateSnapshot,
    CertificateVoid,
)
from .issuing import IssueResult, record_issue, request_of, verification_url


MY_NUMBER_LABEL = "個人番号"
REISSUE_MARK = "（再交付）"
REPLACED_REASON = "再交付のため"
# The printed rows that need an item right to be seen ([1390], `register.visibility`): 個人番号 has its own.
# Built from the register's own table, so an item it guards is guarded on a reprint too.
_PRINTED = {"domicile": "本籍", "domicile_head": "筆頭者", "resident_code": "住民票コード", **FOREIGN_ITEMS}
ITEM_RIGHTS = {_PRINTED[key]: (perm, label)
               for perm, (label, keys, foreign_keys) in visibility.ITEM_RIGHTS.items()
               for key in (*keys, *foreign_keys)}


def _rows(content: dict):
    """Every [label, value] row of the content that belongs to one person: (person id, row)."""
    for section in content.get("sections") or ():
        for row in section.get("items") or ():
            yield section["person_id"], row


def keep(content: dict, my_numbers: dict[int, str]) -> dict:
    """What to store for ``content``: the content without any 個人番号, and the numbers sealed.

    ``my_numbers``: person id → the plain number printed for that person."""
    kept = copy.deepcopy(content)
    for _pid, row in _rows(kept):
        if row[0] == MY_NUMBER_LABEL:
            row[1] = ""
    sealed = {}
    for pid, number in my_numbers.items():
        if number:
            s = mynumber.seal(number)
            sealed[str(pid)] = [s.key_id, base64.b64encode(s.ciphertext).decode("ascii")]
    return {"content": kept, "sealed": sealed}


def restore(session, stored: CertificateSnapshot) -> dict:
    """The stored content with its 個人番号 put back (revealing them: the right is checked)."""
    from .content import my_number_text

    content = copy.deepcopy(stored.content)
    if stored.sealed:
        session.reveal_my_number()  # refuses without the right to see a 個人番号
        plain = {int(pid): mynumber.unseal(key_id, base64.b64decode(cipher))
                 for pid, (key_id, cipher) in stored.sealed.items()}
        for pid, row in _rows(content):
            if row[0] == MY_NUMBER_LABEL and pid in plain:
                row[1] = my_number_text(plain[pid])
    return content


def render(form: str, content: dict, verification_url: str) -> bytes:
    return registry.SNAPSHOT_FORMS[form].render(content, verification_url=verification_url)


def _require_item_rights(actor, content: dict) -> None:
    """The stored content is printed as it is: refuse a reissuer who may not see an item on it."""
    for _pid, row in _rows(content):
        perm, label = ITEM_RIGHTS.get(row[0], (None, ""))
        if perm and not actor.can(perm):
            raise DomainError(ErrorCode.PERMISSION_DENIED, f"この証明書には{label}が記載されています。"
                              f"{label}を表示する権限がないため、再交付できません。", field="number")


def first_issue(issue: CertificateIssue) -> CertificateIssue:
    while issue.reissue_of_id is not None:
        issue = CertificateIssue.objects.select_related("reissue_of").get(pk=issue.reissue_of_id)
    return issue


def _copies(first: CertificateIssue) -> list[CertificateIssue]:
    """The first issue and every reissue made from it, or from one of its reissues."""
    found, frontier = [first], [first.pk]
    while frontier:
        more = list(CertificateIssue.objects.select_related("void").filter(reissue_of_id__in=frontier))
        found += more
        frontier = [issue.pk for issue in more]
    return found


def _void(actor, issues: list[CertificateIssue]) -> list[str]:
    """Void the valid ones among ``issues`` as replaced by a reissue; their numbers."""
    voided = []
    for issue in issues:
        if issue.voided:
            continue
        try:
            with transaction.atomic():
                CertificateVoid.objects.create(issue=issue, reason=REPLACED_REASON, voided_by=actor.user,
                                               voided_at=timezone.now())
        except IntegrityError:  # voided by another clerk a moment ago: it is void either way
            continue
        voided.append(issue.number)
    return voided


def reissue(session, original: CertificateIssue, *, channel: str):
    """再交付 of a form kept as first printed, inside `certificate_reissue`'s gate session."""
    first = first_issue(original)
    stored = CertificateSnapshot.objects.filter(issue=first).first()
    if stored is None or original.form not in registry.SNAPSHOT_FORMS:
        raise DomainError(ErrorCode.INVALID_INPUT, "この証明書は、当初の内容が記録されていないため再交付できません。"
                          "新たに交付してください。")
    form = registry.SNAPSHOT_FORMS[original.form]
    # The persons may have come under a 支援措置 since: whoever may not read them may not reprint them.
    enforcement.guard_read(session, first.person_ids)
    _require_item_rights(session.actor, stored.content)
    warnings = tuple(form.recheck(session, original, stored.content))
    content = restore(session, stored)
    request = request_of(original)
    first_on = timezone.localdate(first.issued_at)

    def make_pdf(number, issued_on):
        content.update(
            issue_number=number, issued_on=issued_on.isoformat(), issued_on_display=to_wareki(issued_on),
            title=content["title"] + REISSUE_MARK,
            reissue={"number": first.number, "issued_on": first_on.isoformat(), "issued_on_display": to_wareki(first_on)})
        return render(original.form, content, verification_url(number)), content["person_ids"]

    def under_lock():
        # Read again under the lock: a concurrent reissue of the same copy has committed by now.
        replaced = _copies(first)
        if form.under_lock:
            form.under_lock(original, [issue.number for issue in replaced])
        if form.replaces:
            session.criteria["voided"] = _void(session.actor, replaced)

    session.criteria["reissue_of"] = original.number  # record_issue names the new number in the row
    issue, pdf = record_issue(session, form=original.form, options=original.options, make_pdf=make_pdf, request=request,
                              channel=channel, household_id=original.household_id, reissue_of=original,
                              log_criteria={"first_issue": first.number, "with_my_number": bool(stored.sealed)},
                              under_lock=under_lock)
    return IssueResult(issue=issue, pdf=pdf, warnings=warnings)
