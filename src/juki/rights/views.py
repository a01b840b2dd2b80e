"""Staff screens for rights (C02–C04): thin callers of `services`, `selectors` and `table`."""
from __future__ import annotations

from functools import wraps

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from juki.accounts.models import Staff
from juki.accounts.permissions import Perm
from juki.audit import events
from juki.audit.models import AccessLog
from juki.core.errors import DomainError, ErrorCode, NotFoundError
from juki.counter.access import counter_view

from . import forms, selectors, services, table
from .models import Section


def any_perm(*perms):
    """counter_view for screens open to holders of any one of several rights; a refusal is
    logged like counter_view's own (C06/C07)."""
    def decorate(view):
        @counter_view()
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not any(request.user.has_juki_perm(p) for p in perms):
                events.record(request.actor, function=f"screen.{request.resolver_match.url_name}",
                              outcome=AccessLog.DENIED,
                              criteria={"screen": request.resolver_match.view_name, "perm": sorted(map(str, perms))})
                return render(request, "counter/denied.html", {"title": "権限がありません"}, status=403)
            return view(request, *args, **kwargs)
        return wrapped
    return decorate


def _invalid(form):
    fields = sorted(form.errors)
    raise DomainError(ErrorCode.INVALID_INPUT, "入力内容を確認してください。", details={"fields": fields})


def _get(model, pk):
    obj = model.objects.filter(pk=pk).first() if pk else None
    if pk and obj is None:
        raise NotFoundError()
    return obj


# --- applications ---------------------------------------------------------------------------


@any_perm(Perm.RIGHTS_ADMIN, Perm.RIGHTS_APPROVE)
def application_list(request):
    can_decide = request.user.has_juki_perm(Perm.RIGHTS_APPROVE)
    return render(request, "rights/application_list.html", {
        "mine": selectors.applications(applicant=request.user),
        "awaiting": selectors.applications(state="pending") if can_decide else [],
        "can_decide": can_decide, "can_apply": request.user.has_juki_perm(Perm.RIGHTS_ADMIN),
        "title": "権限申請の一覧", "help": "rights"})


@counter_view(Perm.RIGHTS_ADMIN)
def application_new(request):
    form = forms.ApplicationForm(request.POST or None, initial={"valid_from": services.today()})
    if request.method == "POST":
        if not form.is_valid():
            return render(request, "rights/application_form.html", {"form": form, "title": "権限の申請", "help": "rights"}, status=400)
        d = form.cleaned_data
        by_user = d["target_kind"] == "user"
        application = services.application_submit(
            actor=request.actor, role=d["role"], perms=d["perms"], valid_from=d["valid_from"],
            valid_until=d["valid_until"], business_name=d["business_name"], business_outline=d["business_outline"],
            purpose=d["purpose"], legal_basis=d["legal_basis"],
            applying_section=_get(Section, d["applying_section"]), using_section=_get(Section, d["using_section"]),
            target_user=_get(Staff, d["target_user"]) if by_user else None,
            target_section=None if by_user else _get(Section, d["target_section"]))
        return redirect("rights:application_detail", application_id=application.id)
    return render(request, "rights/application_form.html", {"form": form, "title": "権限の申請", "help": "rights"})


@any_perm(Perm.RIGHTS_ADMIN, Perm.RIGHTS_APPROVE)
def application_detail(request, application_id: int):
    item = selectors.application(application_id)
    me = request.user.pk
    return render(request, "rights/application_detail.html", {
        "a": item, "grants": item.grants.all(), "is_mine": item.applicant_id == me,
        "can_decide": (request.user.has_juki_perm(Perm.RIGHTS_APPROVE) and item.applicant_id != me
                       and item.target_user_id != me),
        "title": f"権限申請 {item.number}", "help": "rights"})


@require_POST
@counter_view(Perm.RIGHTS_APPROVE)
def application_approve(request, application_id: int):
    services.application_approve(actor=request.actor, application_id=application_id,
                                 comment=request.POST.get("comment", ""))
    return redirect("rights:application_detail", application_id=application_id)


@require_POST
@counter_view(Perm.RIGHTS_APPROVE)
def application_reject(request, application_id: int):
    services.application_reject(actor=request.actor, application_id=application_id,
                                comment=request.POST.get("comment", ""))
    return redirect("rights:application_detail", application_id=application_id)


@require_POST
@counter_view(Perm.RIGHTS_ADMIN)
def application_withdraw(request, application_id: int):
    services.application_withdraw(actor=request.actor, application_id=application_id)
    return redirect("rights:application_detail", application_id=application_id)


# --- the rights table (C02) -------------------------------------------------------------------


def _day(request):
    form = forms.DayForm(request.GET or None, initial={"on": services.today()})
    if form.is_bound and not form.is_valid():
        _invalid(form)
    return form, (form.cleaned_data.get("on") if form.is_bound else None) or services.today()


@any_perm(*table.VIEW_PERMS)
def rights_table(request):
    form, day = _day(request)
    return render(request, "rights/table.html", {
        "form": form, "day": day, "rows": table.rows(actor=request.actor, on=day), "columns": table.COLUMNS,
        "title": "権限設定状況の一覧表", "help": "rights"})


def _download(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@any_perm(*table.VIEW_PERMS)
def rights_table_csv(request):
    _, day = _day(request)
    return _download(table.export_csv(actor=request.actor, on=day), "text/csv; charset=utf-8",
                     f"rights-{day:%Y%m%d}.csv")


@any_perm(*table.VIEW_PERMS)
def rights_table_pdf(request):
    _, day = _day(request)
    return _download(table.export_pdf(actor=request.actor, on=day), "application/pdf", f"rights-{day:%Y%m%d}.pdf")


# --- 異動・退職 -----------------------------------------------------------------------------------


@counter_view(Perm.RIGHTS_ADMIN)
def staff_change(request):
    form = forms.StaffChangeForm(request.POST or None, initial={"on": services.today()})
    done = None
    if request.method == "POST":
        if not form.is_valid():
            _invalid(form)
        d = form.cleaned_data
        user = _get(Staff, d["user"])
        if d["kind"] == "retire":
            done = services.staff_retire(actor=request.actor, user=user, on=d["on"])
        else:
            section = _get(Section, d["section"])
            if section is None:
                raise DomainError(ErrorCode.INVALID_INPUT, "異動先の所属を選んでください。", field="section")
            done = services.staff_transfer(actor=request.actor, user=user, section=section, on=d["on"])
        form = forms.StaffChangeForm(initial={"on": services.today()})
    return render(request, "rights/staff_change.html", {
        "form": form, "done": done, "postings": selectors.recent_postings(), "title": "職員の異動・退職", "help": "rights"})
