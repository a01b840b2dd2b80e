"""HTTP: POST /persons/search and the 仮登録 endpoints (/pending …). Thin callers: the rules are tested
in tests/register/test_search.py and test_verification.py; here the shapes, codes and gates."""
import datetime as dt
import re

import pytest
import yaml
from rest_framework.test import APIClient

from juki.accounts.models import Terminal
from juki.audit.models import AccessLog
from juki.register.models import Ward

from ..conftest import api_for, days_ago
from .test_api import _is_problem, fam, move_in  # noqa: F401 - fixtures

MY_NUMBER = "123456789018"
TODAY = days_ago(0).isoformat()


def _search(client, **body):
    return client.post("/api/v1/persons/search", body, format="json")


def _ref(api, pid):
    return {"id": pid, "version": api.get(f"/api/v1/persons/{pid}").json()["version"]}


def _correction(api, pid, given_name="太朗"):
    return {"operation": "ex_officio_correction",
            "payload": {"event_date": TODAY, "person": _ref(api, pid), "changes": {"given_name": given_name}}}


@pytest.fixture(autouse=True)
def _direct_changes(settings):
    # These tests commit through POST /api/v1/changes/<op>, which a city allows only with
    # two-person verification turned off (else: review_required, tested in test_api.py).
    settings.JUKI_TWO_PERSON_VERIFICATION = False


@pytest.fixture
def sup(identity_manager, terminal):
    # The entries correct a 氏名 (本人確認情報): only the 責任者 may approve them (C14).
    return api_for(identity_manager, terminal)


@pytest.fixture
def head(fam):  # noqa: F811
    return fam["persons"][0]["id"]


@pytest.fixture
def submitted(api, head):
    r = api.post("/api/v1/pending", _correction(api, head), format="json")
    assert r.status_code == 201, r.content
    return r.json()


def _logs(user, function):
    """The user's log rows (of `function`, unless None); a destination's connector acts over the API
    as its destination's system actor, so its rows name the destination (ADR 0019)."""
    rows = AccessLog.objects.filter(user=None, system=user.username) if user.role == "linkage" else \
        AccessLog.objects.filter(user=user)
    return rows if function is None else rows.filter(function=function)


# --- search ------------------------------------------------------------------------------------


def test_search_by_name_and_birth_date(api, fam, clerk):  # noqa: F811
    r = _search(api, name="ｱｵｷ", birth_date="1985-04-01")
    assert r.status_code == 200 and r["Cache-Control"].startswith("no-store")
    body = r.json()
    assert set(body) == {"rows", "too_many", "message"} and body["too_many"] is False and body["message"] == ""
    (row,) = body["rows"]
    assert row["person_id"] == fam["persons"][0]["id"] and row["name"] == "青木　太郎" and row["matched_past"] is False
    assert row["version"] == 1 and row["status"] == "resident"
    log = _logs(clerk, "person.search").latest("id")
    assert log.criteria == {"name": "ｱｵｷ", "birth_date": "1985-04-01"}
    assert list(log.subjects.values_list("person_id", flat=True)) == [row["person_id"]]
    both = _search(api, name="青木", sex=2, birth_date="1987-06-02", town_code="40106001000").json()["rows"]
    assert [p["name"] for p in both] == ["青木　花子"]
    none = _search(api, name="青木", birth_date="2001-01-01").json()
    assert none == {"rows": [], "too_many": False, "message": "該当する方はいません。"}


def test_search_by_my_number_never_echoes_or_logs_it(api, fam, clerk, supervisor, terminal):  # noqa: F811
    pid = fam["persons"][0]["id"]
    r = api.post("/api/v1/changes/my-number", {"event_date": TODAY, "person": _ref(api, pid), "my_number": MY_NUMBER,
                                               "kind": "entry"}, format="json")
    assert r.status_code == 201
    r = _search(api, my_number=MY_NUMBER)  # a clerk may not see 個人番号: no way in by one (issue 11)
    _is_problem(r, 403, "permission_denied")
    assert MY_NUMBER not in r.content.decode()
    assert _logs(clerk, "person.search").latest("id").criteria == {"my_number": "***"}
    boss = api_for(supervisor, terminal)
    r = _search(boss, my_number=MY_NUMBER)
    assert [row["person_id"] for row in r.json()["rows"]] == [pid]
    assert MY_NUMBER not in r.content.decode()
    assert _logs(supervisor, "person.search").latest("id").criteria == {"my_number": "***"}


def test_search_refusals_are_precise_problems(api, fam, clerk, supervisor, terminal):  # noqa: F811
    body = _is_problem(_search(api, name="青木"), 400, "search_criteria")
    assert "2項目以上" in body["detail"]
    _is_problem(_search(api, name="青木", sex=1), 400, "search_criteria")
    _is_problem(_search(api), 400, "search_criteria")
    r = _search(api_for(supervisor, terminal), my_number="123456789012")
    _is_problem(r, 400, "invalid_my_number")
    assert "123456789012" not in r.content.decode()
    assert _logs(supervisor, "person.search").filter(outcome="invalid_my_number").get().criteria == {"my_number": "***"}
    body = _is_problem(_search(api, name="青木", birth_date="1985-02-30"), 400, "invalid_input")
    assert "birth_date" in body["errors"]
    _is_problem(_search(api, name="青木", birth_date="1985-04-01", sex=3), 400, "invalid_input")
    body = _is_problem(_search(api, name="青木", birth_date="1985-04-01", family_name="青木"), 400, "unknown_field")
    assert "family_name" in body["errors"]
    _is_problem(api.post("/api/v1/persons/search", "nope", content_type="application/json"), 400, "malformed_request")
    # issue 13: a 住民票コード with a wrong check digit is refused (it answered 「該当なし」) …
    r = _search(api_for(supervisor, terminal), resident_code="24846016225")
    body = _is_problem(r, 400, "invalid_resident_code")
    assert "検査用数字" in body["detail"]
    # … and so is a ward that does not exist (it answered 200 with no one).
    body = _is_problem(_search(api, name="青木", birth_date="1985-04-01", ward_code="999999"), 400, "search_criteria")
    assert "指定された区はありません" in body["detail"]


def test_search_is_denied_without_the_right_and_logged(fam, auditor, linkage_user, viewer, terminal):  # noqa: F811
    for user in (auditor, linkage_user):
        _is_problem(_search(api_for(user, terminal), name="青木", birth_date="1985-04-01"), 403, "permission_denied")
        assert _logs(user, "person.search").get().outcome == "denied"
    assert _search(api_for(viewer, terminal), name="青木", birth_date="1985-04-01").status_code == 200  # 照会のみ may search
    _is_problem(APIClient().post("/api/v1/persons/search", {"name": "青木"}, format="json"), 401, "not_authenticated")
    assert APIClient().get("/api/v1/persons/search").status_code == 401
    client = api_for(viewer, terminal)
    _is_problem(client.get("/api/v1/persons/search"), 405, "method_not_allowed")


# --- 仮登録 ------------------------------------------------------------------------------------------


def test_submit_list_get_and_approve(api, sup, head, submitted, clerk, supervisor, terminal):
    assert submitted == {"id": submitted["id"], "state": "pending", "summary": "職権修正 青木　太朗"}
    assert api.get(f"/api/v1/persons/{head}").json()["name"]["given_name"] == "太郎"  # nothing committed yet
    listed = sup.get("/api/v1/pending").json()["pending"]
    assert [(p["id"], p["state"], p["entered_by"], p["person_ids"]) for p in listed] == [
        (submitted["id"], "pending", "clerk1", [head])]
    detail = sup.get(f"/api/v1/pending/{submitted['id']}")
    assert detail.status_code == 200 and detail["Cache-Control"].startswith("no-store")
    detail = detail.json()
    assert detail["operation"] == "ex_officio_correction" and detail["preview_error"] is None
    changed = [row for row in detail["preview"]["people"][0]["rows"] if row["changed"]]
    assert changed == [{"label": "氏名", "before": "青木　太郎", "after": "青木　太朗", "changed": True}]
    r = sup.post(f"/api/v1/pending/{submitted['id']}/approve", format="json")
    assert r.status_code == 201, r.content
    result = r.json()
    assert set(result) == {"change_id", "operation", "persons", "households", "warnings"}
    assert result["operation"] == "ex_officio_correction" and result["persons"][0]["id"] == head
    person = api.get(f"/api/v1/persons/{head}").json()
    assert person["name"]["given_name"] == "太朗"
    history = api.get(f"/api/v1/persons/{head}/history").json()["versions"]
    assert history[-1]["change"]["operator"] == "clerk1"
    assert sup.get("/api/v1/pending").json() == {"pending": []}
    approved = sup.get("/api/v1/pending?state=approved").json()["pending"]
    assert [(p["id"], p["change_id"], p["reviewed_by"]) for p in approved] == [(submitted["id"], result["change_id"], "idmgr1")]
    closed = sup.get(f"/api/v1/pending/{submitted['id']}").json()
    assert closed["state"] == "approved" and "preview" not in closed
    _is_problem(sup.post(f"/api/v1/pending/{submitted['id']}/approve", format="json"), 400, "pending_closed")


def test_submit_with_a_my_number_keeps_it_out_of_responses(api, sup, head, supervisor, terminal):
    r = api.post("/api/v1/pending", {"operation": "my_number", "payload": {
        "event_date": TODAY, "person": _ref(api, head), "my_number": MY_NUMBER, "kind": "entry"}}, format="json")
    assert r.status_code == 201 and MY_NUMBER not in r.content.decode()
    detail = sup.get(f"/api/v1/pending/{r.json()['id']}")
    assert not re.search(r"\d{12}", detail.content.decode())
    assert detail.json()["payload"]["my_number"].startswith("__sealed__")
    assert sup.post(f"/api/v1/pending/{r.json()['id']}/approve", format="json").status_code == 201
    assert api_for(supervisor, terminal).get(f"/api/v1/persons/{head}?reveal_my_number=true").json()["my_number"] == MY_NUMBER


def test_pending_list_by_ward(api, world, clerk, supervisor, terminal):
    kokura = Ward.objects.get(code="401064")
    at_kokura = Terminal.objects.create(code="T-KK", name="小倉北区 窓口", location="小倉北区役所 市民課", ward=kokura)
    clerk_kk = api_for(clerk, at_kokura)
    fam_kk = move_in(clerk_kk).json()
    mine = clerk_kk.post("/api/v1/pending", _correction(clerk_kk, fam_kk["persons"][0]["id"]), format="json").json()
    other = api.post("/api/v1/pending", _correction(api, fam_kk["persons"][1]["id"], "花"), format="json").json()
    sup = api_for(supervisor, terminal)
    assert [p["id"] for p in sup.get("/api/v1/pending?ward=401064").json()["pending"]] == [mine["id"]]
    assert sup.get("/api/v1/pending?ward=401064").json()["pending"][0]["ward"] == "小倉北区"
    assert sup.get("/api/v1/pending?ward=401013").json() == {"pending": []}
    assert [p["id"] for p in sup.get("/api/v1/pending").json()["pending"]] == [mine["id"], other["id"]]
    _is_problem(sup.get("/api/v1/pending?state=everything"), 400, "invalid_input")


def test_reject_and_withdraw(api, sup, head, submitted, clerk2, terminal):
    url = f"/api/v1/pending/{submitted['id']}"
    body = _is_problem(sup.post(f"{url}/reject", {}, format="json"), 400, "invalid_input")
    assert body["field"] == "comment"
    _is_problem(sup.post(f"{url}/reject", {"comment": "  "}, format="json"), 400, "invalid_input")
    _is_problem(sup.post(f"{url}/reject", {"comment": "x", "state": "approved"}, format="json"), 400, "unknown_field")
    r = sup.post(f"{url}/reject", {"comment": "漢字の確認をしてください。"}, format="json")
    assert r.status_code == 204
    detail = api.get(url).json()
    assert detail["state"] == "rejected" and detail["review_comment"] == "漢字の確認をしてください。"
    assert api.get(f"/api/v1/persons/{head}").json()["name"]["given_name"] == "太郎"
    _is_problem(api_for(clerk2, terminal).post(f"{url}/withdraw", format="json"), 403, "permission_denied")
    _is_problem(api.post(f"{url}/withdraw", {"why": "x"}, format="json"), 400, "unknown_field")
    assert api.post(f"{url}/withdraw", format="json").status_code == 204
    assert api.get(url).json()["state"] == "withdrawn"
    _is_problem(api.post(f"{url}/withdraw", format="json"), 400, "pending_closed")


def test_review_refusals(api, sup, head, submitted, supervisor, terminal):
    url = f"/api/v1/pending/{submitted['id']}"
    _is_problem(api.post(f"{url}/approve", format="json"), 403, "permission_denied")  # a clerk cannot review
    _is_problem(api.post(f"{url}/reject", {"comment": "x"}, format="json"), 403, "permission_denied")
    _is_problem(sup.post(f"{url}/approve", {"force": True}, format="json"), 400, "unknown_field")
    own = sup.post("/api/v1/pending", _correction(sup, _other_member(api, head)), format="json").json()
    _is_problem(sup.post(f"/api/v1/pending/{own['id']}/approve", format="json"), 400, "self_approval")
    body = _is_problem(api.post("/api/v1/pending", _correction(api, head, "次郎"), format="json"), 400, "pending_exists")
    assert "審査待ち" in body["detail"]
    _is_problem(sup.get("/api/v1/pending/424242"), 404, "not_found")
    for path in ("/approve", "/reject", "/withdraw"):
        _is_problem(sup.post(f"/api/v1/pending/424242{path}", {"comment": "x"} if path == "/reject" else {}, format="json"),
                    404, "not_found")


def _other_member(api, head):
    hid = api.get(f"/api/v1/persons/{head}").json()["household_id"]
    return next(m["person_id"] for m in api.get(f"/api/v1/households/{hid}").json()["members"] if m["person_id"] != head)


def test_a_stale_entry_is_a_409_and_stays_pending(api, sup, head, submitted, clerk2, terminal):
    other = api_for(clerk2, terminal)
    r = other.post("/api/v1/changes/ex-officio-correction", {"event_date": TODAY, "person": _ref(other, head),
                                                              "changes": {"domicile_head": "青木　太郎（修正）"}}, format="json")
    assert r.status_code == 201
    _is_problem(sup.post(f"/api/v1/pending/{submitted['id']}/approve", format="json"), 409, "conflict")
    detail = sup.get(f"/api/v1/pending/{submitted['id']}").json()
    assert detail["state"] == "pending" and detail["preview"] is None and detail["preview_error"]


def test_submit_input_errors(api, head):
    body = _is_problem(api.post("/api/v1/pending", {"operation": "teleport", "payload": {}}, format="json"), 400,
                       "invalid_input")
    assert "operation" in body["errors"]
    _is_problem(api.post("/api/v1/pending", {"operation": "seed", "payload": {}}, format="json"), 400, "invalid_input")
    _is_problem(api.post("/api/v1/pending", {"operation": "move_in"}, format="json"), 400, "invalid_input")
    _is_problem(api.post("/api/v1/pending", {"operation": "move_in", "payload": [1]}, format="json"), 400, "invalid_input")
    _is_problem(api.post("/api/v1/pending", {**_correction(api, head), "note": "x"}, format="json"), 400, "unknown_field")
    body = _is_problem(api.post("/api/v1/pending", {"operation": "ex_officio_correction",
                                                    "payload": {"person": _ref(api, head)}}, format="json"),
                       400, "invalid_input")
    assert "event_date" in body["errors"]["payload"]  # keyed like the body, as /changes/* (issue 13)
    _is_problem(api.post("/api/v1/pending", _correction(api, head, "太郎"), format="json"), 400, "nothing_changed")
    r = api.post("/api/v1/pending", {"operation": "my_number", "payload": {
        "event_date": TODAY, "person": _ref(api, head), "my_number": "123456789012", "kind": "entry"}}, format="json")
    _is_problem(r, 400, "invalid_my_number")
    assert "123456789012" not in r.content.decode()
    future = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    bad = _correction(api, head)
    bad["payload"]["event_date"] = future
    _is_problem(api.post("/api/v1/pending", bad, format="json"), 400, "event_date_in_future")


def test_the_operation_choices_are_the_change_operations(db):
    from juki.register.api.serializers import PENDING_OPERATIONS
    from juki.register.operations import OPERATIONS

    assert {op for op, _ in PENDING_OPERATIONS} == {str(op) for op in OPERATIONS}


@pytest.mark.parametrize("role", ["viewer", "auditor", "linkage"])
def test_pending_routes_are_denied_without_the_change_right_and_logged(api, submitted, head, viewer, auditor, linkage_user,
                                                                       terminal, role):
    user = {"viewer": viewer, "auditor": auditor, "linkage": linkage_user}[role]
    client = api_for(user, terminal)
    url = f"/api/v1/pending/{submitted['id']}"
    calls = [
        # A submission is checked by a dry run first: the refusal is logged by that step.
        ("change.preview", lambda: client.post("/api/v1/pending", _correction(api, head, "次郎"), format="json")),
        ("pending.list", lambda: client.get("/api/v1/pending")),
        ("pending.view", lambda: client.get(url)),
        ("pending.approve", lambda: client.post(f"{url}/approve", format="json")),
        ("pending.reject", lambda: client.post(f"{url}/reject", {"comment": "x"}, format="json")),
        ("pending.withdraw", lambda: client.post(f"{url}/withdraw", format="json")),
    ]
    rows = _logs(user, None)
    for function, call in calls:
        before = rows.count()
        _is_problem(call(), 403, "permission_denied")
        assert rows.count() == before + 1
        assert rows.latest("id").function == function
        assert rows.latest("id").outcome == "denied"
    assert api.get(url).json()["state"] == "pending"


def test_each_new_route_writes_an_access_log_row(api, sup, head, submitted, clerk, identity_manager):
    url = f"/api/v1/pending/{submitted['id']}"
    for client, user, call, function, status in [
        (api, clerk, lambda: _search(api, name="青木", birth_date="1985-04-01"), "person.search", 200),
        (sup, identity_manager, lambda: sup.get("/api/v1/pending"), "pending.list", 200),
        (sup, identity_manager, lambda: sup.get(url), "pending.view", 200),
        (sup, identity_manager, lambda: sup.post(f"{url}/approve", format="json"), "pending.approve", 201),
    ]:
        before = set(AccessLog.objects.filter(user=user).values_list("id", flat=True))
        assert call().status_code == status
        new = AccessLog.objects.filter(user=user).exclude(id__in=before).values_list("function", flat=True)
        assert function in new


def test_schema_documents_the_new_routes_in_japanese(db):
    paths = yaml.safe_load(APIClient().get("/api/v1/schema/").content)["paths"]
    summaries = {
        ("/api/v1/persons/search", "post"): "住民検索",
        ("/api/v1/pending", "get"): "仮登録の一覧",
        ("/api/v1/pending", "post"): "仮登録",
        ("/api/v1/pending/{pending_id}", "get"): "仮登録の照会",
        ("/api/v1/pending/{pending_id}/approve", "post"): "本登録",
        ("/api/v1/pending/{pending_id}/reject", "post"): "差戻し",
        ("/api/v1/pending/{pending_id}/withdraw", "post"): "取下げ",
    }
    for (path, method), start in summaries.items():
        assert paths[path][method]["summary"].startswith(start), (path, method)
    assert "PersonSearchRequest" in str(paths["/api/v1/persons/search"]["post"]["requestBody"])
    assert "PendingSubmitRequest" in str(paths["/api/v1/pending"]["post"]["requestBody"])
    ids = [op["operationId"] for p in paths.values() for op in p.values() if isinstance(op, dict) and "operationId" in op]
    assert len(ids) == len(set(ids))


def test_a_move_within_city_entered_through_the_api_as_the_readme_shows(api, fam, head, supervisor, terminal):  # noqa: F811
    """README's example: with review in force, a 転居 is a 仮登録 that another user approves."""
    body = {"operation": "move_within_city",
            "payload": {"event_date": TODAY, "notified_on": TODAY,
                        "persons": [_ref(api, p["id"]) for p in fam["persons"]],
                        "address": {"town_code": "40106002000", "banchi": "2番3号"}}}
    submitted = api.post("/api/v1/pending", body, format="json")
    assert submitted.status_code == 201, submitted.content
    assert api.get(f"/api/v1/persons/{head}").json()["address"]["banchi"] != "2番3号"
    approved = api_for(supervisor, terminal).post(f"/api/v1/pending/{submitted.json()['id']}/approve", format="json")
    assert approved.status_code == 201 and approved.json()["operation"] == "move_within_city", approved.content
    assert api.get(f"/api/v1/persons/{head}").json()["address"]["banchi"] == "2番3号"
