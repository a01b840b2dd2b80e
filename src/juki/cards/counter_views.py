"""The counter's city card screen (`card_counter:person`): the person's cards with their state and
history, and the steps (交付・一時停止・解除・ロック解除・暗証番号の変更・再交付・廃止). Thin callers
of `services`; a refusal re-shows the page with the service's Japanese message and the step's form
open (the PIN fields empty: the resident types them again)."""
from __future__ import annotations

import datetime as dt

from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from juki.accounts.permissions import Perm
from juki.core.errors import DomainError
from juki.core.wareki import to_wareki
from juki.ui.access import counter_view
from juki.register import selectors

from . import forms, services
from .forms import DOCUMENTS

NS = "card_counter"

# step → (form, call(request, card_id, person_id, cleaned data), message after it)
STEPS = {
    "suspend": (forms.SuspendForm, lambda r, c, p, d: services.card_suspend(
        actor=r.actor, card_id=c, person_id=p, reason=d["reason"]), "カードを一時停止しました。"),
    "resume": (forms.ResumeForm, lambda r, c, p, d: services.card_resume(
        actor=r.actor, card_id=c, person_id=p, document=d["document"], note=d["note"]), "一時停止を解除しました。"),
    "unlock": (forms.UnlockForm, lambda r, c, p, d: services.card_unlock(
        actor=r.actor, card_id=c, person_id=p, pin=d["pin"], document=d["document"]),
        "新しい暗証番号を設定しました。カードは利用できる状態です。"),
    "pin": (forms.ChangePinForm, lambda r, c, p, d: services.card_change_pin(
        actor=r.actor, card_id=c, person_id=p, old_pin=d["old_pin"], new_pin=d["pin"]), "暗証番号を変更しました。"),
    "reissue": (forms.ReissueForm, lambda r, c, p, d: services.card_reissue(
        actor=r.actor, card_id=c, person_id=p, pin=d["pin"], document=d["document"], reason=d["reason"],
        collected_on=d["collected_on"]), "新しいカードを再交付しました。元のカードは廃止されました。"),
    "abolish": (forms.AbolishForm, lambda r, c, p, d: services.card_abolish(
        actor=r.actor, card_id=c, person_id=p, reason=d["reason"], collected_on=d["collected_on"], note=d["note"]),
        "カードを廃止しました。"),
}
ISSUED = "市民カードを交付しました。カード番号を本人に確かめてもらい、カードをお渡しください。"
# A lost card that was the 印鑑登録証: its seal registration ended with it (亡失).
SEAL_ENDED = "このカードは印鑑登録証だったため、印鑑登録を廃止しました（印鑑登録証の亡失）。印鑑を使うときは、改めて印鑑登録をしてください。"
DONE = {"issue": ISSUED, **{step: message for step, (_f, _c, message) in STEPS.items()},
        "reissue_seal": STEPS["reissue"][2] + SEAL_ENDED, "abolish_seal": STEPS["abolish"][2] + SEAL_ENDED}


def _shown(card: dict) -> dict:
    """Dates as the counter reads them (和暦); the history's processing time in local time."""
    for key in ("issued_on", "ended_on", "collected_on"):
        card[f"{key}_display"] = to_wareki(dt.date.fromisoformat(card[key])) if card[key] else ""
    for h in card.get("history", []):
        h["on_display"] = to_wareki(dt.date.fromisoformat(h["on"]))
        h["at_display"] = f"{timezone.localtime(dt.datetime.fromisoformat(h['at'])):%H:%M}"
    return card


def _form(form_class, step: str, data=None):
    # Several forms on one page: ids of their own, so that each label names its own input.
    return form_class(data, auto_id=f"{step}-%s")


def _page(request, person_id: int, *, bound=None, step: str = "", error: str = "", status: int = 200):
    person = selectors.person_get(actor=request.actor, person_id=person_id)
    data = services.cards_for_person(actor=request.actor, person_id=person_id)
    data["cards"] = [_shown(c) for c in data["cards"]]
    live = next((c for c in data["cards"] if c["card_id"] == data["live_card_id"]), None)
    step_forms = {"issue": _form(forms.IssueForm, "issue"),
                  **{name: _form(form, name) for name, (form, _c, _m) in STEPS.items()}}
    if bound is not None:
        step_forms[step] = bound
    return render(request, "cards/person.html", {
        "p": person, "data": data, "live": live, "forms": step_forms, "step": step, "error": error,
        "done": DONE.get(request.GET.get("done", "")) if not error else "", "documents": DOCUMENTS,
        "title": "北九州市民カード", "help": "card"}, status=status)


def _back(person_id: int, done: str):
    return redirect(reverse(f"{NS}:person", args=[person_id]) + f"?done={done}")


@require_GET
@counter_view(Perm.CARD_MANAGE)
def person(request, person_id: int):
    return _page(request, person_id)


@require_POST
@counter_view(Perm.CARD_MANAGE)
def issue(request, person_id: int):
    form = _form(forms.IssueForm, "issue", request.POST)
    if not form.is_valid():
        return _page(request, person_id, bound=form, step="issue", error=form.error_message(), status=400)
    try:
        services.card_issue(actor=request.actor, person_id=person_id, pin=form.cleaned_data["pin"],
                            document=form.cleaned_data["document"])
    except DomainError as exc:
        return _page(request, person_id, bound=form, step="issue", error=exc.message, status=exc.status)
    return _back(person_id, "issue")


@require_POST
@counter_view(Perm.CARD_MANAGE)
def step(request, person_id: int, card_id: int, step: str):
    if step not in STEPS:
        raise Http404
    form_class, call, _message = STEPS[step]
    form = _form(form_class, step, request.POST)
    if not form.is_valid():
        return _page(request, person_id, bound=form, step=step, error=form.error_message(), status=400)
    try:
        result = call(request, card_id, person_id, form.cleaned_data)
    except DomainError as exc:
        return _page(request, person_id, bound=form, step=step, error=exc.message, status=exc.status)
    return _back(person_id, f"{step}_seal" if result.get("seal_ended_id") else step)
