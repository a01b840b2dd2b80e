"""The kiosk's rules without HTTP: payment, change, the choices, the refusal messages, the pre-check."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from juki.audit.gate import Actor
from juki.audit.models import AccessLog
from juki.cards.services import CardHolder
from juki.certificates.models import CertificateIssue
from juki.core.errors import AccessDenied, DomainError, ErrorCode, NotFoundError
from juki.kiosk import services
from juki.kiosk.services import COPY, SEAL, Choice, Refused

from .conftest import PIN
from tests.helpers import TEST_ACTOR


def test_the_machine_takes_coins_and_a_thousand_yen_note_only():
    assert services.insert(paid=0, coin=100, due=300) == 100
    assert services.insert(paid=200, coin=1000, due=300) == 1200
    for coin in (1, 5, 2000, 5000, 10000, 0, -100):
        with pytest.raises(DomainError) as refused:
            services.insert(paid=0, coin=coin, due=300)
        assert refused.value.code == ErrorCode.INVALID_INPUT and "使えません" in refused.value.message


def test_no_more_money_once_the_fee_is_paid():
    with pytest.raises(DomainError, match="お支払い済み") as err:
        services.insert(paid=300, coin=10, due=300)
    assert err.value.code == ErrorCode.INVALID_INPUT


@given(st.lists(st.sampled_from(services.DENOMINATIONS), min_size=1, max_size=40), st.sampled_from([0, 200, 300, 350]))
def test_paying_until_enough_gives_the_right_change(coins, due):
    paid = 0
    for coin in coins:
        if paid >= due:
            break
        paid = services.insert(paid=paid, coin=coin, due=due)
    if paid >= due:
        change = services.change_due(paid=paid, due=due)
        assert change == paid - due and 0 <= change < 1000  # the last coin made it enough
    else:
        assert services.change_due(paid=paid, due=due) == 0


def test_the_fee_is_the_counters(settings):
    assert services.fee(COPY) == 300 and services.fee(SEAL) == 300  # the default table
    settings.JUKI_CERTIFICATE_FEES = {"copy": 200, "seal_cert": 350}  # a city's own table: the kiosk follows it
    assert services.fees() == {COPY: 200, SEAL: 350}


def test_choice_validation_and_its_lines():
    with pytest.raises(DomainError) as err:
        Choice(form="removed_copy").validate()
    assert (err.value.code, err.value.field) == (ErrorCode.INVALID_INPUT, "form")
    with pytest.raises(DomainError) as err:
        Choice(form=COPY, scope="everyone").validate()
    assert (err.value.code, err.value.field) == (ErrorCode.INVALID_INPUT, "scope")
    with pytest.raises(DomainError, match="1人以上") as err:
        Choice(form=COPY, scope="members").validate()
    assert err.value.code == ErrorCode.INVALID_INPUT
    choice = Choice(form=COPY, scope="members", person_ids=(5, 6), head_and_relationship=True)
    assert Choice.from_dict(choice.as_dict()) == choice
    assert dict(choice.lines()) == {"証明書": "住民票の写し", "記載する方": "ご本人と選んだ方（3人）",
                                    "世帯主の氏名と続柄": "記載する", "本籍・筆頭者": "記載しない", "通数": "1通"}
    assert dict(Choice(form=SEAL).lines()) == {"証明書": "印鑑登録証明書", "通数": "1通"}


@pytest.mark.parametrize("code, message", [
    (ErrorCode.CARD_LOCKED, "暗証番号を3回誤ったため、このカードは利用できません。窓口へお越しください。"),
    (ErrorCode.CARD_STATE, services.CARD_UNUSABLE),
    (ErrorCode.SUPPORT_MEASURE_BLOCK, services.REFUSED),
    (ErrorCode.SUPPORT_MEASURE_PROTECTED, services.REFUSED),
    (ErrorCode.RESTRICTED, services.REFUSED),
    (ErrorCode.SEAL_STATE, services.REFUSED),
    (ErrorCode.CERTIFICATE_NOT_ENTITLED, services.REFUSED),
    (ErrorCode.HOUSEHOLD_MISMATCH, services.REFUSED),
    (ErrorCode.NOT_FOUND, services.REFUSED),
])
def test_refusals_say_nothing_about_the_reason(code, message):
    refused = services.refusal(DomainError(code, "支援措置の対象者に関する請求です。"))
    assert isinstance(refused, Refused) and refused.code == code and refused.message == message
    assert "支援措置" not in refused.message


def test_a_refusal_without_a_code_of_its_own_says_the_same():
    assert services.REFUSED == "この証明書は自動交付機では交付できません。お手数ですが、窓口へお越しください。"
    assert services.refusal(AccessDenied()).message == services.REFUSED
    assert services.refusal(NotFoundError()).message == services.REFUSED


def test_the_lock_message_follows_the_setting(settings):
    settings.JUKI_CARD_PIN_ATTEMPTS = 5
    assert services.card_locked_message().startswith("暗証番号を5回誤ったため")


def test_idle_expiry():
    assert services.idle_expired(None, 1000.0)
    assert not services.idle_expired(1000.0, 1060.0)
    assert services.idle_expired(1000.0, 1060.5)


def test_authenticate_gives_the_holder(kiosk_actor, card, household):
    holder = services.authenticate(actor=kiosk_actor, number=card["number"], pin=PIN)
    assert holder == CardHolder(card_id=card["card_id"], number=card["number"], person_id=household["ids"][0],
                                seal_registration_id=None)
    with pytest.raises(DomainError) as wrong:
        services.authenticate(actor=kiosk_actor, number=card["number"], pin="1357")
    assert wrong.value.code == ErrorCode.CARD_PIN_WRONG and wrong.value.message == services.PIN_OR_CARD_WRONG
    assert not isinstance(wrong.value, Refused) and wrong.value.details == {}  # no count of tries left to tell
    with pytest.raises(DomainError) as stranger:
        services.authenticate(actor=kiosk_actor, number="1234567890", pin="1357")
    assert (stranger.value.code, stranger.value.message, stranger.value.field, stranger.value.details,
            stranger.value.status) == (wrong.value.code, wrong.value.message, wrong.value.field, wrong.value.details,
                                       wrong.value.status)
    assert not isinstance(stranger.value, Refused)
    with pytest.raises(Refused) as unknown:
        services.authenticate(actor=kiosk_actor, number="", pin=PIN)
    assert unknown.value.message == services.CARD_UNUSABLE


def test_issue_refuses_short_money_and_records_nothing(kiosk_actor, card, household):
    holder = services.authenticate(actor=kiosk_actor, number=card["number"], pin=PIN)
    with pytest.raises(DomainError) as short:
        services.issue(actor=kiosk_actor, holder=holder, choice=Choice(form=COPY), paid=290)
    assert short.value.code == ErrorCode.INVALID_INPUT and not isinstance(short.value, Refused)
    assert not CertificateIssue.objects.exists()
    [result] = services.issue(actor=kiosk_actor, holder=holder, choice=Choice(form=COPY), paid=300)
    assert result.issue.channel == "kiosk" and result.issue.fee == 300


def test_copies_are_one_issue_each_paid_for_together(kiosk_actor, card, household):
    holder = services.authenticate(actor=kiosk_actor, number=card["number"], pin=PIN)
    three = Choice(form=COPY, scope=services.HOUSEHOLD, copies=3)
    assert services.due(three) == 900 and ("通数", "3通") in three.lines()
    with pytest.raises(DomainError) as short:
        services.issue(actor=kiosk_actor, holder=holder, choice=three, paid=600)
    assert short.value.code == ErrorCode.INVALID_INPUT and short.value.message == "料金が300円不足しています。お金を入れてください。"
    assert not CertificateIssue.objects.exists()
    results = services.issue(actor=kiosk_actor, holder=holder, choice=three, paid=1000)
    numbers = [r.number for r in results]
    assert len(set(numbers)) == 3  # each copy its own 発行番号, record and fee
    assert list(CertificateIssue.objects.order_by("id").values_list("number", "fee", "channel")) == [
        (n, 300, "kiosk") for n in numbers]
    for bad in (0, services.MAX_COPIES + 1, True, "2"):
        with pytest.raises(DomainError) as err:
            services.issue(actor=kiosk_actor, holder=holder, choice=Choice(form=COPY, copies=bad), paid=5000)
        assert err.value.code == ErrorCode.INVALID_INPUT and err.value.field == "copies"
        assert err.value.message == "通数は1通から5通までです。5通をこえるときは窓口へお越しください。"
    assert CertificateIssue.objects.count() == 3


def test_the_precheck_is_logged(kiosk_actor, card, household):
    holder = services.authenticate(actor=kiosk_actor, number=card["number"], pin=PIN)
    home = services.precheck(actor=kiosk_actor, holder=holder, form=COPY)
    assert home.household_id == household["household_id"] and sorted(home.member_ids) == sorted(household["ids"])
    row = AccessLog.objects.filter(function="kiosk.check").last()
    assert row.outcome == "ok" and row.system == "kiosk:KIOSK-01" and row.person_count == 3
    with pytest.raises(Refused) as no_seal:
        services.precheck(actor=kiosk_actor, holder=holder, form=SEAL)
    assert no_seal.value.code == ErrorCode.SEAL_STATE and no_seal.value.message == services.REFUSED
    assert AccessLog.objects.filter(function="kiosk.check").last().outcome == "seal_state"


def test_a_device_without_its_rights_cannot_check_or_issue(card, household):
    stranger = Actor.device("kiosk:ROGUE", frozenset({"person.view"}))
    holder = CardHolder(card_id=card["card_id"], number=card["number"], person_id=household["ids"][0],
                        seal_registration_id=None)
    with pytest.raises(AccessDenied):
        services.precheck(actor=stranger, holder=holder, form=COPY)
    assert AccessLog.objects.filter(function="kiosk.check", outcome="denied", system="kiosk:ROGUE").exists()


def test_the_kiosk_reads_a_card_number_and_pin_as_the_card_service_does(kiosk_actor, card):
    """One rule for both: spaces, hyphens and full-width digits are read as typed at the counter."""
    import jaconv

    from juki.accounts.permissions import Perm
    from juki.audit import gate
    from juki.cards.models import Card

    spaced = f"{card['number'][:4]} {card['number'][4:8]}-{card['number'][8:]}"
    assert services.normalize_card_number(jaconv.h2z(spaced, digit=True)) == card["number"]
    holder = services.authenticate(actor=kiosk_actor, number=jaconv.h2z(spaced, digit=True),
                                   pin=jaconv.h2z(PIN, digit=True))
    assert holder.card_id == card["card_id"]
    with pytest.raises(DomainError) as slip:  # not a Refused: the screen asks again, nothing counted
        services.authenticate(actor=kiosk_actor, number=card["number"], pin="12")
    assert not isinstance(slip.value, Refused) and slip.value.field == "pin" and "数字4桁" in slip.value.message
    assert slip.value.code == ErrorCode.INVALID_INPUT
    with gate.open(TEST_ACTOR, function="test", perm=Perm.CARD_MANAGE):
        assert Card.objects.get(pk=card["card_id"]).failed_pins == 0
