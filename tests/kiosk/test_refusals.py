"""抑止, 支援措置 and the other refusals at the kiosk: one message that gives no reason, the money
back, the session over; the access log keeps the real reason."""
from __future__ import annotations

import datetime as dt

import pytest

from juki.audit.gate import Actor
from juki.audit.models import AccessLog
from juki.cards.services import card_issue
from juki.certificates.models import CertificateIssue
from juki.core.errors import ErrorCode
from juki.kiosk import services
from juki.kiosk.services import COPY, Choice, Refused
from juki.protection import services as protection
from juki.protection.models import Level, Process
from juki.register.services import changes

from ..protection.helpers import OFFENDER, move_in_victim
from ..register.helpers import ref
from .conftest import PIN
from .helpers import choose_copy, pay, sign_in

REFUSED = "この証明書は自動交付機では交付できません。お手数ですが、窓口へお越しください。"


@pytest.fixture
def victim(world):
    return move_in_victim(world)


@pytest.fixture
def victim_card(world, victim):
    return card_issue(actor=world, person_id=victim["mother"], pin=PIN)


def _protect(support, victim, *, members=True):
    return protection.support_register(actor=support, person_id=victim["mother"], kind="dv", applied_on=dt.date.today(),
                                       offender=OFFENDER, members=[(victim["child"], "子")] if members else [])


def _end_message(kc) -> str:
    return kc.get("/kiosk/end/").content.decode()


def test_a_protected_resident_is_sent_to_the_counter_before_paying(kc, support, victim, victim_card):
    _protect(support, victim)
    sign_in(kc, victim_card["number"])
    r = kc.post("/kiosk/menu/", {"form": "copy"})
    assert r["Location"] == "/kiosk/end/"
    end = _end_message(kc)
    assert REFUSED in end and "支援措置" not in end and "お返しします" not in end
    row = AccessLog.objects.filter(function="kiosk.check").last()
    assert row.outcome == ErrorCode.SUPPORT_MEASURE_BLOCK and "support_measure" in row.flags
    assert not CertificateIssue.objects.exists()


def test_a_protected_household_member_stops_the_copy_of_the_others(kc, support, victim, world):
    _protect(support, victim, members=False)  # only the mother is protected; the child holds the card
    child_card = card_issue(actor=world, person_id=victim["child"], pin="7391")
    sign_in(kc, child_card["number"], pin="7391")
    kc.post("/kiosk/menu/", {"form": "copy"})
    assert REFUSED in _end_message(kc)


def test_protection_added_after_the_choice_refuses_at_the_issue_and_gives_the_money_back(kc, support, victim,
                                                                                            victim_card):
    sign_in(kc, victim_card["number"])
    choose_copy(kc)
    pay(kc, 500)
    _protect(support, victim)
    r = kc.post("/kiosk/issue/")
    assert r["Location"] == "/kiosk/end/"
    end = _end_message(kc)
    assert REFUSED in end and "入れたお金（500円）をお返しします" in end
    assert not CertificateIssue.objects.exists()


@pytest.mark.parametrize("level", [Level.ERROR, Level.ALERT])
def test_a_certificate_restriction_refuses_at_either_level(kc, card, household, supervisor, terminal, level):
    protection.restriction_set(actor=Actor(user=supervisor, terminal=terminal), processes=[Process.CERTIFICATE],
                               reason="調査中", person_id=household["ids"][1], level=level)  # the wife, not the holder
    sign_in(kc, card["number"])
    kc.post("/kiosk/menu/", {"form": "copy"})
    end = _end_message(kc)
    assert REFUSED in end and "抑止" not in end
    row = AccessLog.objects.filter(function="kiosk.check").last()
    assert row.outcome == ErrorCode.RESTRICTED and "restriction" in row.flags


def test_a_temporary_release_at_the_counter_does_not_open_the_kiosk(kc, card, household, supervisor, terminal):
    """[410]: a 一時解除 is for the counter that made it; like コンビニ交付, the kiosk stays refused."""
    from juki.protection import enforcement

    sup = Actor(user=supervisor, terminal=terminal, second_factor=True)
    made = protection.restriction_set(actor=sup, processes=[Process.CERTIFICATE], reason="調査中",
                                      person_id=household["ids"][0])
    protection.restriction_temporary_release(actor=sup, restriction_id=made["id"], minutes=30)
    with protection.gate.open(sup, function="test", perm="restriction.manage"):  # the counter may issue
        assert not enforcement.restrictions_for([household["ids"][0]], Process.CERTIFICATE)
        assert enforcement.restrictions_for([household["ids"][0]], Process.CERTIFICATE, unattended=True)
    sign_in(kc, card["number"])
    kc.post("/kiosk/menu/", {"form": "copy"})
    assert REFUSED in _end_message(kc)
    assert AccessLog.objects.filter(function="kiosk.check").last().outcome == ErrorCode.RESTRICTED
    assert not CertificateIssue.objects.exists()


def test_the_service_itself_refuses_the_issue_when_the_household_changed(kiosk_actor, card, household, world):
    holder = services.authenticate(actor=kiosk_actor, number=card["number"], pin=PIN)
    with pytest.raises(Refused) as refused:
        services.issue(actor=kiosk_actor, holder=holder, paid=300,
                       choice=Choice(form=COPY, scope="members", person_ids=(987654,)))
    assert refused.value.code == ErrorCode.HOUSEHOLD_MISMATCH and refused.value.message == REFUSED
    assert not CertificateIssue.objects.exists()


def test_a_removed_holders_card_is_refused(kc, household, world):
    wife = household["ids"][1]
    card = card_issue(actor=world, person_id=wife, pin="7391")
    changes.death(actor=world, event_date=dt.date.today(), notified_on=dt.date.today(), persons=[ref(wife)])
    r = sign_in(kc, card["number"], pin="7391")
    # Read like a wrong PIN (no card-number oracle); the log keeps the real reason.
    page = r.content.decode()
    assert r.status_code == 400 and services.PIN_OR_CARD_WRONG in page and "死亡" not in page
    assert AccessLog.objects.filter(function="card.authenticate").last().outcome == ErrorCode.CARD_STATE


def test_a_protected_seal_holder_is_refused_the_seal_certificate(kc, support, victim, world):
    from juki.seals.models import RegistrationMethod
    from juki.seals.services import seal_register

    from ..seals.helpers import seal_png

    card = card_issue(actor=world, person_id=victim["mother"], pin=PIN)
    seal_register(actor=world, person_id=victim["mother"], method=RegistrationMethod.IDENTITY_DOCUMENT,
                  image=seal_png(15), seal_text="山田", documents=["運転免許証"], seal_checked=True)
    _protect(support, victim)
    sign_in(kc, card["number"])
    assert kc.post("/kiosk/menu/", {"form": "seal_cert"})["Location"] == "/kiosk/end/"
    assert REFUSED in _end_message(kc)
    assert not CertificateIssue.objects.exists()


def test_a_restriction_on_the_seal_holder_refuses_the_seal_certificate(kiosk_actor, sealed_card, household, support_user,
                                                            terminal, supervisor):
    holder = services.authenticate(actor=kiosk_actor, number=sealed_card["number"], pin=PIN)
    protection.restriction_set(actor=Actor(user=supervisor, terminal=terminal), processes=[Process.CERTIFICATE],
                               reason="調査中", person_id=household["ids"][0])
    with pytest.raises(Refused) as refused:
        services.issue(actor=kiosk_actor, holder=holder, choice=Choice(form=services.SEAL), paid=300)
    assert refused.value.code == ErrorCode.RESTRICTED and refused.value.message == REFUSED


def _suspend(world, card, kiosk_actor):
    from juki.cards.services import card_suspend

    card_suspend(actor=world, card_id=card["card_id"], reason="紛失の届出")


def _abolish(world, card, kiosk_actor):
    from juki.cards.services import card_abolish

    card_abolish(actor=world, card_id=card["card_id"], reason="returned")


def _lock(world, card, kiosk_actor):
    from juki.core.errors import DomainError

    guesses = (("1357", ErrorCode.CARD_PIN_WRONG), ("1358", ErrorCode.CARD_PIN_WRONG),
               ("1359", ErrorCode.CARD_LOCKED))  # the third wrong PIN locks the card
    for pin, code in guesses:  # the finder guesses at a second kiosk
        with pytest.raises(DomainError) as err:
            services.authenticate(actor=kiosk_actor, number=card["number"], pin=pin)
        assert err.value.code == code


def _reissue(world, card, kiosk_actor):
    from juki.cards.services import card_reissue

    card_reissue(actor=world, card_id=card["card_id"], pin="7391", document="運転免許証", reason="lost")


def _holder_dies(world, card, kiosk_actor):
    changes.death(actor=world, event_date=dt.date.today(), notified_on=dt.date.today(), persons=[ref(card["person_id"])])


@pytest.mark.parametrize("stop", [_suspend, _abolish, _lock, _reissue, _holder_dies])
def test_a_card_stopped_after_the_pin_prints_nothing_and_gives_the_money_back(kc, kiosk_actor, world, card, stop):
    """Reported lost at the counter (or abolished, locked, replaced, its holder dead) while someone
    stands at the kiosk with it: the issue reloads the card and refuses."""
    from juki.kiosk.models import KioskPayment

    sign_in(kc, card["number"])
    choose_copy(kc, scope="household")
    kc.get("/kiosk/confirm/")
    pay(kc, 500)
    stop(world, card, kiosk_actor)
    r = kc.post("/kiosk/issue/")
    assert r["Location"] == "/kiosk/end/"
    end = _end_message(kc)
    assert services.CARD_UNUSABLE in end and "入れたお金（500円）をお返しします" in end
    assert not CertificateIssue.objects.exists()
    claim = KioskPayment.objects.get()
    assert (claim.amount, claim.issue_number) == (500, "")  # claimed, nothing issued: the money went back
    # The refusal's log row survives the issue's rolled-back transaction, with the real reason.
    row = AccessLog.objects.filter(function="kiosk.check").last()
    assert row.outcome == ErrorCode.CARD_STATE and row.system == "kiosk:KIOSK-01"
    assert not AccessLog.objects.filter(function="certificate.issue").exists()


def test_a_card_suspended_before_the_choice_is_refused_at_the_menu(kc, world, card):
    sign_in(kc, card["number"])
    _suspend(world, card, None)
    assert kc.post("/kiosk/menu/", {"form": "copy"})["Location"] == "/kiosk/end/"
    end = _end_message(kc)
    assert services.CARD_UNUSABLE in end and "お返しします" not in end


def test_the_service_refuses_a_holder_whose_card_is_no_longer_usable(kiosk_actor, world, card):
    holder = services.authenticate(actor=kiosk_actor, number=card["number"], pin=PIN)
    _suspend(world, card, kiosk_actor)
    with pytest.raises(Refused) as refused:
        services.issue(actor=kiosk_actor, holder=holder, choice=Choice(form=COPY), paid=300)
    assert refused.value.code == ErrorCode.CARD_STATE and refused.value.message == services.CARD_UNUSABLE
    # A holder that does not match the card (the card now someone else's) is refused alike.
    other = services.CardHolder(card_id=card["card_id"], number=card["number"], person_id=card["person_id"] + 1,
                                seal_registration_id=None)
    with pytest.raises(Refused) as mismatch:
        services.precheck(actor=kiosk_actor, holder=other, form=COPY)
    assert mismatch.value.code == ErrorCode.CARD_STATE
    assert not CertificateIssue.objects.exists()
