"""支援措置・抑止 screens: thin callers of `protection.services` (counter look and access)."""
from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from juki.accounts.permissions import RESTRICTION_RIGHTS, Perm
from juki.core.errors import DomainError, ErrorCode
from juki.core.wareki import display_date, parse_date
from juki.ui.access import counter_view, refuse
from juki.core import csvout
from juki.register.models import Municipality, Ward

from . import forms, services, terms
from .models import Process


def _term_text(start) -> str:
    return f"{display_date(start)}から{display_date(terms.term_end(start))}まで"


# --- 支援措置 [440] --------------------------------------------------------------------------------


@counter_view(Perm.SUPPORT_MEASURE_MANAGE)
def support_list(request):
    include_ended = request.GET.get("ended") == "1"
    return render(request, "protection/support_list.html", {
        "rows": services.support_list(actor=request.actor, include_ended=include_ended),
        "alerts": services.alerts(actor=request.actor), "include_ended": include_ended,
        "title": "支援措置の一覧", "help": "support"})


def _numbers(text: str) -> list[str]:
    return [n.strip() for n in (text or "").replace("、", ",").replace("，", ",").split(",") if n.strip()]


@counter_view(Perm.SUPPORT_MEASURE_MANAGE)
def support_new(request):
    """登録 starts from a person found by search (their 抑止・支援措置 screen), never from a bare
    宛名番号; every number typed for others is shown as a name on the confirmation (issue 12)."""
    raw_person = request.POST.get("person") or request.GET.get("person")
    if not raw_person:
        return render(request, "protection/support_start.html", {"title": "支援措置の登録", "help": "support"})
    try:
        person_id = int(raw_person)
    except ValueError:
        raise Http404 from None
    form = forms.SupportForm(request.POST or None, initial={"person": person_id})
    preview = services.support_preview(actor=request.actor, person_id=person_id)
    error = None
    context = {"form": form, "who": preview["person"], "title": "支援措置の登録", "help": "support"}
    if request.method == "POST" and request.POST.get("back"):
        return render(request, "protection/support_new.html", context)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            preview = services.support_preview(actor=request.actor, person_id=person_id,
                                               member_numbers=_numbers(d["member_atena_numbers"]),
                                               offender_number=d["offender_atena_number"])
            if not request.POST.get("confirmed"):
                return render(request, "protection/support_confirm.html", {
                    **context, "preview": preview, "d": d, "title": "支援措置の登録（確認）",
                    "kind_label": dict(form.fields["kind"].choices).get(d["kind"], ""),
                    "term": _term_text(d["start"] or d["applied_on"])})
            measure = services.support_register(
                actor=request.actor, person_id=person_id, kind=d["kind"], applied_on=d["applied_on"],
                provisional=d["provisional"], start=d["start"],
                members=[(m["person_id"], "") for m in preview["members"]],
                offender=services.Offender(name=d["offender_name"], kana=d["offender_kana"],
                                           birth_date=d["offender_birth_date"], note=d["offender_note"],
                                           person_id=preview["offender"]["person_id"] if preview["offender"] else None))
        except DomainError as exc:
            if exc.field and exc.field in form.fields:
                form.add_error(exc.field, exc.message)
                error = "入力内容に誤りがあります。赤字の項目を確認してください。"
            else:
                error = exc.message
        else:
            return redirect("protection:support_detail", measure_id=measure["id"])
    elif request.method == "POST":
        error = "入力内容に誤りがあります。赤字の項目を確認してください。"
    return render(request, "protection/support_new.html", {**context, "error": error})


@counter_view(Perm.SUPPORT_MEASURE_MANAGE)
def support_term(request):
    """The computed end shown while the start is typed (no personal data)."""
    raw = (request.GET.get("start") or request.GET.get("applied_on") or "").strip()
    try:
        start = parse_date(raw) if raw else None
    except ValueError:
        start = None
    text = f"{display_date(start)} から {display_date(terms.term_end(start))} まで（1年）" if start else "開始年月日を入力すると表示します。"
    return HttpResponse(text)


@counter_view(Perm.SUPPORT_MEASURE_MANAGE)
def support_detail(request, measure_id: int):
    return render(request, "protection/support_detail.html", {
        "m": services.support_get(actor=request.actor, measure_id=measure_id), "end_form": forms.EndForm(),
        "title": "支援措置の詳細", "help": "support"})


@require_POST
@counter_view(Perm.SUPPORT_MEASURE_MANAGE)
def support_action(request, measure_id: int, action: str):
    if action == "confirm":
        services.support_confirm(actor=request.actor, measure_id=measure_id)
    elif action == "extend":
        services.support_extend(actor=request.actor, measure_id=measure_id)
    elif action == "end":
        services.support_end(actor=request.actor, measure_id=measure_id, reason=request.POST.get("reason", ""))
    else:
        raise Http404
    return redirect("protection:support_detail", measure_id=measure_id)


@require_POST
@counter_view(Perm.SUPPORT_MEASURE_MANAGE)
def support_notice(request, measure_id: int):
    """支援措置期間終了通知 as a printable page; the print is logged (print.support_end_notice)."""
    return render(request, "protection/end_notice.html", {
        "m": services.support_end_notice(actor=request.actor, measure_id=measure_id),
        "municipality": Municipality.objects.first(), "title": "支援措置期間終了通知"})


# --- 抑止 [410] of one person ------------------------------------------------------------------------


def _person_page(request, person_id: int, *, restriction_form=None, error=None, status=200):
    data = services.protection_of(actor=request.actor, person_id=person_id)
    measures = (services.support_list(actor=request.actor, include_ended=True, person_id=person_id)
                if request.user.has_juki_perm(Perm.SUPPORT_MEASURE_MANAGE) else None)
    return render(request, "protection/person.html", {
        "p": data, "measures": measures, "error": error,
        "restriction_form": restriction_form or forms.RestrictionForm(),
        # [410]: 解除 and 一時解除 are rights of their own; offer only what this session may do.
        "may_set": request.actor.can(Perm.RESTRICTION_MANAGE),
        "may_release": request.actor.can(Perm.RESTRICTION_RELEASE),
        "may_release_temporarily": request.actor.can(Perm.RESTRICTION_TEMPORARY_RELEASE),
        "title": "抑止・支援措置", "help": "support"}, status=status)


@counter_view(RESTRICTION_RIGHTS)
def person_protection(request, person_id: int):
    return _person_page(request, person_id)


@require_POST
@counter_view(Perm.RESTRICTION_MANAGE)
def restriction_new(request, person_id: int):
    form = forms.RestrictionForm(request.POST)
    if not form.is_valid():
        return _person_page(request, person_id, restriction_form=form, error="抑止の入力内容を確認してください。")
    d = form.cleaned_data
    try:
        if d["scope"] == "household":
            household_id = services.protection_of(actor=request.actor, person_id=person_id)["household_id"]
            target = {"household_id": household_id}
        else:
            target = {"person_id": person_id}
        services.restriction_set(actor=request.actor, processes=d["processes"], level=d["level"], start=d["start"],
                                 end=d["end"], reason=d["reason"], **target)
    except DomainError as exc:
        return _person_page(request, person_id, restriction_form=form, error=exc.message)
    return redirect("protection:person", person_id=person_id)


def _back(request):
    try:
        return redirect("protection:person", person_id=int(request.POST.get("person", "")))
    except ValueError:
        raise DomainError(ErrorCode.INVALID_INPUT, "画面を開き直してから操作してください。") from None


_ACTION_RIGHTS = {"release": Perm.RESTRICTION_RELEASE, "temporary-release": Perm.RESTRICTION_TEMPORARY_RELEASE}


@require_POST
@counter_view(RESTRICTION_RIGHTS)
def restriction_action(request, restriction_id: int, action: str):
    if action not in _ACTION_RIGHTS:
        raise Http404
    if not request.actor.can(_ACTION_RIGHTS[action]):  # before the input is looked at: a refusal is logged
        return refuse(request, _ACTION_RIGHTS[action])
    if action == "release":
        services.restriction_release(actor=request.actor, restriction_id=restriction_id)
    else:
        minutes = request.POST.get("minutes") or None
        if minutes is not None and not minutes.isdigit():
            raise DomainError(ErrorCode.INVALID_INPUT, "一時解除の時間は分（数字）で入力してください。", field="minutes")
        services.restriction_temporary_release(actor=request.actor, restriction_id=restriction_id,
                                               minutes=int(minutes) if minutes else None)
    return _back(request)


@counter_view(Perm.RESTRICTION_MANAGE)
def restriction_roster(request):
    """抑止対象者一覧 [1290]: by 行政区 (the list splits per ward), as a screen or a CSV to print."""
    ward = request.GET.get("ward", "")
    process = request.GET.get("process", "")
    export = request.GET.get("format") == "csv"
    data = services.restriction_roster(actor=request.actor, ward=ward, process=process, export=export)
    if export:
        body = csvout.to_bytes(["行政区", "宛名番号", "氏名", "対象", "抑止する処理", "抑止レベル", "開始日", "終了日（予定）", "理由"],
                               [[r["ward"], r["atena_number"], r["name"], r["target"], "・".join(r["process_labels"]),
                                 r["level_label"], (r["start"] or {}).get("display", ""), (r["end"] or {}).get("display", ""),
                                 r["reason"]] for r in data["rows"]])
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="restriction-roster.csv"'
        return response
    return render(request, "protection/restriction_roster.html", {
        **data, "wards": Ward.objects.order_by("code"), "processes": Process.choices,
        "title": "抑止対象者一覧", "help": "support"})
