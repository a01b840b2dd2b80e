"""The second city's clerk, for the two-city tests: run as `python tests/city_driver.py STEP JSON` in that
city's environment (its own register database; its CS and its 住基ネット連携 running as processes), it
does what the counter's screens do, through the same services, and prints the outcome as JSON."""
from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time


def _setup():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "juki.conf.dev")
    import django

    django.setup()


def clerk():
    from juki.accounts.models import Staff, Terminal
    from juki.audit.gate import Actor

    return Actor(user=Staff.objects.get(username="demo-clerk"), terminal=Terminal.objects.get(code="DEMO-01"))


def request_transfer(args: dict) -> dict:
    """特例転入's first half: the card and PIN, the request; waits for the answer the city's 住基ネット連携
    process takes from the CS, as the screen polls for it."""
    from juki.jukinet import connection, messages
    from juki.jukinet.models import TransferRequest

    request = messages.request_transfer(connection.cs_client(), actor=clerk(), card_number=args["card_number"],
                                        pin=args["pin"])
    deadline = time.monotonic() + args.get("timeout", 30)
    while time.monotonic() < deadline:
        request.refresh_from_db()
        if request.state != TransferRequest.State.REQUESTED:
            break
        time.sleep(0.1)
    return {"group": request.group, "state": request.state, "from": request.from_municipality}


def request_by_paper(args: dict) -> dict:
    """An ordinary 転入's paper 転出証明書 looked up at its 転出地, waiting for the answer as the screen does."""
    from juki.jukinet import connection, messages
    from juki.jukinet.models import TransferRequest
    from juki.register import selectors

    actor = clerk()
    request = messages.request_transfer_by_paper(connection.cs_client(), actor=actor, municipality=args["municipality"],
                                                 resident_code=args["resident_code"],
                                                 birth_date=dt.date.fromisoformat(args["birth_date"]))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        request.refresh_from_db()
        if request.state != TransferRequest.State.REQUESTED:
            break
        time.sleep(0.1)
    names = [c["name"] for c in selectors.transfer_certificates(actor=actor, group=request.group)] \
        if request.state == TransferRequest.State.ANSWERED else []
    return {"state": request.state, "names": names}


def unsent_events(args: dict) -> dict:
    """How many of the outbox's events the 住基ネット連携 has not handed to its CS yet (waiting up to
    `timeout` seconds for at least `at_least`)."""
    from juki.audit.gate import Actor
    from juki.register.services import outbox

    deadline = time.monotonic() + args.get("timeout", 0)
    while True:
        events = outbox.outbox_read(actor=Actor.system_actor("jukinet"), destination="jukinet", limit=100)["events"]
        if len(events) >= args.get("at_least", 0) or time.monotonic() > deadline:
            return {"events": len(events)}
        time.sleep(0.2)


def transfer_state(args: dict) -> dict:
    """The request's state, once it is `until` (or the timeout): one process waits, not one per look."""
    from juki.jukinet.models import TransferRequest

    deadline = time.monotonic() + args.get("timeout", 0)
    while True:
        state = TransferRequest.objects.get(group=args["group"]).state
        if state == args.get("until", state) or time.monotonic() > deadline:
            return {"state": state}
        time.sleep(0.2)


def special_move_in(args: dict) -> dict:
    """特例転入's second half: the 転入 entered from the 転出証明書情報 received (pre-filled, the clerk adds
    the new address), as the counter's form sends it."""
    from juki.register import selectors
    from juki.register.services import changes
    from juki.register.services.people import Address

    actor = clerk()
    certificates = selectors.transfer_certificates(actor=actor, group=args["group"])
    persons = [{"transfer_certificate": c["id"], "family_name": c["family_name"], "given_name": c["given_name"],
                "family_name_kana": c["family_name_kana"], "given_name_kana": c["given_name_kana"],
                "birth_date": dt.date.fromisoformat(c["birth_date"]), "sex": int(c["sex"]),
                "relationship": c["relationship"], "domicile": c["domicile"], "domicile_head": c["domicile_head"]}
               for c in certificates]
    result = changes.move_in(
        actor=actor, event_date=dt.date.fromisoformat(args["event_date"]), notified_on=dt.date.today(),
        origin="domestic", persons=persons, destination=changes.NEW,
        address=Address(args["town_code"], args["banchi"]), previous_address=certificates[0]["address"],
        previous_municipality_code=certificates[0]["from_municipality"])
    return {"change_id": result.change_id, "persons": [p["id"] for p in result.persons],
            "certificates": [{k: c[k] for k in ("resident_code", "family_name", "given_name", "address",
                                                "head_name", "has_my_number")} for c in certificates]}


def persons(args: dict) -> dict:
    """The persons' current 住民票 as the register holds them (by 住民票コード)."""
    from juki.audit import gate
    from juki.audit.gate import Actor
    from juki.register.models import Person

    with gate.open(Actor.system_actor("jukinet"), function="test.driver", perm="identity.link"):
        rows = Person.objects.filter(current__resident_code__in=args["codes"]).values_list(
            "current__resident_code", "status", "current__reason", "current__previous_municipality_code",
            "current__my_number_digest")
        return {code: {"status": status, "reason": reason, "previous_municipality_code": previous,
                       "has_my_number": bool(digest)} for code, status, reason, previous, digest in rows}


def family_leaves(args: dict) -> dict:
    """A family of this city moves out by 特例転出, the head holding a 個人番号カード with `pin`: the card
    issued through the CS once the family's 本人確認情報 is there, the 転出証明書情報 held by the CS."""
    from juki.jukinet import connection
    from juki.register.models import Town
    from juki.register.services import changes
    from juki.register.services.people import Address
    from juki.register.services.seed import my_number_for
    from juki.register.services.writer import PersonRef

    actor = clerk()
    town = Town.objects.order_by("code").first()
    base = {"family_name": "松尾", "family_name_kana": "マツオ", "domicile": "福岡県福岡市東区箱崎一丁目1番",
            "domicile_head": "松尾　健一"}
    members = [{**base, "given_name": "健一", "given_name_kana": "ケンイチ", "birth_date": dt.date(1980, 5, 5), "sex": 1,
                "relationship": "世帯主", "my_number": my_number_for(9_000_001, 41)},
               {**base, "given_name": "由香", "given_name_kana": "ユカ", "birth_date": dt.date(1983, 3, 3), "sex": 2,
                "relationship": "妻", "my_number": my_number_for(9_000_002, 41)}]
    moved_in = changes.move_in(actor=actor, event_date=dt.date.today() - dt.timedelta(days=60),
                               notified_on=dt.date.today() - dt.timedelta(days=60), origin="domestic", persons=members,
                               destination=changes.NEW, address=Address(town.code, "5番"),
                               previous_address="東京都千代田区千代田1番")
    from juki.audit import gate
    from juki.audit.gate import Actor
    from juki.register.models import Person

    with gate.open(Actor.system_actor("jukinet"), function="test.driver", perm="identity.link"):
        ids = [p["id"] for p in moved_in.persons]
        head_code = Person.objects.get(pk=ids[0]).current.resident_code
    cs = connection.cs_client()
    deadline = time.monotonic() + 30
    while cs.call("POST", f"/cards/{head_code}/issue", {"pin": args["pin"]})[0] != 200:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    card = cs.call("GET", f"/cards/{head_code}")[1]["card_number"]
    with gate.open(Actor.system_actor("jukinet"), function="test.driver", perm="identity.link"):
        refs = [PersonRef(pid, Person.objects.get(pk=pid).latest_seq) for pid in ids]
    changes.move_out(actor=actor, event_date=dt.date.today(), notified_on=dt.date.today(), persons=refs,
                     destination_address=args["destination"], special=True)
    while cs.call("GET", "/mail/status")[1]["held_transfers"] < 2:
        assert time.monotonic() < deadline + 30
        time.sleep(0.2)
    return {"card_number": card, "resident_code": head_code}


def wide_area(args: dict) -> dict:
    """広域交付 at this city's counter: the request for a resident of another city, the answer the link
    takes from the CS, and, when answered, the 住民票の写し issued here (its PDF, base64)."""
    import base64

    from juki.jukinet import connection, messages, operations
    from juki.jukinet.models import WideAreaRequest

    actor = clerk()
    request = messages.request_wide_area(connection.cs_client(), actor=actor, card_number=args["card_number"],
                                         pin=args["pin"], household=args.get("household", False), items=args["items"])
    deadline = time.monotonic() + args.get("timeout", 30)
    while time.monotonic() < deadline:
        request.refresh_from_db()
        if request.state != WideAreaRequest.State.REQUESTED:
            break
        time.sleep(0.1)
    out = {"state": request.state, "reason": request.reason}
    if request.state == WideAreaRequest.State.ANSWERED:
        number, pdf = operations.wide_area_print(actor=actor, group=request.group, requester_name="本人")
        out.update(number=number, pdf=base64.b64encode(pdf).decode())
    from juki.audit.models import AccessLog

    out["log"] = list(AccessLog.objects.filter(function__startswith="jukinet.").values("function", "criteria"))
    return out


def resident_with_card(args: dict) -> dict:
    """A resident of this city holding a 個人番号カード with `pin` (for another city's 広域交付)."""
    from juki.audit import gate
    from juki.audit.gate import Actor
    from juki.jukinet import connection
    from juki.register.models import Person

    with gate.open(Actor.system_actor("jukinet"), function="test.driver", perm="identity.link"):
        person = Person.objects.filter(status="resident").select_related("current").order_by("id").first()
        code, name = person.current.resident_code, f"{person.current.family_name}　{person.current.given_name}"
    cs = connection.cs_client()
    status, card = cs.call("POST", f"/cards/{code}/issue", {"pin": args["pin"]})
    assert status == 200, card
    return {"card_number": card["card_number"], "name": name}


def town(args: dict) -> dict:
    from juki.register.models import Town

    first = Town.objects.select_related("ward").order_by("code").first()
    return {"code": first.code, "name": f"{first.ward.name}{first.name}"}


def moves(args: dict) -> dict:
    """`count` households of this city move within it, one 転居 each (a clerk's day at the counter, for the
    庁内連携 tests): the banchi each moved to, by the household's 世帯番号, and when each committed."""
    from django.db.models import Count

    from juki.audit import gate
    from juki.audit.gate import Actor
    from juki.register.models import Household, Person, Town
    from juki.register.services import changes
    from juki.register.services.people import Address
    from juki.register.services.writer import PersonRef

    actor = clerk()
    town = Town.objects.order_by("code").first()
    with gate.open(Actor.system_actor("jukinet"), function="test.driver", perm="identity.link"):
        households = list(Household.objects.annotate(n=Count("people")).filter(n__gt=0).order_by("id")
                          .values_list("id", "number")[: args["count"]])
        members = {hid: list(Person.objects.filter(household_id=hid, status="resident").values_list("id", "latest_seq"))
                   for hid, _ in households}
    out = []
    for i, (hid, number) in enumerate(households):
        banchi = f"{args.get('base', 100) + i}番"
        changes.move_within_city(actor=actor, event_date=dt.date.today(), notified_on=dt.date.today(),
                                 persons=[PersonRef(pid, seq) for pid, seq in members[hid]],
                                 address=Address(town.code, banchi))
        out.append({"household": number, "banchi": banchi, "persons": len(members[hid]), "at": time.time()})
    return {"moves": out}


if __name__ == "__main__":
    _setup()
    step, payload = sys.argv[1], json.loads(sys.argv[2] if len(sys.argv) > 2 else "{}")
    print(json.dumps(globals()[step](payload), ensure_ascii=False, default=str))
