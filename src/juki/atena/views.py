"""宛名検索 and a 宛名's page (numbers, business systems' 宛名番号, 名寄せ): thin callers of `services`."""
from __future__ import annotations

from django import forms
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from juki.accounts import destinations
from juki.accounts.permissions import Perm
from juki.core.errors import DomainError
from juki.ui.access import counter_view
from juki.ui.forms import Form, WarekiDateField

from . import services


class SearchForm(Form):
    name = forms.CharField(label="氏名（カナ可）", max_length=60, required=False)
    birth_date = WarekiDateField(label="生年月日", required=False)
    address = forms.CharField(label="住所（一部）", max_length=60, required=False)


class MergeForm(Form):
    absorbed = forms.RegexField(label="同一人とする統一識別番号", regex=r"^\d{12}$",
                                error_messages={"invalid": "統一識別番号は数字12桁で入力してください。"})
    reason = forms.CharField(label="理由", widget=forms.Textarea(attrs={"rows": 2}))


class UndoForm(Form):
    reason = forms.CharField(label="取消しの理由", widget=forms.Textarea(attrs={"rows": 2}))


@counter_view(Perm.ATENA_VIEW)
def search(request):
    # POST: a name and a birth date never go into a URL, the history or the lock screen's link.
    form = SearchForm(request.POST if request.method == "POST" else None)
    result = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            result = services.search(request.actor, services.Criteria(
                name=data["name"], birth_date=data["birth_date"], address=data["address"]))
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    return render(request, "atena/search.html", {"form": form, "result": result, "help": "atena", "title": "宛名検索"},
                  status=400 if form.is_bound and form.errors else 200)


def _page(request, pk: int, *, merge_form=None, undo_form=None, status=200):
    view = services.person_view(request.actor, pk)
    names = {d.code: d.name for d in destinations.DESTINATIONS}
    return render(request, "atena/person.html", {
        **view, "title": "宛名の照会", "system_names": names, "merge_form": merge_form or MergeForm(), "undo_form": undo_form or UndoForm(),
        "may_merge": request.actor.can(Perm.ATENA_MANAGE), "may_undo": request.actor.can(Perm.ATENA_MERGE_UNDO),
        "help": "atena"}, status=status)


@counter_view(Perm.ATENA_VIEW)
def person(request, pk: int):
    return _page(request, pk)


@counter_view(Perm.ATENA_MANAGE)
@require_POST
def merge(request, pk: int):
    form = MergeForm(request.POST)
    if form.is_valid():
        try:
            services.merge(request.actor, survivor_pk=pk, absorbed=form.cleaned_data["absorbed"],
                           reason=form.cleaned_data["reason"])
            return redirect("atena:person", pk=pk)
        except DomainError as exc:
            if exc.status == 403:
                raise
            form.add_error("absorbed" if exc.field in (None, "survivor") else exc.field, exc.message)
    return _page(request, pk, merge_form=form, status=400)


@counter_view(Perm.ATENA_MERGE_UNDO)
@require_POST
def undo(request, merge_id: int):
    form = UndoForm(request.POST)
    back = request.POST.get("back", "")
    back = int(back) if back.isascii() and back.isdigit() else 0
    if form.is_valid():
        try:
            services.undo_merge(request.actor, merge_id, reason=form.cleaned_data["reason"])
            return redirect("atena:person", pk=back)
        except DomainError as exc:
            if exc.status == 403:
                raise
            form.add_error(None, exc.message)
    return _page(request, back, undo_form=form, status=400)
