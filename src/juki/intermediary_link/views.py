"""中間サーバーの画面 (the city's staff): inquiries and the 副本's state, the review of held inquiries, the
情報提供等記録 and the reconciliation. Thin callers of `services`; 統一識別番号 and internal ids only —
a person is opened on the register's own page, under its rules."""
from __future__ import annotations

from django import forms
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from juki.accounts.permissions import Perm
from juki.core.errors import DomainError
from juki.ui.access import counter_view
from juki.ui.forms import Form

from . import services


class RecordsForm(Form):
    # The number's rule is the service's (`services.records`); the form only carries it.
    unified_number = forms.CharField(label="統一識別番号", max_length=20, required=False)


def _context(request, **extra) -> dict:
    return {"title": "中間サーバー", "help": "intermediary", "may_review": request.actor.can(Perm.INTERMEDIARY_REVIEW),
            "may_reconcile": request.actor.can(Perm.LINKAGE_MANAGE), **extra}


def _overview(request, *, status=200, **extra):
    try:
        view = services.overview(request.actor)
    except services.PlatformDown as exc:
        view, status = {"down": exc.message}, 503
    return render(request, "intermediary_link/overview.html", _context(request, **view, **extra), status=status)


@counter_view(Perm.INTERMEDIARY_VIEW)
def overview(request):
    return _overview(request)


@counter_view((Perm.LINKAGE_MANAGE,))
@require_POST
def reconcile(request):
    try:
        found = services.reconcile(request.actor)
    except services.PlatformDown as exc:
        return _overview(request, status=503, reconcile_error=exc.message)
    return _overview(request, reconciled=found)


@counter_view(Perm.INTERMEDIARY_REVIEW)
def review(request, *, error: str = "", status: int = 200):
    try:
        queue, down = services.review_queue(request.actor), ""
    except services.PlatformDown as exc:
        queue, down, status = [], exc.message, 503
    return render(request, "intermediary_link/review.html",
                  _context(request, title="確認待ちの照会", queue=queue, down=down, error=error), status=status)


@counter_view(Perm.INTERMEDIARY_REVIEW)
@require_POST
def decide(request, inquiry_id: int):
    decision = request.POST.get("decision")
    if decision not in ("release", "decline"):
        return review(request, error="提供するか、しないかを選んでください。", status=400)
    try:
        services.decide(request.actor, inquiry_id, release=decision == "release")
    except DomainError as exc:
        if exc.status == 403:
            raise
        return review(request, error=exc.message, status=exc.status)
    return redirect("intermediary_link:review")


@counter_view(Perm.INTERMEDIARY_VIEW)
def records(request):
    # POST: a 統一識別番号 never goes into a URL or the history.
    form = RecordsForm(request.POST if request.method == "POST" else None)
    rows, down, status = None, "", 200
    if not form.is_bound or form.is_valid():
        try:
            rows = services.records(request.actor, unified_number=form.cleaned_data["unified_number"].strip()
                                    if form.is_bound else "")
        except services.PlatformDown as exc:
            down, status = exc.message, 503
        except DomainError as exc:
            if exc.status == 403:
                raise
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    if form.is_bound and form.errors:
        status = 400
    return render(request, "intermediary_link/records.html",
                  _context(request, title="情報提供等記録", form=form, rows=rows, down=down), status=status)
