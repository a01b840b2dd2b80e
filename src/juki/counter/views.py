"""The counter's screens: thin callers of the register's services and selectors.

No personal data is ever put in a URL: searches are POSTed, persons and households are
addressed by internal ids, and everything carrying personal data is sent `no-store`
(juki.core.middleware).
"""
from __future__ import annotations

import json

from django import forms as djforms
from django.conf import settings
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from juki.accounts.permissions import Perm
from juki.core.errors import DomainError, ErrorCode, NotFoundError
from juki.core.wareki import parse_input, to_wareki
from juki.register import read_models, selectors
from juki.register.models import Building, Municipality, PendingChange, Town, Ward
from juki.register.reasons import OPERATION_LABELS, Operation
from juki.register.services import search as search_service
from juki.register.services import master, verification
from juki.core import clock

from . import forms
from juki.ui import menu
from juki.ui.access import counter_view, refuse

# --- login, lock, logout: see login_views.py ------------------------------------------------------


@require_POST
@counter_view(allow_expired_password=True)
def ping(request):
    """The page's activity timer keeps the session awake while the clerk types (no data)."""
    return HttpResponse(status=204)


# --- search [340] ---------------------------------------------------------------------------------


def _search_form(request, data=None):
    wards = master.wards()
    initial = {"ward_code": request.terminal.ward.code if request.terminal.ward else ""}
    return forms.SearchForm(data, initial=initial, wards=wards)


@counter_view(Perm.PERSON_SEARCH)
def search(request):
    form = _search_form(request, request.POST or None)
    result = None
    if request.method == "POST":
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k != "town_text"}
            data["town_code"] = forms.town_code_of(form.cleaned_data.get("town_text"), form.cleaned_data.get("town_code"))
            data["sex"] = int(data["sex"]) if data.get("sex") else None
            typed_town = (form.cleaned_data.get("town_text") or "").strip()
            if typed_town and not data["town_code"]:
                # Typed but not picked, and naming no one 町字: said, never silently dropped.
                form.add_error("town_text", f"「{typed_town[:20]}」に当たる町字が住所辞書にありません。候補から選んでください。")
        if form.is_valid():
            criteria = search_service.Criteria(**data)
            try:
                result = search_service.person_search(actor=request.actor, criteria=criteria)
            except DomainError as exc:
                result = {"error": exc.message}
        else:
            # Each error with the item it belongs to: the results area is what the clerk is looking at.
            result = {"error": " ".join(f"{form.fields[name].label}: {message}" if name in form.fields else message
                                        for name, messages in form.errors.items() for message in messages)}
        if request.htmx:
            return render(request, "counter/_results.html", {"result": result, "form": form})
    return render(request, "counter/search.html", {"form": form, "result": result, "new_entries": _operations(request, "new"),
                                                   "title": "住民検索", "help": "search"})


# --- person and household [350] -----------------------------------------------------------------------


def _as_of(request):
    """The 基準日 typed, or why it cannot be used (shown beside the field, the record as of today)."""
    raw = (request.GET.get("as_of") or "").strip()
    if not raw:
        return None, "", ""
    try:
        day = parse_input(raw, field="as_of", label="基準日")
    except DomainError as exc:
        return None, raw, exc.message
    if day > clock.today():
        return None, raw, "基準日には本日以前の日付を入力してください。"
    return day, raw, ""


@counter_view(Perm.PERSON_VIEW)
def person(request, person_id: int):
    as_of, raw, as_of_error = _as_of(request)
    try:
        data = selectors.person_get(actor=request.actor, person_id=person_id, as_of=as_of)
    except NotFoundError:
        if as_of is None:
            raise
        as_of, as_of_error = None, f"{to_wareki(as_of)}現在、この方の記録はありません（住民となる前の日付です）。"
        data = selectors.person_get(actor=request.actor, person_id=person_id)
    household = selectors.household_get(actor=request.actor, household_id=data["household_id"], as_of=as_of)
    history = selectors.person_history(actor=request.actor, person_id=person_id)
    return render(request, "counter/person.html", {
        "p": data, "household": household, "history": list(reversed(history)), "as_of": as_of, "as_of_raw": raw,
        "as_of_error": as_of_error,
        "operations": _operations(request, "person"), "household_operations": _operations(request, "household"),
        "title": "住民票の照会", "help": "person",
    })


@require_POST
@counter_view(Perm.MY_NUMBER_VIEW)
def reveal_my_number(request, person_id: int):
    """個人番号 shown only on an explicit request, which the access log records (C07)."""
    data = selectors.person_get(actor=request.actor, person_id=person_id, reveal_my_number=True)
    return render(request, "counter/_my_number.html", {"p": data, "revealed": True})


@counter_view(Perm.PERSON_VIEW)
def household(request, household_id: int):
    as_of, raw, as_of_error = _as_of(request)
    data = selectors.household_get(actor=request.actor, household_id=household_id, as_of=as_of)
    return render(request, "counter/household.html", {
        "household": data, "as_of": as_of, "as_of_raw": raw, "as_of_error": as_of_error, "operations": _operations(request, "household"),
        "title": "世帯の照会", "help": "household",
    })


# --- address dictionary help [250][520] ----------------------------------------------------------------


@counter_view()
def town_options(request):
    """<option>s for the 町字 datalist, by kana or kanji prefix (no personal data)."""
    from juki.register.services.people import kana
    from juki.register.textnorm import is_kana

    q = (request.GET.get("q") or request.GET.get("town_text") or "").strip()
    if request.GET.get("domicile"):
        # 本籍 input help [510]: the city's own 町字 as "福岡県北九州市小倉北区城内", from the typed part.
        q = next((v for k, v in request.GET.items() if k.endswith("domicile") and k != "domicile"), q).strip()
        city = Municipality.objects.filter(code=settings.JUKI_MUNICIPALITY).first()
        for prefix in (city.prefecture, city.name) if city else ():
            q = q.removeprefix(prefix)
        ward_names = list(Ward.objects.values_list("name", flat=True))
        q = next((q.removeprefix(w) for w in ward_names if q.startswith(w)), q)
    towns = Town.objects.select_related("ward__municipality").filter(is_active=True)
    if q:
        towns = towns.filter(kana__startswith=kana(q).replace(" ", "")) if is_kana(q) else towns.filter(name__startswith=q)
    template = "counter/_domicile_options.html" if request.GET.get("domicile") else "counter/_town_options.html"
    return render(request, template, {"towns": towns.order_by("kana")[:30]})


@counter_view()
def katagaki_options(request):
    """方書 candidates of the 町字 being entered [520]."""
    code = forms.town_code_of(request.GET.get("town_text"), request.GET.get("town_code"))
    town = Town.objects.filter(code=code).first() if code else None
    buildings = Building.objects.filter(town=town).order_by("name")[:50] if town else []
    return render(request, "counter/_katagaki_options.html", {"buildings": buildings})


# --- change entry -------------------------------------------------------------------------------------

# The operations offered from a person's or a household's screen, in the order clerks use them.
_FROM_HOUSEHOLD = [Operation.MOVE_WITHIN_CITY, Operation.MOVE_OUT, Operation.BIRTH, Operation.MOVE_IN,
                   Operation.DEATH, Operation.HOUSEHOLD_SPLIT, Operation.HOUSEHOLD_CHANGE, Operation.HOUSEHOLD_MERGE,
                   Operation.HEAD_CHANGE, Operation.DISAPPEARANCE, Operation.EX_OFFICIO_REMOVAL, Operation.CANCEL]
_FROM_PERSON = [Operation.EX_OFFICIO_CORRECTION, Operation.MINOR_CORRECTION, Operation.ERRATUM_CORRECTION,
                Operation.MY_NUMBER, Operation.RESIDENT_CODE_ASSIGN, Operation.RESIDENT_CODE_CHANGE,
                Operation.MOVE_OUT_CONFIRM, Operation.NATURALIZATION, Operation.NATIONALITY_ACQUISITION,
                Operation.NATIONALITY_LOSS]
# Entries that start a new 住民票 (no one to search for first): offered on the search screen.
NEW_ENTRIES = [Operation.MOVE_IN, Operation.FOREIGN_MOVE_IN, Operation.FOREIGN_REGISTRATION, Operation.EX_OFFICIO_ENTRY]


def _operations(request, kind: str) -> list[dict]:
    if not request.actor.can(Perm.PERSON_CHANGE):
        return []
    ops = {"household": _FROM_HOUSEHOLD, "person": _FROM_PERSON, "new": NEW_ENTRIES}[kind]
    return [{"op": str(op), "slug": (slug := str(op).replace("_", "-")), "label": OPERATION_LABELS[op],
             "url": menu.link("counter:change_form", slug)} for op in ops
            if request.actor.can(f"change.{op}")]  # offer only the 異動 the user may enter


def _operation(slug: str) -> Operation:
    try:
        op = Operation(slug.replace("-", "_"))
    except ValueError:
        raise Http404 from None
    if op not in forms.FORMS:
        raise Http404
    return op


def _start(request, kind: str, source) -> forms.Start:
    """Load what the change starts from (ids come from the screen, never personal data)."""
    start = forms.Start()
    person_id = source.get("person")
    household_id = source.get("household")
    if person_id:
        read = selectors.person_read(actor=request.actor, person_id=int(person_id))
        start.person = read.as_dict()
        start.person["items"] = read_models.entry_items(read.record)
        household_id = household_id or start.person["household_id"]
    if household_id and kind != "person":
        start.household = selectors.household_get(actor=request.actor, household_id=int(household_id))
        # A masked (支援措置) member is not offered: this user may not change or even see them.
        start.members = [m for m in start.household["members"] if not m.get("masked")]
        for m in start.members:
            m["latest_version"] = m["version"]
    if kind == "person" and start.person is None:
        raise DomainError(ErrorCode.INVALID_INPUT, "対象の住民を検索して選んでから入力してください。")
    if kind == "household" and start.household is None:
        raise DomainError(ErrorCode.INVALID_INPUT, "対象の世帯を検索して選んでから入力してください。")
    return start


def _resolve_numbers(request, value):
    """A destination typed as a 世帯番号 becomes {id, version} (looked up through the gate)."""
    if isinstance(value, dict):
        if set(value) == {"number"}:
            return selectors.household_ref_by_number(actor=request.actor, number=value["number"])
        return {k: _resolve_numbers(request, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_numbers(request, v) for v in value]
    return value


def _annotate_members(data, start: forms.Start, *, everyone: bool = False) -> None:
    """What the members table shows checked/typed: the input when re-shown, else the defaults —
    the person the clerk came from, or everyone (a 転居, whose default is 「全員が転居」)."""
    posted = data is not None
    chosen = set(data.getlist("persons")) if posted else set()
    for m in start.members:
        pid = str(m["person_id"])
        m["checked"] = pid in chosen if posted else (
            everyone or start.person is None or start.person["person_id"] == m["person_id"])
        m["rel_value"] = data.get(f"rel_{pid}", "") if posted else ""
        m["new_head"] = posted and data.get("new_head") == pid


def _form_context(request, op, form, start, error=None, *, data=None):
    _annotate_members(data, start, everyone=op == Operation.MOVE_WITHIN_CITY)
    return {
        "op": str(op), "slug": str(op).replace("_", "-"), "label": OPERATION_LABELS[op], "form": form,
        "start": start, "error": error, "title": f"異動入力（{OPERATION_LABELS[op]}）", "help": "change",
        "two_person": verification.two_person_required(),
    }


# Form keys that are not what the clerk typed (kept out of the draft carried through the confirmation).
_NOT_ENTERED = {"csrfmiddlewaretoken", "payload", "entered", "back", "pending"}


def _entered(data) -> dict[str, list[str]]:
    """What the clerk typed, as {name: [values]}: carried through the confirmation screen (no-store,
    like the payload beside it) so going back re-renders the form with every field as typed."""
    return {k: data.getlist(k) for k in data if k not in _NOT_ENTERED}


def _draft(raw: str) -> QueryDict:
    """The draft a confirmation page carried back; anything else is refused, never a 500."""
    try:
        entered = json.loads(raw or "{}")
    except ValueError:
        entered = None
    if not isinstance(entered, dict):
        raise DomainError(ErrorCode.INVALID_INPUT, "入力内容を読み取れませんでした。最初から入力してください。")
    return _querydict(entered)


def _querydict(entered: dict) -> QueryDict:
    q = QueryDict(mutable=True)
    for k, values in entered.items():
        q.setlist(k, [str(v) for v in (values if isinstance(values, list) else [values])])
    return q


def _pending_id(raw) -> int | None:
    try:
        return int(raw) if raw else None
    except (TypeError, ValueError):
        raise DomainError(ErrorCode.INVALID_INPUT, "再提出する仮登録の番号が正しくありません。") from None


def _cancel_url(start: forms.Start) -> str:
    if start.person:
        return reverse("counter:person", args=[start.person["person_id"]])
    if start.household:
        return reverse("counter:household", args=[start.household["household_id"]])
    return reverse("counter:search")


def _field_errors(form, exc: DomainError) -> bool:
    """A rule's refusal shown at its field where the form has one, beside the form's own errors."""
    placed = False
    if exc.field and exc.field in form.fields:
        form.add_error(exc.field, exc.message)
        placed = True
    fields = exc.errors or (exc.details or {}).get("fields") or {}
    if isinstance(fields, list):  # the names of the items the rule refused
        fields = {name: [exc.message] for name in fields}
    for name, msgs in fields.items():
        if name in form.fields and name != exc.field:
            form.add_error(name, [str(m) for m in msgs] if isinstance(msgs, list) else str(msgs))
            placed = True
    return placed


@counter_view(Perm.PERSON_CHANGE)
def change_form(request, slug: str):
    op = _operation(slug)
    if not request.actor.can(f"change.{op}"):
        return refuse(request, f"change.{op}")  # each 異動 is its own right (C02)
    form_class, kind = forms.FORMS[op]
    data = None
    pending_id = None
    if request.method == "POST":
        pending_id = _pending_id(request.POST.get("pending"))
        # 入力画面に戻って修正: the draft the confirmation carried, not the browser's history.
        data = _draft(request.POST.get("entered")) if request.POST.get("back") else request.POST
    elif request.GET.get("pending"):
        # A returned (差戻し) entry, opened pre-filled for its clerk to correct and resubmit.
        pending_id = _pending_id(request.GET.get("pending"))
        pending, typed = verification.pending_form(actor=request.actor, pending_id=pending_id)
        if pending.operation != str(op):
            raise Http404
        data = _querydict(typed)
    source = data if data is not None else request.GET
    start = _start(request, kind, source)
    extra = {"operation": str(op)} if issubclass(form_class, forms.NewPersonsForm) else {}
    if op == Operation.MOVE_IN and data is None and request.GET.get("transfer"):
        # 特例転入 [610]: the form filled from the 転出証明書情報 received (by its opaque 照会番号).
        extra["transfer"] = selectors.transfer_certificates(actor=request.actor, group=request.GET["transfer"])
    form = form_class(data, start=start, **extra)
    context = {"pending_id": pending_id, "cancel_url": _cancel_url(start)}
    if request.method == "POST" and not request.POST.get("back"):
        error = None
        if form.is_valid():
            try:
                payload = _resolve_numbers(request, form.payload(data))
                preview = verification.change_preview(actor=request.actor, operation=str(op), payload=payload)
            except djforms.ValidationError as exc:
                error = {"message": " ".join(exc.messages)}
            except DomainError as exc:
                placed = _field_errors(form, exc)
                error = {"message": exc.message if not placed else "入力内容に誤りがあります。赤字の項目を確認してください。",
                         "code": str(exc.code)}
            else:
                return render(request, "counter/confirm.html", {
                    **_form_context(request, op, form, start, data=data), **context, "preview": preview,
                    "payload": json.dumps(payload, ensure_ascii=False),
                    "entered": json.dumps(_entered(data), ensure_ascii=False),
                    "title": f"確認（{OPERATION_LABELS[op]}）", "help": "confirm"})
        else:
            error = {"message": "入力内容に誤りがあります。赤字の項目をすべて確認してください。"}
        return render(request, "counter/change_form.html",
                      {**_form_context(request, op, form, start, error, data=data), **context}, status=200)
    return render(request, "counter/change_form.html", {**_form_context(request, op, form, start, data=data), **context})


@require_POST
@counter_view(Perm.PERSON_CHANGE)
def change_commit(request, slug: str):
    """登録: 仮登録 for review (default, C10), or committed at once where the city turned it off."""
    op = _operation(slug)
    if not request.actor.can(f"change.{op}"):
        return refuse(request, f"change.{op}")
    try:
        payload = json.loads(request.POST.get("payload") or "")
        entered = json.loads(request.POST.get("entered") or "{}")
    except ValueError:
        raise DomainError(ErrorCode.INVALID_INPUT, "入力内容を読み取れませんでした。最初から入力してください。") from None
    entered_change = verification.change_enter(actor=request.actor, operation=str(op), payload=payload,
                                               form_data=entered if isinstance(entered, dict) else {},
                                               resubmit_of=_pending_id(request.POST.get("pending")))
    if isinstance(entered_change, PendingChange):
        return redirect("counter:pending_detail", pending_id=entered_change.id)
    return redirect("counter:change_done", change_id=entered_change.change_id)


@counter_view(Perm.PERSON_VIEW)
def change_done(request, change_id: int):
    change = selectors.change_get(actor=request.actor, change_id=change_id)
    return render(request, "counter/change_done.html", {"change": change, "title": "登録しました", "help": "change"})


@counter_view(Perm.PERSON_VIEW)
def receipt(request, change_id: int):
    """住民異動届受理通知 [580]: printable on the day or later."""
    change = selectors.change_get(actor=request.actor, change_id=change_id)
    # POSTed: the 届出人's name must not travel in a URL (server and proxy logs, history).
    notifier = (request.POST.get("notifier") or "").strip()[:60] or change["notifier_name"]
    return render(request, "counter/receipt.html", {"change": change, "notifier": notifier,
                                                    "municipality": Municipality.objects.first(),
                                                    "title": "住民異動届受理通知"})


# --- two-person verification [530][540] -------------------------------------------------------------


@counter_view(Perm.PERSON_CHANGE)
def pending_list(request):
    wards = Ward.objects.order_by("code")
    ward_code = request.GET.get("ward")
    if ward_code is None:
        ward_code = request.terminal.ward.code if request.terminal.ward else ""
    rows = verification.pending_list(actor=request.actor, ward_code=ward_code)
    mine = verification.pending_list(actor=request.actor, states=("rejected",), entered_by=request.user)
    return render(request, "counter/pending_list.html", {
        "rows": rows, "mine": mine, "wards": wards, "ward_code": ward_code,
        "can_review": request.actor.can(Perm.CHANGE_APPROVE), "title": "審査待ち一覧（仮登録）",
        "help": "pending"})


@counter_view(Perm.PERSON_CHANGE)
def pending_detail(request, pending_id: int):
    item = verification.pending_get(actor=request.actor, pending_id=pending_id)
    return render(request, "counter/pending_detail.html", {
        "item": item, "is_mine": item["entered_by_id"] == request.user.pk,
        "can_review": request.actor.can(Perm.CHANGE_APPROVE) and item["entered_by_id"] != request.user.pk,
        "title": f"仮登録の審査（{item['operation_label']}）", "help": "pending"})


@require_POST
@counter_view(Perm.CHANGE_APPROVE)
def pending_approve(request, pending_id: int):
    result = verification.pending_approve(actor=request.actor, pending_id=pending_id)
    return redirect("counter:change_done", change_id=result.change_id)


@require_POST
@counter_view(Perm.CHANGE_APPROVE)
def pending_reject(request, pending_id: int):
    verification.pending_reject(actor=request.actor, pending_id=pending_id, comment=request.POST.get("comment", ""))
    return redirect(reverse("counter:pending_list"))


@require_POST
@counter_view(Perm.PERSON_CHANGE)
def pending_withdraw(request, pending_id: int):
    verification.pending_withdraw(actor=request.actor, pending_id=pending_id)
    return redirect(reverse("counter:pending_list"))


# --- help [1400] --------------------------------------------------------------------------------------

HELP_PAGES = {
    "search": "住民検索", "person": "住民票の照会", "household": "世帯の照会", "change": "異動入力",
    "confirm": "入力内容の確認", "pending": "審査（仮登録・本登録）", "login": "ログインと画面ロック", "keys": "キー操作の一覧",
    "rights": "権限管理", "support": "支援措置・抑止", "analysis": "ログ分析・異常検知", "disclosure": "開示請求の回答作成",
    "certificate": "証明書の交付",
    "card": "市民カード",
    "seal": "印鑑登録",
    "jukinet": "住基ネット連携",
    "linkage": "庁内連携",
    "atena": "宛名検索（団体内統合宛名）",
    "intermediary": "中間サーバー（情報提供ネットワークシステム）",
}


def help_page(request, topic: str):
    if topic not in HELP_PAGES:
        raise Http404
    return render(request, f"counter/help/{topic}.html",
                  {"title": f"ヘルプ: {HELP_PAGES[topic]}", "topic": topic, "pages": HELP_PAGES})
