"""Whether a certificate (住民票の写し等) may be issued, as far as 抑止 and 支援措置 decide [410][440].

The certificate module comes later; it will call `certificate_request_check` before issuing.
The rule, kept deliberately simple:

1. A subject under 抑止(証明書交付) at error level: refused (`restricted`). At alert level: allowed,
   with a warning.
2. A subject protected by a 支援措置 (仮 or 本, as 申出者 or 併せて支援を求める者):
   - a requester who matches the measure's 相手方 is refused (`support_measure_block`): by
     register person id, or by name (kanji or kana, folded like the search keys) and birth date;
   - 本人 (the subject) and 同一世帯 (a current member of the subject's household, named by
     person id) may be issued;
   - every other requester — 代理人, 第三者, 公用 — is refused (`support_measure_block`). Whether
     to issue after all is the support section's decision case by case [440]; that release
     belongs to the certificate module, not here.
3. A subject who is not protected but lives in a protected person's current household or at her
   current address (ADR 0013): the 相手方 is refused (`support_measure_block`, the row flagged
   `support_measure_offender_request` for the 支援措置担当); anyone else is warned.
Every check is logged (`certificate.check`), flagged `support_measure` when a subject is protected.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import F

from juki.accounts.permissions import Perm
from juki.audit import gate
from juki.audit.gate import Actor
from juki.core.errors import DomainError, ErrorCode, NotFoundError
from juki.register import textnorm
from juki.register.models import Person, PersonVersion

from . import enforcement
from .models import Process, SupportMeasure


class RequesterKind:
    """Who asks (住基法12条・12条の2・12条の3): the same values as `certificates.models.RequesterKind`
    (which sits above this app), so `/certificate-requests/check` and `/certificates` spell them alike."""

    SELF = "self"  # 本人
    HOUSEHOLD = "household"  # 同一世帯
    AGENT = "agent"  # 代理人
    THIRD_PARTY = "third_party"  # 第三者
    GOVERNMENT = "government"  # 国・地方公共団体（公用）
    ALL = (SELF, HOUSEHOLD, AGENT, THIRD_PARTY, GOVERNMENT)
    LABELS = {SELF: "本人", HOUSEHOLD: "同一世帯の方", AGENT: "代理人", GOVERNMENT: "国・地方公共団体", THIRD_PARTY: "第三者"}


@dataclass(frozen=True)
class Requester:
    kind: str
    person_id: int | None = None
    name: str = ""
    kana: str = ""
    birth_date: dt.date | None = None


class Blocked(DomainError):
    status = 403

    def __init__(self, message: str):
        super().__init__(ErrorCode.SUPPORT_MEASURE_BLOCK, message)


_BLOCK_OFFENDER = ("この請求は交付できません。支援措置の対象者に関する請求です。"
                   "支援措置の担当課に確認してください。")
_BLOCK_PLACE = ("この請求は交付できません。証明書に記載する住所に、支援措置の対象者が住んでいます。"
               "請求者が支援措置の相手方として登録されています。支援措置の担当課に確認してください。")
# On the log row of a 相手方's request for a co-resident: the 支援措置担当 reviews such rows.
OFFENDER_REQUEST_FLAG = "support_measure_offender_request"
_BLOCK_OTHER = ("支援措置の対象者の証明書は、本人または同一世帯の方の請求のほかは交付できません。"
                "支援措置の担当課に確認してください。")


def _keys(name: str, kana: str) -> tuple[str, str]:
    """(name_key, kana_key) as the search folds them: a name typed in kana is compared as kana."""
    name_key = kana_key = ""
    if name:
        if textnorm.is_kana(name):
            kana_key = textnorm.kana_key(name)
        else:
            name_key = textnorm.name_key(name)
    if kana:
        kana_key = textnorm.kana_key(kana)
    return name_key, kana_key


def is_offender(measure: SupportMeasure, requester: Requester, resident: PersonVersion | None) -> bool:
    """Does the requester match the measure's 相手方 (person id, or name + birth date)?"""
    if requester.person_id and measure.offender_person_id == requester.person_id:
        return True
    candidates = [(requester.name, requester.kana, requester.birth_date)]
    if resident is not None:  # a requester named by person id: compare the register's name too
        candidates.append((f"{resident.family_name}{resident.given_name}",
                           f"{resident.family_name_kana}{resident.given_name_kana}", resident.birth_date))
    for name, kana, birth in candidates:
        if not birth or birth != measure.offender_birth_date:
            continue
        name_key, kana_key = _keys(name, kana)
        if (name_key and name_key == measure.offender_name_key) or (kana_key and kana_key == measure.offender_kana_key):
            return True
    return False


def certificate_request_check(*, actor: Actor, subject_person_ids: list[int], requester: Requester) -> dict:
    if requester.kind not in RequesterKind.ALL:
        raise DomainError(ErrorCode.INVALID_INPUT, "請求者の区分を選んでください。", field="requester")
    subjects = sorted({int(i) for i in subject_person_ids})
    if not subjects:
        raise DomainError(ErrorCode.INVALID_INPUT, "証明書の対象者を指定してください。", field="subject_person_ids")
    criteria = {"subject_person_ids": subjects, "requester_kind": requester.kind, "requester_person_id": requester.person_id}
    with gate.open(actor, function="certificate.check", perm=Perm.CERTIFICATE_ISSUE, criteria=criteria) as session:
        homes = dict(Person.objects.filter(pk__in=subjects).values_list("id", "household_id"))
        if len(homes) != len(subjects):
            raise NotFoundError("指定された住民が見つかりません。")
        session.record(subjects)
        warnings = []
        restrictions = enforcement.restrictions_for(subjects, Process.CERTIFICATE)
        if restrictions:
            session.flag(enforcement.RESTRICTION_FLAG)
            error, alert = enforcement._errors_and_alerts(restrictions)
            if error:
                raise enforcement.Restricted("この方には証明書交付の抑止が設定されているため、交付できません。"
                                             "係長または担当課に確認してください。")
            if alert:
                warnings.append("この方には証明書交付のアラートが設定されています。内容を確認してから交付してください。")
        measures = enforcement.measures_for(subjects)
        if measures:
            session.flag(enforcement.FLAG)
            resident = None
            requester_home = None
            if requester.person_id:
                resident = (PersonVersion.objects.filter(person_id=requester.person_id, person__current_id=F("id"))
                            .select_related("person").first())
                requester_home = resident.person.household_id if resident else None
            for pid, ms in measures.items():
                if any(is_offender(m, requester, resident) for m in ms):
                    raise Blocked(_BLOCK_OFFENDER)
                if requester.kind == RequesterKind.SELF and requester.person_id == pid:
                    continue
                if (requester.kind == RequesterKind.HOUSEHOLD and requester_home is not None
                        and requester_home == homes[pid]):
                    continue
                raise Blocked(_BLOCK_OTHER)
            warnings.append("支援措置の対象者を含む請求です。請求者の本人確認を確実に行ってください。")
        # A subject living where a protected person lives: his certificate prints her address
        # (ADR 0013). The 相手方 is refused, and the row flagged for the 支援措置担当.
        sharing = enforcement.place_requests(session, [s for s in subjects if s not in measures])
        if sharing:
            session.flag(enforcement.FLAG)
            resident = _resident(requester)
            if any(is_offender(m, requester, resident) for ms in sharing.values() for m in ms):
                session.flag(OFFENDER_REQUEST_FLAG)
                raise Blocked(_BLOCK_PLACE)
            warnings.append("支援措置の対象者と同じ住所・世帯の方の請求です。請求者の本人確認を確実に行ってください。")
        return {"allowed": True, "warnings": warnings}


def _resident(requester: Requester) -> PersonVersion | None:
    if not requester.person_id:
        return None
    return PersonVersion.objects.filter(person_id=requester.person_id, person__current_id=F("id")).first()


# --- アラート-level 抑止 on 証明書交付 [410] ---------------------------------------------------------

ALERT_ACKNOWLEDGED_FLAG = "restriction_alert_acknowledged"


class AlertNotAcknowledged(DomainError):
    def __init__(self):
        super().__init__(ErrorCode.RESTRICTION_ALERT_UNACKNOWLEDGED,
                         "この方には証明書交付のアラートが設定されています。アラートの内容を確認し、"
                         "「アラートの内容を確認しました」にチェックしてから交付してください。", field="acknowledge_alert")


def require_alert_acknowledged(session: gate.GateSession, person_ids, acknowledged: bool) -> None:
    """An issue under an alert goes ahead only once the clerk has acknowledged it: a warning shown
    after the issue is too late [410]. The issue's log row (and the print row, which copies its
    flags) says that it was acknowledged; a refusal is logged with its code by the gate."""
    if not enforcement.certificate_alert(person_ids):
        return
    session.flag(enforcement.RESTRICTION_FLAG)
    if not acknowledged:
        raise AlertNotAcknowledged()
    session.flag(ALERT_ACKNOWLEDGED_FLAG)
    session.criteria["alert_acknowledged"] = True


def certificate_alert_check(*, actor: Actor, person_ids: list[int]) -> bool:
    """Whether an issue for these persons needs the acknowledgement: for a screen that offers an
    issue without reading the record first (the 交付履歴's 再交付). Logged like any check."""
    ids = sorted({int(i) for i in person_ids})
    with gate.open(actor, function="certificate.alert_check", perm=Perm.CERTIFICATE_ISSUE,
                   criteria={"person_ids": ids}) as session:
        session.record(ids)
        alert = enforcement.certificate_alert(ids)
        if alert:
            session.flag(enforcement.RESTRICTION_FLAG)
        return alert
