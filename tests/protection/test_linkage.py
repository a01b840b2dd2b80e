"""抑止連携 [410][420]: a 抑止 set or released goes out to 宛名・コンビニ交付・CS; a 一時解除 never does.
Also the separate rights to set, release and temporarily release [410]."""
import pytest
from django.db import DatabaseError, transaction

from juki.accounts.permissions import Perm
from juki.audit.gate import Actor
from juki.audit.models import AccessLog
from juki.core.errors import AccessDenied, DomainError, ErrorCode
from juki.protection import linkage, services
from juki.protection.models import Restriction, RestrictionEvent

from ..conftest import api_for, counter_client
from ..rights.conftest import apply, fresh
from .helpers import last_log, protect


@pytest.fixture
def sup(supervisor, terminal):
    return Actor(user=supervisor, terminal=terminal, second_factor=True)


@pytest.fixture
def reader(linkage_user, terminal):
    return Actor.system_actor("atena", terminal=terminal)


def events(reader, destination="atena"):
    return linkage.restriction_events_read(actor=reader, destination=destination)["events"]


def test_set_and_release_go_out_a_temporary_release_does_not(victim, sup, reader):
    made = services.restriction_set(actor=sup, person_id=victim["mother"], processes=["certificate", "change"],
                                    reason="本人からの申出（調査中）")
    services.restriction_temporary_release(actor=sup, restriction_id=made["id"], minutes=30)
    services.restriction_release(actor=sup, restriction_id=made["id"])
    got = events(reader)
    assert [(e["action"], e["restriction_id"]) for e in got] == [("set", made["id"]), ("release", made["id"])]
    first = got[0]
    assert first["schema"] == "juki.restriction.v1" and first["position"] < got[1]["position"]
    assert first["target"] == "person" and first["household_id"] is None and first["household_number"] is None
    assert first["persons"] == [{"person_id": victim["mother"], "atena_number": victim["atena"]}]
    assert first["processes"] == ["change", "certificate"] and first["level"] == "error"
    assert first["certificate"] is True  # コンビニ交付 and the CS apply it [410]
    assert first["start"] == made["start"]["date"] and first["end"] is None
    # The reason is the city's own note: it does not leave.
    assert "調査中" not in str(got)
    # Every person handed out is a subject of the read's log row.
    row = last_log(function="outbox.restrictions.read")
    assert [s.person_id for s in row.subjects.all()] == [victim["mother"]] and row.user == reader.user


def test_a_household_restriction_names_its_members_and_its_number(victim, sup, reader):
    services.restriction_set(actor=sup, household_id=victim["household"], processes=["inquiry"], level="alert",
                             reason="世帯全員について照会を確認")
    (event,) = events(reader)
    assert event["target"] == "household" and event["household_id"] == victim["household"]
    assert event["household_number"] and sorted(p["person_id"] for p in event["persons"]) == sorted(
        [victim["mother"], victim["child"]])
    assert event["certificate"] is False and event["level"] == "alert"


def test_a_refused_or_failed_set_sends_nothing(victim, sup, reader, monkeypatch):
    with pytest.raises(DomainError) as long_reason:
        services.restriction_set(actor=sup, person_id=victim["mother"], processes=["certificate"], reason="あ" * 201)
    assert (long_reason.value.code, long_reason.value.field) == (ErrorCode.INVALID_INPUT, "reason")
    assert long_reason.value.message == "抑止の理由は200文字以内で入力してください。"

    def broken(*args, **kwargs):
        raise DatabaseError("the event could not be written")

    monkeypatch.setattr(RestrictionEvent.objects, "create", broken)
    with pytest.raises(DatabaseError):
        services.restriction_set(actor=sup, person_id=victim["mother"], processes=["certificate"], reason="申出")
    monkeypatch.undo()
    # One transaction: no restriction without its event, and no "done" log row.
    assert events(reader) == []
    with services.gate.open(sup, function="test", perm=Perm.RESTRICTION_MANAGE):
        assert not Restriction.objects.exists()
    assert last_log(function="restriction.set").outcome not in ("done", AccessLog.OK)


def test_each_stream_keeps_its_own_cursor(victim, sup, reader):
    services.restriction_set(actor=sup, person_id=victim["mother"], processes=["certificate"], reason="申出")
    (event,) = events(reader)
    linkage.restriction_events_ack(actor=reader, destination="atena", position=event["position"])
    assert events(reader) == [] and len(events(Actor.system_actor("conveni"), "conveni")) == 1
    with pytest.raises(DomainError) as beyond:
        linkage.restriction_events_ack(actor=reader, destination="atena", position=event["position"] + 1)
    assert beyond.value.field == "position"
    assert beyond.value.code == ErrorCode.INVALID_INPUT and "まだ存在しない位置" in beyond.value.message
    # The change outbox under the same destination is untouched by this ack.
    from juki.register.services import outbox

    assert outbox.outbox_read(actor=reader, destination="atena")["position"] == 0


def test_events_are_append_only(victim, sup):
    services.restriction_set(actor=sup, person_id=victim["mother"], processes=["certificate"], reason="申出")
    with services.gate.open(sup, function="test", perm=Perm.RESTRICTION_MANAGE):
        with pytest.raises(DatabaseError), transaction.atomic():
            RestrictionEvent.objects.update(payload={})


def test_only_the_linkage_role_reads_the_events(victim, sup, clerk, terminal, linkage_user):
    services.restriction_set(actor=sup, person_id=victim["mother"], processes=["certificate"], reason="申出")
    refused = api_for(clerk, terminal).get("/api/v1/outbox/restrictions?consumer=atena")
    assert refused.status_code == 403 and last_log(user=clerk).outcome == AccessLog.DENIED
    client = api_for(linkage_user, terminal)
    page = client.get("/api/v1/outbox/restrictions?consumer=atena").json()
    assert [e["action"] for e in page["events"]] == ["set"]
    acked = client.post("/api/v1/outbox/restrictions/ack", {"consumer": "atena", "position": page["events"][0]["position"]},
                        format="json")
    assert acked.status_code == 200 and client.get("/api/v1/outbox/restrictions?consumer=atena").json()["events"] == []
    bad = client.get("/api/v1/outbox/restrictions")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_input"


def test_a_protected_persons_restriction_goes_out_and_the_read_is_flagged(victim, support, sup, reader):
    protect(support, victim)
    services.restriction_set(actor=support, person_id=victim["mother"], processes=["certificate"], reason="支援措置と併せて")
    (event,) = events(reader)
    assert event["persons"] == [{"person_id": victim["mother"], "atena_number": victim["atena"]}]
    assert "support_measure" in last_log(function="outbox.restrictions.read").flags


# --- separate rights [410] ----------------------------------------------------------------------------


def _granted(perm, user, rights_admin, manager, terminal):
    """`user` granted `perm` only (besides their role), through an approved application."""
    from juki.rights import services as rights
    from juki.rights.models import Section

    sections = {"owner": Section.objects.get_or_create(code="S-JUKI", defaults={"name": "市民課（システム所管）",
                                                                               "is_system_owner": True})[0],
                "kokura": Section.objects.get_or_create(code="S-KOKURA", defaults={"name": "小倉北区役所 市民課"})[0]}
    admin = Actor(user=rights_admin, terminal=terminal, second_factor=True)
    application = apply(admin, sections, target_user=user, perms=[perm])
    rights.application_approve(actor=Actor(user=manager, terminal=terminal, second_factor=True),
                               application_id=application.id)
    granted = fresh(user)
    granted.plain_password = user.plain_password
    return granted


@pytest.fixture
def setter(clerk, rights_admin, manager, terminal):
    """A clerk granted 抑止の設定・閲覧 only."""
    return _granted(Perm.RESTRICTION_MANAGE, clerk, rights_admin, manager, terminal)


@pytest.fixture
def releaser(clerk2, rights_admin, manager, terminal):
    """Another clerk granted 抑止の解除 only."""
    return _granted(Perm.RESTRICTION_RELEASE, clerk2, rights_admin, manager, terminal)


def test_setting_does_not_carry_releasing(victim, setter, terminal, sup):
    actor = Actor(user=setter, terminal=terminal)
    made = services.restriction_set(actor=actor, person_id=victim["mother"], processes=["certificate"], reason="申出")
    for step, function in ((lambda: services.restriction_release(actor=actor, restriction_id=made["id"]),
                            "restriction.release"),
                           (lambda: services.restriction_temporary_release(actor=actor, restriction_id=made["id"]),
                            "restriction.temporary_release")):
        with pytest.raises(AccessDenied):
            step()
        assert last_log(function=function).outcome == AccessLog.DENIED
    # The API says so too, before the service.
    client = api_for(setter, terminal)
    assert client.post(f"/api/v1/protection/restrictions/{made['id']}/release").status_code == 403
    assert client.post(f"/api/v1/protection/restrictions/{made['id']}/temporary-release", {}, format="json"
                       ).status_code == 403
    # The screen lists the restriction but offers neither step; the 係長 (all three rights) gets both.
    page = counter_client(setter, terminal).get(f"/protection/persons/{victim['mother']}/")
    html = page.content.decode()
    assert page.status_code == 200 and "抑止中" in html and "一時解除</button>" not in html and ">解除</button>" not in html
    assert "一時解除は連携されません" in html
    with services.gate.open(sup, function="test", perm=Perm.RESTRICTION_MANAGE):
        assert Restriction.objects.get().ended_at is None


def test_the_residents_disclosure_lists_the_provision(victim, sup, reader, auditor, terminal):
    """開示請求: a 抑止連携 read is a provision to the named system, with what it carried."""
    from juki.oversight.disclosure import disclosure_data

    services.restriction_set(actor=sup, person_id=victim["mother"], processes=["certificate"], reason="申出")
    events(Actor.system_actor("conveni"), "conveni")  # the コンビニ交付's own account
    data = disclosure_data(Actor(user=auditor, terminal=terminal), victim["mother"])
    # コンビニ交付 is not sent the household's number (accounts.destinations), so the answer does not list it.
    assert {"destination": "コンビニ交付システム", "content": "抑止の設定・解除の通知（宛名番号・抑止する処理・抑止レベル・期間）"}.items() \
        <= data["provisions"][-1].items()


def test_a_release_only_grant_works_on_the_screen_too(victim, setter, releaser, terminal, reader):
    made = services.restriction_set(actor=Actor(user=setter, terminal=terminal), person_id=victim["mother"],
                                    processes=["certificate"], reason="申出")
    client = counter_client(releaser, terminal)
    # The person's screen links to the 抑止 list for this right too.
    person = client.get(f"/counter/persons/{victim['mother']}/").content.decode()
    assert f'href="/protection/persons/{victim["mother"]}/"' in person
    page = client.get(f"/protection/persons/{victim['mother']}/")
    html = page.content.decode()
    # The list and the 解除 step; neither the 一時解除 nor the form to set one.
    assert page.status_code == 200 and ">解除</button>" in html
    assert "一時解除</button>" not in html and "抑止を設定する" not in html
    done = client.post(f"/protection/restrictions/{made['id']}/release/", {"person": victim["mother"]})
    assert done.status_code == 302 and [e["action"] for e in events(reader)] == ["set", "release"]
    # 一時解除 without its right: refused and logged before the minutes are even read.
    again = services.restriction_set(actor=Actor(user=setter, terminal=terminal), person_id=victim["mother"],
                                     processes=["certificate"], reason="申出")
    refused = client.post(f"/protection/restrictions/{again['id']}/temporary-release/",
                          {"person": victim["mother"], "minutes": "abc"})
    assert refused.status_code == 403
    row = last_log(user=releaser)
    assert (row.function, row.outcome, row.criteria["perm"]) == (
        "screen.restriction_action", AccessLog.DENIED, "restriction.temporary_release")


def test_a_household_event_names_only_the_members_living_there(victim, sup, reader, world):
    """A member who died keeps the household id on their last version: not covered, not sent."""
    from juki.register.services import changes
    from tests.conftest import days_ago
    from tests.register.helpers import ref

    changes.death(actor=world, event_date=days_ago(1), notified_on=days_ago(0), persons=[ref(victim["child"])])
    services.restriction_set(actor=sup, household_id=victim["household"], processes=["certificate"], reason="申出")
    (event,) = events(reader)
    assert [p["person_id"] for p in event["persons"]] == [victim["mother"]]
    assert [s.person_id for s in last_log(function="restriction.set").subjects.all()] == [victim["mother"]]
