"""The protection screens without a browser: registration, actions, rights and what the counter shows."""
import re

import jaconv

from juki.audit.gate import Actor
from juki.protection import enforcement, services
from tests.conftest import counter_client

from ..conftest import days_ago
from .helpers import OFFENDER_BIRTH, last_log, protect
from tests.helpers import TEST_ACTOR


def _register_on_screen(client, victim, confirmed=True, **over):
    data = {"person": victim["mother"], "kind": "dv", "applied_on": days_ago(2).isoformat(), "provisional": "0",
            "start": "", "member_atena_numbers": "", "offender_name": "山田　次郎", "offender_kana": "ﾔﾏﾀﾞ　ｼﾞﾛｳ",
            "offender_birth_date": OFFENDER_BIRTH.isoformat(), "offender_atena_number": "", "offender_note": "",
            **({"confirmed": "1"} if confirmed else {}), **over}
    return client.post("/protection/support/new/", data)


def test_support_user_registers_and_sees_the_detail(victim, support_user, terminal):
    c = counter_client(support_user, terminal)
    assert c.get(f"/protection/support/new/?person={victim['mother']}").status_code == 200
    r = _register_on_screen(c, victim)
    assert r.status_code == 302
    detail = c.get(r["Location"])
    html = detail.content.decode()
    assert "支援措置中" in html and "山田　花子" in html and "山田　次郎" in html
    listed = c.get("/protection/support/").content.decode()
    assert "山田　花子" in listed and "期間が1か月以内に終了: 0件" in listed


def test_registration_starts_from_a_person_found_by_search_never_a_bare_number(victim, support_user, terminal):
    c = counter_client(support_user, terminal)
    start = c.get("/protection/support/new/").content.decode()
    assert "対象の方を検索してから" in start and 'name="atena_number"' not in start
    # A bare 宛名番号 posted as before registers nothing: the screen asks for the search.
    r = c.post("/protection/support/new/", {"atena_number": victim["atena"], "kind": "dv", "confirmed": "1",
                                            "applied_on": days_ago(2).isoformat(), "offender_name": "山田　次郎"})
    assert r.status_code == 200 and "対象の方を検索してから" in r.content.decode()
    assert services.support_list(actor=TEST_ACTOR, include_ended=True) == []


def test_the_confirmation_shows_who_every_number_names(victim, support_user, terminal):
    c = counter_client(support_user, terminal)
    from juki.register.textnorm import digits
    from tests.register.helpers import person

    child = person(victim["child"])["atena_number"]
    typed = jaconv.h2z(child.lstrip("0"), digit=True)  # full width, without the leading zeros
    page = _register_on_screen(c, victim, confirmed=False, member_atena_numbers=typed).content.decode()
    assert "支援措置の登録（確認）" in page
    text = re.sub(r"<input[^>]*>", "", page)
    assert "山田　花子" in text and "平成2年2月3日" in text and "小倉北区城内3番3号" in text  # the 申出者
    assert f"山田　さくら（平成30年9月9日生、宛名番号 {child}）" in text  # the number typed, as a person
    assert digits(typed).zfill(10) == child
    assert services.support_list(actor=TEST_ACTOR, include_ended=True) == []  # nothing yet


def test_registration_errors_are_shown_in_japanese(victim, support_user, terminal):
    c = counter_client(support_user, terminal)
    html = _register_on_screen(c, victim, member_atena_numbers="9999999999").content.decode()
    assert "宛名番号 9999999999 の住民はいません。" in html and 'id="f-member_atena_numbers"' in html
    html = _register_on_screen(c, victim, offender_name="").content.decode()
    assert "赤字の項目" in html and "相手方の氏名を入力してください。" in html


def test_the_offenders_kana_is_kept_full_width(victim, support_user, terminal):
    c = counter_client(support_user, terminal)
    r = _register_on_screen(c, victim)
    assert r.status_code == 302
    assert "ヤマダ　ジロウ" in c.get(r["Location"]).content.decode()


def test_term_is_computed_on_the_screen(support_user, terminal, db):
    c = counter_client(support_user, terminal)
    assert c.get("/protection/support/term/", {"start": "R2.4.1"}).content.decode() == "令和2年4月1日 から 令和3年3月31日 まで（1年）"


def test_confirm_extend_end_and_notice_from_the_detail(victim, support_user, terminal):
    support = Actor(user=support_user, terminal=terminal)
    m = protect(support, victim, provisional=True)
    c = counter_client(support_user, terminal)
    assert c.post(f"/protection/support/{m['id']}/confirm/").status_code == 302
    assert services.support_get(actor=support, measure_id=m["id"])["state"] == "active"
    early = c.post(f"/protection/support/{m['id']}/extend/").content.decode()
    assert "1か月前" in early
    c.post(f"/protection/support/{m['id']}/end/", {"reason": "申出により終了"})
    notice = c.post(f"/protection/support/{m['id']}/notice/").content.decode()
    assert "支援措置期間終了通知" in notice and "山田　花子　様" in notice and "終了しました" in notice
    assert last_log(function="print.support_end_notice").outcome == "ok"


def test_clerk_search_shows_the_marker_only_and_support_sees_the_flag(victim, support_user, clerk, terminal):
    protect(Actor(user=support_user, terminal=terminal), victim)
    criteria = {"name": "山田花子", "birth_date": "1990-02-03", "ward_code": ""}
    html = counter_client(clerk, terminal).post("/counter/", criteria, HTTP_HX_REQUEST="true").content.decode()
    assert enforcement.SUPPORT_MARKER in html and "花子" not in html.replace("山田花子", "") and "3番3号" not in html
    assert f"/counter/persons/{victim['mother']}/" not in html
    flagged = counter_client(support_user, terminal).post("/counter/", criteria, HTTP_HX_REQUEST="true").content.decode()
    assert "山田　花子" in flagged and "support-measure" in flagged


def test_clerk_opening_the_person_page_is_refused(victim, support_user, clerk, terminal):
    protect(Actor(user=support_user, terminal=terminal), victim)
    r = counter_client(clerk, terminal).get(f"/counter/persons/{victim['mother']}/")
    html = r.content.decode()
    assert r.status_code == 403 and "支援措置の対象者" in html and "花子" not in html
    page = counter_client(support_user, terminal).get(f"/counter/persons/{victim['mother']}/").content.decode()
    assert "支援措置中（支援措置対象者）" in page and f"href=\"/protection/persons/{victim['mother']}/\"" in page


def test_protection_screens_need_the_rights(victim, clerk, supervisor, terminal):
    c = counter_client(clerk, terminal)
    assert c.get("/protection/support/").status_code == 403
    assert c.get(f"/protection/persons/{victim['mother']}/").status_code == 403
    assert "/protection/persons/" not in c.get(f"/counter/persons/{victim['mother']}/").content.decode()
    s = counter_client(supervisor, terminal)
    assert s.get("/protection/support/").status_code == 403  # 支援措置 is not the supervisor's
    assert s.get(f"/protection/persons/{victim['mother']}/").status_code == 200


def test_restrictions_from_the_person_screen(victim, supervisor, terminal):
    c = counter_client(supervisor, terminal)
    page = f"/protection/persons/{victim['mother']}/"
    r = c.post(f"{page}restrictions/", {"processes": ["change", "certificate"], "scope": "household", "level": "error",
                                        "start": "", "end": "", "reason": "調査中"})
    assert r.status_code == 302
    html = c.get(page).content.decode()
    assert "世帯全員" in html and "異動・証明書交付" in html and "抑止中" in html
    rid = re.search(r"/protection/restrictions/(\d+)/temporary-release/", html).group(1)
    c.post(f"/protection/restrictions/{rid}/temporary-release/", {"person": victim["mother"], "minutes": "10"})
    assert "一時解除中" in c.get(page).content.decode()
    c.post(f"/protection/restrictions/{rid}/release/", {"person": victim["mother"]})
    assert "解除済み" in c.get(page).content.decode()
    bad = c.post(f"{page}restrictions/", {"scope": "person", "level": "error", "reason": "x"}).content.decode()
    assert "抑止の入力内容を確認してください。" in bad
