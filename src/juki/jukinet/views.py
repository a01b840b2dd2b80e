"""住基ネット連携の運用画面 (the 統合端末's side in the register's staff UI): thin callers of
`operations`. Nothing personal travels in a URL: errors and dead letters by their own numbers."""
from __future__ import annotations

import datetime as dt

from django import forms
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from juki.accounts.permissions import Perm
from juki.core.municipalities import name_of
from juki.core.wareki import display_date
from juki.ui.access import counter_view
from juki.ui.forms import WarekiDateField

from juki.core import clock
from juki.core.errors import DomainError, ErrorCode
from juki.network.wire import Unreachable
from juki.register import selectors

from . import connection, messages, operations
from .templatetags.jukinet import western
from .models import UpdateError


def _cs():
    """The city's CS; not running is a message on the page (市町村CSに接続できません), not a trace."""
    try:
        return connection.cs_client()
    except Unreachable as exc:
        raise DomainError(ErrorCode.CS_UNREACHABLE, f"市町村CSに接続できません。{exc}") from None


def _tabs(tab: str, title: str) -> dict:
    return {"tab": tab, "title": title, "help": "jukinet"}


@counter_view(Perm.JUKINET_OPERATE)
def status(request):
    context = operations.overview(actor=request.actor, cs=_cs())
    labels = [("prefecture", "都道府県サーバ"), ("national", "全国サーバ"), ("jlis", "J-LIS（個人番号の生成）"),
              ("cards", "カード管理システム")]
    return render(request, "jukinet/status.html", {**context, "peer_labels": labels,
                                                   **_tabs("status", "住基ネット連携の状況")})


@counter_view(Perm.JUKINET_OPERATE)
@require_POST
def retry(request, seq: int):
    operations.retry_dead_letter(actor=request.actor, cs=_cs(), seq=seq)
    return redirect("jukinet:status")


@counter_view(Perm.JUKINET_OPERATE)
@require_POST
def resend_mail(request, mail_id: int):
    operations.resend_mail(actor=request.actor, cs=_cs(), mail_id=mail_id)
    return redirect("jukinet:status")


@counter_view(Perm.JUKINET_OPERATE)
def errors(request):
    state = UpdateError.State.RESOLVED if request.GET.get("state") == "resolved" else UpdateError.State.OPEN
    rows = operations.errors(actor=request.actor, state=state)
    may_resolve = request.actor.can(Perm.IDENTITY_CORRECTION_APPROVE)
    return render(request, "jukinet/errors.html", {"rows": rows, "state": state, "may_resolve": may_resolve,
                                                   **_tabs("errors", "本人確認情報の更新エラー")})


@counter_view(Perm.IDENTITY_CORRECTION_APPROVE)
@require_POST
def resolve(request, error_id: int):
    note = request.POST.get("note", "")
    if request.POST.get("action") == "resend":
        operations.resend(actor=request.actor, cs=_cs(), error_id=error_id, note=note)
    else:
        operations.close(actor=request.actor, error_id=error_id, note=note)
    return redirect("jukinet:errors")


@counter_view(Perm.JUKINET_OPERATE)
def consistency(request):
    run = request.POST.get("peer") if request.method == "POST" else None
    result = operations.consistency(actor=request.actor, cs=_cs(), run=run)
    if run:
        return redirect("jukinet:consistency")
    return render(request, "jukinet/consistency.html", {**result, **_tabs("consistency", "整合性確認")})


@counter_view(Perm.JUKINET_OPERATE)
def recipients(request):
    result = operations.recipients(actor=request.actor, cs=_cs())
    return render(request, "jukinet/recipients.html", {**result, **_tabs("recipients", "送付先情報・保存期間")})


class IdentifyForm(forms.Form):
    resident_code = forms.CharField(label="住民票コード", required=False, max_length=11)
    my_number = forms.CharField(label="個人番号", required=False, max_length=12,
                                widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}))
    name = forms.CharField(label="氏名", required=False, max_length=60)
    name_kana = forms.CharField(label="ふりがな", required=False, max_length=60)
    birth_date = forms.DateField(label="生年月日", required=False, input_formats=["%Y-%m-%d"],
                                 widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    sex = forms.ChoiceField(label="性別", required=False, choices=[("", "指定しない"), ("1", "男"), ("2", "女")])
    address = forms.CharField(label="住所", required=False, max_length=120)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


@counter_view(Perm.JUKINET_IDENTIFY)
def identify(request):
    # POST: the 個人番号 and the 4情報 stay out of the URL and the browser's history.
    form = IdentifyForm(request.POST if request.method == "POST" else None)
    context = {"form": form, "title": "本人確認（全国サーバ）", "help": "jukinet", "tab": "identify"}
    if form.is_bound and form.is_valid():
        query = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in form.cleaned_data.items() if v}
        result = operations.identify(actor=request.actor, cs=_cs(), query=query)
        for match in result.get("matches", []):  # 和暦, as every screen of the office shows a date [90]
            match["birth_display"] = _wareki(match.get("birth_date"))
        context["result"] = result
    return render(request, "jukinet/identify.html", context)


def _wareki(value: str | None) -> str:
    try:
        return display_date(dt.date.fromisoformat(value or ""))
    except ValueError:
        return value or ""


@counter_view("change.my_number")
def my_number_change(request, person_id: int):
    """個人番号の変更請求: confirm the person, write the reason, and J-LIS's new number follows."""
    from juki.register import selectors

    if request.method == "POST":
        operations.my_number_change_request(actor=request.actor, person_id=person_id, note=request.POST.get("note", ""))
        return render(request, "jukinet/my_number_change.html", {"title": "個人番号の変更請求", "help": "jukinet",
                                                                 "done": True, "person_id": person_id})
    person = selectors.person_get(actor=request.actor, person_id=person_id)
    return render(request, "jukinet/my_number_change.html", {"title": "個人番号の変更請求", "help": "jukinet",
                                                             "p": person, "person_id": person_id})


@counter_view(Perm.CARD_MANAGE)
def card(request, person_id: int):
    """個人番号カード: its state at the card management system, and the counter's actions on it."""
    cs = _cs()
    if request.method == "POST":
        operations.card_action(actor=request.actor, cs=cs, person_id=person_id, action=request.POST.get("action", ""),
                               pin=request.POST.get("pin", "").strip())
        return redirect("jukinet:card", person_id=person_id)
    result = operations.card(actor=request.actor, cs=cs, person_id=person_id)
    return render(request, "jukinet/card.html", {**result, "title": "個人番号カード", "help": "jukinet",
                                                 "person_id": person_id, "actions": operations.CARD_ACTIONS,
                                                 "states": operations.CARD_STATES})


# --- 住基ネット II (issue 15) -----------------------------------------------------------------------


class TransferForm(forms.Form):
    card_number = forms.CharField(label="個人番号カードのカード番号（12桁）", max_length=20,
                                  widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off",
                                                                "autofocus": "autofocus"}))
    pin = forms.CharField(label="暗証番号（数字4桁。本人が入力します）", max_length=4, min_length=4,
                          widget=forms.PasswordInput(render_value=False, attrs={"inputmode": "numeric",
                                                                                "autocomplete": "off"}))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class PaperForm(forms.Form):
    municipality = forms.CharField(label="転出地の市区町村コード（6桁）", max_length=6,
                                   widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}))
    resident_code = forms.CharField(label="住民票コード（転出証明書の11桁）", max_length=20,
                                    widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}))
    birth_date = WarekiDateField(label="生年月日")  # 和暦 or 西暦, as every date of the office's screens [90]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        kwargs.setdefault("prefix", "paper")
        super().__init__(*args, **kwargs)

    def clean_resident_code(self):
        from juki.core.checkdigits import is_valid_resident_code

        code = "".join(ch for ch in self.cleaned_data["resident_code"] if ch.isdigit())
        if not is_valid_resident_code(code):
            raise forms.ValidationError("住民票コードが正しくありません（転出証明書の11桁）。")
        return code

    def clean_municipality(self):
        from juki.core.checkdigits import is_valid_local_government_code

        code = self.cleaned_data["municipality"].strip()
        if not is_valid_local_government_code(code):
            raise forms.ValidationError("市区町村コードが正しくありません（6桁）。")
        return code


@counter_view("change.move_in")
def special_move_in(request):
    """特例転入 [610]: the card and its PIN (the IC chip's stand-in); the 転出地 is asked through the CS.
    Or an ordinary 転入's paper 転出証明書, looked up by its 住民票コード and 生年月日 at its 転出地."""
    paper_mode = request.method == "POST" and request.POST.get("mode") == "paper"
    form = TransferForm(request.POST if request.method == "POST" and not paper_mode else None)
    paper = PaperForm(request.POST if paper_mode else None)
    try:
        if form.is_bound and form.is_valid():
            asked = messages.request_transfer(_cs(), actor=request.actor,
                                              card_number=form.cleaned_data["card_number"], pin=form.cleaned_data["pin"])
            return redirect("jukinet:transfer", group=asked.group)
        if paper.is_bound and paper.is_valid():
            asked = messages.request_transfer_by_paper(_cs(), actor=request.actor,
                                                       municipality=paper.cleaned_data["municipality"],
                                                       resident_code=paper.cleaned_data["resident_code"],
                                                       birth_date=paper.cleaned_data["birth_date"])
            return redirect("jukinet:transfer", group=asked.group)
    except DomainError as exc:  # shown at the form: the resident enters the PIN again, the clerk the code
        target = paper if paper_mode else form
        target.add_error(exc.field if exc.field in target.fields else ("pin" if exc.code in PIN_REFUSALS else None),
                         exc.message)
    return render(request, "jukinet/special_move_in.html", {"form": form, "paper": paper, "help": "jukinet",
                                                            "title": "特例転入（個人番号カードによる転入）"})


PIN_REFUSALS = (ErrorCode.CARD_PIN_WRONG, ErrorCode.CARD_LOCKED)


@counter_view("change.move_in")
def transfer(request, group: str):
    """The request's state; the screen asks again every second until the 転出地 has answered."""
    result = operations.transfer_status(actor=request.actor, cs=_cs(), group=group)
    template = "jukinet/_transfer.html" if request.headers.get("HX-Request") else "jukinet/transfer.html"
    return render(request, template, {**result, "group": group, "title": "特例転入（転出証明書情報）", "help": "jukinet",
                                      "origin": name_of(result["asked"].from_municipality) or ""})


@counter_view(Perm.JUKINET_OPERATE)
def received(request):
    kind = request.GET.get("kind") or "move_in_notice"
    if request.method == "POST":
        operations.close_received(actor=request.actor, received_id=int(request.POST.get("received") or 0),
                                  note=request.POST.get("note", ""))
        return redirect(f"{request.path}?kind={kind}")
    open_only = request.GET.get("all") != "1"
    rows = operations.received(actor=request.actor, kind=kind, open_only=open_only)
    for r in rows:
        r["sender"] = "法務省" if r["row"].sender == "moj" else name_of(r["row"].sender) or r["row"].sender
    return render(request, "jukinet/received.html", {
        "rows": rows, "kind": kind, "kinds": operations.RECEIVED_KINDS, "kind_label": operations.RECEIVED_KINDS[kind],
        "open_only": open_only, **_tabs("received", "他の市区町村からの通知")})


@counter_view(Perm.PERSON_VIEW)
def notice_missing(request):
    """転入通知未着者一覧 [710]: 転出 whose 転入通知 has not come within the days chosen."""
    try:
        days = max(0, min(365, int(request.GET.get("days") or 14)))
    except ValueError:
        days = 14
    rows = selectors.move_in_notice_missing(actor=request.actor, planned_before=clock.today() - dt.timedelta(days=days))
    return render(request, "jukinet/notice_missing.html", {"rows": rows, "days": days, "title": "転入通知未着者一覧",
                                                           "help": "jukinet"})


@counter_view(Perm.PERSON_VIEW)
def notice_inquiry(request, person_id: int):
    """One person's 転入通知未着照会書 (PDF), a print in the log."""
    from django.http import Http404

    from .inquiry import inquiry_pdf

    rows = selectors.move_in_notice_missing(actor=request.actor, planned_before=clock.today(), person_id=person_id,
                                            function="print.notice_inquiry")
    if not rows or rows[0]["protected"]:
        raise Http404
    return _pdf(inquiry_pdf(rows[0], city=selectors.municipality_name(), today=clock.today()), "notice-inquiry")


def _pdf(pdf: bytes, name: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}.pdf"'
    response["Cache-Control"] = "no-store"
    return response


IMMIGRATION_LABELS = {"family_name": "氏名（氏）", "given_name": "氏名（名）", "nationality": "国籍・地域",
                      "residence_status": "在留資格", "period_of_stay": "在留期間", "stay_expires_on": "在留期間の満了の日",
                      "residence_card_number": "在留カード等番号"}


@counter_view(Perm.JUKINET_OPERATE)
def immigration(request, received_id: int):
    """法務省通知の確認 [960]: the notice beside the person's 住民票; the clerk applies it as their change."""
    if request.method == "POST":
        change_id = operations.immigration_apply(actor=request.actor, received_id=received_id)
        return redirect("counter:change_done", change_id=change_id)
    result = operations.immigration_check(actor=request.actor, received_id=received_id)
    shown = (lambda k, v: western(v) if k == "stay_expires_on" else v)  # noqa: E731 - 満了日 in 西暦 [90]
    rows = [(IMMIGRATION_LABELS[k], shown(k, result["current"].get(k) or ""), shown(k, v))
            for k, v in result["changes"].items()]
    return render(request, "jukinet/immigration.html", {**result, "rows": rows, "labels": IMMIGRATION_LABELS,
                                                        **_tabs("received", "法務省通知の確認")})


WIDE_AREA_ITEMS = [("head_and_relationship", "世帯主の氏名・続柄"), ("resident_code", "住民票コード"),
                   ("my_number", "個人番号")]


class WideAreaForm(TransferForm):
    household = forms.ChoiceField(label="請求の範囲", choices=[("0", "本人のみ"), ("1", "世帯全員")], initial="0",
                                  widget=forms.RadioSelect)
    items = forms.MultipleChoiceField(label="記載する事項（請求があるときだけ）", choices=WIDE_AREA_ITEMS, required=False,
                                      widget=forms.CheckboxSelectMultiple)


@counter_view(Perm.CERTIFICATE_ISSUE)
def wide_area(request):
    """広域交付 (住基法第12条の4): a resident of another city asks here for their 住民票の写し, showing their
    個人番号カード; the 住所地 is asked through the CS and answers exactly the items the law allows."""
    form = WideAreaForm(request.POST if request.method == "POST" else None)
    if not request.actor.can(Perm.MY_NUMBER_VIEW):  # the 個人番号 is offered to those who may print it
        form.fields["items"].choices = [c for c in WIDE_AREA_ITEMS if c[0] != "my_number"]
    if form.is_bound and form.is_valid():
        try:
            asked = messages.request_wide_area(_cs(), actor=request.actor,
                                               card_number=form.cleaned_data["card_number"], pin=form.cleaned_data["pin"],
                                               household=form.cleaned_data["household"] == "1",
                                               items=form.cleaned_data["items"])
        except DomainError as exc:
            form.add_error("pin" if exc.code in PIN_REFUSALS else None, exc.message)
        else:
            return redirect("jukinet:wide_area_status", group=asked.group)
    return render(request, "jukinet/wide_area.html", {"form": form, "title": "広域交付（住民票の写し）", "help": "jukinet"})


@counter_view(Perm.CERTIFICATE_ISSUE)
def wide_area_status(request, group: str):
    if request.method == "POST":
        number, pdf = operations.wide_area_print(actor=request.actor, group=group,
                                                 requester_name=request.POST.get("requester_name", ""))
        return _pdf(pdf, number)
    result = operations.wide_area_status(actor=request.actor, cs=_cs(), group=group)
    template = "jukinet/_wide_area_status.html" if request.headers.get("HX-Request") else "jukinet/wide_area_status.html"
    labels = dict(WIDE_AREA_ITEMS)
    return render(request, template, {**result, "group": group, "title": "広域交付（住所地からの回答）", "help": "jukinet",
                                      "address_city": name_of(result["asked"].to_municipality) or "",
                                      "item_labels": [labels[i] for i in result["asked"].items if i in labels]})
