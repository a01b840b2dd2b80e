"""The kiosk client's screens, in the order a resident meets them:

start → card (「カードを入れてください」) → pin → menu (which certificate) → options → members (世帯の一部
only) → confirm (the fee) → pay → issue → done (the PDF, おつり) → finish → end (「カードをお取りください」).
A second 「発行する」 while the first still issues is shown issuing (「発行しています」) until done.

Thin callers of `services`; the state between screens is `access`'s. Every screen needs the device
credential (`access.kiosk_view`); the setup screen is where the installer enrols the device once.
"""
from __future__ import annotations

import base64
import secrets
from dataclasses import asdict

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from juki.audit import events
from juki.cards.services import CardHolder
from juki.certificates import responses
from juki.certificates.models import Channel
from juki.core.errors import DomainError

from . import access, devices, services
from .access import kiosk_view
from .services import COPY, MEMBERS, SEAL, Choice

GET_POST = require_http_methods(["GET", "POST"])


def _holder(request) -> CardHolder:
    return CardHolder(**request.kiosk["holder"])


def _page(request, template: str, title: str, step: int, **context):
    return render(request, f"kiosk/{template}", {"title": title, "step": step, "kiosk": request.kiosk,
                                                 "idle_seconds": services.idle_seconds(), **context},
                  status=400 if context.get("error") else 200)


# --- enrolment of the device -------------------------------------------------------------------------


@GET_POST
def setup(request):
    """The installer enrols this browser as a kiosk: code + secret in a form (never in the URL)."""
    error = ""
    if request.method == "POST":
        code, secret = request.POST.get("code", "").strip().upper(), request.POST.get("secret", "").strip()
        try:
            device = devices.device_enrol(code, secret, address=request.META.get("REMOTE_ADDR", ""))
        except devices.SetupThrottled as exc:
            return render(request, "kiosk/setup.html", {"title": "自動交付機の設定", "error": exc.message,
                                                        "error_code": exc.code}, status=exc.status)
        except DomainError:
            error = devices.SETUP_REFUSED
        else:
            events.record(devices.device_actor(device), function="auth.kiosk_enrol", criteria={"code": device.code})
            response = redirect("kiosk:start")
            access.set_device_cookie(response, device.code, secret)
            return response
    return render(request, "kiosk/setup.html", {"title": "自動交付機の設定", "error": error},
                  status=400 if error else 200)


# --- the resident's steps ------------------------------------------------------------------------------


@require_GET
@kiosk_view()
def start(request):
    data = request.kiosk
    if data is not None:  # a session left open (the back button, a reload): end it, give back the money
        return access.end(request, returned=access.unspent(data))
    return render(request, "kiosk/start.html", {"title": "証明書自動交付機", "step": 0, "device": request.kiosk_device,
                                                "fees": services.fees()})


@GET_POST
@kiosk_view()
def card(request):
    if request.kiosk is None:
        request.kiosk = access.begin(request)
    error = ""
    if request.method == "POST":
        number = services.normalize_card_number(request.POST.get("number", ""))
        if number:
            request.kiosk.update(card=number, holder=None)
            access.save(request, request.kiosk)
            return redirect("kiosk:pin")
        error = "カード番号を入力してください。"
    return _page(request, "card.html", "カードを入れてください", 1, error=error)


@GET_POST
@kiosk_view(needs=("card",))
def pin(request):
    error = ""
    if request.method == "POST":
        try:
            holder = services.authenticate(actor=request.kiosk_actor, number=request.kiosk["card"],
                                           pin=request.POST.get("pin", ""))
        except services.Refused:
            raise
        except DomainError as exc:  # a wrong PIN and an unknown card read the same (services.authenticate)
            error = exc.message
        else:
            request.kiosk["holder"] = asdict(holder)
            access.save(request, request.kiosk)
            return redirect("kiosk:menu")
    return _page(request, "pin.html", "暗証番号を入力してください", 2, error=error)


@GET_POST
@kiosk_view(needs=("holder",))
def menu(request):
    holder = _holder(request)
    error = ""
    if request.method == "POST":
        form = request.POST.get("form", "")
        if form not in services.FORMS:
            error = "証明書の種類を選んでください。"
        else:
            services.precheck(actor=request.kiosk_actor, holder=holder, form=form)
            request.kiosk.update(form=form, choice=Choice(form=SEAL).as_dict() if form == SEAL else None, draft=None)
            access.save(request, request.kiosk)
            return redirect("kiosk:confirm" if form == SEAL else "kiosk:options")
    return _page(request, "menu.html", "証明書の種類を選んでください", 3, error=error,
                 seal=bool(holder.seal_registration_id), fees=services.fees())


def _flag(request, name: str) -> bool:
    return request.POST.get(name) == "yes"


@GET_POST
@kiosk_view(needs=("holder", "form"))
def options(request):
    if request.kiosk["form"] != COPY:
        return redirect("kiosk:menu")
    error = ""
    draft = request.kiosk.get("draft") or Choice(form=COPY).as_dict()
    if request.method == "POST":
        scope = request.POST.get("scope", "")
        draft = {**draft, "scope": scope, "head_and_relationship": _flag(request, "head"),
                 "domicile": _flag(request, "domicile")}
        if scope not in services.SCOPES:
            error = "記載する方を選んでください。"
        else:
            if scope != MEMBERS:
                draft["person_ids"] = []
            request.kiosk["draft"] = draft
            if scope == MEMBERS:
                access.save(request, request.kiosk)
                return redirect("kiosk:members")
            request.kiosk["choice"] = draft
            access.save(request, request.kiosk)
            return redirect("kiosk:confirm")
    return _page(request, "options.html", "住民票の写しの内容を選んでください", 4, error=error, draft=draft,
                 scopes=services.SCOPES)


@GET_POST
@kiosk_view(needs=("holder", "draft"))
def members(request):
    holder = _holder(request)
    found = services.members(actor=request.kiosk_actor, holder=holder)
    others = {m["person_id"] for m in found if not m["holder"]}
    draft = request.kiosk["draft"]
    error = ""
    if request.method == "POST":
        chosen = [int(p) for p in request.POST.getlist("person") if p.isdigit() and int(p) in others]
        draft = {**draft, "person_ids": chosen}
        if not chosen:
            error = "ご本人のほかに記載する方を、1人以上選んでください。"
        else:
            request.kiosk.update(draft=draft, choice=draft)
            access.save(request, request.kiosk)
            return redirect("kiosk:confirm")
    return _page(request, "members.html", "記載する方を選んでください", 4, error=error, members=found,
                 chosen=set(draft.get("person_ids") or ()))


@GET_POST
@kiosk_view(needs=("holder", "choice"))
def confirm(request):
    """The choice and its fee; 通数 is set here with −/＋ (a POST of `copies`: the new count)."""
    choice = Choice.from_dict(request.kiosk["choice"])
    error = ""
    if request.method == "POST":
        raw = request.POST.get("copies", "")
        try:
            copies = services.require_copies(int(raw) if raw.isdigit() else 0)
        except DomainError as exc:
            error = exc.message
        else:
            request.kiosk["choice"] = {**request.kiosk["choice"], "copies": copies}
            access.save(request, request.kiosk)
            return redirect("kiosk:confirm")
    if "payment" not in request.kiosk:
        _payment_token(request)
        access.save(request, request.kiosk)
    back = "kiosk:menu" if choice.form == SEAL else "kiosk:members" if choice.scope == MEMBERS else "kiosk:options"
    return _page(request, "confirm.html", "内容を確認してください", 5, lines=choice.lines(), error=error,
                 fee=services.fee(choice.form), due=services.due(choice), copies=choice.copies,
                 max_copies=services.MAX_COPIES, back=back)


def _payment_token(request) -> str:
    """The token the issue claims once (KioskPayment), set before any money goes in: no double print."""
    return request.kiosk.setdefault("payment", secrets.token_hex(16))


def _payment(request) -> dict:
    due = services.due(Choice.from_dict(request.kiosk["choice"]))
    paid = request.kiosk.get("paid", 0)
    return {"due": due, "paid": paid, "short": max(0, due - paid),
            "change": services.change_due(paid=paid, due=due), "enough": paid >= due,
            "coins": [c for c in services.DENOMINATIONS if c < 1000], "notes": [c for c in services.DENOMINATIONS if c >= 1000]}


@GET_POST
@kiosk_view(needs=("holder", "choice"))
def pay(request):
    error = ""
    if request.method == "POST":
        money = _payment(request)
        coin = request.POST.get("coin", "")
        _payment_token(request)
        try:
            request.kiosk["paid"] = services.insert(paid=money["paid"], coin=int(coin) if coin.isdigit() else 0,
                                                    due=money["due"])
        except DomainError as exc:
            error = exc.message
        else:
            access.save(request, request.kiosk)
            return redirect("kiosk:pay")
    return _page(request, "pay.html", "料金を入れてください", 6, error=error, money=_payment(request))


@require_POST
@kiosk_view(needs=("holder", "choice"))
def issue(request):
    choice = Choice.from_dict(request.kiosk["choice"])
    paid = request.kiosk.get("paid", 0)
    due = services.due(choice)
    token = request.kiosk.get("payment")
    if not token:
        return redirect("kiosk:confirm")
    try:
        results = services.issue_paid(actor=request.kiosk_actor, device=request.kiosk_device, token=token,
                                     holder=_holder(request), choice=choice, paid=paid)
    except services.AlreadyClaimed:
        # A double tap: the first request prints and saves the certificate into the session; this
        # one must not overwrite it, nor end the session (the money is not coming back).
        access.write_nothing(request)
        return redirect("kiosk:issuing")
    except services.Refused:
        raise  # the money is returned; the claim stays without an issue number
    except DomainError as exc:  # raised before the claim (e.g. not enough money): nothing taken
        return _page(request, "pay.html", "料金を入れてください", 6, error=exc.message, money=_payment(request))
    # From here on the session holds only what the resident takes away: the certificates and the change.
    request.kiosk = {"seen": request.kiosk["seen"], "paid": paid, "issued": {
        "form": choice.form, "fee": due, "change": services.change_due(paid=paid, due=due),
        "person_ids": list(results[0].issue.person_ids),
        "copies": [{"number": r.number, "pdf": base64.b64encode(r.pdf).decode("ascii")} for r in results]}}
    access.save(request, request.kiosk)
    return redirect("kiosk:done")


@require_GET
@kiosk_view(touch=False)
def issuing(request):
    """「発行しています」 while the first request of a double tap issues; it refreshes until the
    session holds the certificate, then shows it. Writes nothing into the session meanwhile."""
    data = request.kiosk
    if data is None:  # the first request refused and ended the session
        return redirect("kiosk:end")
    if data.get("issued"):
        return redirect("kiosk:done")
    token = data.get("payment") or ""
    number = services.claim_number(token) if token else None
    if number is None:  # nothing claimed: nothing is being issued
        return redirect("kiosk:pay")
    if services.issue_pending(token):
        return render(request, "kiosk/issuing.html", {"title": services.ISSUING, "step": 7})
    if number:
        return access.end(request, services.ISSUE_UNCONFIRMED)
    return access.end(request, services.NOT_ISSUED, returned=data.get("paid", 0))


def _copy_index(request, issued: dict) -> int:
    """Which copy (`?copy=2`, 1-based) a request means; the first when absent or out of range."""
    raw = request.GET.get("copy", "")
    n = int(raw) if raw.isdigit() else 1
    return n - 1 if 1 <= n <= len(issued.get("copies") or ()) else 0


@require_GET
@kiosk_view(needs=("issued",), missing="kiosk:issuing")  # not yet: maybe another request is issuing
def done(request):
    issued = request.kiosk["issued"]
    copies = issued.get("copies") or []
    shown = _copy_index(request, issued)
    return _page(request, "done.html", "証明書を発行しました", 7, issued=issued, copies=copies,
                 shown=shown + 1, showing=copies[shown] if copies else None, form_label=services.FORMS[issued["form"]])


@xframe_options_sameorigin  # shown in the done screen's own <iframe>
@require_GET
@kiosk_view(needs=("issued",))
def pdf(request):
    issued = request.kiosk["issued"]
    index = _copy_index(request, issued)
    copies = issued.get("copies") or []
    copy = copies[index] if copies else {}
    if not copy.get("pdf"):  # taken away already: the session no longer holds it
        return HttpResponse(services.TAKEN, status=410, content_type="text/plain; charset=utf-8")
    inline = request.GET.get("download") != "1"
    # Shown on the done screen or taken away: each copy is on the record, as at the counter.
    response = responses.issued_pdf(request.kiosk_actor, number=copy["number"], pdf=base64.b64decode(copy["pdf"]),
                                    person_ids=issued["person_ids"], inline=inline, channel=Channel.KIOSK)
    if not inline:
        access.take_certificate(request, index)  # delivered: out of the session table at once
    return response


@require_POST
@kiosk_view(needs=("issued",))
def finish(request):
    return access.end(request, issued=True)


@require_POST
@kiosk_view()
def cancel(request):
    data = request.kiosk or {}
    return access.end(request, services.CANCELLED, returned=access.unspent(data))


@require_GET
@kiosk_view()
def timeout(request):
    """Where the page's idle timer sends the browser; the server's own check is in `kiosk_view`."""
    data = request.kiosk
    if data is None:
        return redirect("kiosk:start")
    return access.end(request, services.TIMED_OUT, returned=access.unspent(data))


@require_GET
@kiosk_view()
def end(request):
    ended = request.session.pop(access.ENDED, None)
    if ended is None:
        return redirect("kiosk:start")
    return render(request, "kiosk/end.html", {"title": "カードをお取りください", "step": 0, "ended": ended})
