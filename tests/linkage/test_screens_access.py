"""Who may open the 庁内連携 (/linkage/) and 団体内統合宛名 (/atena/) screens — every route against every
role: a refusal is the 403 screen and a `screen.<name>` row in the access log — and how each step refuses
what it cannot do: an operator approving, a manager applying or starting, an applicant approving their own
application, a period the wrong way round, an item outside the destination's list, a second approval,
a media output without an approved request, an unknown destination in the URL."""
from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from juki.accounts.permissions import ROLES, Perm, perms_of_role
from juki.atena import services as atena
from juki.atena.models import AtenaPerson, Merge
from juki.audit.gate import Actor
from juki.audit.models import AccessLog
from juki.core import clock
from juki.core.errors import ErrorCode
from juki.linkage import approvals, media
from juki.linkage.models import Approval, MediaRequest
from juki.rights.models import Grant

from ..conftest import _staff, counter_client
from ..helpers import TEST_ACTOR, last_log, refused

TAX = Actor.system_actor("tax")
_ANY = (Perm.LINKAGE_MANAGE, Perm.LINKAGE_APPROVE)


def grant(user, perm: str) -> None:
    """A right on top of the user's role, in force today (the rights app's grant)."""
    today = clock.today()
    Grant.objects.create(user=user, perm=perm, valid_from=today, valid_until=today + dt.timedelta(days=30),
                         source=Grant.Source.INITIAL)


@pytest.fixture
def scene(settings, tmp_path, world):
    """The demo city's applications, one application waiting, one media request, two 宛名 merged."""
    settings.JUKI_LINKAGE_DIR = tmp_path / "linkage"
    approvals.demo_approvals(TEST_ACTOR)
    applicant = _staff("linkage_operator", "applicant")
    someone = Actor(user=applicant, terminal=world.terminal)
    waiting = approvals.apply(someone, code="tax", items=["name", "address"], purpose="課税", legal_basis="地方税法",
                              starts_on=clock.today(), ends_on=clock.today() + dt.timedelta(days=365))
    request = media.request(someone, code="tax", purpose="移行", medium="暗号化USBメモリ")
    survivor = atena.register_non_resident(TAX, system_number="T-1", name="市外　太郎", name_kana="シガイタロウ",
                                           birth_date=dt.date(1970, 1, 2))["unified_number"]
    absorbed = atena.register_non_resident(TAX, system_number="T-2", name="市外　太郎", name_kana="シガイタロウ",
                                           birth_date=dt.date(1970, 1, 2))["unified_number"]
    merge = atena.merge(someone, survivor=survivor, absorbed=absorbed, reason="同一人")
    return {"approval": waiting.id, "request": request.id, "atena": AtenaPerson.objects.get(number=survivor).pk,
            "merge": merge.id}


# (url name, method, path, the rights any one of which opens it, status for a holder sending an empty form)
ROUTES = [
    ("linkage:destinations", "get", "/linkage/", _ANY, 200),
    ("linkage:destination", "get", "/linkage/tax/", _ANY, 200),
    ("linkage:apply", "post", "/linkage/tax/apply/", (Perm.LINKAGE_MANAGE,), 400),  # the form's errors
    ("linkage:approval_step", "post", "/linkage/tax/approvals/{approval}/", _ANY, 302),  # no step: back
    ("linkage:resend", "post", "/linkage/tax/resend/", (Perm.LINKAGE_MANAGE,), 400),
    ("linkage:retry", "post", "/linkage/tax/deliveries/1/retry/", (Perm.LINKAGE_MANAGE,), 400),  # no dead letter
    ("linkage:media_request", "post", "/linkage/tax/media/", (Perm.LINKAGE_MANAGE,), 400),
    ("linkage:media_approve", "post", "/linkage/tax/media/999999/approve/", (Perm.LINKAGE_APPROVE,), 400),  # none
    ("linkage:media_output", "post", "/linkage/tax/deliveries/1/media/", (Perm.LINKAGE_MANAGE,), 400),  # no request
    ("atena:search", "get", "/atena/", (Perm.ATENA_VIEW,), 200),
    ("atena:person", "get", "/atena/{atena}/", (Perm.ATENA_VIEW,), 200),
    ("atena:merge", "post", "/atena/{atena}/merge/", (Perm.ATENA_MANAGE,), 400),
    ("atena:undo", "post", "/atena/merges/{merge}/undo/", (Perm.ATENA_MERGE_UNDO,), 302),  # with a reason: undone
]


def test_the_table_lists_every_route_of_both_apps():
    from juki.atena import urls as atena_urls
    from juki.linkage import urls as linkage_urls

    names = ({f"linkage:{p.name}" for p in linkage_urls.urlpatterns}
             | {f"atena:{p.name}" for p in atena_urls.urlpatterns})
    assert names == {name for name, *_ in ROUTES}


@pytest.mark.parametrize("role", sorted(ROLES))
def test_every_route_against_the_role(scene, terminal, role):
    user = _staff(role, f"user-{role}")
    client = counter_client(user, terminal)
    held = perms_of_role(role)
    for name, method, path, rights, allowed_status in ROUTES:
        url = path.format(**scene)
        before = AccessLog.objects.filter(outcome=AccessLog.DENIED).count()
        # The undo with its reason: an empty one re-renders the 宛名's page, which a manager may not open.
        data = {"back": scene["atena"], "reason": "別人"} if name == "atena:undo" else {}
        response = getattr(client, method)(url, data)
        if any(r in held for r in rights):
            assert response.status_code == allowed_status, (name, response.status_code)
            assert AccessLog.objects.filter(outcome=AccessLog.DENIED).count() == before, name
        else:
            assert response.status_code == 403, (name, response.status_code)
            assert "権限がありません" in response.content.decode()
            row = last_log(f"screen.{name.split(':')[1]}")
            assert (row.user_id, row.outcome, row.criteria["screen"]) == (user.id, AccessLog.DENIED, name)
            assert row.criteria["perm"] == str(rights[0])
            assert AccessLog.objects.filter(outcome=AccessLog.DENIED).count() == before + 1, name


def test_the_roles_that_open_the_screens():
    """Who the table lets in, said once: the operator runs everything, the manager approves, the
    supervisor sees 宛名 and undoes a merge, the system administrator outputs media; nobody else."""
    opens = {role: sorted(name for name, _, _, rights, _ in ROUTES if any(r in perms_of_role(role) for r in rights))
             for role in ROLES}
    assert opens["linkage_operator"] == sorted(name for name, *_ in ROUTES if name != "linkage:media_approve"
                                               and name != "atena:undo")
    assert opens["manager"] == ["linkage:approval_step", "linkage:destination", "linkage:destinations",
                                "linkage:media_approve"]
    assert opens["supervisor"] == ["atena:person", "atena:search", "atena:undo"]
    # The system administrator holds media.export, but a linkage file goes out by the 連携運用担当's hand.
    assert all(not opens[r] for r in ("clerk", "identity_manager", "support", "viewer", "auditor", "linkage", "admin"))


# --- the application's steps ------------------------------------------------------------------------


@pytest.fixture
def operator(world):
    return _staff("linkage_operator", "ope1")


@pytest.fixture
def terminal2(db):
    # A second person logs in at another terminal: a login on the same one ends the first session (C01).
    from juki.accounts.models import Terminal

    return Terminal.objects.create(code="T-02", name="窓口2", location="情報政策課")


def _apply(client, **over):
    data = {"items": ["name", "address"], "purpose": "住民税の課税", "legal_basis": "地方税法",
            "starts_on": clock.today().isoformat(), "ends_on": (clock.today() + dt.timedelta(days=365)).isoformat()}
    data.update(over)
    return client.post("/linkage/tax/apply/", data)


def test_apply_approve_activate_each_by_its_own_role(scene, operator, manager, terminal, terminal2):
    ope, boss = counter_client(operator, terminal), counter_client(manager, terminal2)
    response = _apply(ope)
    assert response.status_code == 302 and response["Location"] == reverse("linkage:destination", args=["tax"])
    mine = Approval.objects.filter(destination="tax", applied_by=operator).get()
    assert (mine.state, mine.items) == (Approval.State.APPLIED, ["address", "name"])
    step = f"/linkage/tax/approvals/{mine.id}/"
    # The manager cannot apply, the operator cannot approve.
    assert _apply(boss).status_code == 403
    assert last_log("screen.apply").user_id == manager.id
    denied = ope.post(step, {"step": "approve"})
    assert denied.status_code == 403 and "権限がありません" in denied.content.decode()
    row = last_log("linkage.approval.decide")
    assert (row.user_id, row.outcome) == (operator.id, AccessLog.DENIED)
    assert Approval.objects.get(id=mine.id).state == Approval.State.APPLIED
    # The manager approves; a second approval is refused with the state.
    assert boss.post(step, {"step": "approve"}).status_code == 302
    assert Approval.objects.get(id=mine.id).decided_by == manager
    twice = boss.post(step, {"step": "approve"})
    assert twice.status_code == 400 and "この利用申請は「承認済み（開始前）」です" in twice.content.decode()
    assert last_log("linkage.approval.decide").outcome == ErrorCode.APPROVAL_STATE
    # The manager cannot start it; the operator does, and the demo application ends.
    assert boss.post(step, {"step": "activate"}).status_code == 403
    assert last_log("linkage.approval.activate").outcome == AccessLog.DENIED
    assert ope.post(step, {"step": "activate"}).status_code == 302
    assert approvals.active("tax").id == mine.id
    assert Approval.objects.filter(destination="tax", state=Approval.State.ENDED).count() == 1


def test_an_applicant_holding_the_approval_right_cannot_approve_their_own(scene, operator, terminal):
    grant(operator, Perm.LINKAGE_APPROVE)
    client = counter_client(operator, terminal)
    assert _apply(client).status_code == 302
    mine = Approval.objects.get(destination="tax", applied_by=operator)
    response = client.post(f"/linkage/tax/approvals/{mine.id}/", {"step": "approve"})
    assert response.status_code == 400
    assert "自分が申請した利用申請は承認できません" in response.content.decode()
    assert last_log("linkage.approval.decide").outcome == ErrorCode.SELF_APPROVAL
    assert Approval.objects.get(id=mine.id).state == Approval.State.APPLIED
    # The application of another operator is theirs to approve.
    other = client.post(f"/linkage/tax/approvals/{scene['approval']}/", {"step": "approve"})
    assert other.status_code == 302 and Approval.objects.get(id=scene["approval"]).state == Approval.State.APPROVED
    # The same rule for a media request.
    client.post("/linkage/tax/media/", {"medium": "DVD-R", "purpose": "移行"})
    own = MediaRequest.objects.get(requested_by=operator)
    response = client.post(f"/linkage/tax/media/{own.id}/approve/")
    assert response.status_code == 400 and "自分が申請した媒体出力は承認できません" in response.content.decode()
    assert last_log("linkage.media.approve").outcome == ErrorCode.SELF_APPROVAL


def test_the_service_refuses_self_approval_by_its_code(scene, operator, terminal):
    grant(operator, Perm.LINKAGE_APPROVE)
    me = Actor(user=operator, terminal=terminal)
    mine = approvals.apply(me, code="tax", items=["name"], purpose="課税", legal_basis="地方税法",
                           starts_on=clock.today(), ends_on=clock.today())
    refused(ErrorCode.SELF_APPROVAL, approvals.decide, me, mine.id, approve=True)
    refused(ErrorCode.SELF_APPROVAL, approvals.decide, me, mine.id, approve=False)  # nor reject it


def test_the_application_form_says_what_is_wrong(scene, operator, terminal):
    client = counter_client(operator, terminal)
    count = Approval.objects.count()
    # The period the wrong way round: the service's refusal at the 終了日.
    response = _apply(client, ends_on=(clock.today() - dt.timedelta(days=1)).isoformat())
    assert response.status_code == 400
    assert "利用終了日は利用開始日以降の日にしてください。" in response.content.decode()
    assert response.context["form"].errors["ends_on"]
    assert last_log("linkage.approval.apply").outcome == ErrorCode.INVALID_PERIOD
    # No item: the service's refusal at the items.
    response = _apply(client, items=[])
    assert response.status_code == 400 and "利用する項目を一つ以上選んでください。" in response.content.decode()
    assert last_log("linkage.approval.apply").outcome == ErrorCode.INVALID_INPUT
    # An item outside tax's list: the form offers only the list, so it refuses before the service.
    logged = AccessLog.objects.filter(function="linkage.approval.apply").count()
    response = _apply(client, items=["name", "my_number"])
    assert response.status_code == 400 and response.context["form"].errors["items"]
    assert AccessLog.objects.filter(function="linkage.approval.apply").count() == logged
    assert Approval.objects.count() == count


def test_an_item_outside_the_destination_s_list_is_refused_by_the_service(scene, operator, terminal):
    me = Actor(user=operator, terminal=terminal)
    err = refused(ErrorCode.ITEM_NOT_PERMITTED, lambda: approvals.apply(
        me, code="tax", items=["name", "my_number", "domicile"], purpose="課税", legal_basis="地方税法",
        starts_on=clock.today(), ends_on=clock.today()))
    assert err.details == {"items": ["domicile", "my_number"]} and err.field == "items"
    assert last_log("linkage.approval.apply").outcome == ErrorCode.ITEM_NOT_PERMITTED


def test_a_media_output_without_an_approved_request_is_refused(scene, operator, terminal):
    client = counter_client(operator, terminal)
    for request_id in ("", scene["request"]):  # none chosen, and one not approved yet
        response = client.post("/linkage/tax/deliveries/1/media/", {"request": request_id})
        assert response.status_code == 400
        assert "承認された媒体出力の申請書がありません" in response.content.decode()
        row = last_log("linkage.media.output")
        assert (row.user_id, row.outcome) == (operator.id, ErrorCode.MEDIA_REQUEST_REQUIRED)


def test_a_request_number_that_is_no_number_is_said_at_the_page(scene, operator, terminal):
    response = counter_client(operator, terminal).post("/linkage/tax/deliveries/1/media/", {"request": "x"})
    assert response.status_code == 400 and "承認された媒体出力の申請書がありません" in response.content.decode()
    assert last_log("linkage.media.output").outcome == ErrorCode.MEDIA_REQUEST_REQUIRED


@pytest.mark.parametrize("code", ["nosuch", "jukinet"])  # unknown, and a destination that is no 庁内連携 one
def test_a_destination_that_is_no_linkage_destination_is_said_in_japanese(scene, operator, terminal, code):
    client = counter_client(operator, terminal)
    for response in (client.get(f"/linkage/{code}/"), _apply_to(client, code),
                     client.post(f"/linkage/{code}/resend/", {"after": 0})):
        assert response.status_code == 400
        assert "庁内連携の連携先ではありません。" in response.content.decode()
        assert response.context["code"] == ErrorCode.UNKNOWN_DESTINATION
    assert not Approval.objects.filter(destination=code).exists()


def _apply_to(client, code: str):
    return client.post(f"/linkage/{code}/apply/", {"items": ["name"], "purpose": "x", "legal_basis": "y",
                                                    "starts_on": clock.today().isoformat(),
                                                    "ends_on": clock.today().isoformat()})


# --- 宛名 ------------------------------------------------------------------------------------------------


def test_the_atena_screens_search_merge_and_undo_each_by_its_own_role(scene, operator, supervisor, terminal,
                                                                      terminal2):
    ope, sup = counter_client(operator, terminal), counter_client(supervisor, terminal2)
    found = ope.post("/atena/", {"name": "シガイ", "birth_date": "1970-01-02"})
    assert found.status_code == 200 and "市外　太郎" in found.content.decode()
    assert ope.post("/atena/", {"name": "シガイ"}).status_code == 400  # a second item is needed
    assert last_log("atena.search").outcome == ErrorCode.SEARCH_CRITERIA
    # The supervisor cannot merge; the operator cannot undo.
    third = atena.register_non_resident(TAX, system_number="T-3", name="市外　太郎", name_kana="シガイタロウ",
                                        birth_date=None)["unified_number"]
    merge_url = f"/atena/{scene['atena']}/merge/"
    assert sup.post(merge_url, {"absorbed": third, "reason": "同一人"}).status_code == 403
    assert last_log("screen.merge").user_id == supervisor.id
    assert ope.post(merge_url, {"absorbed": third, "reason": "同一人"}).status_code == 302
    merged = Merge.objects.get(absorbed__number=third)
    undo_url = f"/atena/merges/{merged.id}/undo/"
    assert ope.post(undo_url, {"reason": "別人", "back": scene["atena"]}).status_code == 403
    assert last_log("screen.undo").user_id == operator.id
    assert sup.post(undo_url, {"reason": "別人", "back": scene["atena"]}).status_code == 302
    assert Merge.objects.get(id=merged.id).undone_by == supervisor


def test_a_merge_is_undone_by_a_supervisor_not_by_the_manager(scene, manager, terminal):
    """The 係長 undoes a merge from the 宛名's page; the 課長 approves applications and opens no 宛名."""
    client = counter_client(manager, terminal)
    assert client.post(f"/atena/merges/{scene['merge']}/undo/", {"reason": "誤り", "back": scene["atena"]}).status_code == 403
    assert last_log("screen.undo").outcome == "denied" and not Merge.objects.get(id=scene["merge"]).undone_at


def test_an_application_is_decided_only_under_its_own_destination(scene, manager, terminal):
    client = counter_client(manager, terminal)
    response = client.post(f"/linkage/public-housing/approvals/{scene['approval']}/", {"step": "approve"})
    assert Approval.objects.get(id=scene["approval"]).state == Approval.State.APPLIED, response.status_code
