import datetime as dt

import pytest
from rest_framework.test import APIClient

from juki.audit.models import AccessLog
from tests.register.helpers import count_versions

from ..conftest import KOKURA_JOUNAI, api_for, days_ago

PROBLEM = "application/problem+json"
UOMACHI = "40106002000"


def _person(**over):
    base = {"family_name": "青木", "given_name": "太郎", "family_name_kana": "ｱｵｷ", "given_name_kana": "たろう",
            "birth_date": "1985-04-01", "sex": 1, "relationship": "世帯主", "domicile": "福岡県北九州市小倉北区城内1番",
            "domicile_head": "青木　太郎"}
    base.update(over)
    return base


def move_in(api, members=None, **over):
    body = {"event_date": days_ago(10).isoformat(), "notified_on": days_ago(9).isoformat(), "origin": "domestic",
            "persons": members or [_person(), _person(given_name="花子", sex=2, relationship="妻", birth_date="1987-06-02")],
            "destination": "new", "address": {"town_code": KOKURA_JOUNAI, "banchi": "1番1号"},
            "previous_address": "福岡県福岡市博多区博多駅前二丁目1番1号"}
    body.update(over)
    return api.post("/api/v1/changes/move-in", body, format="json")


@pytest.fixture(autouse=True)
def _direct_changes(settings):
    # These tests commit through POST /api/v1/changes/<op>, which a city allows only with
    # two-person verification turned off (else: review_required, tested in test_api.py).
    settings.JUKI_TWO_PERSON_VERIFICATION = False


@pytest.fixture
def fam(api, world):
    response = move_in(api)
    assert response.status_code == 201, response.content
    return response.json()


def _is_problem(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    body = response.json()
    assert body["code"] == code and body["status"] == status and body["detail"]
    return body


# --- authentication -----------------------------------------------------------------------------


def test_token_issue_and_use(clerk, terminal, world):
    client = APIClient()
    response = client.post("/api/v1/auth/token", {"username": clerk.username, "password": clerk.plain_password},
                           format="json", HTTP_X_TERMINAL_ID=terminal.code)
    assert response.status_code == 201
    token = response.json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_X_TERMINAL_ID=terminal.code)
    assert client.get("/api/v1/master/wards").status_code == 200


def test_token_with_wrong_password(clerk, terminal):
    response = APIClient().post("/api/v1/auth/token", {"username": clerk.username, "password": "x"}, format="json",
                                HTTP_X_TERMINAL_ID=terminal.code)
    _is_problem(response, 401, "invalid_credentials")


def test_no_token_for_an_unregistered_terminal(clerk, terminal):
    """issue 13: a token named a terminal that every later call then refused; now none is issued."""
    from juki.accounts.models import ApiToken

    for code in ("NOPE", ""):
        response = APIClient().post("/api/v1/auth/token", {"username": clerk.username, "password": clerk.plain_password},
                                    format="json", **({"HTTP_X_TERMINAL_ID": code} if code else {}))
        _is_problem(response, 401, "invalid_credentials")
    assert not ApiToken.objects.exists()
    row = AccessLog.objects.filter(function="auth.token_failure").latest("id")
    assert row.outcome == "bad_terminal" and row.user == clerk


def test_requests_without_token_or_terminal_are_refused(clerk, terminal):
    _is_problem(APIClient().get("/api/v1/persons/1"), 401, "not_authenticated")
    client = api_for(clerk, terminal)
    client.credentials(HTTP_AUTHORIZATION=client._credentials["HTTP_AUTHORIZATION"])  # no terminal header
    _is_problem(client.get("/api/v1/persons/1"), 401, "not_authenticated")
    client.credentials(HTTP_AUTHORIZATION=client._credentials["HTTP_AUTHORIZATION"], HTTP_X_TERMINAL_ID="NOPE")
    _is_problem(client.get("/api/v1/persons/1"), 401, "not_authenticated")
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Bearer forged", HTTP_X_TERMINAL_ID=terminal.code)
    _is_problem(bad.get("/api/v1/persons/1"), 401, "not_authenticated")


# --- reads -------------------------------------------------------------------------------------


def test_person_household_history(api, fam):
    pid = fam["persons"][0]["id"]
    r = api.get(f"/api/v1/persons/{pid}")
    assert r.status_code == 200 and r["Cache-Control"].startswith("no-store")
    body = r.json()
    assert body["name"]["family_name_kana"] == "アオキ" and body["name"]["given_name_kana"] == "タロウ"
    assert "my_number" not in body
    h = api.get(f"/api/v1/households/{body['household_id']}").json()
    assert [m["relationship"] for m in h["members"]] == ["世帯主", "妻"]
    # Before the household existed: 404, as the person read answers (issue 13; it was 200 with no members).
    _is_problem(api.get(f"/api/v1/households/{body['household_id']}?as_of={days_ago(11).isoformat()}"), 404, "not_found")
    assert api.get(f"/api/v1/households/{body['household_id']}?as_of={days_ago(10).isoformat()}").json()["members"]
    assert api.get(f"/api/v1/persons/{pid}?as_of={days_ago(10).isoformat()}").status_code == 200
    _is_problem(api.get(f"/api/v1/persons/{pid}?as_of={days_ago(11).isoformat()}"), 404, "not_found")
    hist = api.get(f"/api/v1/persons/{pid}/history").json()["versions"]
    assert [v["reason_label"] for v in hist] == ["国内転入"] and hist[0]["change"]["operator"] == "clerk1"


def test_bad_as_of_and_missing_person(api, world):
    _is_problem(api.get("/api/v1/persons/1?as_of=yesterday"), 400, "invalid_date")
    _is_problem(api.get("/api/v1/persons/424242"), 404, "not_found")
    _is_problem(api.get("/api/v1/households/424242"), 404, "not_found")
    _is_problem(api.get("/api/v1/persons/424242/history"), 404, "not_found")


def test_reads_denied_to_a_role_without_the_right_are_logged(fam, auditor, terminal):
    client = api_for(auditor, terminal)
    pid = fam["persons"][0]["id"]
    _is_problem(client.get(f"/api/v1/persons/{pid}"), 403, "permission_denied")
    _is_problem(client.get(f"/api/v1/households/{fam['households'][0]['id']}"), 403, "permission_denied")
    _is_problem(client.get(f"/api/v1/persons/{pid}/history"), 403, "permission_denied")
    denied = AccessLog.objects.filter(user=auditor, outcome="denied").values_list("function", flat=True)
    assert sorted(denied) == ["household.view", "person.history", "person.view"]


def test_my_number_reveal_needs_the_right(api, fam, supervisor, terminal):
    pid = fam["persons"][0]["id"]
    version = fam["persons"][0]["version"]
    r = api.post("/api/v1/changes/my-number", {"event_date": days_ago(0).isoformat(), "person": {"id": pid, "version": version},
                                               "my_number": "123456789018", "kind": "entry"}, format="json")
    assert r.status_code == 201
    _is_problem(api.get(f"/api/v1/persons/{pid}?reveal_my_number=true"), 403, "permission_denied")
    shown = api_for(supervisor, terminal).get(f"/api/v1/persons/{pid}?reveal_my_number=true").json()
    assert shown["my_number"] == "123456789018"


def test_lists(api, fam):
    assert api.get("/api/v1/households/without-head").json() == {"households": []}
    assert api.get("/api/v1/changes/late-notifications").json() == {"changes": []}


def test_access_log_for_a_person(api, fam, auditor, terminal):
    pid = fam["persons"][0]["id"]
    api.get(f"/api/v1/persons/{pid}")
    _is_problem(api.get(f"/api/v1/access-log?person={pid}"), 403, "permission_denied")
    entries = api_for(auditor, terminal).get(f"/api/v1/access-log?person={pid}").json()["entries"]
    assert [e["function"] for e in entries] == ["person.view", "change.move_in"]
    assert entries[0]["user"] == "clerk1" and entries[0]["terminal"] == terminal.code
    _is_problem(api_for(auditor, terminal).get("/api/v1/access-log"), 400, "invalid_input")


def test_outbox_api(api, fam, destination_account, terminal):
    _is_problem(api.get("/api/v1/outbox?consumer=jukinet"), 403, "permission_denied")
    link = api_for(destination_account("jukinet"), terminal)
    page = link.get("/api/v1/outbox?consumer=jukinet").json()
    assert [e["change_id"] for e in page["events"]] == [fam["change_id"]]
    ack = link.post("/api/v1/outbox/ack", {"consumer": "jukinet", "position": page["events"][0]["position"]}, format="json")
    assert ack.status_code == 200
    assert link.get("/api/v1/outbox?consumer=jukinet").json()["events"] == []
    _is_problem(link.post("/api/v1/outbox/ack", {"consumer": "jukinet", "position": 10**9}, format="json"), 400,
                "invalid_input")
    _is_problem(link.get("/api/v1/outbox"), 400, "invalid_input")


def test_master_data(api, world):
    wards = api.get("/api/v1/master/wards").json()["wards"]
    assert [w["code"] for w in wards] == ["401013", "401021", "401030", "401064", "401072", "401081", "401099"]
    towns = api.get("/api/v1/master/towns?kana=じょう").json()["towns"]
    assert [t["name"] for t in towns] == ["城内"]
    assert api.get("/api/v1/master/towns?postal_code=802-0006").json()["towns"][0]["name"] == "魚町一丁目"
    assert api.get(f"/api/v1/master/buildings?town={KOKURA_JOUNAI}").json() == {"buildings": []}


def test_openapi_schema_lists_every_operation(api):
    from juki.register.api.views import OPERATIONS

    import yaml

    r = APIClient().get("/api/v1/schema/")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.oai.openapi")
    paths = yaml.safe_load(r.content)["paths"]
    for op in OPERATIONS:
        assert f"/api/v1/changes/{op.replace('_', '-')}" in paths
    assert "/api/v1/persons/{person_id}" in paths


# --- changes -----------------------------------------------------------------------------------


def _refs(api, fam):
    out = []
    for p in fam["persons"]:
        out.append({"id": p["id"], "version": api.get(f"/api/v1/persons/{p['id']}").json()["version"]})
    return out


def test_move_within_city_and_conflict_409(api, fam, clerk2, terminal):
    refs = _refs(api, fam)
    other = api_for(clerk2, terminal)
    body = {"event_date": days_ago(1).isoformat(), "persons": refs, "address": {"town_code": UOMACHI, "banchi": "2番"}}
    assert api.post("/api/v1/changes/move-within-city", body, format="json").status_code == 201
    body["address"]["banchi"] = "3番"
    problem = _is_problem(other.post("/api/v1/changes/move-within-city", body, format="json"), 409, "conflict")
    assert "他の職員" in problem["detail"]


def test_unknown_field_is_refused_c11(api, fam):
    refs = _refs(api, fam)
    body = {"event_date": days_ago(1).isoformat(), "persons": refs, "address": {"town_code": UOMACHI, "banchi": "2番"},
            "family_name": "改名"}
    body = _is_problem(api.post("/api/v1/changes/move-within-city", body, format="json"), 400, "unknown_field")
    assert "family_name" in body["errors"]


def test_invalid_my_number_in_api_is_a_precise_error_without_the_value(api, world):
    r = move_in(api, members=[_person(my_number="123456789012")])
    body = _is_problem(r, 400, "invalid_my_number")
    assert "123456789012" not in r.content.decode()
    assert body["field"] == "my_number"


def test_shape_errors_are_problems(api, world):
    body = _is_problem(move_in(api, event_date="2026-02-30"), 400, "invalid_input")
    assert "event_date" in body["errors"]
    _is_problem(api.post("/api/v1/changes/move-in", "not json", content_type="application/json"), 400, "malformed_request")


def test_future_event_date_is_refused_over_http(api, world):
    body = _is_problem(move_in(api, event_date=(dt.date.today() + dt.timedelta(days=3)).isoformat(), notified_on=None),
                       400, "event_date_in_future")
    assert body["field"] == "event_date"


def test_changes_denied_to_viewers_and_logged(viewer, terminal, world):
    client = api_for(viewer, terminal)
    _is_problem(move_in(client), 403, "permission_denied")
    assert AccessLog.objects.filter(user=viewer, function="change.move_in", outcome="denied").count() == 1


def test_every_change_endpoint(api, fam, supervisor, terminal):
    """One call per operation through HTTP; each returns 201 with the versions it wrote."""
    head, wife = fam["persons"][0]["id"], fam["persons"][1]["id"]
    hid = fam["households"][0]["id"]
    today = days_ago(0).isoformat()

    def post(op, body, client=api):
        r = client.post(f"/api/v1/changes/{op}", body, format="json")
        assert r.status_code == 201, (op, r.content)
        return r.json()

    def ver(pid):
        return {"id": pid, "version": api.get(f"/api/v1/persons/{pid}").json()["version"]}

    def hver(h):
        return {"id": h, "version": api.get(f"/api/v1/households/{h}").json()["version"]}

    child = post("birth", {"event_date": days_ago(2).isoformat(), "notified_on": today,
                           "child": {"family_name": "青木", "given_name": "一郎", "sex": 1, "relationship": "子"},
                           "destination": hver(hid)})["persons"][0]["id"]
    # A 氏名 is 本人確認情報: corrected only through 仮登録 and the 責任者's approval (C14), never at once.
    for op, item in (("minor-correction", {"given_name": "壱郎"}), ("ex-officio-correction", {"given_name_kana": "イチロウ"})):
        _is_problem(api.post(f"/api/v1/changes/{op}", {"event_date": today, "person": ver(child), "changes": item},
                             format="json"), 400, "identity_approval_required")
    post("ex-officio-correction", {"event_date": today, "person": ver(child), "changes": {"domicile_head": "青木　一郎"}})
    post("erratum-correction", {"event_date": today, "person": ver(child), "changes": {"kana_confirmed": True}})
    post("my-number", {"event_date": today, "person": ver(wife), "my_number": "234567890121", "kind": "entry"})
    sup = api_for(supervisor, terminal)
    post("resident-code-change", {"event_date": today, "person": ver(wife)}, client=sup)
    # 異動の取消し of a change that left 本人確認情報 alone: committed at once.
    undone = post("household-split", {"event_date": today, "persons": [ver(child)], "relationships_in_new": {str(child): "世帯主"}})
    post("cancel", {"event_date": today, "change_id": undone["change_id"], "persons": [ver(child)]})
    split = post("household-split", {"event_date": today, "persons": [ver(child)], "relationships_in_new": {str(child): "世帯主"}})
    new_hid = [h["id"] for h in split["households"] if h["id"] != hid][0]
    grandma = post("ex-officio-entry", {"event_date": today, "persons": [_person(given_name="梅", sex=2, relationship="母",
                                                                                  birth_date="1950-01-01")],
                                        "destination": hver(hid), "previous_address": "不明"})["persons"][0]["id"]
    post("household-change", {"event_date": today, "persons": [ver(grandma)], "target": hver(new_hid),
                              "relationships_in_target": {str(grandma): "父の母"}})
    post("household-merge", {"event_date": today, "persons": [ver(child), ver(grandma)], "target": hver(hid),
                             "relationships_in_target": {str(child): "子", str(grandma): "母"}})
    post("head-change", {"event_date": today, "household": hver(hid), "new_head": wife})
    post("head-change", {"event_date": today, "household": hver(hid), "new_head": head,
                         "relationships_after": {str(wife): "妻", str(grandma): "母"}})
    lodger = post("foreign-move-in", {"event_date": today, "persons": [{
        "family_name": "SMITH", "given_name": "JOHN", "birth_date": "1990-01-01", "sex": 1, "relationship": "同居人",
        "resident_kind": "F", "nationality": "米国", "article_30_45_category": "中長期在留者", "residence_status": "教授",
        "period_of_stay": "3年", "stay_expires_on": "2029-01-01", "residence_card_number": "AB11112222CD"}],
        "destination": hver(hid)})["persons"][0]["id"]
    post("minor-correction", {"event_date": today, "person": ver(lodger), "changes": {"kanji_name": "史密斯"}})
    post("foreign-registration", {"event_date": today, "persons": [{
        "family_name": "LEE", "given_name": "ANNA", "birth_date": "1992-01-01", "sex": 2, "relationship": "世帯主",
        "resident_kind": "F", "nationality": "韓国", "article_30_45_category": "特別永住者",
        "residence_card_number": "SP1234567890"}], "destination": "new",
        "address": {"town_code": UOMACHI, "banchi": "5番"}})
    post("naturalization", {"event_date": today, "person": ver(lodger),
                            "new_data": {"family_name": "須見", "given_name": "譲", "domicile": "福岡県北九州市小倉北区城内1番",
                                         "domicile_head": "須見　譲"}})
    post("nationality-loss", {"event_date": today, "person": ver(lodger),
                              "new_data": {"nationality": "米国", "article_30_45_category": "国籍喪失による経過滞在者"}})
    post("nationality-acquisition", {"event_date": today, "person": ver(lodger),
                                     "new_data": {"family_name": "須見", "given_name": "譲", "domicile": "なし"}})
    moved = post("move-within-city", {"event_date": today, "persons": [ver(grandma)], "address": {"town_code": UOMACHI, "banchi": "9番"},
                                      "destination": "new", "relationships_in_destination": {str(grandma): "世帯主"}})
    # Undoing a change of address puts back 本人確認情報: only through 仮登録 and the 責任者 (C14).
    _is_problem(api.post("/api/v1/changes/cancel", {"event_date": today, "change_id": moved["change_id"],
                                                    "persons": [ver(grandma)]}, format="json"),
                400, "identity_approval_required")
    post("disappearance", {"event_date": today, "persons": [ver(grandma)]})
    post("ex-officio-removal", {"event_date": today, "persons": [ver(lodger)], "note": "居住実態なし"})
    post("death", {"event_date": today, "notified_on": today, "persons": [ver(child)]})
    out = post("move-out", {"event_date": today, "notified_on": today, "persons": [ver(head), ver(wife)],
                            "destination_address": "東京都千代田区丸の内一丁目9番"})
    post("move-out-confirm", {"person": ver(head), "notice_on": today, "moved_on": today,
                              "confirmed_address": "東京都千代田区丸の内一丁目9番1号"})
    newbie = move_in(api, members=[_person(family_name="佐藤", given_name="花", sex=2, birth_date="2000-02-02",
                                           resident_code="")])
    assert newbie.status_code == 201
    nid = newbie.json()["persons"][0]["id"]
    assert api.get(f"/api/v1/persons/{nid}").json()["resident_code"]
    from juki.register.api.views import OPERATIONS

    done = {r.function.removeprefix("change.") for r in AccessLog.objects.filter(function__startswith="change.", outcome="ok")}
    assert done >= {str(op) for op in OPERATIONS} - {"resident_code_assign"}
    assert "late_notification" not in [w["code"] for w in out["warnings"]]  # notified on the day


def test_resident_code_assign_endpoint_for_a_person_without_one(api, fam, supervisor, terminal):
    sup = api_for(supervisor, terminal)
    pid = fam["persons"][0]["id"]
    v = api.get(f"/api/v1/persons/{pid}").json()["version"]
    r = sup.post("/api/v1/changes/resident-code-assign", {"event_date": days_ago(0).isoformat(),
                                                          "person": {"id": pid, "version": v}}, format="json")
    _is_problem(r, 400, "invalid_input")  # already has one: only 付番 for those without
    _is_problem(api.post("/api/v1/changes/resident-code-assign", {"event_date": days_ago(0).isoformat(),
                                                                  "person": {"id": pid, "version": v}}, format="json"),
                403, "permission_denied")


def test_unknown_operation_and_pages_do_not_echo_the_path(api):
    r = api.get("/api/v1/persons/山田太郎")
    assert r.status_code == 404 and "山田" not in r.content.decode()
    r = APIClient().get("/no/such/page/山田太郎")
    assert r.status_code == 404 and "山田" not in r.content.decode()


def test_api_docs_page_serves_its_assets_locally(db):
    r = APIClient().get("/api/v1/docs/")
    assert r.status_code == 200
    page = r.content.decode()
    assert "cdn." not in page and "/static/drf_spectacular_sidecar/" in page


def test_home_page_is_japanese_and_not_cached(db):
    r = APIClient().get("/")
    assert r.status_code == 200 and "住民記録システム" in r.content.decode()
    assert "no-store" in r["Cache-Control"]


def test_each_change_endpoint_documents_its_own_operation(db):
    import yaml

    from juki.register.api.views import OPERATIONS

    paths = yaml.safe_load(APIClient().get("/api/v1/schema/").content)["paths"]
    summaries = {op: paths[f"/api/v1/changes/{op.replace('_', '-')}"]["post"]["summary"] for op in OPERATIONS}
    assert summaries["move_within_city"] == "転居" and summaries["birth"] == "出生"
    assert len(set(summaries.values())) == len(OPERATIONS)
    assert "MoveWithinCityRequest" in str(paths["/api/v1/changes/move-within-city"]["post"]["requestBody"])


def test_bad_values_in_corrections_and_maps_are_400_not_500(api, fam):
    pid = fam["persons"][0]["id"]
    v = api.get(f"/api/v1/persons/{pid}").json()["version"]
    base = {"event_date": days_ago(0).isoformat(), "person": {"id": pid, "version": v}}
    _is_problem(api.post("/api/v1/changes/ex-officio-correction", {**base, "changes": {"given_name": None}}, format="json"),
                400, "invalid_input")
    _is_problem(api.post("/api/v1/changes/ex-officio-correction", {**base, "changes": {"given_name": "長" * 200}},
                         format="json"), 400, "invalid_input")
    _is_problem(api.post("/api/v1/changes/household-split", {"event_date": days_ago(0).isoformat(),
                                                             "persons": [{"id": pid, "version": v}],
                                                             "relationships_in_new": {"abc": "世帯主"}}, format="json"),
                400, "invalid_input")


def test_outbox_consumer_name_is_checked_and_reading_creates_nothing(fam, linkage_user, terminal):
    from juki.register.models import OutboxCursor

    link = api_for(linkage_user, terminal)
    _is_problem(link.get("/api/v1/outbox?consumer=" + "x" * 41), 400, "invalid_input")
    assert link.get("/api/v1/outbox?consumer=atena").status_code == 200
    assert not OutboxCursor.objects.filter(consumer="atena").exists()
    # Only a registered destination has a cursor (ADR 0019); another's is not this account's to read.
    _is_problem(link.get("/api/v1/outbox?consumer=new-system"), 400, "unknown_destination")
    _is_problem(link.get("/api/v1/outbox?consumer=tax"), 403, "permission_denied")
    _is_problem(link.post("/api/v1/outbox/ack", {"consumer": "tax", "position": 0}, format="json"), 403,
                "permission_denied")
    assert not OutboxCursor.objects.exists()


def test_direct_changes_are_refused_while_two_person_verification_is_on(api, clerk, world, settings):
    """C10: with review in force the API cannot commit a change past it; the refusal is logged."""
    settings.JUKI_TWO_PERSON_VERIFICATION = True
    before = count_versions()
    r = move_in(api)
    assert r.status_code == 400 and r.json()["code"] == "review_required"
    assert "仮登録" in r.json()["detail"]
    assert count_versions() == before  # nothing written
    row = AccessLog.objects.filter(user=clerk, function="change.move_in").order_by("-id").first()
    assert row is not None and row.outcome != AccessLog.OK


def test_an_id_too_large_for_the_database_is_not_a_server_error(api, world, caplog):
    """A 20-digit id in the path is no page (404); in the body it is never a 500 either."""
    from django.db import connection

    assert api.get(f"/api/v1/persons/{10**20}").status_code == 404
    assert api.get(f"/api/v1/households/{10**20}").status_code == 404
    with caplog.at_level("WARNING", logger="juki.api"):
        r = api.post("/api/v1/certificate-requests/check",
                     {"subject_person_ids": [10**20], "requester": {"kind": "self", "person_id": 10**20}}, format="json")
    if connection.vendor == "sqlite":  # the driver cannot bind it: bad input, and the operator is told
        assert (r.status_code, r.json()["code"]) == (400, "invalid_input"), r.content
        assert "値が大きすぎます" in r.json()["detail"]
        assert "refused by the database" in caplog.text and str(10**20) not in caplog.text
    else:  # PostgreSQL compares it as a number: nobody has that id
        assert (r.status_code, r.json()["code"]) == (404, "not_found"), r.content
