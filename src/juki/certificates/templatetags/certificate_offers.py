"""`{% certificate_offers change %}` on the change-done screen: the forms that follow this change in
the flow — the 転出証明書 after a domestic 転出 [660], a 住民票コード(変更・修正)通知票 for each person
whose code the change recorded [890] — each issued in one click (the change checked the requester)."""
from django import template

from juki.accounts.permissions import Perm
from juki.certificates.code_notice import TITLES
from juki.register.reasons import Operation, Reason

register = template.Library()


@register.inclusion_tag("certificates/_change_offers.html", takes_context=True)
def certificate_offers(context, change: dict) -> dict:
    request = context["request"]
    if not request.user.has_juki_perm(Perm.CERTIFICATE_ISSUE):
        return {}
    movers = [p for p in change["persons"] if p["reason"] == Reason.DOMESTIC_MOVE_OUT]
    move_out = change["operation"] == Operation.MOVE_OUT and bool(movers)
    before = change.get("before") or {}
    codes = []
    for p in change["persons"]:
        old = (before.get(p["person_id"]) or {}).get("resident_code") or ""
        if p.get("resident_code") and p["resident_code"] != old:
            kind = ("change" if p["reason"] == Reason.RESIDENT_CODE_CHANGE_REQUEST else "correction" if old else "assign")
            codes.append({"person_id": p["person_id"], "title": TITLES[kind],
                          "name": f"{p['name']['family_name']}　{p['name']['given_name']}".strip()})
    actor = getattr(request, "actor", None)
    return {
        "change": change, "move_out": move_out, "code_persons": codes, "csrf_token": context.get("csrf_token"),
        "move_out_needs_right": move_out and any(p["has_my_number"] for p in movers)
        and not (actor is not None and actor.can(Perm.MY_NUMBER_VIEW)),
    }
