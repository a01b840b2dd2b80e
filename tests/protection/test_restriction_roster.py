"""抑止対象者一覧 [1290]: every person a 抑止 in force covers, by 行政区 (a 政令市 splits it per ward), on
screen and as a CSV (an export in the log); released and temporarily released 抑止 are not on it."""
from __future__ import annotations

import datetime as dt

from juki.audit.gate import Actor
from juki.audit.models import AccessLog, AccessLogSubject
from juki.core.errors import ErrorCode
from juki.protection import services
from juki.protection.models import Process
from juki.register.models import Ward

from ..conftest import _staff, counter_client, move_in_family, person_input
from ..helpers import last_log, refused
from ..register.helpers import ids


def test_the_roster_lists_whom_a_restriction_covers_by_ward(world, terminal):
    user = _staff("supervisor", "sup-roster")
    sup = Actor(user=user, terminal=terminal, second_factor=True)
    family = move_in_family(world)
    head, wife, child = ids(family)
    other = ids(move_in_family(world, members=[person_input(family_name="井上", family_name_kana="イノウエ")]))[0]
    household = services.restriction_set(actor=sup, household_id=family.households[0]["id"],
                                         processes=[Process.LINKAGE], reason="DV等支援の申出に準じた申出")
    services.restriction_set(actor=sup, person_id=other, processes=[Process.CERTIFICATE], reason="不当請求のおそれ")
    released = services.restriction_set(actor=sup, person_id=other, processes=[Process.INQUIRY], reason="誤設定")
    services.restriction_release(actor=sup, restriction_id=released["id"])

    roster = services.restriction_roster(actor=sup)
    assert sorted((r["person_id"], r["target"]) for r in roster["rows"]) == sorted(
        [(head, "世帯"), (wife, "世帯"), (child, "世帯"), (other, "個人")])
    assert all(r["ward"] == "小倉北区" for r in roster["rows"])
    assert {tuple(r["process_labels"]) for r in roster["rows"] if r["id"] == household["id"]} == {("他システム連携",)}
    row = last_log("restriction.roster")
    assert set(AccessLogSubject.objects.filter(log=row).values_list("person_id", flat=True)) == {head, wife, child, other}
    # One process: 他システム連携 only (whom no 庁内連携 receives).
    assert {r["person_id"] for r in services.restriction_roster(actor=sup, process=Process.LINKAGE)["rows"]} == {
        head, wife, child}
    # Split by ward: another ward's list has none of them.
    yahata = Ward.objects.exclude(name="小倉北区").order_by("code").first()
    assert services.restriction_roster(actor=sup, ward=yahata.code)["rows"] == []
    refused(ErrorCode.INVALID_INPUT, services.restriction_roster, actor=sup, process="nothing")


def test_the_roster_screen_and_its_csv(world, terminal):
    user = _staff("supervisor", "sup-roster2")
    sup = Actor(user=user, terminal=terminal, second_factor=True)
    head = ids(move_in_family(world))[0]
    services.restriction_set(actor=sup, person_id=head, processes=[Process.LINKAGE], reason="申出",
                             start=dt.date.today())
    client = counter_client(user, terminal)
    page = client.get("/protection/restrictions/")
    assert page.status_code == 200 and "抑止対象者 1人" in page.content.decode() and "青木　太郎" in page.content.decode()
    csv = client.get("/protection/restrictions/", {"format": "csv"})
    assert csv["Content-Type"].startswith("text/csv") and "青木　太郎" in csv.content.decode("utf-8-sig")
    assert last_log("export.restriction_roster").category == "export"
    # A clerk has no 抑止 rights: refused and logged.
    clerk = _staff("clerk", "clerk-roster")
    assert counter_client(clerk, terminal).get("/protection/restrictions/").status_code == 403
    assert AccessLog.objects.filter(user=clerk, outcome="denied").exists()
