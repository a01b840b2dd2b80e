"""The 中間サーバー's screens (/intermediary/) for the city's staff: every route against every role (a
refusal is the 403 screen and a `screen.<name>` row), the review of a held inquiry by the 支援措置担当
(logged as a provision, recorded on the platform with their name), the records, the reconciliation,
and a platform that is down (a clear message, 503)."""
from __future__ import annotations

import pytest

from juki.accounts.permissions import ROLES, Perm, perms_of_role
from juki.atena import services as atena
from juki.audit.models import AccessLog
from juki.audit.gate import UngatedAccess
from juki.core.errors import DomainError, ErrorCode
from juki.intermediary_link import feed, services

from ..conftest import _staff, counter_client, move_in_family
from ..helpers import last_log
from ..protection.helpers import move_in_victim, protect
from ..register.helpers import ids
from .test_inquiries import _ask, _open

_VIEW, _REVIEW = (Perm.INTERMEDIARY_VIEW,), (Perm.INTERMEDIARY_REVIEW,)
ROUTES = [
    ("intermediary_link:overview", "get", "/intermediary/", _VIEW, 200),
    ("intermediary_link:reconcile", "post", "/intermediary/reconcile/", (Perm.LINKAGE_MANAGE,), 200),
    ("intermediary_link:review", "get", "/intermediary/review/", _REVIEW, 200),
    ("intermediary_link:decide", "post", "/intermediary/review/999999/", _REVIEW, 400),  # no decision chosen
    ("intermediary_link:records", "get", "/intermediary/records/", _VIEW, 200),
]


pytestmark = pytest.mark.usefixtures("applications")


@pytest.fixture
def city(settings, world, support, network):
    """A family and a protected mother and child, in the 副本 with their 符号 (as P5 leaves them)."""
    settings.JUKI_NETWORK_DIR = network.dir
    family = ids(move_in_family(world))
    victim = move_in_victim(world)
    protect(support, victim)
    atena.load()
    im = network.client("im-401005")
    feed.load(im)
    return {"family": family, "victim": victim}


def _tie(network, pid: int, serial: int) -> str:
    """The person's 符号 at the platform, and a resident code the requester knows them by."""
    from .test_inquiries import _code

    code = _code(serial)
    made = network.jlis("cs-401005").call("POST", "/fugo", {"resident_code": code, "holder": "im-401005"})[1]
    number = atena.AtenaPerson.objects.get(person_id=pid).number
    network.client("im-401005").call("POST", "/fugo", {"unified_number": number, "fugo": made["fugo"]})
    return code


def test_the_table_lists_every_route():
    from juki.intermediary_link import urls

    assert {f"intermediary_link:{p.name}" for p in urls.urlpatterns} == {name for name, *_ in ROUTES}


@pytest.mark.parametrize("role", sorted(ROLES))
def test_every_route_against_the_role(city, terminal, role):
    user = _staff(role, f"user-{role}")
    client = counter_client(user, terminal)
    held = perms_of_role(role)
    for name, method, path, rights, allowed_status in ROUTES:
        before = AccessLog.objects.filter(outcome=AccessLog.DENIED).count()
        response = getattr(client, method)(path, {})
        if any(r in held for r in rights) and (name != "intermediary_link:reconcile" or Perm.INTERMEDIARY_VIEW in held):
            assert response.status_code == allowed_status, (name, response.status_code)
        else:
            assert response.status_code == 403, (name, response.status_code)
            assert "権限がありません" in response.content.decode()
            assert AccessLog.objects.filter(outcome=AccessLog.DENIED).count() == before + 1, name
            row = last_log(f"screen.{name.split(':')[1]}")
            assert (row.user_id, row.outcome, row.criteria["screen"]) == (user.id, AccessLog.DENIED, name)


def test_the_roles_that_open_the_screens():
    opens = {role: sorted(name for name, _, _, rights, _ in ROUTES if any(r in perms_of_role(role) for r in rights))
             for role in ROLES}
    assert opens["support"] == ["intermediary_link:decide", "intermediary_link:overview", "intermediary_link:records",
                                "intermediary_link:review"]
    assert opens["linkage_operator"] == ["intermediary_link:overview", "intermediary_link:reconcile",
                                         "intermediary_link:records"]
    assert opens["auditor"] == opens["supervisor"] == ["intermediary_link:overview", "intermediary_link:records"]
    assert all(not opens[r] for r in ("clerk", "identity_manager", "viewer", "admin", "manager", "linkage"))


def test_the_support_staff_reviews_a_held_inquiry_and_releases_it(city, network, terminal, support):
    code = _tie(network, city["victim"]["mother"], 11)
    held = _ask(network, "req-mhlw", code)[1]
    assert held["state"] == "held"
    client = counter_client(support.user, terminal)
    page = client.get("/intermediary/review/").content.decode()
    assert f'id="held-{held["inquiry_id"]}"' in page and "厚生労働大臣（日本年金機構）" in page
    assert "別表第二 48の項" in page and f'/counter/persons/{city["victim"]["mother"]}/' in page
    response = client.post(f"/intermediary/review/{held['inquiry_id']}/", {"decision": "release"})
    assert response.status_code == 302
    row = last_log("intermediary.review")
    assert (row.category, row.user_id, row.criteria["release"]) == ("provision", support.user.id, True)
    assert row.criteria["provision"] == 48 and list(row.subjects.values_list("person_id", flat=True)) == [
        city["victim"]["mother"]]
    answer = network.net("req-mhlw").call("GET", f"/inquiries/401005/{held['inquiry_id']}")[1]
    assert answer["state"] == "released" and _open(network, "req-mhlw", answer)["is_head"] is True
    # Twice: a clear message, the state's code in the log.
    again = client.post(f"/intermediary/review/{held['inquiry_id']}/", {"decision": "decline"})
    assert again.status_code == 404 and "すでに確認済み" in again.content.decode()
    assert last_log("intermediary.review").outcome == ErrorCode.NOT_FOUND
    records = client.post("/intermediary/records/", {"unified_number": atena.AtenaPerson.objects.get(
        person_id=city["victim"]["mother"]).number}).content.decode()
    assert "確認待ち（自動応答不可）" in records and "提供（職員の確認後）" in records and "確認：" + support.user.username in records


def test_the_overview_shows_the_replica_and_inquiries_and_the_reconciliation(city, network, terminal, support):
    code = _tie(network, city["family"][1], 12)
    _ask(network, "req-mhlw", code)
    _ask(network, "req-jasso", code)  # refused: not 48's requester
    operator = _staff("linkage_operator", "ope")
    client = counter_client(operator, terminal)
    page = client.get("/intermediary/").content.decode()
    assert "副本の件数" in page and "5件（うち住民 5件）" in page
    assert "自動応答不可</th>" not in page  # the count of protected persons: not for the 連携運用担当
    assert "自動応答" in page and "この項の情報照会者ではありません" in page
    assert "青木" not in page  # numbers, never names
    done = client.post("/intermediary/reconcile/").content.decode()
    assert "住民記録と副本に相違はありません" in done
    assert last_log("intermediary.reconcile").criteria["differences"] == 0
    # The 支援措置担当 sees the count the operator does not.
    assert "自動応答不可</th>" in counter_client(support.user, terminal).get("/intermediary/").content.decode()


def test_bad_input_and_a_platform_that_is_down(city, network, terminal, support, settings, tmp_path):
    client = counter_client(support.user, terminal)
    bad = client.post("/intermediary/records/", {"unified_number": "12ab"})
    assert bad.status_code == 400 and "数字12桁" in bad.content.decode()
    none = client.post("/intermediary/review/1/", {"decision": "maybe"})
    assert none.status_code == 400 and "選んでください" in none.content.decode()
    with pytest.raises(DomainError) as refused:
        services.records(support, unified_number="1")
    assert refused.value.code == ErrorCode.UNIFIED_NUMBER_INVALID
    settings.JUKI_NETWORK_DIR = tmp_path / "nowhere"
    down = client.get("/intermediary/")
    assert down.status_code == 503 and "中間サーバーが起動していません" not in down.content.decode()
    assert "中間サーバーに接続できません" in down.content.decode()
    assert last_log("intermediary.view").outcome == ErrorCode.INTERMEDIARY_UNREACHABLE


def test_the_records_are_copied_to_the_city_and_listed_in_the_disclosure_answer(city, network, terminal, auditor, admin):
    from juki.audit.gate import Actor
    from juki.intermediary_link.models import ProvisionRecord
    from juki.oversight.disclosure import disclosure_data, render_pdf

    wife = city["family"][1]
    code = _tie(network, wife, 13)
    _ask(network, "req-mhlw", code, items=["head_name", "relationship"])
    _ask(network, "req-jasso", code)  # refused
    im = network.client("im-401005")
    assert feed.pull_records(im) == 0  # not settled yet: a row committed late behind them is never skipped
    admin.execute("UPDATE record SET at = at - interval '10 seconds'")
    reached = feed.pull_records(im)
    assert feed.pull_records(im, after=reached) == reached  # nothing more
    from juki.audit import gate
    with gate.open(Actor(user=auditor, terminal=terminal), function="test", perm="accesslog.view"):
        assert ProvisionRecord.objects.count() == 4  # inquiry + answer, inquiry + refusal
    answer = disclosure_data(Actor(user=auditor, terminal=terminal), wife)
    mine = [p for p in answer["provisions"] if p["destination"].startswith("情報提供ネットワークシステム")]
    assert [(p["destination"], p["outcome"]) for p in mine] == [
        ("情報提供ネットワークシステム（厚生労働大臣（日本年金機構））", "提供（自動応答）"),
        ("情報提供ネットワークシステム（独立行政法人日本学生支援機構）", "提供不可：この項の情報照会者ではありません")]
    assert mine[0]["content"] == "住民票関係情報（世帯主の氏名、世帯主との続柄）／別表第二 48の項　年金である給付若しくは一時金の支給に関する事務"
    assert render_pdf(answer)[:4] == b"%PDF"
    with pytest.raises(UngatedAccess):
        list(ProvisionRecord.objects.all())



def test_staff_without_the_support_right_do_not_learn_who_was_held(city, network, terminal, support):
    code = _tie(network, city["victim"]["mother"], 14)
    _ask(network, "req-mhlw", code)  # held
    number = atena.AtenaPerson.objects.get(person_id=city["victim"]["mother"]).number
    operator = counter_client(_staff("linkage_operator", "ope"), terminal)
    page = operator.get("/intermediary/").content.decode()
    assert number not in page and "支援措置等のため表示しません" in page
    assert number not in operator.post("/intermediary/records/", {}).content.decode()
    asked = operator.post("/intermediary/records/", {"unified_number": number}).content.decode()
    assert "記録はありません" in asked and "確認待ち" not in asked
    # The 支援措置担当 and the auditors see it.
    assert number in counter_client(support.user, terminal).get("/intermediary/").content.decode()
    auditor = counter_client(_staff("auditor", "aud"), terminal)
    assert "確認待ち（自動応答不可）" in auditor.post("/intermediary/records/", {"unified_number": number}).content.decode()
