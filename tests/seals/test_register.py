"""印鑑登録: who may register, how, one per person, the states, the history and the log rows."""
from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from juki.audit import gate
from juki.audit.gate import Actor
from juki.audit.models import AccessLog
from juki.cards import services as cards
from juki.cards.services import seal_link
from juki.cards.models import Card
from juki.core.errors import AccessDenied, ErrorCode
from juki.core.wareki import years_before
from juki.register.services import changes
from juki.register.services.writer import PersonRef
from juki.seals import services
from juki.seals.models import (
    EndReason,
    RegistrationMethod,
    SealEvent,
    SealRegistration,
    SealState,
)
from tests.helpers import last_log, refused

from .helpers import seal_png

DOC = RegistrationMethod.IDENTITY_DOCUMENT


def register(actor, person_id, **over):
    values = {"method": DOC, "image": seal_png(15), "seal_text": "青木", "documents": ["運転免許証"], "seal_checked": True}
    values.update(over)
    return services.seal_register(actor=actor, person_id=person_id, **values)


def regs(actor, person_id) -> list[dict]:
    return services.seal_get(actor=actor, person_id=person_id)["registrations"]


def test_a_resident_with_a_photo_id_is_registered_the_same_day(actor, fam):
    card = cards.card_issue(actor=actor, person_id=fam["head"], pin="2580")
    reg = register(actor, fam["head"])
    today = timezone.localdate().isoformat()
    assert reg["state"] == SealState.REGISTERED and reg["registered_on"] == today == reg["applied_on"]
    assert reg["seal_text"] == "青木" and reg["image_width_mm"] == "15.0" and len(reg["number"]) == 10
    assert [e["kind"] for e in reg["events"]] == ["registered"]
    assert reg["events"][0]["note"] == "確認書類: 運転免許証" and reg["events"][0]["by"] == actor.user.username
    # The card in hand became the 印鑑登録証, in the same transaction.
    linked = cards.cards_for_person(actor=actor, person_id=fam["head"])["cards"][0]
    assert linked["card_id"] == card["card_id"] and linked["seal_number"] == reg["number"]
    log = last_log("seal.register")
    assert log.outcome == AccessLog.OK and log.category == "operation" and log.user == actor.user
    assert list(log.subjects.values_list("person_id", flat=True)) == [fam["head"]]
    assert log.criteria["registration_id"] == reg["id"] and "青木" not in str(log.criteria)


def test_one_live_registration_per_person(actor, fam):
    register(actor, fam["head"])
    e = refused(ErrorCode.SEAL_STATE, register, actor, fam["head"], image=seal_png(18))
    assert "すでに印鑑を登録しています" in e.message
    assert len(regs(actor, fam["head"])) == 1
    assert last_log("seal.register").outcome == ErrorCode.SEAL_STATE
    # After 廃止, a new seal may be registered: a new registration with a new number.
    services.seal_abolish(actor=actor, person_id=fam["head"], documents=["運転免許証"])
    again = register(actor, fam["head"], image=seal_png(18))
    old, new = regs(actor, fam["head"])[1], regs(actor, fam["head"])[0]
    assert old["state"] == SealState.ABOLISHED and new["id"] == again["id"] and new["number"] != old["number"]


def test_under_15_is_refused_and_15_on_the_birthday_is_accepted(actor, fam):
    e = refused(ErrorCode.SEAL_STATE, register, actor, fam["child"], seal_text="青木")
    assert e.message == "15歳未満の方は印鑑を登録できません。"
    born = years_before(timezone.localdate(), 15)  # 29 February gives 28 February, never a ValueError
    assert services.age_on(born, timezone.localdate()) == 15
    assert services.age_on(born + dt.timedelta(days=1), timezone.localdate()) == 14
    assert services.age_on(dt.date(2008, 2, 29), dt.date(2023, 2, 28)) == 14  # a leap-day birthday
    assert services.age_on(dt.date(2008, 2, 29), dt.date(2023, 3, 1)) == 15
    assert regs(actor, fam["child"]) == []


def test_the_seal_text_must_represent_the_name(actor, fam):
    e = refused(ErrorCode.INVALID_INPUT, register, actor, fam["head"], seal_text="山田")
    assert e.field == "seal_text" and "登録できません" in e.message
    for text in ("太郎", "青木太郎", "青太", "青 木"):
        assert services.seal_text_fits(text, {"name": {"family_name": "青木", "given_name": "太郎"}})
    refused(ErrorCode.INVALID_INPUT, register, actor, fam["head"], seal_text="  ")
    assert regs(actor, fam["head"]) == []


def test_the_clerk_must_confirm_what_a_scan_cannot_show_and_the_documents(actor, fam):
    e = refused(ErrorCode.INVALID_INPUT, register, actor, fam["head"], seal_checked=False)
    assert e.field == "seal_checked"
    e = refused(ErrorCode.INVALID_INPUT, register, actor, fam["head"], documents=[])
    assert e.field == "documents"
    e = refused(ErrorCode.INVALID_INPUT, register, actor, fam["head"], method="fax")
    assert e.field == "method"
    assert regs(actor, fam["head"]) == []


def test_a_bad_image_writes_nothing_and_is_logged_as_refused(actor, fam):
    e = refused(ErrorCode.SEAL_IMAGE_INVALID, register, actor, fam["head"], image=seal_png(7))
    assert "小さすぎます" in e.message
    assert regs(actor, fam["head"]) == []
    assert last_log("seal.register").outcome == ErrorCode.SEAL_IMAGE_INVALID


def test_a_guarantor_is_a_resident_with_a_registered_seal(actor, fam):
    wife = register(actor, fam["wife"], seal_text="花子", image=seal_png(12))
    e = refused(ErrorCode.SEAL_STATE, register, actor, fam["head"], method=RegistrationMethod.GUARANTOR,
                documents=[], guarantor_number="0000000000")
    assert e.field == "guarantor_number"
    reg = register(actor, fam["head"], method=RegistrationMethod.GUARANTOR, documents=[], guarantor_number=wife["number"])
    assert reg["state"] == SealState.REGISTERED and reg["guarantor_number"] == wife["number"]
    assert "保証人 印鑑番号" in reg["events"][0]["note"]
    services.seal_abolish(actor=actor, person_id=fam["head"], documents=["運転免許証"])
    e = refused(ErrorCode.SEAL_STATE, register, actor, fam["head"], method=RegistrationMethod.GUARANTOR,
                documents=[], guarantor_number=regs(actor, fam["head"])[0]["number"])  # his own, abolished
    assert e.field == "guarantor_number"


def test_without_a_photo_id_an_inquiry_is_sent_and_the_answer_registers(actor, fam, settings):
    settings.JUKI_SEAL_ANSWER_DAYS = 30
    reg = register(actor, fam["head"], method=RegistrationMethod.INQUIRY, documents=["健康保険の資格確認書"])
    today = timezone.localdate()
    assert reg["state"] == SealState.PENDING and reg["registered_on"] is None
    assert reg["inquiry_sent_on"] == today.isoformat() and reg["answer_due"] == (today + dt.timedelta(days=30)).isoformat()
    assert reg["events"][0]["kind"] == "applied"
    card = cards.card_issue(actor=actor, person_id=fam["head"], pin="2580")  # linked to the pending one
    assert card["seal_state"] == SealState.PENDING
    e = refused(ErrorCode.INVALID_INPUT, services.seal_inquiry_answer, actor=actor, person_id=fam["head"])
    assert e.field == "documents"
    done = services.seal_inquiry_answer(actor=actor, person_id=fam["head"], documents=["健康保険の資格確認書"])
    assert done["state"] == SealState.REGISTERED and done["registered_on"] == today.isoformat()
    assert [e["kind"] for e in done["events"]] == ["applied", "registered"]
    refused(ErrorCode.SEAL_STATE, services.seal_inquiry_answer, actor=actor, person_id=fam["head"], documents=["旅券"])


def test_an_agent_applies_only_by_inquiry_and_with_a_power_of_attorney(actor, fam):
    e = refused(ErrorCode.INVALID_INPUT, register, actor, fam["head"], agent_name="代理　人")
    assert e.field == "method"
    e = refused(ErrorCode.INVALID_INPUT, register, actor, fam["head"], method=RegistrationMethod.INQUIRY,
                agent_name="代理　人")
    assert e.field == "power_of_attorney"
    reg = register(actor, fam["head"], method=RegistrationMethod.INQUIRY, agent_name="代理　人", power_of_attorney=True)
    assert reg["state"] == SealState.PENDING and reg["agent_name"] == "代理　人"
    done = services.seal_inquiry_answer(actor=actor, person_id=fam["head"], documents=["運転免許証"],
                                        answer_agent_name="代理　人", power_of_attorney=True)
    assert done["answer_agent_name"] == "代理　人"


def test_an_answer_after_the_deadline_is_refused_and_the_sweep_ends_the_inquiry(actor, fam, settings, monkeypatch):
    register(actor, fam["head"], method=RegistrationMethod.INQUIRY)
    later = timezone.localdate() + dt.timedelta(days=settings.JUKI_SEAL_ANSWER_DAYS + 1)
    monkeypatch.setattr(services.registration, "today", lambda: later)
    monkeypatch.setattr(services.ending, "today", lambda: later)
    e = refused(ErrorCode.SEAL_STATE, services.seal_inquiry_answer, actor=actor, person_id=fam["head"], documents=["旅券"])
    assert "回答期限" in e.message
    assert regs(actor, fam["head"])[0]["state"] == SealState.PENDING  # nothing written by the refusal
    result = services.seal_sweep(actor=Actor.system_actor("seals-sweep"))
    reg = regs(actor, fam["head"])[0]
    assert result["expired"] == [reg["id"]] and result["ex_officio"] == []
    assert reg["state"] == SealState.ABOLISHED and reg["end_reason"] == EndReason.INQUIRY_EXPIRED
    assert reg["events"][-1]["kind"] == "inquiry_expired"
    log = last_log("seal.sweep")
    assert log.category == "batch" and log.system == "seals-sweep" and log.criteria["expired"] == 1


def test_a_new_application_ends_an_overdue_inquiry_first(actor, fam, settings, monkeypatch):
    register(actor, fam["head"], method=RegistrationMethod.INQUIRY)
    later = timezone.localdate() + dt.timedelta(days=settings.JUKI_SEAL_ANSWER_DAYS + 1)
    monkeypatch.setattr(services.registration, "today", lambda: later)
    assert services.seal_get(actor=actor, person_id=fam["head"])["may_register"]
    register(actor, fam["head"])
    new, old = regs(actor, fam["head"])
    assert new["state"] == SealState.REGISTERED and old["end_reason"] == EndReason.INQUIRY_EXPIRED


def test_abolish_and_lost_end_the_registration_with_their_reason(actor, fam):
    register(actor, fam["head"])
    e = refused(ErrorCode.INVALID_INPUT, services.seal_abolish, actor=actor, person_id=fam["head"])
    assert e.field == "documents"
    done = services.seal_abolish(actor=actor, person_id=fam["head"], documents=["運転免許証"], agent_name="代理　人",
                                 power_of_attorney=True)
    assert done["state"] == SealState.ABOLISHED and done["end_reason"] == EndReason.REQUEST
    assert done["end_agent_name"] == "代理　人" and done["ended_by"] == actor.user.username
    assert [e["kind"] for e in done["events"]] == ["registered", "abolished"]
    refused(ErrorCode.SEAL_STATE, services.seal_abolish, actor=actor, person_id=fam["head"], documents=["運転免許証"])

    register(actor, fam["wife"], seal_text="花子")
    refused(ErrorCode.INVALID_INPUT, services.seal_report_lost, actor=actor, person_id=fam["wife"], what="wallet",
            documents=["旅券"])
    lost = services.seal_report_lost(actor=actor, person_id=fam["wife"], what="card", documents=["旅券"])
    assert lost["end_reason"] == EndReason.LOST and lost["events"][-1]["note"].startswith("亡失: 印鑑登録証（市民カード）")
    assert last_log("seal.lost").outcome == AccessLog.OK


def test_a_failure_after_the_writes_leaves_nothing_half_written(actor, fam, monkeypatch):
    cards.card_issue(actor=actor, person_id=fam["head"], pin="2580")

    def broken(**kwargs):
        raise RuntimeError("the card could not be linked")

    monkeypatch.setattr(seal_link, "link_live_card_to_seal", broken)  # the card app, reached by the seal_registered signal
    with pytest.raises(RuntimeError):
        register(actor, fam["head"])
    monkeypatch.undo()
    assert regs(actor, fam["head"]) == []
    assert last_log("seal.register").outcome == "error"
    with gate.open(actor, function="test", perm="seal.manage"):
        assert SealEvent.objects.count() == 0 and SealRegistration.objects.count() == 0


def test_without_the_right_nothing_is_read_or_written(viewer, terminal, actor, fam):
    stranger = Actor(user=viewer, terminal=terminal)
    with pytest.raises(AccessDenied):
        register(stranger, fam["head"])
    with pytest.raises(AccessDenied):
        services.seal_get(actor=stranger, person_id=fam["head"])
    log = last_log("seal.register")
    assert log.outcome == AccessLog.DENIED and list(log.subjects.values_list("person_id", flat=True)) == [fam["head"]]
    assert regs(actor, fam["head"]) == []


# --- 職権廃止 -----------------------------------------------------------------------------------------------


def _ref(actor, person_id):
    from juki.register import selectors

    return PersonRef(person_id, selectors.person_get(actor=actor, person_id=person_id)["version"])


def test_death_abolishes_the_registration_in_the_same_change(actor, fam):
    reg = register(actor, fam["head"])
    died = timezone.localdate() - dt.timedelta(days=2)
    changes.death(actor=actor, event_date=died, notified_on=timezone.localdate(), persons=[_ref(actor, fam["head"])],
                  new_head=fam["wife"])
    ended = regs(actor, fam["head"])[0]
    assert ended["id"] == reg["id"] and ended["state"] == SealState.ABOLISHED
    assert ended["end_reason"] == EndReason.DEATH and ended["ended_on"] == died.isoformat()
    assert ended["events"][-1]["kind"] == "ex_officio" and "死亡" in ended["events"][-1]["note"]
    log = last_log("seal.ex_officio_abolish")
    assert log.criteria["reason"] == "death" and log.criteria["registration_id"] == reg["id"]
    assert list(log.subjects.values_list("person_id", flat=True)) == [fam["head"]]


def test_a_move_out_notice_abolishes_it_even_before_the_planned_date(actor, fam):
    register(actor, fam["wife"], seal_text="花子")
    planned = timezone.localdate() + dt.timedelta(days=10)
    changes.move_out(actor=actor, event_date=planned, notified_on=timezone.localdate(),
                     persons=[_ref(actor, fam["wife"])], destination_address="東京都千代田区千代田1番1号")
    ended = regs(actor, fam["wife"])[0]
    assert ended["end_reason"] == EndReason.REMOVAL and ended["ended_on"] == timezone.localdate().isoformat()
    assert regs(actor, fam["head"]) == []  # the others of the household are untouched


def test_a_failing_abolition_rolls_the_register_change_back(actor, fam, monkeypatch):
    register(actor, fam["head"])

    def broken(**kwargs):
        raise RuntimeError("seal store unavailable")

    monkeypatch.setattr(services.ending, "abolish_on_register_change", broken)
    with pytest.raises(RuntimeError):
        changes.death(actor=actor, event_date=timezone.localdate(), notified_on=timezone.localdate(),
                      persons=[_ref(actor, fam["head"])], new_head=fam["wife"])
    monkeypatch.undo()
    from juki.register import selectors

    assert selectors.person_get(actor=actor, person_id=fam["head"])["status"] == "resident"
    assert regs(actor, fam["head"])[0]["state"] == SealState.REGISTERED


def test_a_change_of_name_abolishes_only_a_seal_that_no_longer_represents_it(actor, fam):
    register(actor, fam["wife"], seal_text="青木", image=seal_png(12))
    register(actor, fam["head"], seal_text="太郎")
    on = timezone.localdate()
    changes.ex_officio_correction(actor=actor, event_date=on, person=_ref(actor, fam["wife"]),
                                  changes={"family_name": "佐藤", "family_name_kana": "サトウ"})
    wife = regs(actor, fam["wife"])[0]
    assert wife["state"] == SealState.ABOLISHED and wife["end_reason"] == EndReason.NAME_CHANGE
    changes.ex_officio_correction(actor=actor, event_date=on, person=_ref(actor, fam["head"]),
                                  changes={"family_name": "佐藤", "family_name_kana": "サトウ"})
    head = regs(actor, fam["head"])[0]
    assert head["state"] == SealState.REGISTERED  # 「太郎」 still represents the name
    assert head["events"][-1]["kind"] == "name_changed"
    # A correction that leaves the name alone leaves the registration alone.
    changes.ex_officio_correction(actor=actor, event_date=on, person=_ref(actor, fam["head"]),
                                  changes={"domicile": "福岡県北九州市小倉北区城内2番"})
    assert len(regs(actor, fam["head"])[0]["events"]) == 2


def test_the_sweep_ends_a_registration_whose_person_left_by_another_path(actor, fam):
    from juki.register.services.writer import change_written

    register(actor, fam["head"])
    try:
        assert change_written.disconnect(dispatch_uid="seals.ex_officio")  # as if the hook had not run
        changes.death(actor=actor, event_date=timezone.localdate(), notified_on=timezone.localdate(),
                      persons=[_ref(actor, fam["head"])], new_head=fam["wife"])
    finally:
        change_written.connect(services.on_change_written, dispatch_uid="seals.ex_officio")
    assert regs(actor, fam["head"])[0]["state"] == SealState.REGISTERED
    result = services.seal_sweep(actor=Actor.system_actor("seals-sweep"))
    reg = regs(actor, fam["head"])[0]
    assert result["ex_officio"] == [reg["id"]] and reg["end_reason"] == EndReason.DEATH


def test_abolishing_the_seal_leaves_the_card_alone(actor, fam):
    """Cards and seals are separate records: abolishing a seal leaves the card alone."""
    cards.card_issue(actor=actor, person_id=fam["head"], pin="2580")
    register(actor, fam["head"])
    services.seal_abolish(actor=actor, person_id=fam["head"], documents=["運転免許証"])
    with gate.open(actor, function="test", perm="card.manage"):
        card = Card.objects.get(person_id=fam["head"])
        assert card.state == "active" and card.seal_registration.state == SealState.ABOLISHED


def test_the_screens_see_whether_the_card_is_the_seals(actor, fam):
    register(actor, fam["head"])
    assert services.seal_get(actor=actor, person_id=fam["head"])["card"] is None
    assert services.seal_status(actor=actor, person_id=fam["head"]) == {"registered": True, "card": None}
    cards.card_issue(actor=actor, person_id=fam["head"], pin="2580")  # linked to the live seal when issued
    card = services.seal_get(actor=actor, person_id=fam["head"])["card"]
    assert card == {"state": "active", "state_label": "利用中", "linked": True}
    assert services.seal_status(actor=actor, person_id=fam["wife"]) == {"registered": False, "card": None}


def test_a_ward_move_keeps_the_seal_and_the_card(actor, fam):
    """A 区間異動 is one change with a 区間転出 (消除) then a 区間転入 (住民) for each mover: the
    person stays a resident of the city, so neither the registration nor the card ends, not in
    the change and not in the daily sweeps."""
    from juki.register.services.people import Address
    from tests.conftest import days_ago

    card = cards.card_issue(actor=actor, person_id=fam["head"], pin="2580")
    reg = register(actor, fam["head"])
    changes.move_within_city(actor=actor, event_date=days_ago(3), notified_on=days_ago(2),
                             persons=[_ref(actor, fam[k]) for k in ("head", "wife", "child")],
                             address=Address("40109001000", "3番4号"))  # 八幡西区: another ward
    state = services.seal_get(actor=actor, person_id=fam["head"])
    assert state["resident"] is True and state["live"]["id"] == reg["id"]
    assert state["live"]["state"] == SealState.REGISTERED and [e["kind"] for e in state["live"]["events"]] == ["registered"]
    assert not AccessLog.objects.filter(function__in=["seal.ex_officio_abolish", "card.ex_officio_abolish"]).exists()
    assert services.seal_sweep(actor=Actor.system_actor("seals-sweep"))["ex_officio"] == []
    assert cards.card_sweep_removed(actor=Actor.system_actor("cards-sweep"))["abolished"] == 0
    held = cards.cards_for_person(actor=actor, person_id=fam["head"])["cards"][0]
    assert held["card_id"] == card["card_id"] and held["state"] == "active" and held["seal_number"] == reg["number"]


def test_the_last_event_of_a_change_decides(actor):
    """Several events for one person in one change: only a final 消除 counts, and a name is
    compared from before the first event to after the last."""
    from juki.seals.register_events import final_events

    out, back = {"person_id": 1, "status_after": "removed"}, {"person_id": 1, "status_after": "resident"}
    other = {"person_id": 2, "status_after": "removed"}
    assert final_events([out, back, other]) == {1: (out, back), 2: (other, other)}
    assert final_events([back, out]) == {1: (back, out)}


@pytest.mark.parametrize("documents", [["健康保険の資格確認書等"], ["社員証・学生証等"], ["なし"], ["運転免許証（写し）"]])
def test_a_same_day_registration_needs_a_government_photo_id(actor, fam, documents):
    e = refused(ErrorCode.INVALID_INPUT, register, actor, fam["head"], documents=documents)
    assert e.field == "documents" and "顔写真付き" in e.message and "照会書・回答書" in e.message
    assert regs(actor, fam["head"]) == []
    assert last_log("seal.register").outcome == ErrorCode.INVALID_INPUT
    # The same documents are fine for an inquiry, and a photo ID among others registers the same day.
    assert register(actor, fam["head"], method=RegistrationMethod.INQUIRY, documents=documents)["state"] == SealState.PENDING
    services.seal_abolish(actor=actor, person_id=fam["head"], documents=["旅券"])
    reg = register(actor, fam["head"], documents=[*documents, "マイナンバーカード"])
    assert reg["state"] == SealState.REGISTERED


def test_every_document_the_screen_offers_registers_the_same_day_exactly_if_it_has_a_photo(actor, fam):
    from juki.seals import forms

    assert not set(forms.OTHER_DOCUMENTS) & set(services.PHOTO_DOCUMENTS)
    for document in forms.DOCUMENTS:
        if document in forms.OTHER_DOCUMENTS:
            e = refused(ErrorCode.INVALID_INPUT, register, actor, fam["head"], documents=[document])
            assert e.field == "documents" and "顔写真付き" in e.message
        else:
            assert register(actor, fam["head"], documents=[document])["state"] == SealState.REGISTERED
            services.seal_abolish(actor=actor, person_id=fam["head"], documents=[document])
    assert len(regs(actor, fam["head"])) == len(services.PHOTO_DOCUMENTS)


def test_a_seal_registered_in_the_household_cannot_be_registered_again_in_it(actor, fam, world):
    same = seal_png(15)
    head = register(actor, fam["head"], image=same, seal_text="青木")
    e = refused(ErrorCode.SEAL_STATE, register, actor, fam["wife"], image=same, seal_text="青木")
    assert e.field == "image" and "同じ世帯の方がすでに登録している" in e.message
    assert regs(actor, fam["wife"]) == []
    log = last_log("seal.register")
    assert log.outcome == ErrorCode.SEAL_STATE
    assert sorted(log.subjects.values_list("person_id", flat=True)) == sorted([fam["head"], fam["wife"]])
    # A pending application counts as well; another seal is fine.
    services.seal_abolish(actor=actor, person_id=fam["head"], documents=["旅券"])
    register(actor, fam["head"], image=same, method=RegistrationMethod.INQUIRY)
    refused(ErrorCode.SEAL_STATE, register, actor, fam["wife"], image=same, seal_text="青木")
    assert register(actor, fam["wife"], image=seal_png(12), seal_text="青木")["state"] == SealState.REGISTERED
    # Once the head's registrations have ended, the seal is free for the household again.
    services.seal_abolish(actor=actor, person_id=fam["head"], documents=["旅券"])
    services.seal_abolish(actor=actor, person_id=fam["wife"], documents=["旅券"])
    again = register(actor, fam["wife"], image=same, seal_text="青木")
    assert again["state"] == SealState.REGISTERED and again["image_sha256"] == head["image_sha256"]


def test_the_same_seal_in_another_household_is_not_refused(actor, fam, world):
    from juki.register.services.people import Address
    from tests.conftest import KOKURA_JOUNAI, move_in_family, person_input

    other = move_in_family(world, members=[person_input(given_name="次郎", given_name_kana="ジロウ",
                                                        birth_date=dt.date(1980, 5, 5), domicile_head="青木　次郎")],
                           address=Address(KOKURA_JOUNAI, "2番2号")).persons[0]["id"]
    same = seal_png(15)
    register(actor, fam["head"], image=same)
    assert register(actor, other, image=same)["state"] == SealState.REGISTERED


def test_the_guarantors_read_is_logged_and_checked_for_protection(actor, support_user, terminal, fam, world):
    from tests.protection.helpers import move_in_victim, protect

    wife = register(actor, fam["wife"], seal_text="花子", image=seal_png(12))
    reg = register(actor, fam["head"], method=RegistrationMethod.GUARANTOR, documents=[], guarantor_number=wife["number"])
    log = last_log("seal.register")
    assert log.outcome == AccessLog.OK and log.criteria["registration_id"] == reg["id"]
    assert sorted(log.subjects.values_list("person_id", flat=True)) == sorted([fam["head"], fam["wife"]])
    # A guarantor under a 支援措置: the clerk may not read her, so may not take her as guarantor.
    support = Actor(user=support_user, terminal=terminal)
    victim = move_in_victim(support)
    guarantor = services.seal_register(actor=support, person_id=victim["mother"], method=DOC, image=seal_png(13),
                                       seal_text="山田花子", documents=["運転免許証"], seal_checked=True)
    protect(support, victim)
    services.seal_abolish(actor=actor, person_id=fam["head"], documents=["旅券"])
    e = refused(ErrorCode.SUPPORT_MEASURE_PROTECTED, register, actor, fam["head"], method=RegistrationMethod.GUARANTOR,
                documents=[], guarantor_number=guarantor["number"], image=seal_png(18))
    assert "支援措置" in e.message
    log = last_log("seal.register")
    assert log.outcome == ErrorCode.SUPPORT_MEASURE_PROTECTED and "support_measure" in log.flags
    assert victim["mother"] in log.subjects.values_list("person_id", flat=True)
    assert regs(actor, fam["head"])[0]["state"] == SealState.ABOLISHED  # nothing new written
