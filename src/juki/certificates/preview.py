"""印刷プレビュー: the certificate as it would be issued, without issuing it.

The same checks and reads as `services.certificate_issue` (entitlement, 個人番号 right, the
requester against the register, 抑止・支援措置) and the same `content.build` + `render.render_pdf`,
but no number is taken and nothing is recorded except the access-log rows of the reads
(`certificate.preview`, plus the register's and the protection check's own rows): the data was
shown. The sheet cannot pass for a certificate: the title says 【見本】, the number reads
「（交付前）」 and the 認証文 is replaced by a notice.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from juki.accounts.permissions import Perm
from juki.audit import gate
from juki.audit.gate import Actor
from juki.core import clock

from . import render
from .content import Options, build
from .entitlement import Request
from .models import Channel

# The issue service's own steps, reused so that a preview refuses exactly what an issue would.
from .issuing import issuer
from .services import gather, prepare

PLACEHOLDER_NUMBER = "（交付前）"
SAMPLE_MARK = "【見本】"
SAMPLE_NOTICE = "見本（交付前の確認用）です。この用紙は証明書として使用できません。"


def sample_url() -> str:
    """A sample's QR code leads to the verification page itself: a preview has no number to check."""
    return f"{settings.JUKI_PUBLIC_BASE_URL}/verify/"


def sample_pdf(content: dict, render_pdf) -> bytes:
    """The 見本 of any form: 【見本】 in its title, the 認証文 replaced, the QR code to the verify page."""
    content.update(title=SAMPLE_MARK + content["title"], certification=SAMPLE_NOTICE)
    return render_pdf(content, verification_url=sample_url())


@dataclass(frozen=True)
class PreviewResult:
    pdf: bytes
    person_ids: tuple[int, ...]
    warnings: tuple[str, ...] = ()


def certificate_preview(*, actor: Actor, options: Options, household_id: int | None, person_ids: list[int],
                        request: Request, channel: str = Channel.COUNTER) -> PreviewResult:
    person_ids, options, criteria = prepare(options, household_id, person_ids, request, channel)  # as the issue does
    with gate.open(actor, function="certificate.preview", perm=Perm.CERTIFICATE_ISSUE, criteria=criteria) as session:
        session.record(person_ids)
        household, subjects, persons, histories, check = gather(session, options=options, household_id=household_id,
                                                                person_ids=person_ids, request=request, channel=channel)
        municipality, mayor_title = issuer(actor=session.actor)
        content = build(household=household, persons=persons, histories=histories, options=options,
                        issue_number=PLACEHOLDER_NUMBER, issued_on=clock.today(), municipality=municipality,
                        mayor_title=mayor_title)
        pdf = sample_pdf(content, render.render_pdf)
        return PreviewResult(pdf=pdf, person_ids=tuple(content.get("person_ids") or subjects),
                             warnings=tuple(check.get("warnings") or ()))
