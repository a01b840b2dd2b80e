"""The counter's HTTP behaviour without a browser: who may do what, and what leaks nowhere."""
from __future__ import annotations

import re

import pytest
from django.test import Client

from juki.audit.models import AccessLog
from tests.conftest import counter_client, move_in_family


def client_for(user, terminal) -> Client:
    return counter_client(user, terminal)  # with the TOTP step for those who need it


def test_login_refuses_a_wrong_password_or_terminal_with_one_message(clerk, terminal):
    c = Client()
    for data in ({"username": clerk.username, "password": "wrong-password-1", "terminal": terminal.code},
                 {"username": "nobody", "password": clerk.plain_password, "terminal": terminal.code}):
        r = c.post("/counter/login/", data)
        assert r.status_code == 200
        assert "職員ID・パスワード・端末の組合せが正しくありません。" in r.content.decode()
    assert c.get("/counter/").status_code == 302


def test_every_screen_needs_a_session(db):
    r = Client().get("/counter/persons/1/")
    assert r.status_code == 302 and r["Location"].startswith("/counter/login/")


def test_viewer_cannot_open_change_entry_and_auditor_cannot_search(viewer, auditor, terminal, family):
    v = client_for(viewer, terminal)
    r = v.get(f"/counter/changes/move-within-city/?household={family.households[0]['id']}")
    assert r.status_code == 403 and "権限がありません" in r.content.decode()
    a = client_for(auditor, terminal)
    r = a.get("/counter/")  # the front page sends the auditor to the first screen their rights open
    assert r.status_code == 302 and r["Location"] == "/audit/analysis/"
    r = a.post("/counter/", {"name": "アオキ", "birth_date": "S60.4.1"})
    assert r.status_code == 403
    assert AccessLog.objects.filter(user=auditor, function="screen.search", outcome="denied").count() == 1


def test_search_is_posted_logged_and_never_cached(clerk, terminal, family):
    c = client_for(clerk, terminal)
    r = c.post("/counter/", {"name": "ｱｵｷ", "birth_date": "S60.4.1"}, HTTP_HX_REQUEST="true")
    body = r.content.decode()
    assert r.status_code == 200 and "青木　太郎" in body
    assert "no-store" in r["Cache-Control"]
    log = AccessLog.objects.filter(function="person.search").latest("id")
    assert log.criteria["name"] == "ｱｵｷ" and log.person_count == 1


def test_c15_refusal_is_shown_in_japanese(clerk, terminal, family):
    c = client_for(clerk, terminal)
    r = c.post("/counter/", {"name": "アオキ"}, HTTP_HX_REQUEST="true")
    assert "2項目以上を入力してください" in r.content.decode()
    assert AccessLog.objects.filter(function="person.search", outcome="search_criteria").count() == 1


def test_clerk_without_review_right_cannot_approve_by_forged_post(clerk, supervisor, terminal, family, settings):
    settings.JUKI_TWO_PERSON_VERIFICATION = True
    c = client_for(clerk, terminal)
    head = family.persons[0]
    r = c.post("/counter/changes/move-out/", {
        "household": family.households[0]["id"], "persons": [head["id"]], "event_date": "R8.11.20",
        "notified_on": "R8.11.20", "destination_address": "東京都千代田区千代田1番1号"})
    assert r.status_code == 200 and "確認（転出）" in r.content.decode()
    payload = re.search(r'name="payload" value="([^"]+)"', r.content.decode()).group(1)
    import html

    r = c.post("/counter/changes/move-out/commit/", {"payload": html.unescape(payload)})
    assert r.status_code == 302
    pid = int(r["Location"].rstrip("/").split("/")[-1])
    # A clerk has no review right at all…
    assert c.post(f"/counter/pending/{pid}/approve/").status_code == 403
    # A supervisor (another user) approves it; approving it again is refused.
    s = client_for(supervisor, terminal)
    r = s.post(f"/counter/pending/{pid}/approve/")
    assert r.status_code == 302 and "/counter/changes/done/" in r["Location"]
    r = s.post(f"/counter/pending/{pid}/approve/")
    assert "既に「本登録済み」です" in r.content.decode()


def test_idle_session_is_locked_server_side(clerk, terminal, family, settings):
    c = client_for(clerk, terminal)
    settings.JUKI_IDLE_LOCK_SECONDS = 0
    r = c.get(f"/counter/persons/{family.persons[0]['id']}/")
    assert r.status_code == 302 and r["Location"].startswith("/counter/lock/")
    settings.JUKI_IDLE_LOCK_SECONDS = 300
    r = c.get(f"/counter/persons/{family.persons[0]['id']}/")
    assert r.status_code == 302  # still locked until the password is given
    r = c.post("/counter/lock/", {"password": clerk.plain_password, "next": f"/counter/persons/{family.persons[0]['id']}/"})
    assert r.status_code == 302
    assert "青木" in c.get(r["Location"]).content.decode()


def test_my_number_reveal_needs_the_right_and_is_logged(clerk, supervisor, terminal, world):
    from juki.register.services.seed import my_number_for

    number = my_number_for(4242, 7)
    family = move_in_family(world, members=[{
        "family_name": "青木", "given_name": "太郎", "family_name_kana": "アオキ", "given_name_kana": "タロウ",
        "birth_date": __import__("datetime").date(1985, 4, 1), "sex": 1, "relationship": "世帯主",
        "domicile": "福岡県北九州市小倉北区城内1番", "domicile_head": "青木　太郎", "my_number": number}])
    pid = family.persons[0]["id"]
    c = client_for(clerk, terminal)
    page = c.get(f"/counter/persons/{pid}/").content.decode()
    assert number not in page and ">************<" in page and "＊" not in page  # one width, 12 places
    assert "個人番号を表示" not in page  # no button without the right
    assert c.post(f"/counter/persons/{pid}/my-number/").status_code == 403
    s = client_for(supervisor, terminal)
    r = s.post(f"/counter/persons/{pid}/my-number/", HTTP_HX_REQUEST="true")
    assert number in r.content.decode()
    assert AccessLog.objects.filter(function="person.view", my_number_accessed=True, user=supervisor).count() == 1


@pytest.mark.parametrize("topic", ["search", "person", "household", "change", "confirm", "pending", "login", "keys"])
def test_every_screen_has_a_help_page(client, topic):
    r = client.get(f"/counter/help/{topic}/")
    body = r.content.decode()
    assert r.status_code == 200 and "<h1" in body and "ヘルプ" in body


def test_address_and_domicile_input_help(clerk, terminal, towns):
    from juki.register.models import Building, Town

    town = Town.objects.get(code="40106001000")
    Building.objects.create(town=town, banchi="1番1号", name="城内ハイツ", kana="ジョウナイハイツ")
    c = client_for(clerk, terminal)
    body = c.get("/counter/towns/", {"town_text": "ｼﾞｮｳ"}).content.decode()
    assert "小倉北区城内（40106001000）" in body
    body = c.get("/counter/katagaki/", {"town_text": "小倉北区城内（40106001000）"}).content.decode()
    assert "城内ハイツ" in body
    body = c.get("/counter/towns/", {"domicile": "1", "p0-domicile": "福岡県北九州市小倉北区城"}).content.decode()
    assert "福岡県北九州市小倉北区城内" in body


def test_receipt_names_the_notifier_and_the_persons_without_a_name_in_the_url(clerk, terminal, family):
    c = client_for(clerk, terminal)
    r = c.post(f"/counter/changes/receipt/{family.change_id}/", {"notifier": "青木　花子"})
    body = r.content.decode()
    assert r.status_code == 200 and "住民異動届受理通知" in body
    assert "青木　花子　様" in body and "青木　太郎、青木　花子、青木　一郎" in body
    assert "北九州市長" in body
    done = c.get(f"/counter/changes/done/{family.change_id}/").content.decode()
    assert 'method="post" action="/counter/changes/receipt/' in done


def test_new_entries_are_offered_on_the_search_screen_and_their_forms_open(clerk, terminal, towns):
    c = client_for(clerk, terminal)
    body = c.get("/counter/").content.decode()
    for slug, label in (("move-in", "転入"), ("foreign-move-in", "法第30条の46転入"),
                        ("foreign-registration", "法第30条の47届出"), ("ex-officio-entry", "職権記載")):
        assert f'href="/counter/changes/{slug}/"' in body, slug
        page = c.get(f"/counter/changes/{slug}/").content.decode()
        assert f"異動入力（{label}" in page and 'id="person-1"' in page, slug


def test_activity_ping_keeps_a_session_awake(clerk, terminal, family, settings):
    import time

    from juki.ui.access import SESSION_LAST_SEEN

    c = client_for(clerk, terminal)
    session = c.session
    session[SESSION_LAST_SEEN] = time.time() - 250  # typing a long form for four minutes
    session.save()
    assert c.post("/counter/ping/").status_code == 204
    assert time.time() - c.session[SESSION_LAST_SEEN] < 5
    settings.JUKI_IDLE_LOCK_SECONDS = 60
    assert c.get(f"/counter/persons/{family.persons[0]['id']}/").status_code == 200


def test_the_town_input_shows_no_stray_help_topic(clerk, terminal):
    # The partial's hint once picked up the page's help topic ("search") from the context.
    page = client_for(clerk, terminal).get("/counter/").content.decode()
    assert 'id="id_town_text"' in page and '<small class="help">search</small>' not in page


def test_each_change_form_needs_its_own_operation_right(terminal, family):
    """C02: person.change opens the counter's entry screens, but each 異動 is a right of its own."""
    from juki.accounts.services import staff_create
    from juki.rights.models import Grant
    from juki.rights.services import forget_cached_perms, today

    user = staff_create(username="movesonly", password="Moves-only-123", role="viewer")
    Grant.objects.create(user=user, perm="person.change", valid_from=today(), valid_until=today())
    Grant.objects.create(user=user, perm="change.move_within_city", valid_from=today(), valid_until=today())
    forget_cached_perms(user)
    user.plain_password = "Moves-only-123"
    c = client_for(user, terminal)
    household = family.households[0]["id"]
    page = c.get(f"/counter/households/{household}/").content.decode()
    assert "/counter/changes/move-within-city/" in page and "/counter/changes/death/" not in page
    assert c.get(f"/counter/changes/move-within-city/?household={household}").status_code == 200
    person = family.persons[0]["id"]
    for r in (c.get(f"/counter/changes/death/?person={person}"), c.post("/counter/changes/death/commit/", {"payload": "{}"})):
        assert r.status_code == 403 and "権限がありません" in r.content.decode()
    refused = AccessLog.objects.filter(user=user, outcome="denied", function__startswith="screen.change")
    assert sorted(refused.values_list("criteria__perm", flat=True)) == ["change.death", "change.death"]
