"""Staff screens for rights (C02–C04) and staff logins (C01): thin callers of `services`,
`contractors`, `selectors`, `table` and `accounts.login`."""
from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_POST

from juki.accounts import login
from juki.accounts.models import Staff
from juki.accounts.permissions import Perm
from juki.audit import events
from juki.audit.models import AccessLog
from juki.core.errors import DomainError, ErrorCode, NotFoundError
from juki.ui.access import counter_view

from . import contractors, forms, qrcode_svg, selectors, services, table
from .models import ContractorCompany, ContractorStaff, Section, WorkApplication


def any_perm(*perms):
    """counter_view for screens open to holders of any one of several rights; a refusal is
    logged like counter_view's own (C06/C07)."""
    def decorate(view):
        @counter_view()
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not any(request.actor.can(p) for p in perms):
                events.record(request.actor, function=f"screen.{request.resolver_match.url_name}",
                              outcome=AccessLog.DENIED,
                              criteria={"screen": request.resolver_match.view_name, "perm": sorted(map(str, perms))})
                return render(request, "ui/denied.html", {"title": "権限がありません"}, status=403)
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
    can_decide = request.actor.can(Perm.RIGHTS_APPROVE)
    return render(request, "rights/application_list.html", {
        "mine": selectors.applications(applicant=request.user),
        "awaiting": selectors.applications(state="pending") if can_decide else [],
        "can_decide": can_decide, "can_apply": request.actor.can(Perm.RIGHTS_ADMIN),
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
        "can_decide": (request.actor.can(Perm.RIGHTS_APPROVE) and item.applicant_id != me
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


# --- 委託先職員の事前登録 and 作業申請 (C04) --------------------------------------------------------------


def _posted(request):
    # An empty POST still binds the form, so that it answers with its errors.
    return request.POST if request.method == "POST" else None


def _registrations():
    return ContractorStaff.objects.select_related("company", "user", "approved_by")


@any_perm(Perm.RIGHTS_ADMIN, Perm.RIGHTS_APPROVE)
def contractor_list(request):
    rows = list(_registrations().order_by("company__name", "full_name", "-valid_from", "-id"))
    return render(request, "rights/contractor_list.html", {
        "rows": rows, "today": services.today(), "done": request.GET.get("done", ""),
        "can_register": request.actor.can(Perm.RIGHTS_APPROVE),
        "can_apply": request.actor.can(Perm.RIGHTS_ADMIN),
        "title": "委託先職員の一覧", "help": "rights"})


@counter_view(Perm.RIGHTS_APPROVE)
def contractor_new(request):
    form = forms.ContractorForm(_posted(request), initial={"valid_from": services.today()})
    context = {"form": form, "companies": ContractorCompany.objects.order_by("name"),
               "title": "委託先職員の事前登録", "help": "rights"}
    if request.method == "POST":
        if not form.is_valid():
            return render(request, "rights/contractor_form.html", context, status=400)
        d = form.cleaned_data
        item = contractors.contractor_register(
            actor=request.actor, company=d["company"], user=_get(Staff, d["user"]), full_name=d["full_name"],
            valid_from=d["valid_from"], valid_until=d["valid_until"])
        return redirect(f"{reverse('rights:contractor_list')}?done={item.pk}")
    return render(request, "rights/contractor_form.html", context)


def _work_applications():
    return WorkApplication.objects.select_related("contractor__company", "contractor__user", "submitted_by",
                                                  "approved_by")


@any_perm(Perm.RIGHTS_ADMIN, Perm.RIGHTS_APPROVE)
def work_list(request):
    items = list(_work_applications().order_by("-submitted_at", "-id")[:200])
    can_approve = request.actor.can(Perm.RIGHTS_APPROVE)
    return render(request, "rights/work_list.html", {
        "items": items, "awaiting": [i for i in items if i.state == WorkApplication.State.PENDING] if can_approve else [],
        "can_approve": can_approve, "can_apply": request.actor.can(Perm.RIGHTS_ADMIN),
        "title": "作業申請の一覧", "help": "rights"})


@counter_view(Perm.RIGHTS_ADMIN)
def work_new(request):
    # Only registrations not yet over can take a new work period; the service checks the dates.
    current = _registrations().filter(valid_until__gte=services.today()).order_by("company__name", "full_name")
    form = forms.WorkApplicationForm(_posted(request), contractors=current,
                                     initial={"valid_from": services.today()})
    context = {"form": form, "title": "作業申請", "help": "rights"}
    if request.method == "POST":
        if not form.is_valid():
            return render(request, "rights/work_form.html", context, status=400)
        d = form.cleaned_data
        item = contractors.work_application_submit(
            actor=request.actor, contractor=_get(ContractorStaff, d["contractor"]), description=d["description"],
            valid_from=d["valid_from"], valid_until=d["valid_until"])
        return redirect("rights:work_detail", work_id=item.id)
    return render(request, "rights/work_form.html", context)


@any_perm(Perm.RIGHTS_ADMIN, Perm.RIGHTS_APPROVE)
def work_detail(request, work_id: int):
    item = _work_applications().filter(pk=work_id).first()
    if item is None:
        raise NotFoundError("該当する作業申請がありません。")
    is_mine = item.submitted_by_id == request.user.pk
    return render(request, "rights/work_detail.html", {
        "w": item, "is_mine": is_mine,
        "can_approve": request.actor.can(Perm.RIGHTS_APPROVE) and not is_mine,
        "title": f"作業申請 {item.number}", "help": "rights"})


@require_POST
@counter_view(Perm.RIGHTS_APPROVE)
def work_approve(request, work_id: int):
    contractors.work_application_approve(actor=request.actor, work_application_id=work_id)
    return redirect("rights:work_detail", work_id=work_id)


# --- staff logins: one-time password enrolment and unlock (C01) ---------------------------------------


def _has_totp():
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True))


def _staff(user_id: int) -> Staff:
    user = Staff.objects.filter(pk=user_id).first()
    if user is None:
        raise NotFoundError("該当する職員がいません。")
    return user


@counter_view(Perm.RIGHTS_ADMIN)
def account_list(request):
    users = Staff.objects.annotate(has_totp=_has_totp()).order_by("username")
    rows = [{"user": u, "locked": login.is_locked(u), "has_totp": u.has_totp} for u in users]
    return render(request, "rights/account_list.html", {
        "rows": rows, "locked_count": sum(r["locked"] for r in rows),
        "title": "職員のログイン管理", "help": "rights"})


def _account_context(user: Staff, **extra) -> dict:
    return {"u": user, "locked": login.is_locked(user), "device": login.totp_device(user),
            "needs_otp": login.needs_second_factor(user), "is_contractor": contractors.is_contractor(user),
            "lock_minutes": settings.JUKI_LOGIN_LOCK_MINUTES,
            "title": f"職員のログイン管理　{user.username}", "help": "rights", **extra}


@counter_view(Perm.RIGHTS_ADMIN)
def account_detail(request, user_id: int):
    user = _staff(user_id)
    return render(request, "rights/account_detail.html",
                  _account_context(user, done=request.GET.get("done", "")))


@require_POST
@counter_view(Perm.RIGHTS_ADMIN)
def account_totp_enrol(request, user_id: int):
    """The new secret is in this response only: nothing stores it where it could be shown again."""
    user = _staff(user_id)
    enrolment = login.totp_enrol(actor=request.actor, user=user)
    context = _account_context(user, enrolment=enrolment,
                               qr=qrcode_svg.svg(enrolment.config_url, label="ワンタイムパスワード登録用のQRコード"))
    template = "rights/_totp.html" if getattr(request, "htmx", False) else "rights/account_detail.html"
    response = render(request, template, context)
    add_never_cache_headers(response)  # no copy of the secret in the browser's cache
    return response


@require_POST
@counter_view(Perm.RIGHTS_ADMIN)
def account_unlock(request, user_id: int):
    user = login.staff_unlock(actor=request.actor, username=_staff(user_id).username)
    return redirect(f"{reverse('rights:account_detail', kwargs={'user_id': user.pk})}?done=unlocked")
