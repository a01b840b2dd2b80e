"""The first state of a certificate, kept for its reissue (転出証明書 [660], 住民票コード通知票).

[660]: a 転出証明書 reissued after a loss says 再交付 and prints the state as it was first issued
— not the register as it reads now (実装しない: 最新の状態が印字されること). The content built
for the first issue is therefore stored with it (`CertificateSnapshot`) and printed again, with a
new number, the reissue date, 「再交付」 and the first issue's number and date. A 個人番号 is not
kept in the content: it is sealed like the register's own (`juki.core.mynumber`), and unsealed
only for a reissue by someone who may see it.

Each such form names the function that draws its content (`RENDERERS`, dotted paths so that the
form modules, which build on `services`, are imported only when needed).
"""
from __future__ import annotations

import base64
import copy

from django.utils import timezone
from django.utils.module_loading import import_string

from juki.core import mynumber
from juki.core.errors import DomainError, ErrorCode
from juki.core.wareki import to_wareki
from juki.protection import enforcement

from .entitlement import Request
from .models import CertificateIssue, CertificateRequest, CertificateSnapshot

RENDERERS = {
    "move_out_cert": "juki.certificates.move_out.render",
    "resident_code_notice": "juki.certificates.code_notice.render",
}
MY_NUMBER_LABEL = "個人番号"
REISSUE_MARK = "（再交付）"


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
    return import_string(RENDERERS[form])(content, verification_url=verification_url)


def first_issue(issue: CertificateIssue) -> CertificateIssue:
    while issue.reissue_of_id is not None:
        issue = CertificateIssue.objects.select_related("reissue_of").get(pk=issue.reissue_of_id)
    return issue


def reissue(session, original: CertificateIssue):
    """再交付 of a form kept as first printed, inside `certificate_reissue`'s gate session."""
    from .services import IssueResult, record_issue, verification_url

    first = first_issue(original)
    stored = CertificateSnapshot.objects.filter(issue=first).first()
    if stored is None or original.form not in RENDERERS:
        raise DomainError(ErrorCode.INVALID_INPUT, "この証明書は、当初の内容が記録されていないため再交付できません。"
                          "新たに交付してください。")
    # The persons may have come under a 支援措置 since: whoever may not read them may not reprint them.
    enforcement.guard_read(session, first.person_ids)
    content = restore(session, stored)
    taken = CertificateRequest.objects.get(issue=original)
    request = Request(kind=original.requester_kind, requester_person_id=taken.requester_person_id,
                      requester_name=taken.requester_name, documents=tuple(taken.documents),
                      power_of_attorney=taken.power_of_attorney, purpose=taken.purpose, legal_basis=taken.legal_basis)
    first_on = timezone.localdate(first.issued_at)

    def make_pdf(number, issued_on):
        content.update(
            issue_number=number, issued_on=issued_on.isoformat(), issued_on_display=to_wareki(issued_on),
            title=content["title"] + REISSUE_MARK,
            reissue={"number": first.number, "issued_on": first_on.isoformat(), "issued_on_display": to_wareki(first_on)})
        return render(original.form, content, verification_url(number)), content["person_ids"]

    session.criteria["reissue_of"] = original.number  # record_issue names the new number in the row
    issue, pdf = record_issue(session, form=original.form, options=original.options, make_pdf=make_pdf, request=request,
                              channel=original.channel, household_id=original.household_id, reissue_of=original,
                              log_criteria={"first_issue": first.number, "with_my_number": bool(stored.sealed)})
    return IssueResult(issue=issue, pdf=pdf)
