"""庁内連携の運用画面: the destinations, their applications and items, their delivery state, re-send
and media output. Thin callers of `approvals`, `engine` and `media`; no personal data is shown here
(states, counts, positions and file names only)."""
from __future__ import annotations

from django import forms
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from juki.accounts import destinations
from juki.accounts.destinations import DELIVERY_LABELS, REGISTER_ITEMS
from juki.accounts.permissions import Perm
from juki.core import clock
from juki.core.errors import DomainError
from juki.ui.access import counter_view
from juki.ui.forms import Form, WarekiDateField

from . import approvals, engine, media, operations
from .models import Approval, Delivery, MediaRequest

_ANY = (Perm.LINKAGE_MANAGE, Perm.LINKAGE_APPROVE)


@counter_view(_ANY)
def destinations_list(request):
    rows = [engine.status_of(d.code) for d in destinations.LINKAGE]
    waiting = Approval.objects.filter(state=Approval.State.APPLIED).count()
    return render(request, "linkage/destinations.html", {"rows": rows, "waiting": waiting, "title": "庁内連携",
                                                         "labels": DELIVERY_LABELS, "help": "linkage"})


class ApplicationForm(Form):
    items = forms.MultipleChoiceField(label="利用する項目", widget=forms.CheckboxSelectMultiple, required=False)
    purpose = forms.CharField(label="利用目的", widget=forms.Textarea(attrs={"rows": 2}))
    legal_basis = forms.CharField(label="根拠法令", widget=forms.Textarea(attrs={"rows": 2}))
    starts_on = WarekiDateField(label="利用開始日")
    ends_on = WarekiDateField(label="利用終了日")
    note = forms.CharField(label="備考", required=False)

    def __init__(self, *args, destination, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["items"].choices = [(k, REGISTER_ITEMS[k]) for k in REGISTER_ITEMS if k in destination.register_items]


class ResendForm(Form):
    after = forms.IntegerField(label="この位置の後から", min_value=0)


class MediaRequestForm(Form):
    medium = forms.CharField(label="媒体", max_length=40, initial="暗号化USBメモリ")
    purpose = forms.CharField(label="理由", widget=forms.Textarea(attrs={"rows": 2}))


def _detail(request, code: str, *, form=None, resend_form=None, media_form=None, error=None, status=200):
    found = approvals.destination(code)
    context = {
        "d": found, "state": engine.status_of(code), "labels": DELIVERY_LABELS,
        "approvals": Approval.objects.filter(destination=code)[:20],
        "deliveries": Delivery.objects.filter(destination=code).order_by("-sequence")[:30],
        "media_requests": MediaRequest.objects.filter(destination=code)[:10],
        "item_labels": REGISTER_ITEMS, "max_items": [REGISTER_ITEMS[k] for k in REGISTER_ITEMS if k in found.register_items],
        "form": form or ApplicationForm(destination=found, initial={
            "items": sorted(found.register_items), "purpose": found.purpose, "legal_basis": found.legal_basis,
            "starts_on": clock.today()}),
        "resend_form": resend_form or ResendForm(), "media_form": media_form or MediaRequestForm(),
        "may_manage": request.actor.can(Perm.LINKAGE_MANAGE), "may_approve": request.actor.can(Perm.LINKAGE_APPROVE),
        "may_export": request.actor.can(Perm.MEDIA_EXPORT), "error": error, "help": "linkage",
        "title": f"庁内連携：{found.name}",
    }
    return render(request, "linkage/destination.html", context, status=status)


@counter_view(_ANY)
def destination(request, code: str):
    return _detail(request, code)


def _step(request, code: str, call):
    """A button's step on the destination's page: done → back to the page; refused → the page with the
    message (a 403 stays the refusal screen)."""
    try:
        call()
    except DomainError as exc:
        if exc.status == 403:
            raise
        return _detail(request, code, error=exc.message, status=400)
    return redirect("linkage:destination", code=code)


def _field_error(form, exc: DomainError):
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


@counter_view(Perm.LINKAGE_MANAGE)
@require_POST
def apply(request, code: str):
    found = approvals.destination(code)
    form = ApplicationForm(request.POST, destination=found)
    if form.is_valid():
        data = form.cleaned_data
        try:
            approvals.apply(request.actor, code=code, items=data["items"], purpose=data["purpose"],
                            legal_basis=data["legal_basis"], starts_on=data["starts_on"], ends_on=data["ends_on"],
                            note=data["note"])
            return redirect("linkage:destination", code=code)
        except DomainError as exc:
            _field_error(form, exc)
    return _detail(request, code, form=form, status=400)


@counter_view(_ANY)
@require_POST
def approval_step(request, code: str, approval_id: int):
    step, note = request.POST.get("step"), request.POST.get("note", "")
    steps = {"approve": lambda: approvals.decide(request.actor, approval_id, approve=True, note=note, code=code),
             "reject": lambda: approvals.decide(request.actor, approval_id, approve=False, note=note, code=code),
             "activate": lambda: approvals.activate(request.actor, approval_id, code=code),
             "end": lambda: approvals.end(request.actor, approval_id, note=note, code=code)}
    return _step(request, code, steps.get(step, lambda: None))


@counter_view(Perm.LINKAGE_MANAGE)
@require_POST
def resend(request, code: str):
    approvals.destination(code)
    form = ResendForm(request.POST)
    if form.is_valid():
        try:
            operations.resend(request.actor, code=code, after=form.cleaned_data["after"])
            return redirect("linkage:destination", code=code)
        except DomainError as exc:
            _field_error(form, exc)
    return _detail(request, code, resend_form=form, status=400)


@counter_view(Perm.LINKAGE_MANAGE)
@require_POST
def retry(request, code: str, sequence: int):
    """A dead letter put back in line (after the destination's fault was mended)."""
    return _step(request, code, lambda: operations.retry(request.actor, code=code, sequence=sequence))


@counter_view(Perm.LINKAGE_MANAGE)
@require_POST
def media_request(request, code: str):
    form = MediaRequestForm(request.POST)
    if form.is_valid():
        try:
            media.request(request.actor, code=code, purpose=form.cleaned_data["purpose"],
                          medium=form.cleaned_data["medium"])
            return redirect("linkage:destination", code=code)
        except DomainError as exc:
            _field_error(form, exc)
    return _detail(request, code, media_form=form, status=400)


@counter_view(Perm.LINKAGE_APPROVE)
@require_POST
def media_approve(request, code: str, request_id: int):
    return _step(request, code, lambda: media.approve(request.actor, request_id, code=code))


@counter_view(Perm.LINKAGE_MANAGE)  # and media.export, which the service asks for (C09)
@require_POST
def media_output(request, code: str, delivery_id: int):
    try:
        raw = request.POST.get("request", "")
        name, data = media.output(request.actor, request_id=int(raw) if raw.isascii() and raw.isdigit() else 0,
                                  code=code, delivery_id=delivery_id)
    except DomainError as exc:
        if exc.status == 403:
            raise
        return _detail(request, code, error=exc.message, status=400)
    response = HttpResponse(data, content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
