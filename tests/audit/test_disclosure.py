"""開示請求の回答: the PDF holds every item, change, access and provision, never a plain 個人番号;
preparing it is logged; the resident-facing summary groups by place and purpose."""
from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from juki.accounts.models import Terminal
from juki.oversight import disclosure
from juki.audit.gate import Actor
from juki.audit.models import AccessLog
from juki.core.errors import AccessDenied, NotFoundError
from juki.core.wareki import display_date
from juki.register import selectors
from juki.register.services import changes, outbox
from juki.register.services.people import Address

from ..conftest import ROOT, api_for, days_ago
from ..register.helpers import ref
from tests.helpers import TEST_ACTOR

MY_NUMBER = "123456789018"
UOMACHI = "40106002000"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"


def pdftotext(pdf: bytes) -> str:
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture
def office(db):
    return Terminal.objects.create(code="T-HQ", name="監査端末", location="本庁 区政課")


@pytest.fixture
def auditor_actor(auditor, office):
    return Actor(user=auditor, terminal=office)


@pytest.fixture
def story(world, family, linkage_user, terminal):
    """A family moved in, the head's 個人番号 was recorded, they moved within the city, a clerk looked
    the head up twice, and the 宛名 system took the changes from the outbox."""
    head = family.persons[0]["id"]
    members = [p["id"] for p in family.persons]
    changes.my_number_record(actor=world, event_date=days_ago(20), person=ref(head), my_number=MY_NUMBER, kind="entry")
    changes.move_within_city(actor=world, event_date=days_ago(10), notified_on=days_ago(9),
                             persons=[ref(pid) for pid in members], address=Address(UOMACHI, "8番"))
    selectors.person_get(actor=world, person_id=head)
    selectors.person_get(actor=world, person_id=head)
    outbox.outbox_read(actor=Actor.system_actor("atena", terminal=terminal), destination="atena")
    return {"head": head, "wife": members[1]}


def test_report_holds_items_changes_accesses_and_provisions_but_no_plain_my_number(story, auditor_actor):
    head = story["head"]
    pdf = disclosure.disclosure_report(auditor_actor, head)
    text = pdftotext(pdf)
    compact = flat(text)

    assert pdf.startswith(b"%PDF")
    assert "青木　太郎" in text or "青木太郎" in compact
    # Every change of the 異動履歴, with what changed (the address of the 転居).
    for label in ("転入", "個人番号の記載・変更", "転居"):
        assert label in compact, label
    assert "魚町" in compact and "8番" in compact
    assert display_date(days_ago(10)) in compact  # 異動日 of the 転居
    # Items the auditor may not see on the counter are still answered (本籍, 住民票コード).
    assert "福岡県北九州市小倉北区城内1番" in compact
    # 個人番号: recorded, answered separately, never printed.
    assert flat(disclosure.MY_NUMBER_TEXT) in compact
    assert MY_NUMBER not in compact and MY_NUMBER not in pdf.decode("latin-1")
    # Every access row that touched the head: date-time, section (入力場所), purpose, user id.
    rows = AccessLog.objects.filter(subjects__person_id=head).exclude(function__startswith="disclosure.")
    assert rows.count() >= 6
    for row in rows:
        local = timezone.localtime(row.at)
        assert flat(f"{display_date(local.date())} {local.hour:02d}:{local.minute:02d}") in compact
    assert "小倉北区役所市民課" in compact
    assert compact.count("住民票の照会") >= 2
    assert "clerk1" in compact
    # Provision: the 宛名 system took the changes, named as the registry of destinations names it.
    assert "団体内統合宛名システム" in compact
    assert "他の行政機関等への情報提供" in compact


def test_generating_the_report_is_logged_as_a_read_and_a_print(story, auditor, auditor_actor):
    head = story["head"]
    disclosure.disclosure_report(auditor_actor, head)
    read = AccessLog.objects.get(user=auditor, function="disclosure.report")
    printed = AccessLog.objects.get(user=auditor, function="print.disclosure")
    assert read.outcome == AccessLog.OK and read.category == "access"
    assert list(read.subjects.values_list("person_id", flat=True)) == [head]
    assert printed.category == "print" and list(printed.subjects.values_list("person_id", flat=True)) == [head]
    assert printed.terminal.location == "本庁 区政課"
    # The next answer lists this preparation too: the resident sees that it was made.
    again = flat(pdftotext(disclosure.disclosure_report(auditor_actor, head)))
    assert "開示請求への回答の作成" in again and "開示請求への回答書の作成" in again


def test_a_clerk_is_refused_and_the_refusal_is_logged(story, actor, clerk):
    with pytest.raises(AccessDenied):
        disclosure.disclosure_report(actor, story["head"])
    row = AccessLog.objects.filter(user=clerk, function="disclosure.report").get()
    assert row.outcome == AccessLog.DENIED
    assert not AccessLog.objects.filter(user=clerk, function="print.disclosure").exists()


def test_unknown_person_is_not_found_and_logged(db, auditor, auditor_actor, towns):
    with pytest.raises(NotFoundError):
        disclosure.disclosure_report(auditor_actor, 999999)
    assert AccessLog.objects.get(user=auditor, function="disclosure.report").outcome == "not_found"


def test_a_protected_person_needs_the_support_right_and_is_flagged(world, auditor, auditor_actor, terminal):
    from juki.protection.enforcement import FLAG

    from ..conftest import _staff
    from ..protection.helpers import move_in_victim, protect

    victim = move_in_victim(world)
    protect(Actor(user=_staff("support", "support1"), terminal=terminal), victim)
    with pytest.raises(AccessDenied) as refused:
        disclosure.disclosure_report(auditor_actor, victim["mother"])
    assert "支援措置" in refused.value.message
    row = AccessLog.objects.filter(user=auditor, function="disclosure.report").get()
    assert row.outcome == "support_measure_protected" and FLAG in row.flags
    assert not AccessLog.objects.filter(user=auditor, function="print.disclosure").exists()


def test_summary_groups_by_section_and_purpose(story, auditor_actor, supervisor):
    head = story["head"]
    # One more look-up from another section, by another member of staff.
    branch = Terminal.objects.create(code="T-BR", name="出張所1", location="小倉北区 出張所")
    selectors.person_get(actor=Actor(user=supervisor, terminal=branch), person_id=head)

    data = disclosure.disclosure_summary(auditor_actor, head)
    groups = {(g["section"], g["purpose"]): g for g in data["groups"]}
    assert groups[("小倉北区役所 市民課", "住民票の照会")]["count"] == 2
    assert groups[("小倉北区 出張所", "住民票の照会")]["count"] == 1
    assert groups[("小倉北区役所 市民課", "転居の届出の処理")]["count"] == 1
    assert groups[("小倉北区役所 市民課", "転入の届出の処理")]["count"] == 1
    assert groups[("小倉北区役所 市民課", "他の行政機関等への情報提供")]["count"] == 1
    today = display_date(timezone.localdate())
    assert groups[("小倉北区 出張所", "住民票の照会")]["last"] == today
    # Counts add up to every row about the head written before this summary.
    before = AccessLog.objects.filter(subjects__person_id=head).exclude(function="disclosure.summary").count()
    assert sum(g["count"] for g in data["groups"]) == before
    # A period that starts tomorrow has nothing yet.
    assert disclosure.disclosure_summary(auditor_actor, head, days_ago(-1))["groups"] == []


def test_the_wife_sees_only_rows_that_touched_her(story, auditor_actor):
    wife_rows = disclosure.disclosure_data(auditor_actor, story["wife"])["accesses"]
    head_rows = disclosure.disclosure_data(auditor_actor, story["head"])["accesses"]
    assert not any(r["purpose"] == "住民票の照会" for r in wife_rows)  # the clerk only opened the head
    assert sum(r["purpose"] == "住民票の照会" for r in head_rows) == 2


def test_pdf_renders_for_review(story, auditor_actor):
    """Renders page one to PNG for a human look (test-artifacts/screenshots)."""
    pdf = disclosure.disclosure_report(auditor_actor, story["head"])
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    src = SCREENSHOTS / "disclosure-report.pdf"
    src.write_bytes(pdf)
    prefix = SCREENSHOTS / "disclosure-report"
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(src), str(prefix)], check=True)
    src.unlink()  # the PDF holds (test) personal data; the PNGs are the review artefact
    pngs = sorted(Path(SCREENSHOTS).glob("disclosure-report-*.png"))
    assert pngs and all(p.stat().st_size > 5000 for p in pngs)


# --- screens and API -------------------------------------------------------------------------------


def client_for(user, terminal) -> Client:
    c = Client()
    r = c.post("/counter/login/", {"username": user.username, "password": user.plain_password, "terminal": terminal.code})
    assert r.status_code == 302, r.content.decode()[:500]
    return c


def test_auditor_reaches_the_person_by_atena_number_and_downloads_the_pdf(story, auditor, office):
    c = client_for(auditor, office)
    assert "宛名番号" in c.get("/disclosure/").content.decode()
    with_atena = selectors.person_get(actor=TEST_ACTOR, person_id=story["head"])["atena_number"]
    r = c.post("/disclosure/", {"atena_number": with_atena})
    assert r.status_code == 302 and r["Location"] == f"/disclosure/persons/{story['head']}/"
    assert with_atena not in r["Location"]
    page = c.get(r["Location"]).content.decode()
    assert "住民票の照会" in page and "2回" in page and "回答書（PDF）を作成" in page
    pdf = c.post(f"/disclosure/persons/{story['head']}/report/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert re.fullmatch(r'attachment; filename="disclosure-\d{8}-\d{6}\.pdf"', pdf["Content-Disposition"])
    assert "no-store" in pdf["Cache-Control"]
    assert c.get(f"/disclosure/persons/{story['head']}/report/").status_code == 405  # POST only
    assert AccessLog.objects.filter(user=auditor, function="disclosure.lookup", outcome="ok").count() == 1


def test_unknown_atena_number_gets_a_japanese_message(story, auditor, office):
    c = client_for(auditor, office)
    r = c.post("/disclosure/", {"atena_number": "0000000000"})
    assert r.status_code == 404 and "宛名番号の住民は見つかりません" in r.content.decode()


def test_clerk_screens_are_refused_and_person_page_shows_no_link(story, clerk, terminal):
    c = client_for(clerk, terminal)
    assert c.get("/disclosure/").status_code == 403
    assert c.post(f"/disclosure/persons/{story['head']}/report/").status_code == 403
    assert "開示請求の回答作成" not in c.get(f"/counter/persons/{story['head']}/").content.decode()


def test_person_page_links_to_the_disclosure_screen_for_holders_of_the_right(story, clerk2, terminal):
    from juki.rights.services import initial_grant

    initial_grant(clerk2, "auditor")  # holds person.view as a clerk, and now disclosure.prepare
    page = client_for(clerk2, terminal).get(f"/counter/persons/{story['head']}/").content.decode()
    assert f'href="/disclosure/persons/{story["head"]}/">開示請求の回答作成</a>' in page


def test_api_pdf_and_summary(story, auditor, office):
    api = api_for(auditor, office)
    r = api.get(f"/api/v1/persons/{story['head']}/disclosure")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert r["Content-Disposition"].startswith("attachment;") and "no-store" in r["Cache-Control"]
    assert "青木" in pdftotext(r.content)
    s = api.get(f"/api/v1/persons/{story['head']}/disclosure/summary", {"since": days_ago(365).isoformat()})
    assert s.status_code == 200
    body = s.json()
    assert body["person"]["person_id"] == story["head"] and body["since"] == days_ago(365).isoformat()
    assert any(g["purpose"] == "住民票の照会" and g["count"] == 2 for g in body["groups"])
    bad = api.get(f"/api/v1/persons/{story['head']}/disclosure/summary", {"since": "yesterday"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_date"


@pytest.mark.parametrize("path", ["/api/v1/persons/{pid}/disclosure", "/api/v1/persons/{pid}/disclosure/summary"])
def test_api_refuses_a_clerk_with_403_and_a_denied_row(story, api, clerk, path):
    r = api.get(path.format(pid=story["head"]))
    assert r.status_code == 403 and r.json()["code"] == "permission_denied"
    assert AccessLog.objects.filter(user=clerk, function__startswith="disclosure.", outcome="denied").count() == 1


@pytest.mark.parametrize("function, purpose", [
    ("person.view", "住民票の照会"), ("person.search", "住民の検索（検索結果への表示）"),
    ("change.move_within_city", "転居の届出の処理"), ("change.ex_officio_removal", "職権消除の処理"),
    ("outbox.read", "他の行政機関等への情報提供"), ("print.disclosure", "開示請求への回答書の作成"),
    ("support.view", "支援措置の事務"), ("something.new", "その他の事務"),
])
def test_purpose_labels(function, purpose):
    assert disclosure.purpose_of(function) == purpose


def test_destination_names_come_from_the_registry_of_destinations():
    from juki.accounts.destinations import DESTINATIONS

    assert not hasattr(disclosure, "_DESTINATIONS")
    for d in DESTINATIONS:  # a staff account's read names the cursor; a system actor's row names itself
        assert disclosure.destination_of(AccessLog(function="outbox.read", criteria={"consumer": d.code})) == d.name
        assert disclosure.destination_of(AccessLog(function="outbox.read", system=d.code)) == d.name
    assert disclosure.destination_of(AccessLog(function="outbox.read", criteria={"consumer": "tax"})) == "税制課（地方税）"
    assert disclosure.destination_of(AccessLog(function="outbox.read", criteria={"consumer": "old"})) == "連携システム（old）"



def test_what_a_provision_carried_is_what_its_destination_receives():
    def content(function, code):
        return disclosure.provision_content(AccessLog(function=function, criteria={"consumer": code}))

    assert content("outbox.read", "atena") == "異動があったことの通知（宛名番号・異動の種類・異動日）"
    assert content("outbox.read", "intermediary") == "異動があったことの通知（異動の種類・異動日）"  # no 宛名番号
    assert content("outbox.read", "old") == "異動があったことの通知（宛名番号・異動の種類・異動日）"
    assert content("outbox.restrictions.read", "atena") == \
        "抑止の設定・解除の通知（宛名番号・世帯番号・抑止する処理・抑止レベル・期間）"
    assert content("outbox.restrictions.read", "jukinet") == "抑止の設定・解除の通知（宛名番号・抑止する処理・抑止レベル・期間）"
    assert content("person.view", "atena") == ""


def test_outcome_labels_never_show_a_code():
    assert disclosure.outcome_label("support_measure_protected") == "支援措置のため表示せず"
    assert disclosure.outcome_label("household_mismatch") == "受け付けられませんでした（内容の不備等）"


# --- what a report may show about other people (ADR 0014) -----------------------------------------


def _subjects(row: AccessLog) -> set[int]:
    return set(row.subjects.values_list("person_id", flat=True))


def test_another_members_move_is_not_in_a_persons_report(story, world, auditor_actor):
    """The wife moves out to a household of her own. The change reads the household she leaves, so
    the head is a subject of its log row; but nothing of his was written: his report must not show
    a 転居 on that day (it would tell him that, and when, she moved)."""
    head, wife = story["head"], story["wife"]
    changes.move_within_city(actor=world, event_date=days_ago(3), notified_on=days_ago(3), persons=[ref(wife)],
                             address=Address(UOMACHI, "20番"), destination=changes.NEW,
                             relationships_in_destination={wife: "世帯主"})
    her_move = AccessLog.objects.filter(function="change.move_within_city").latest("id")
    assert head in _subjects(her_move)  # why the defect happened: he is a subject of her change's row

    data = disclosure.disclosure_data(auditor_actor, head)
    assert sum(a["purpose"] == "転居の届出の処理" for a in data["accesses"]) == 1  # his own 転居 only
    groups = {(g["section"], g["purpose"]): g["count"] for g in disclosure.disclosure_summary(auditor_actor, head)["groups"]}
    assert groups[("小倉北区役所 市民課", "転居の届出の処理")] == 1
    compact = flat(pdftotext(disclosure.disclosure_report(auditor_actor, head)))
    # Once in the summary (1回) and once in the list of uses; before the fix, three times.
    assert compact.count("転居の届出の処理") == 2 and "20番" not in compact
    # Her own report lists both of her moves.
    mine = disclosure.disclosure_data(auditor_actor, wife)["accesses"]
    assert sum(a["purpose"] == "転居の届出の処理" for a in mine) == 2


def test_a_change_that_wrote_the_person_is_in_the_report_with_its_change_id(story, auditor_actor):
    row = AccessLog.objects.filter(function="change.move_within_city").latest("id")
    assert isinstance(row.criteria["change_id"], int)
    assert sum(a["purpose"] == "転居の届出の処理" for a in disclosure.disclosure_data(auditor_actor, story["head"])["accesses"]) == 1


@pytest.fixture
def offender_story(world, family, support, terminal):
    """青木 太郎 (in the register) is named as 相手方 of 山田 花子's 支援措置. The support section looks
    him up by 宛名番号 and opens his 抑止・支援措置 page: both read his record."""
    from juki.protection import services as protection

    from ..protection.helpers import move_in_victim, protect

    head = family.persons[0]
    victim = move_in_victim(world)
    offender_id = protection.person_by_atena(actor=support, atena_number=head["atena_number"])  # support.lookup
    protect(support, victim, offender=protection.Offender(name="青木　太郎", kana="アオキ　タロウ",
                                                          birth_date=dt.date(1985, 4, 1), person_id=offender_id))
    protection.protection_of(actor=support, person_id=offender_id)  # restriction.view: 交付制限の事務
    selectors.person_get(actor=world, person_id=offender_id)  # an ordinary look-up, which he may see
    return {"offender": offender_id, "victim": victim}


WITHHELD_PURPOSES = ("支援措置の事務", "住民票の写し等の交付制限の事務")


def test_the_offenders_report_withholds_the_support_measure_entries(offender_story, auditor, auditor_actor):
    offender = offender_story["offender"]
    support_rows = AccessLog.objects.filter(subjects__person_id=offender).filter(
        function__in=["support.lookup", "restriction.view"])
    assert support_rows.count() == 2  # why the defect happened: both rows name him

    pdf = disclosure.disclosure_report(auditor_actor, offender)
    compact = flat(pdftotext(pdf))
    for purpose in WITHHELD_PURPOSES:
        assert purpose not in compact, purpose
    assert "支援措置" not in compact and "不開示" not in compact  # not even that something was withheld
    assert "住民票の照会" in compact  # the rest of his report is there
    for row in support_rows:  # nor the time of those entries
        local = timezone.localtime(row.at)
        stamp = flat(f"{display_date(local.date())} {local.hour:02d}:{local.minute:02d}")
        others = AccessLog.objects.filter(subjects__person_id=offender, at__gte=local.replace(second=0, microsecond=0),
                                          at__lt=local.replace(second=0, microsecond=0) + dt.timedelta(minutes=1))
        if others.count() == others.filter(pk__in=support_rows).count():  # no other row in that minute
            assert stamp not in compact

    # The withholding is recorded on the report's own log row: who (its user), when, why, how many.
    read = AccessLog.objects.get(user=auditor, function="disclosure.report")
    assert disclosure.WITHHELD_FLAG in read.flags
    withheld = read.criteria["withheld"]
    assert withheld["count"] == 2 and withheld["reason"] == disclosure.WITHHELD_REASON_CODE
    assert sorted(withheld["log_ids"]) == sorted(support_rows.values_list("id", flat=True))


def test_the_auditor_sees_what_was_withheld_and_why(offender_story, auditor, office):
    offender = offender_story["offender"]
    data = disclosure.disclosure_data(Actor(user=auditor, terminal=office), offender)
    assert {w["purpose"] for w in data["withheld"]} == set(WITHHELD_PURPOSES)
    assert all(w["purpose"] not in WITHHELD_PURPOSES for w in data["accesses"])
    assert all(g["purpose"] not in WITHHELD_PURPOSES for g in data["summary"])

    page = client_for(auditor, office).get(f"/disclosure/persons/{offender}/").content.decode()
    assert "不開示とした記録" in page and "支援措置の事務" in page and "個人情報保護法第78条" in page
    # The summary the resident is shown does not count them.
    summary = disclosure.disclosure_summary(Actor(user=auditor, terminal=office), offender)
    assert all(g["purpose"] not in WITHHELD_PURPOSES for g in summary["groups"])
    assert len(summary["withheld"]) == 2


def test_an_offender_named_only_by_name_and_birth_date_is_withheld_from_too(world, family, support, auditor_actor):
    from juki.protection import services as protection

    from ..protection.helpers import move_in_victim, protect

    head = family.persons[0]
    victim = move_in_victim(world)
    offender_id = protection.person_by_atena(actor=support, atena_number=head["atena_number"])
    protect(support, victim, offender=protection.Offender(name="青木太郎", birth_date=dt.date(1985, 4, 1)))
    data = disclosure.disclosure_data(auditor_actor, offender_id)
    assert [w["purpose"] for w in data["withheld"]] == ["支援措置の事務"]
    assert "支援措置の事務" not in flat(pdftotext(disclosure.disclosure_report(auditor_actor, offender_id)))


def test_support_entries_are_withheld_only_from_a_persons_offender(story, support, auditor_actor):
    """Someone the support section looked up who is not a 相手方 sees the look-up like any other use."""
    from juki.protection import services as protection

    wife = story["wife"]
    atena = selectors.person_get(actor=TEST_ACTOR, person_id=wife)["atena_number"]
    protection.person_by_atena(actor=support, atena_number=atena)
    data = disclosure.disclosure_data(auditor_actor, wife)
    assert data["withheld"] == [] and any(a["purpose"] == "支援措置の事務" for a in data["accesses"])
    assert "支援措置の事務" in flat(pdftotext(disclosure.disclosure_report(auditor_actor, wife)))


def test_which_change_rows_a_person_sees():
    """The rule of ADR 0014 on single rows: a committed change only for those it wrote; rows from
    before changes named their change_id matched by operation and time; refused attempts and
    other uses always."""
    now = timezone.now()
    own = [("move_within_city", now)]

    def row(function="change.move_within_city", outcome="ok", at=now, **criteria):
        return AccessLog(function=function, outcome=outcome, at=at, criteria=criteria)

    assert disclosure._wrote(row(change_id=7), {7}, own)
    assert not disclosure._wrote(row(change_id=8), {7}, own)  # another person's move
    assert disclosure._wrote(row(at=now + dt.timedelta(seconds=2)), {7}, own)  # legacy, own change
    assert not disclosure._wrote(row(at=now + dt.timedelta(minutes=5)), {7}, own)  # legacy, someone else's
    assert not disclosure._wrote(row(function="change.move_in"), {7}, own)  # legacy, another operation
    assert disclosure._wrote(row(outcome="conflict", change_id=None), set(), [])  # a refused attempt
    assert disclosure._wrote(row(function="change.view", change_id=8), {7}, own)  # a read, not a change
    assert disclosure._wrote(row(function="person.view"), set(), [])
