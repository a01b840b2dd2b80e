"""Rights with a period (C02–C03, [1380]): what a user may do on a given day, and how that changes.

- `effective_perms(user, on)` is the only source of a user's rights: the user's own grants in
  force that day plus those of the section the user is posted to, nothing when the user is
  suspended, retired or inactive. Validity is checked on every call, so a grant lapses at the end
  of its last day without any job running.
- A grant comes from an application (申請) approved by another user holding `rights.approve`.
- 異動・退職 recorded here end the user's own grants the day before they take effect.

Every service checks its right and writes one log row (category 設定変更) through `common.logged`.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from juki.accounts.models import Staff
from juki.accounts.permissions import ALL_PERMS, ROLES, Perm, perms_of_role
from juki.accounts.tokens import tokens_revoke
from juki.audit import events
from juki.audit.gate import Actor
from juki.core.errors import (
    AccessDenied,
    DomainError,
    ErrorCode,
    NotFoundError,
    required_text,
)

from .common import check_period, logged, require_user, today
from .contractors import contractor_session_check, is_contractor, registration_covers  # noqa: F401 - re-exported
from .models import Grant, Posting, RightApplication, Section

# --- effective rights -----------------------------------------------------------------------------


def current_posting(user, on: dt.date | None = None) -> Posting | None:
    day = on or today()
    return (Posting.objects.select_related("section")
            .filter(Q(until__isnull=True) | Q(until__gte=day), user=user, since__lte=day).order_by("-since").first())


def _perms_of(grants: Iterable[Grant]) -> set[str]:
    out: set[str] = set()
    for g in grants:
        out |= perms_of_role(g.role) if g.role else {g.perm}
    return out


def effective_perms(user, on: dt.date | None = None) -> frozenset[str]:
    """The rights `user` holds on day `on` (default today, Asia/Tokyo)."""
    if user is None or not user.is_active or user.pk is None:
        return frozenset()
    day = on or today()
    posting = current_posting(user, day)
    if posting is not None and posting.status != Posting.Status.ACTIVE:
        return frozenset()
    if is_contractor(user) and not registration_covers(user, day, day):
        return frozenset()  # a contractor holds nothing outside the registered period (C04)
    who = Q(user=user)
    if posting is not None and posting.section_id:
        who |= Q(section_id=posting.section_id)
    return frozenset(_perms_of(Grant.objects.filter(who & Grant.valid_on(day))))


def _rights_changed(actor: Actor, *, user: Staff | None = None, section_id: int | None = None,
                    reason: str = "rights_change") -> None:
    """The user's rights (or those of everyone posted to the section today) changed: their API tokens
    end (C01, ADR 0015), so a client holds only tokens issued on today's rights."""
    users = [user] if user is not None else []
    if section_id is not None:
        day = today()
        posted = (Posting.objects.filter(Q(until__isnull=True) | Q(until__gte=day), section_id=section_id,
                                         since__lte=day).values_list("user_id", flat=True))
        users += list(Staff.objects.filter(pk__in=list(posted)))
    for who in users:
        tokens_revoke(who, reason, actor=actor)


# Where `backends.RightsBackend` keeps a user's rights of the day, on the user object.
PERMS_CACHE = "_juki_perms"
# Database triggers (migration rights 0004) empty `Staff.rights_cache` and move `rights_version` on
# whenever a grant, posting or contractor registration is written, by any path.
# The roles catalogue as code defines it: a deployment that changes a role's rights makes every
# stored day's rights (`Staff.rights_cache`) stale at once.
CATALOGUE = hashlib.sha256(repr(sorted((r, sorted(perms_of_role(r))) for r in ROLES)).encode()).hexdigest()[:12]


def forget_cached_perms(*users) -> None:
    """Drop the per-object cache of `Staff.has_juki_perm` on the objects we hold after a change."""
    for user in users:
        if user is not None:
            user.__dict__.pop(PERMS_CACHE, None)
            if hasattr(user, "rights_cache"):  # the row's copy as loaded: the trigger has emptied the row's
                user.rights_cache = None


# --- applications (申請) ------------------------------------------------------------------------


def application_submit(*, actor: Actor, role: str = "", perms: Iterable[str] = (), valid_from: dt.date,
                       valid_until: dt.date, business_name: str, business_outline: str, purpose: str,
                       legal_basis: str, applying_section: Section, using_section: Section,
                       target_user: Staff | None = None, target_section: Section | None = None) -> RightApplication:
    """申請: the rights, the period, the business and its basis, and who will use them."""
    criteria = {"role": role, "perms": sorted(set(perms)), "target_user_id": getattr(target_user, "pk", None),
                "target_section_id": getattr(target_section, "pk", None)}
    with logged(actor, "rights.apply", Perm.RIGHTS_ADMIN, criteria) as log:
        applicant = require_user(actor)
        perms = sorted(set(perms))
        if role and role not in ROLES:
            raise DomainError(ErrorCode.INVALID_INPUT, "指定された事務分担はありません。", field="role")
        unknown = [p for p in perms if p not in ALL_PERMS]
        if unknown:
            raise DomainError(ErrorCode.INVALID_INPUT, "登録されていない権限が含まれています。", field="perms")
        if not role and not perms:
            raise DomainError(ErrorCode.INVALID_INPUT, "申請する事務分担または権限を選んでください。", field="perms")
        if (target_user is None) == (target_section is None):
            raise DomainError(ErrorCode.INVALID_INPUT, "利用者（職員）または所属のどちらか一方を指定してください。",
                              field="target_user")
        if applying_section is None or using_section is None:
            raise DomainError(ErrorCode.INVALID_INPUT, "申請課と利用課を指定してください。", field="using_section")
        check_period(valid_from, valid_until)
        if target_user is not None:
            _check_target_user(target_user, valid_from, valid_until)
        application = RightApplication.objects.create(
            role=role, perms=perms, valid_from=valid_from, valid_until=valid_until,
            business_name=required_text(business_name, "business_name", "業務名", 100),
            business_outline=required_text(business_outline, "business_outline", "業務概要", 2000),
            purpose=required_text(purpose, "purpose", "利用目的", 2000),
            legal_basis=required_text(legal_basis, "legal_basis", "根拠法令", 200),
            applying_section=applying_section, using_section=using_section,
            target_user=target_user, target_section=target_section, applicant=applicant)
        application.number = f"R{application.applied_at:%Y}-{application.pk:05d}"
        application.save(update_fields=["number"])
        log["application"] = application.number
        return application


def _check_target_user(user: Staff, valid_from: dt.date, valid_until: dt.date) -> None:
    if not user.is_active:
        raise DomainError(ErrorCode.INVALID_INPUT, "利用停止中の職員には権限を付与できません。", field="target_user")
    if is_contractor(user) and not registration_covers(user, valid_from, valid_until):
        raise DomainError(ErrorCode.CONTRACTOR_NOT_REGISTERED,
                          "委託先職員は、利用期間の全体について事前登録されている場合に限り権限を付与できます。",
                          field="target_user")


def _application(pk: int, *, lock: bool = False) -> RightApplication:
    qs = RightApplication.objects.select_related("target_user", "target_section")
    if lock:
        qs = qs.select_for_update(of=("self",))
    try:
        return qs.get(pk=pk)
    except RightApplication.DoesNotExist:
        raise NotFoundError("該当する申請がありません。") from None


def _open(application: RightApplication) -> None:
    if application.state != RightApplication.State.PENDING:
        raise DomainError(ErrorCode.APPLICATION_CLOSED, f"この申請は既に「{application.get_state_display()}」です。")


def application_approve(*, actor: Actor, application_id: int, comment: str = "") -> list[Grant]:
    """承認 by the system's owning manager: creates one grant per role/right for the period."""
    with logged(actor, "rights.approve", Perm.RIGHTS_APPROVE, {"application_id": application_id}):
        approver = require_user(actor)
        comment = required_text(comment, "comment", "意見", 2000) if (comment or "").strip() else ""  # optional, never cut
        application = _application(application_id, lock=True)
        _open(application)
        if application.applicant_id == approver.pk:
            raise DomainError(ErrorCode.SELF_APPROVAL, "自分が申請した権限は承認できません。別の承認者が承認してください。")
        if application.target_user_id == approver.pk:
            raise DomainError(ErrorCode.SELF_APPROVAL, "自分に付与する権限は承認できません。別の承認者が承認してください。")
        if application.valid_until < today():
            raise DomainError(ErrorCode.INVALID_PERIOD, "利用期間が既に終わっている申請は承認できません。却下してください。")
        # A grant never starts before its approval: the rights table must not show a right as held
        # on days nobody had approved it yet.
        valid_from = max(application.valid_from, today())
        if application.target_section_id is not None \
                and _posted_to(approver, application.target_section_id, valid_from, application.valid_until):
            raise DomainError(ErrorCode.SELF_APPROVAL, "自分の所属に付与する権限は承認できません。別の承認者が承認してください。")
        if application.target_user is not None:
            _check_target_user(application.target_user, valid_from, application.valid_until)
        application.state = RightApplication.State.APPROVED
        application.decided_by = approver
        application.decided_at = timezone.now()
        application.comment = comment
        application.save(update_fields=["state", "decided_by", "decided_at", "comment"])
        common = {"user": application.target_user, "section": application.target_section,
                  "valid_from": valid_from, "valid_until": application.valid_until,
                  "application": application, "approved_by": approver, "source": Grant.Source.APPLICATION}
        items = ([{"role": application.role}] if application.role else []) + [{"perm": p} for p in application.perms]
        grants = [Grant.objects.create(**common, **item) for item in items]
        if application.target_user is not None and (move := _next_move(application.target_user, valid_from,
                                                                          application.valid_until)):
            # The transfer or retirement was recorded before this approval, so it could not end
            # this grant itself: end it now, the day before, as it ends the user's other grants.
            reason = Grant.EndReason.RETIREMENT if move.status == Posting.Status.RETIRED else Grant.EndReason.TRANSFER
            for grant in grants:
                _end(grant, move.since - dt.timedelta(days=1), reason)
        forget_cached_perms(application.target_user)
        _rights_changed(actor, user=application.target_user, section_id=application.target_section_id)
        return grants


def _posted_to(user: Staff, section_id: int, first: dt.date, last: dt.date) -> bool:
    """Is `user` posted to the section on any day of first..last (as recorded today)?"""
    return Posting.objects.filter(Q(until__isnull=True) | Q(until__gte=first), user=user, section_id=section_id,
                                  since__lte=last).exists()


def _next_move(user: Staff, after: dt.date, until: dt.date) -> Posting | None:
    """The first transfer or retirement of `user` already recorded for a day in (after, until]."""
    first = Posting.objects.filter(user=user).order_by("since", "id").values_list("pk", flat=True).first()
    # The user's first posting (配属) ends nothing, like `staff_post`.
    return (Posting.objects.filter(user=user, since__gt=after, since__lte=until).exclude(pk=first)
            .order_by("since", "id").first())


def application_reject(*, actor: Actor, application_id: int, comment: str) -> RightApplication:
    """却下: the reason is required and shown to the applicant."""
    with logged(actor, "rights.reject", Perm.RIGHTS_APPROVE, {"application_id": application_id}):
        approver = require_user(actor)
        comment = required_text(comment, "comment", "却下の理由", 2000)
        application = _application(application_id, lock=True)
        _open(application)
        if application.applicant_id == approver.pk:
            raise DomainError(ErrorCode.SELF_APPROVAL, "自分が申請した権限は決裁できません。取り下げてください。")
        application.state = RightApplication.State.REJECTED
        application.decided_by = approver
        application.decided_at = timezone.now()
        application.comment = comment
        application.save(update_fields=["state", "decided_by", "decided_at", "comment"])
        return application


def application_withdraw(*, actor: Actor, application_id: int) -> RightApplication:
    """取下げ by the applicant, while it is still pending."""
    with logged(actor, "rights.withdraw", Perm.RIGHTS_ADMIN, {"application_id": application_id}):
        user = require_user(actor)
        application = _application(application_id, lock=True)
        if application.applicant_id != user.pk:
            raise AccessDenied("取下げは申請した職員本人だけが行えます。")
        _open(application)
        application.state = RightApplication.State.WITHDRAWN
        application.save(update_fields=["state"])
        return application


def grant_revoke(*, actor: Actor, grant_id: int, on: dt.date | None = None) -> Grant:
    """取消し: the grant is valid until the day before `on` (default: ends today, nothing from tomorrow)."""
    with logged(actor, "rights.revoke", Perm.RIGHTS_APPROVE, {"grant_id": grant_id}):
        require_user(actor)
        _not_past(on)
        grant = Grant.objects.select_for_update().filter(pk=grant_id).first()
        if grant is None:
            raise NotFoundError("該当する権限の付与がありません。")
        last = (on - dt.timedelta(days=1)) if on else today() - dt.timedelta(days=1)
        if grant.ended_on is not None and grant.ended_on <= last:
            raise DomainError(ErrorCode.APPLICATION_CLOSED, "この付与は既に終了しています。")
        _end(grant, last, Grant.EndReason.REVOKED)
        forget_cached_perms(grant.user)
        _rights_changed(actor, user=grant.user, section_id=grant.section_id)
        return grant


def _not_past(on: dt.date | None) -> None:
    # The rights table is a record: what someone could do on a past day is never rewritten.
    if on is not None and on < today():
        raise DomainError(ErrorCode.INVALID_DATE, "過去の日付では登録できません。今日以後の日付を入力してください。", field="on")


def _end(grant: Grant, last_day: dt.date, reason: str) -> None:
    grant.ended_on = last_day
    grant.end_reason = reason
    grant.save(update_fields=["ended_on", "end_reason"])


# --- 異動・退職 (HR-style changes to the user) -------------------------------------------------------


def _end_own_grants(user: Staff, on: dt.date, reason: str) -> int:
    """End every own grant still in force on `on` or later; the last valid day is the day before."""
    last = on - dt.timedelta(days=1)
    grants = Grant.objects.select_for_update().filter(user=user, valid_until__gte=on).filter(
        Q(ended_on__isnull=True) | Q(ended_on__gt=last))
    n = 0
    for grant in grants:
        _end(grant, last, reason)
        n += 1
    return n


def _new_posting(actor: Actor, user: Staff, on: dt.date, *, section: Section | None, status: str) -> Posting:
    if actor.user is not None and actor.user.pk == user.pk:
        # Else a rights.admin could post themself to a section and take its grants (C02).
        raise DomainError(ErrorCode.SELF_APPROVAL, "自分自身の配属・異動・退職は登録できません。別の職員が登録してください。",
                          field="user")
    if on is None:
        raise DomainError(ErrorCode.INVALID_DATE, "発令日を入力してください。", field="on")
    _not_past(on)
    Staff.objects.select_for_update().filter(pk=user.pk).first()  # one HR change per user at a time
    if Posting.objects.filter(user=user, since__gte=on).exists():
        raise DomainError(ErrorCode.CONFLICT, "この日以後の異動が既に登録されています。", field="on")
    if section is not None and _approved_for_section(user, section, on):
        # Else an approver, once posted into a section, would use the grants they approved for it (C02).
        raise DomainError(ErrorCode.SELF_APPROVAL,
                          "この職員は、異動先の所属への権限付与を承認しており、その権限がまだ有効です。"
                          "権限を終了してから異動を登録してください。", field="section")
    Posting.objects.filter(user=user, until__isnull=True).update(until=on - dt.timedelta(days=1))
    return Posting.objects.create(user=user, section=section, status=status, since=on, recorded_by=actor.user)


def _approved_for_section(user: Staff, section: Section, on: dt.date) -> bool:
    """The user approved a section grant to `section` that is still in force on or after `on`."""
    return (Grant.objects.filter(section=section, approved_by=user, valid_until__gte=on)
            .filter(Q(ended_on__isnull=True) | Q(ended_on__gte=on)).exists())


def staff_transfer(*, actor: Actor, user: Staff, section: Section, on: dt.date) -> Posting:
    """異動: the user is posted to `section` from `on`; the user's own grants end the day before."""
    criteria = {"user_id": user.pk, "section": getattr(section, "code", None), "on": str(on)}
    with logged(actor, "rights.transfer", Perm.RIGHTS_ADMIN, criteria) as log:
        if section is None:
            raise DomainError(ErrorCode.INVALID_INPUT, "異動先の所属を指定してください。", field="section")
        posting = _new_posting(actor, user, on, section=section, status=Posting.Status.ACTIVE)
        log["grants_ended"] = _end_own_grants(user, on, Grant.EndReason.TRANSFER)
        forget_cached_perms(user)
        _rights_changed(actor, user=user)
        return posting


def staff_retire(*, actor: Actor, user: Staff, on: dt.date) -> Posting:
    """退職: from `on` the user holds nothing; the user's own grants end the day before."""
    with logged(actor, "rights.retire", Perm.RIGHTS_ADMIN, {"user_id": user.pk, "on": str(on)}) as log:
        posting = _new_posting(actor, user, on, section=None, status=Posting.Status.RETIRED)
        log["grants_ended"] = _end_own_grants(user, on, Grant.EndReason.RETIREMENT)
        forget_cached_perms(user)
        # Recorded ahead of its day too: a token lives hours, and the retiring user can issue a new
        # one until the day (the rights are checked on every request anyway).
        _rights_changed(actor, user=user, reason="retirement")
        return posting


def staff_post(*, actor: Actor, user: Staff, section: Section, on: dt.date) -> Posting:
    """The first posting of a user (配属): no grants end."""
    with logged(actor, "rights.post", Perm.RIGHTS_ADMIN, {"user_id": user.pk, "section": section.code, "on": str(on)}):
        posting = _new_posting(actor, user, on, section=section, status=Posting.Status.ACTIVE)
        forget_cached_perms(user)
        _rights_changed(actor, user=user)
        return posting


# --- bootstrap --------------------------------------------------------------------------------------


def on_staff_created(sender, *, user: Staff, role: str, **_) -> None:
    initial_grant(user, role)


def initial_grant(user: Staff, role: str, *, source: str = Grant.Source.INITIAL) -> Grant:
    """初期設定: the role of an account made by `staff_create`, from today for JUKI_INITIAL_GRANT_DAYS."""
    start = today()
    grant = Grant.objects.create(user=user, role=role, valid_from=start, source=source,
                                 valid_until=start + dt.timedelta(days=settings.JUKI_INITIAL_GRANT_DAYS))
    events.record(Actor.system_actor("staff_create"), function="rights.initial_grant",
                  criteria={"user_id": user.pk, "role": role, "valid_until": str(grant.valid_until)})
    forget_cached_perms(user)
    return grant


def role_grant_ensure(user: Staff, role: str) -> Grant | None:
    """For setup commands (demo_staff): give the role as 初期設定 unless a grant of it is in force today."""
    if Grant.objects.filter(Grant.valid_on(today()), user=user, role=role).exists():
        return None
    return initial_grant(user, role)


def section_create(*, actor: Actor, code: str, name: str, ward=None, is_system_owner: bool = False) -> Section:
    with logged(actor, "rights.section", Perm.RIGHTS_ADMIN, {"code": code}):
        code = required_text(code, "code", "所属コード", 20)
        if Section.objects.filter(code=code).exists():
            raise DomainError(ErrorCode.CONFLICT, "この所属コードは既に登録されています。", field="code")
        return Section.objects.create(code=code, name=required_text(name, "name", "所属名", 60), ward=ward,
                                      is_system_owner=is_system_owner)
