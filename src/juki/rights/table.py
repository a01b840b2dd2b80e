"""権限設定状況の一覧表 (C02): who holds which right, for which period, approved by whom.

One row per user and grant in force on the day or scheduled after it, including the grants a
user holds through the section they are posted to. The same rows feed the screen, the CSV and
the PDF; both downloads are logged (`export.rights_table`).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import F, Q

from juki.accounts.permissions import Perm
from juki.audit import events
from juki.audit.gate import Actor
from juki.audit.models import AccessLog
from juki.core import csvout
from juki.core.errors import AccessDenied

from .common import today
from .models import Grant, Posting

COLUMNS = [
    ("username", "職員ID", 10), ("full_name", "氏名", 10), ("section", "所属", 14), ("right", "権限", 24),
    ("via", "付与先", 10), ("valid_from", "開始日", 9), ("valid_until", "終了日", 9), ("state", "状態", 10),
    ("approved_by", "承認者", 10), ("application", "申請番号", 9),
]
VIEW_PERMS = (Perm.RIGHTS_ADMIN, Perm.ACCESS_LOG_VIEW)


@dataclass(frozen=True)
class Row:
    username: str
    full_name: str
    section: str
    right: str
    via: str
    valid_from: dt.date
    valid_until: dt.date
    state: str
    approved_by: str
    application: str
    grant_id: int

    def cells(self) -> list[str]:
        return [str(getattr(self, key)) for key, _, _ in COLUMNS]


def can_view(actor: Actor) -> bool:
    return any(actor.can(p) for p in VIEW_PERMS)


def _state(grant: Grant, day: dt.date) -> tuple[dt.date, str]:
    last = min(grant.valid_until, grant.ended_on) if grant.ended_on else grant.valid_until
    if grant.valid_from > day:
        return last, "開始前"
    if grant.ended_on and grant.ended_on < grant.valid_until:
        return last, f"有効（{grant.get_end_reason_display()}により終了）"
    return last, "有効"


def _approver(grant: Grant) -> str:
    if grant.approved_by is None:
        return grant.get_source_display()
    return grant.approved_by.display_name


def rows(*, actor: Actor, on: dt.date | None = None) -> list[Row]:
    if not can_view(actor):
        raise AccessDenied("権限設定状況の一覧表を表示する権限がありません。")
    day = on or today()
    # In force on the day or scheduled after it; a grant ended before it began was never in force.
    current = Q(valid_until__gte=day) & (Q(ended_on__isnull=True) | (Q(ended_on__gte=day) & Q(ended_on__gte=F("valid_from"))))
    grants = list(Grant.objects.filter(current).select_related("user", "section", "application", "approved_by"))
    postings = {p.user_id: p for p in Posting.objects.filter(
        Q(until__isnull=True) | Q(until__gte=day), since__lte=day).select_related("section", "user")}
    by_section: dict[int, list[Grant]] = {}
    for g in grants:
        if g.section_id:
            by_section.setdefault(g.section_id, []).append(g)
    out: list[Row] = []
    users = {g.user_id: g.user for g in grants if g.user_id}
    users.update({p.user_id: p.user for p in postings.values() if p.section_id in by_section})
    for user in sorted(users.values(), key=lambda u: u.username):
        posting = postings.get(user.pk)
        if not user.is_active or (posting and posting.status != Posting.Status.ACTIVE):
            continue  # holds nothing today (effective_perms agrees)
        section = posting.section.name if posting and posting.section else ""
        own = [(g, "本人") for g in grants if g.user_id == user.pk]
        via = [(g, "所属") for g in by_section.get(posting.section_id, [])] if posting and posting.section_id else []
        for g, how in sorted(own + via, key=lambda x: (x[0].valid_from, x[0].pk)):
            last, state = _state(g, day)
            out.append(Row(user.username, user.full_name, section, g.label, how, g.valid_from, last, state,
                           _approver(g), g.application.number if g.application else "", g.pk))
    return out


def export_csv(*, actor: Actor, on: dt.date | None = None) -> bytes:
    # A typed name can start with "=": `csvout` escapes it (CSV injection).
    data = _export(actor, on, "csv")
    return csvout.to_bytes([header for _, header, _ in COLUMNS], (row.cells() for row in data))


def export_pdf(*, actor: Actor, on: dt.date | None = None) -> bytes:
    from juki.core.pdf import table_pdf

    day = on or today()
    data = _export(actor, on, "pdf")
    return table_pdf(title="権限設定状況の一覧表", subtitle=f"基準日 {day:%Y年%-m月%-d日}　{len(data)}件",
                     columns=[(header, width) for _, header, width in COLUMNS], rows=[r.cells() for r in data],
                     landscape=True, footer="定期的に点検し、不要な権限は取り消してください。")


def _export(actor: Actor, on: dt.date | None, fmt: str) -> list[Row]:
    criteria = {"on": str(on or today()), "format": fmt}
    if not can_view(actor):
        events.record(actor, function="export.rights_table", outcome=AccessLog.DENIED, criteria=criteria)
        raise AccessDenied("権限設定状況の一覧表を出力する権限がありません。")
    data = rows(actor=actor, on=on)
    events.record(actor, function="export.rights_table", criteria={**criteria, "rows": len(data)})
    return data
