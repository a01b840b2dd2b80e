"""The city card as 印鑑登録証: a lost card ends the registration it served and is never linked
again; a card that becomes usable again serves the holder's registered seal; 支援措置."""
import datetime as dt

import pytest

from juki.accounts.permissions import Perm
from juki.audit.gate import Actor
from juki.audit.models import AccessLog
from juki.cards import services
from juki.cards.models import CardState
from juki.certificates.entitlement import Request
from juki.certificates.models import CertificateIssue
from juki.core.errors import AccessDenied, ErrorCode
from juki.seals import services as seals
from juki.seals.models import EndReason, SealState
from tests.conftest import api_for
from tests.helpers import log_rows as rows
from tests.helpers import refused
from tests.seals.helpers import seal_png

from .conftest import PIN, PIN2, card_row

BORN = dt.date(1985, 4, 1)  # 青木 太郎, the head of `fam`


def register(actor, person_id, **over):
    values = {"method": "document", "image": seal_png(15), "seal_text": "青木", "documents": ["運転免許証"],
              "seal_checked": True}
    values.update(over)
    return seals.seal_register(actor=actor, person_id=person_id, **values)


def certify(actor, number, **over):
    values = {"card_number": number, "stated_birth_date": BORN, "request": Request(kind="agent", requester_name="拾得　者")}
    values.update(over)
    return seals.seal_certificate_issue(actor=actor, **values)


def live_seal(actor, person_id):
    return seals.seal_get(actor=actor, person_id=person_id)["live"]


# --- 印鑑登録証の亡失 ---------------------------------------------------------------------------------


def test_the_lost_card_ends_with_the_registration_and_never_serves_the_next(actor, fam, card):
    reg = register(actor, fam["head"])
    ended = seals.seal_report_lost(actor=actor, person_id=fam["head"], what="card", documents=["運転免許証"])
    assert ended["state"] == SealState.ABOLISHED and ended["end_reason"] == EndReason.LOST
    assert ended["cards_abolished"] == [card["card_id"]]
    lost = card_row(card["card_id"])
    assert (lost.state, lost.end_reason, lost.seal_registration_id) == (CardState.ABOLISHED, "lost", reg["id"])
    (log,) = rows("card.lost_abolish")
    assert log.criteria == {"card_id": card["card_id"], "seal_registration_id": reg["id"]}
    assert rows("seal.lost")[-1].criteria["cards_abolished"] == 1
    # A seal registered later does not make the lost card its 印鑑登録証, and the card certifies nothing.
    register(actor, fam["head"], image=seal_png(18))
    assert card_row(card["card_id"]).seal_registration_id == reg["id"]
    refused(ErrorCode.CARD_STATE, certify, actor=actor, number=card["number"])
    assert not CertificateIssue.objects.exists()
    # The resident is issued a new card, which is the new registration's 印鑑登録証.
    new = services.card_issue(actor=actor, person_id=fam["head"], pin=PIN2)
    assert new["seal_registration_id"] == live_seal(actor, fam["head"])["id"]


def test_the_loss_of_the_seal_leaves_the_card(actor, fam, card):
    register(actor, fam["head"])
    seals.seal_report_lost(actor=actor, person_id=fam["head"], what="seal", documents=["運転免許証"])
    assert card_row(card["card_id"]).state == CardState.ACTIVE and not rows("card.lost_abolish")


def test_a_reissue_for_loss_ends_the_registration_its_card_served(actor, fam, card):
    reg = register(actor, fam["head"])
    new = services.card_reissue(actor=actor, card_id=card["card_id"], pin=PIN2, document="運転免許証", reason="lost")
    assert new["seal_registration_id"] is None and new["seal_ended_id"] == reg["id"]
    assert live_seal(actor, fam["head"]) is None
    ended = seals.seal_get(actor=actor, person_id=fam["head"])["registrations"][0]
    assert ended["end_reason"] == EndReason.LOST and ended["events"][-1]["kind"] == "lost"
    assert "市民カードの紛失による再交付" in ended["events"][-1]["note"]
    (lost,) = rows("seal.lost")
    assert lost.criteria == {"registration_id": reg["id"], "by": "card.reissue"} and lost.user == actor.user
    assert rows("card.reissue")[-1].criteria["seal_ended"] is True
    # Neither the old card nor the new one certifies the ended registration.
    refused(ErrorCode.CARD_STATE, certify, actor=actor, number=card["number"])
    refused(ErrorCode.SEAL_STATE, certify, actor=actor, number=new["number"])


def test_a_card_abolished_as_lost_ends_the_registration(actor, fam, card):
    reg = register(actor, fam["head"])
    out = services.card_abolish(actor=actor, card_id=card["card_id"], reason="lost")
    assert out["seal_ended_id"] == reg["id"] and live_seal(actor, fam["head"]) is None
    # Returned (返納), the card was not lost: the registration stays for a new card.
    wife = services.card_issue(actor=actor, person_id=fam["wife"], pin=PIN)
    register(actor, fam["wife"], seal_text="花子", image=seal_png(12))
    assert services.card_abolish(actor=actor, card_id=wife["card_id"], reason="returned")["seal_ended_id"] is None
    assert live_seal(actor, fam["wife"])["state"] == SealState.REGISTERED


def test_a_reissue_for_loss_keeps_a_pending_application_and_a_damaged_card_carries_the_link(actor, fam, card):
    pending = register(actor, fam["head"], method="inquiry", documents=[])
    new = services.card_reissue(actor=actor, card_id=card["card_id"], pin=PIN2, document="旅券", reason="lost")
    assert new["seal_ended_id"] is None and new["seal_registration_id"] == pending["id"]
    seals.seal_inquiry_answer(actor=actor, person_id=fam["head"], documents=["旅券"])
    again = services.card_reissue(actor=actor, card_id=new["card_id"], pin=PIN, document="旅券", reason="damaged")
    assert again["seal_registration_id"] == pending["id"] and again["seal_ended_id"] is None
    assert certify(actor, again["number"]).number


def test_ending_a_registration_for_a_lost_card_needs_the_seal_right(fam, card, actor):
    register(actor, fam["head"])
    card_only = Actor.device("cards-only", frozenset({Perm.CARD_MANAGE}))
    with pytest.raises(AccessDenied) as exc:
        services.card_reissue(actor=card_only, card_id=card["card_id"], pin=PIN2, document="旅券", reason="lost")
    assert "印鑑登録の権限" in exc.value.message
    assert card_row(card["card_id"]).state == CardState.ACTIVE  # nothing written
    assert live_seal(actor, fam["head"])["state"] == SealState.REGISTERED
    assert rows("card.reissue")[-1].outcome == "permission_denied"


# --- a card usable again serves the registered seal ---------------------------------------------------


def test_a_card_suspended_at_registration_serves_the_seal_when_resumed(actor, fam, card):
    services.card_suspend(actor=actor, card_id=card["card_id"], reason="紛失の届出（電話）")
    reg = register(actor, fam["head"])
    assert card_row(card["card_id"]).seal_registration_id is None  # not linked while suspended
    out = services.card_resume(actor=actor, card_id=card["card_id"], document="運転免許証", note="自宅で発見")
    assert out["seal_registration_id"] == reg["id"] and out["seal_number"] == reg["number"]
    (link,) = rows("card.seal_link")
    assert link.criteria == {"card_id": card["card_id"], "seal_registration_id": reg["id"]}
    assert [h["kind"] for h in services.cards_for_person(actor=actor, person_id=fam["head"])["cards"][0]["history"]] \
        == ["issued", "suspended", "resumed", "seal_linked"]
    assert certify(actor, card["number"]).number
    # A damaged card reissued carries it on.
    new = services.card_reissue(actor=actor, card_id=card["card_id"], pin=PIN2, document="運転免許証", reason="damaged")
    assert new["seal_registration_id"] == reg["id"]


def test_unlock_and_reissue_link_the_registered_seal(actor, kiosk, fam, card):
    services.card_suspend(actor=actor, card_id=card["card_id"], reason="一時的に預かり")
    reg = register(actor, fam["head"])
    new = services.card_reissue(actor=actor, card_id=card["card_id"], pin=PIN2, document="旅券", reason="other")
    assert new["seal_registration_id"] == reg["id"]
    wife = services.card_issue(actor=actor, person_id=fam["wife"], pin=PIN)
    services.card_suspend(actor=actor, card_id=wife["card_id"], reason="一時的に預かり")
    wife_reg = register(actor, fam["wife"], seal_text="花子", image=seal_png(12))
    services.card_resume(actor=actor, card_id=wife["card_id"])
    assert card_row(wife["card_id"]).seal_registration_id == wife_reg["id"]
    out = services.card_unlock(actor=actor, card_id=wife["card_id"], pin="3791", document="旅券")  # already linked
    assert out["seal_registration_id"] == wife_reg["id"] and len(rows("card.seal_link")) == 1


# --- 支援措置 ----------------------------------------------------------------------------------------


def test_a_protected_persons_cards_are_refused_to_a_clerk(actor, clerk, support_user, terminal, world):
    from tests.protection.helpers import move_in_victim, protect

    support = Actor(user=support_user, terminal=terminal)
    victim = move_in_victim(support)
    card = services.card_issue(actor=support, person_id=victim["mother"], pin=PIN)
    protect(support, victim)
    api = api_for(clerk, terminal)
    r = api.get(f"/api/v1/cards/persons/{victim['mother']}")
    assert r.status_code == 403 and r.json()["code"] == "support_measure_protected"
    log = AccessLog.objects.filter(function="card.list").latest("id")
    assert log.outcome == "support_measure_protected" and log.flags == ["support_measure"]
    r = api.post("/api/v1/cards", {"person_id": victim["child"], "pin": PIN}, format="json")
    assert r.status_code == 403
    for call, kw in ((services.card_suspend, {"reason": "紛失"}), (services.card_resume, {}),
                     (services.card_unlock, {"pin": "3791", "document": "旅券"}),
                     (services.card_abolish, {"reason": "returned"})):
        refused(ErrorCode.SUPPORT_MEASURE_PROTECTED, call, actor=actor, card_id=card["card_id"], **kw)
    assert card_row(card["card_id"]).state == CardState.ACTIVE
    # The support staff may, and the log row says a protected person was read.
    out = services.cards_for_person(actor=support, person_id=victim["mother"])
    assert out["cards"][0]["card_id"] == card["card_id"]
    assert AccessLog.objects.filter(function="card.list").latest("id").flags == ["support_measure"]
