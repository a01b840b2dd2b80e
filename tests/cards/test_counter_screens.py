"""The counter's card screen: what it shows, each step through the form, refusals on the page."""
import re

import pytest

from juki.audit.models import AccessLog
from juki.cards import services
from juki.cards.models import CardState
from juki.core.errors import DomainError, ErrorCode
from juki.register.services import changes
from tests.conftest import counter_client, days_ago
from tests.register.helpers import ref

from .conftest import PIN, PIN2, card_row
from tests.helpers import TEST_ACTOR


@pytest.fixture
def screen(clerk, terminal):
    return counter_client(clerk, terminal)


def url(person_id: int, tail: str = "") -> str:
    return f"/counter/cards/persons/{person_id}/{tail}"


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_person_screen_links_to_the_card_screen(screen, fam):
    page = text(screen.get(f"/counter/persons/{fam['head']}/"))
    assert f'href="/counter/cards/persons/{fam["head"]}/" id="card-link">市民カード</a>' in page


def test_issue_at_the_counter(screen, fam):
    page = text(screen.get(url(fam["head"])))
    assert "カードの交付" in page and 'type="password"' in page and "青木" in page
    r = screen.post(url(fam["head"], "issue/"), {"pin": PIN, "pin_confirm": PIN, "document": "運転免許証"})
    assert r.status_code == 302 and r["Location"] == url(fam["head"]) + "?done=issue"
    page = text(screen.get(r["Location"]))
    card = services.cards_for_person(actor=services_actor(), person_id=fam["head"])["cards"][0]
    assert "市民カードを交付しました。" in page and card["number"] in page and "利用中" in page
    assert "運転免許証" in page and PIN not in page.replace(card["number"], "")


def services_actor():
    return TEST_ACTOR


def test_pins_typed_twice_must_match_and_are_not_shown_back(screen, fam):
    r = screen.post(url(fam["head"], "issue/"), {"pin": PIN, "pin_confirm": PIN2, "document": "旅券"})
    page = text(r)
    assert r.status_code == 400 and "確認のため入力した暗証番号が一致しません" in page
    assert PIN not in page and PIN2 not in page and 'value="旅券"' in page  # the document is kept
    r = screen.post(url(fam["head"], "issue/"), {"pin": "1234", "pin_confirm": "1234"})
    assert r.status_code == 400 and services.PIN_TRIVIAL in text(r)
    assert not services.cards_for_person(actor=services_actor(), person_id=fam["head"])["cards"]


def test_suspend_resume_and_reissue_at_the_counter(screen, actor, fam, card):
    base = url(fam["head"], f"cards/{card['card_id']}/")
    r = screen.post(base + "suspend/", {"reason": ""})
    assert r.status_code == 400 and "一時停止の理由を入力してください。" in text(r)
    r = screen.post(base + "suspend/", {"reason": "紛失の届出（電話）"})
    assert r.status_code == 302 and r["Location"].endswith("?done=suspend")
    page = text(screen.get(r["Location"]))
    assert "カードを一時停止しました。" in page and "一時停止の解除" in page and "紛失の届出（電話）" in page
    r = screen.post(base + "reissue/", {"reason": "lost", "document": "運転免許証", "pin": PIN2, "pin_confirm": PIN2})
    assert r.status_code == 302
    assert card_row(card["card_id"]).state == CardState.ABOLISHED
    page = text(screen.get(r["Location"]))
    data = services.cards_for_person(actor=services_actor(), person_id=fam["head"])
    assert data["cards"][0]["number"] in page and "再交付の元のカード" in page and "再交付による廃止" in page


def test_lock_shown_and_unlock_at_the_counter(screen, fam, card, kiosk):
    for code in (ErrorCode.CARD_PIN_WRONG, ErrorCode.CARD_PIN_WRONG, ErrorCode.CARD_LOCKED):  # the third locks it
        with pytest.raises(DomainError) as err:
            services.card_authenticate(actor=kiosk, number=card["number"], pin=PIN2)
        assert err.value.code == code
    page = text(screen.get(url(fam["head"])))
    assert "暗証番号ロック" in page and "暗証番号を3回続けて誤ったため" in page and 'id="step-unlock" open' in page
    base = url(fam["head"], f"cards/{card['card_id']}/")
    r = screen.post(base + "unlock/", {"document": "", "pin": "3791", "pin_confirm": "3791"})
    assert r.status_code == 400 and "確認した本人確認書類を入力してください。" in text(r)
    r = screen.post(base + "unlock/", {"document": "マイナンバーカード", "pin": "3791", "pin_confirm": "3791"})
    assert r.status_code == 302
    assert card_row(card["card_id"]).state == CardState.ACTIVE


def test_change_pin_wrong_old_pin_is_counted_and_said(screen, fam, card):
    base = url(fam["head"], f"cards/{card['card_id']}/")
    r = screen.post(base + "pin/", {"old_pin": PIN2, "pin": "3791", "pin_confirm": "3791"})
    assert r.status_code == 400 and "あと2回誤ると" in text(r) and 'id="step-pin" open' in text(r)
    assert card_row(card["card_id"]).failed_pins == 1


def test_abolish_with_collection_date_in_wareki(screen, fam, card):
    base = url(fam["head"], f"cards/{card['card_id']}/")
    r = screen.post(base + "abolish/", {"reason": "returned", "collected_on": "R99.1.1"})
    assert r.status_code == 400 and "回収年月日に未来の日付は入力できません。" in text(r)
    r = screen.post(base + "abolish/", {"reason": "returned", "collected_on": days_ago(0).isoformat()})
    assert r.status_code == 302
    page = text(screen.get(url(fam["head"])))
    assert "返納（本人の申出）" in page and "回収" in page and "カードの交付" in page  # a new card may be issued


def test_removed_person_warning_and_no_issue(world, screen, fam, card):
    changes.death(actor=world, event_date=days_ago(1), notified_on=days_ago(0), persons=[ref(fam["head"])])
    page = text(screen.get(url(fam["head"])))
    # The 死亡 itself abolished the card (職権廃止 in the same transaction): nothing left to warn about.
    assert 'id="removed-warning"' not in page and card_row(card["card_id"]).state == CardState.ABOLISHED
    assert "死亡" in page
    changes.death(actor=world, event_date=days_ago(1), notified_on=days_ago(0), persons=[ref(fam["wife"])])
    page = text(screen.get(url(fam["wife"])))
    assert "市民カードを交付できません" in page and 'id="issue-form"' not in page


def test_another_persons_card_is_not_found(screen, fam, card):
    r = screen.post(url(fam["wife"], f"cards/{card['card_id']}/suspend/"), {"reason": "紛失"})
    assert r.status_code == 404 and card_row(card["card_id"]).state == CardState.ACTIVE


def test_unknown_step_is_404(screen, fam, card):
    assert screen.post(url(fam["head"], f"cards/{card['card_id']}/delete/"), {}).status_code == 404


def test_screen_needs_the_right(viewer, terminal, fam):
    r = counter_client(viewer, terminal).get(url(fam["head"]))
    assert r.status_code == 403
    assert AccessLog.objects.filter(function="screen.person", outcome="denied", user=viewer).exists()
    page = text(counter_client(viewer, terminal).get(f"/counter/persons/{fam['head']}/"))
    assert 'id="card-link"' not in page


def test_help_page(screen):
    page = text(screen.get("/counter/help/card/"))
    assert "ヘルプ: 市民カード" in page and "ロック" in page


def test_a_reissue_for_loss_says_the_seal_registration_ended(screen, actor, fam, card):
    from juki.seals import services as seals
    from tests.seals.helpers import seal_png

    seals.seal_register(actor=actor, person_id=fam["head"], method="document", image=seal_png(15), seal_text="青木",
                        documents=["運転免許証"], seal_checked=True)
    page = text(screen.get(url(fam["head"])))
    assert "紛失による再交付で、今のカードが印鑑登録証のときは、印鑑登録は廃止されます" in page
    base = url(fam["head"], f"cards/{card['card_id']}/")
    r = screen.post(base + "reissue/", {"reason": "lost", "document": "運転免許証", "pin": PIN2, "pin_confirm": PIN2})
    assert r.status_code == 302 and r["Location"].endswith("?done=reissue_seal")
    page = text(screen.get(r["Location"]))
    assert "新しいカードを再交付しました。" in page and "印鑑登録を廃止しました（印鑑登録証の亡失）" in page
    assert "印鑑登録証としては使われていません" in page
    assert seals.seal_get(actor=actor, person_id=fam["head"])["live"] is None
