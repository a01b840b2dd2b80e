"""認証者 [310] (issue 12): every certificate prints the 職名 and 氏名 of the certifier of its issue
date — the 職務代理者 during their period, else the mayor — and none is issued without one."""
from __future__ import annotations

import datetime as dt

import pytest

from juki.certificates import issuing
from juki.certificates.models import CertificateIssue, Certifier
from juki.core.errors import DomainError, ErrorCode
from tests.conftest import CERTIFIER_NAME
from tests.helpers import pdf_text

from .test_issue import family, issue

TODAY = dt.date.today()


def test_the_copy_prints_the_mayors_title_and_name(world):
    text = pdf_text(issue(world, family(world)).pdf)
    assert "福岡県北九州市長" in text and CERTIFIER_NAME.replace("　", "") in text.replace(" ", "").replace("　", "")


def test_a_deputy_certifies_during_their_period_and_the_mayor_again_after_it(world):
    deputy = Certifier.objects.create(kind=Certifier.Kind.DEPUTY, title="北九州市長職務代理者　北九州市副市長",
                                      name="八幡　和子", valid_from=TODAY - dt.timedelta(days=1),
                                      valid_until=TODAY + dt.timedelta(days=1))
    fam = family(world)
    text = pdf_text(issue(world, fam).pdf).replace(" ", "").replace("　", "")
    assert "北九州市長職務代理者北九州市副市長" in text and "八幡和子" in text and "小倉一郎" not in text
    deputy.valid_until = TODAY - dt.timedelta(days=1)
    deputy.save()
    assert issuing.certifier_on(TODAY).name == CERTIFIER_NAME
    assert issuing.certifier_on(TODAY - dt.timedelta(days=1)).name == "八幡　和子"
    text = pdf_text(issue(world, fam).pdf).replace(" ", "").replace("　", "")
    assert "小倉一郎" in text and "八幡和子" not in text


def test_a_ward_head_certifies_for_the_ward_where_one_is_registered(world):
    from juki.register.models import Ward

    ward = Ward.objects.order_by("code").first()
    Certifier.objects.create(ward=ward, title=f"北九州市{ward.name}長", name="門司　三郎", valid_from=TODAY)
    assert issuing.certifier_on(TODAY, ward=ward).name == "門司　三郎"
    other = Ward.objects.exclude(pk=ward.pk).first()
    assert issuing.certifier_on(TODAY, ward=other).name == CERTIFIER_NAME  # no 区長 there: the mayor


def test_without_a_certifier_for_the_day_nothing_is_issued(world):
    fam = family(world)
    Certifier.objects.update(valid_until=TODAY - dt.timedelta(days=1))
    before = CertificateIssue.objects.count()
    with pytest.raises(DomainError) as exc:
        issue(world, fam)
    assert exc.value.code == ErrorCode.CERTIFIER_MISSING and "認証者" in exc.value.message
    assert CertificateIssue.objects.count() == before
