"""権限設定状況の一覧表 (C02): rows, CSV and PDF."""
import datetime as dt

import pytest

from juki.accounts.permissions import Perm
from juki.audit.models import AccessLog
from juki.core.errors import AccessDenied
from juki.rights import services, table

from .conftest import apply

DAY = dt.timedelta(days=1)


def test_rows_show_user_right_period_approver(clerk, manager, admin_actor, manager_actor, sections):
    services.staff_post(actor=admin_actor, user=clerk, section=sections["kokura"], on=services.today())
    own = apply(admin_actor, sections, target_user=clerk, perms=[Perm.MY_NUMBER_VIEW], valid_until=services.today() + 9 * DAY)
    services.application_approve(actor=manager_actor, application_id=own.id)
    by_section = apply(admin_actor, sections, target_section=sections["kokura"], perms=[Perm.RESTRICTION_MANAGE])
    services.application_approve(actor=manager_actor, application_id=by_section.id)
    rows = [r for r in table.rows(actor=admin_actor) if r.username == "clerk1"]
    assert [(r.right, r.via, r.approved_by) for r in rows] == [
        ("事務分担：窓口担当", "本人", "初期設定"),
        ("個人番号の表示", "本人", "manager1"),
        ("抑止の設定・閲覧", "所属", "manager1"),
    ]
    assert rows[1].valid_until == services.today() + 9 * DAY and rows[1].application == own.number
    assert {r.section for r in rows} == {"小倉北区役所 市民課"}
    # Ten days on, the personal grant has lapsed and is gone from the table.
    later = [r.right for r in table.rows(actor=admin_actor, on=services.today() + 10 * DAY) if r.username == "clerk1"]
    assert "個人番号の表示" not in later


def test_transferred_and_scheduled(clerk, admin_actor, manager_actor, sections):
    future = apply(admin_actor, sections, target_user=clerk, perms=[Perm.MY_NUMBER_VIEW], valid_from=services.today() + 2 * DAY)
    services.application_approve(actor=manager_actor, application_id=future.id)
    services.staff_transfer(actor=admin_actor, user=clerk, section=sections["yahata"], on=services.today() + DAY)
    rows = [r for r in table.rows(actor=admin_actor) if r.username == "clerk1"]
    # The role ends tomorrow (異動); the scheduled grant was ended before it began, so it is not listed.
    assert [(r.right, r.state, r.valid_until) for r in rows] == [("事務分担：窓口担当", "有効（異動により終了）", services.today())]


def test_csv_and_pdf_are_logged(clerk, admin_actor):
    data = table.export_csv(actor=admin_actor).decode("utf-8-sig")
    assert "clerk1" in data
    pdf = table.export_pdf(actor=admin_actor)
    assert pdf.startswith(b"%PDF")
    rows = AccessLog.objects.filter(function="export.rights_table").order_by("id")
    assert [(r.criteria["format"], r.outcome, r.category) for r in rows] == [("csv", "done", "export"), ("pdf", "done", "export")]


def test_clerk_cannot_export(actor):
    with pytest.raises(AccessDenied):
        table.export_pdf(actor=actor)
    assert AccessLog.objects.get(function="export.rights_table").outcome == "denied"


def test_csv_guards_formula_cells(admin_actor, db):
    from juki.accounts.services import staff_create

    user = staff_create(username="evil", password="correct-horse-battery-9", role="viewer", full_name="=cmd()")
    assert user.full_name == "=cmd()"
    assert "'=cmd()" in table.export_csv(actor=admin_actor).decode("utf-8-sig")
