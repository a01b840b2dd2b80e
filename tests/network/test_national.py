"""全国サーバ (juki.network.national) in this process on loopback, mutual TLS: the prefecture's
forwarded updates in, 本人確認 (P6) out with the two-item rule. No database."""
from __future__ import annotations

import json

import pytest

from juki.core.checkdigits import mod11_check_digit
from juki.network import national

from .inthread import serving


def code(body: str) -> str:
    return body + str(mod11_check_digit(body))


def number(body: str) -> str:
    return body + str(mod11_check_digit(body))


def bad(valid: str) -> str:
    return valid[:-1] + str((int(valid[-1]) + 1) % 10)


AOKI, AOKI_HANAKO, KATO = code("1234567890"), code("1234567891"), code("2234567890")
AOKI_NUMBER = number("12345678901")


def items(**over) -> dict:
    base = {"name": "青木　太郎", "name_kana": "アオキ　タロウ", "name_kana_seion": "アオキ　タロウ",
            "birth_date": "1985-04-01", "sex": "1", "municipality_code": "401005", "town_code": "40106001000",
            "address": "小倉北区城内1番1号", "my_number": AOKI_NUMBER}
    return {**base, **over}


def message(seq: int, resident_code: str = AOKI, kind: str = "entry", **over) -> dict:
    return {"seq": seq, "municipality": "401005", "resident_code": resident_code, "kind": kind, "items": items(**over)}


@pytest.fixture
def server(tmp_path):
    with serving(national.national(tmp_path), tmp_path, "national") as client:
        yield client


@pytest.fixture
def prefecture(server):
    return server("prefecture")


@pytest.fixture
def cs(server):
    return server("cs-401005")


def send(prefecture, *messages, code="40"):
    return prefecture.call("POST", "/updates", {"prefecture": code, "messages": list(messages)})


@pytest.fixture
def loaded(prefecture):
    status, answer = send(prefecture,
                          message(1),
                          message(2, AOKI_HANAKO, name="青木 花子", name_kana="アオキ ハナコ", sex="2",
                                  birth_date="1987-09-10", my_number=number("22345678901")),
                          message(3, KATO, name="加藤　一郎", name_kana="ガトウ　イチロウ", birth_date="1985-04-01",
                                  address="小倉北区魚町一丁目8番", my_number=None))
    assert (status, answer["accepted"]) == (200, [1, 2, 3])
    return prefecture


def identify(cs, **body):
    return cs.call("POST", "/identify", body)


def test_a_person_who_moved_is_held_for_both_cities(prefecture, cs):
    """The 転出地's 消除 (and its later 転出確定) and the 転入地's 記載 of one 住民票コード are two records, one
    per city (issue 15): the 転出地's late update does not overwrite the 転入地's."""
    fukuoka = {"municipality_code": "401307", "town_code": "40131001000", "address": "福岡市東区箱崎一丁目1番"}
    assert send(prefecture, message(1), message(2, kind="remove"),
                {**message(3, kind="entry", **fukuoka), "municipality": "401307"},
                message(4, kind="remove", reason="move_out_confirmed"))[1]["accepted"] == [1, 2, 3, 4]
    matches = identify(cs, resident_code=AOKI)[1]["matches"]
    assert [(m["municipality"], m["status"], m["address"]) for m in matches] == [
        ("401307", "entry", "福岡市東区箱崎一丁目1番"), ("401005", "remove", "小倉北区城内1番1号")]


def test_identify_by_resident_code(loaded, cs):
    status, answer = identify(cs, resident_code=AOKI)
    assert status == 200 and answer["count"] == 1 and answer["truncated"] is False
    assert answer["matches"] == [{"resident_code": AOKI, "municipality": "401005", "name": "青木　太郎",
                                  "name_kana": "アオキ　タロウ", "birth_date": "1985-04-01", "sex": "1",
                                  "address": "小倉北区城内1番1号", "status": "entry"}]
    assert identify(cs, resident_code=code("9999999999")) == (200, {"matches": [], "count": 0, "truncated": False})


def test_identify_by_my_number_never_answers_the_number(loaded, cs):
    status, answer = identify(cs, my_number=AOKI_NUMBER)
    assert status == 200 and [m["resident_code"] for m in answer["matches"]] == [AOKI]
    assert AOKI_NUMBER not in json.dumps(answer) and "my_number" not in json.dumps(answer)


def test_identify_by_four_items_with_two_of_them(loaded, cs):
    # 氏名 and 生年月日, the spaces of either width not counting.
    status, answer = identify(cs, name="青木太郎", birth_date="1985-04-01")
    assert status == 200 and [m["resident_code"] for m in answer["matches"]] == [AOKI]
    # かな (half-width and hiragana are the same かな) and 住所 (full-width digits are the same).
    status, answer = identify(cs, name_kana="ｱｵｷ ﾊﾅｺ", address="小倉北区城内１番１号")
    assert status == 200 and [m["resident_code"] for m in answer["matches"]] == [AOKI_HANAKO]
    status, answer = identify(cs, name_kana="あおき　たろう", address="小倉北区城内1番1号")
    assert [m["resident_code"] for m in answer["matches"]] == [AOKI]
    # The 清音 form finds the voiced name too.
    status, answer = identify(cs, name_kana="カトウイチロウ", birth_date="1985-04-01")
    assert [m["resident_code"] for m in answer["matches"]] == [KATO]
    # 生年月日 and 住所, without the name; and 性別 narrows.
    status, answer = identify(cs, birth_date="1985-04-01", address="小倉北区城内1番1号")
    assert [m["resident_code"] for m in answer["matches"]] == [AOKI]
    status, answer = identify(cs, name="青木花子", birth_date="1987-09-10", sex="1")
    assert (status, answer["count"]) == (200, 0)
    # Nobody's data in the answer beyond the 4情報, and never a 個人番号.
    status, answer = identify(cs, birth_date="1985-04-01", name_kana="アオキタロウ")
    assert AOKI_NUMBER not in json.dumps(answer, ensure_ascii=False)


@pytest.mark.parametrize("body", [
    {"name": "青木太郎", "sex": "1"},
    {"birth_date": "1985-04-01", "sex": "1"},
    {"address": "小倉北区城内1番1号", "sex": "1"},
    {"name": "青木太郎", "name_kana": "アオキタロウ", "sex": "1"},  # 漢字 and かな are one item: 氏名
    {"sex": "1"},
    {},
])
def test_four_items_search_needs_two_items_besides_sex(loaded, cs, body):
    status, answer = identify(cs, **body)
    assert (status, answer["code"]) == (422, "two_items_required")
    assert "性別を除く２情報以上" in answer["message"]


@pytest.mark.parametrize("body, item", [
    ({"resident_code": bad(AOKI)}, "resident_code"),
    ({"my_number": bad(AOKI_NUMBER)}, "my_number"),
])
def test_a_bad_check_digit_is_refused(loaded, cs, body, item):
    status, answer = identify(cs, **body)
    assert (status, answer["code"], answer["item"]) == (422, "invalid_check_digit", item)


@pytest.mark.parametrize("body, refusal", [
    ({"resident_code": "12345"}, "invalid_format"),
    ({"my_number": "1234567890AB"}, "invalid_format"),
    ({"name": "青木太郎", "birth_date": "1985-13-01"}, "invalid_birth_date"),
    ({"name": "青木太郎", "birth_date": "1985-04-01", "sex": "3"}, "invalid_sex"),
    ({"name": 1, "birth_date": "1985-04-01"}, "invalid_item"),
])
def test_malformed_keys_are_refused(cs, body, refusal):
    status, answer = identify(cs, **body)
    assert (status, answer["code"]) == (422, refusal)


@pytest.mark.parametrize("caller", ["prefecture", "s2-401005"])
def test_only_a_citys_cs_may_identify(loaded, server, caller):
    status, answer = server(caller).call("POST", "/identify", {"resident_code": AOKI})
    assert (status, answer["code"]) == (403, "not_a_cs")


def test_only_a_prefecture_may_send_updates(server):
    status, answer = send(server("cs-401005"), message(1))
    assert (status, answer["code"]) == (403, "not_a_prefecture")
    status, answer = server("cs-401005").call("GET", "/updates?prefecture=40")
    assert (status, answer["code"]) == (403, "not_a_prefecture")


def test_updates_in_order_duplicates_change_nothing_and_a_gap_is_refused(prefecture, cs):
    assert send(prefecture, message(1), message(2, kind="update", address="小倉北区魚町一丁目8番"))[1]["accepted"] == [1, 2]
    # A retry of 2 with other content: a duplicate, nothing changes.
    status, answer = send(prefecture, message(2, kind="update", address="どこか"))
    assert (status, answer["accepted"], answer["duplicates"], answer["last_seq"]) == (200, [], [2], 2)
    assert identify(cs, resident_code=AOKI)[1]["matches"][0]["address"] == "小倉北区魚町一丁目8番"
    # A gap: refused with the number expected, and nothing of it applied.
    status, answer = send(prefecture, message(4, kind="remove"))
    assert (status, answer["code"], answer["expected"]) == (409, "sequence_gap", 3)
    assert identify(cs, resident_code=AOKI)[1]["matches"][0]["status"] == "update"
    # A batch that runs into a gap takes what comes before it.
    status, answer = send(prefecture, message(2), message(3, kind="remove", name=""), message(5))
    assert (answer["accepted"], answer["duplicates"], answer["last_seq"]) == ([3], [2], 3)
    removed = identify(cs, resident_code=AOKI)[1]["matches"][0]
    assert removed["status"] == "remove" and removed["name"] == "青木　太郎"  # the 消除 keeps what was known
    # Another prefecture has its own sequence.
    assert send(prefecture, {**message(1, KATO), "municipality": "131016"}, code="13")[1]["accepted"] == [1]
    status, state = cs.call("GET", "/status")
    assert state["prefectures"] == {"40": 3, "13": 1} and state["records"] == 2
    status, log = prefecture.call("GET", "/updates?prefecture=40&after=0")
    assert [(u["seq"], u["kind"], u["outcome"]) for u in log["updates"]] == [
        (1, "entry", "applied"), (2, "update", "applied"), (3, "remove", "applied")]


def test_a_message_it_cannot_take_is_refused_by_itself_and_keeps_its_place(prefecture, cs):
    status, answer = send(prefecture, message(1, bad(AOKI)), message(2, KATO, sex=""),
                          {**message(3), "municipality": "131016"}, message(4))
    assert status == 200 and answer["accepted"] == [4]
    assert [(r["seq"], r["code"], r["items"]) for r in answer["refused"]] == [
        (1, "invalid_record", ["resident_code"]), (2, "invalid_record", ["sex"]),
        (3, "invalid_record", ["municipality"])]
    assert identify(cs, resident_code=KATO)[1]["count"] == 0


@pytest.mark.parametrize("body, refusal", [
    ({"prefecture": "4", "messages": []}, "invalid_prefecture"),
    ({"prefecture": "48", "messages": []}, "invalid_prefecture"),
    ({"prefecture": "40", "messages": [{"seq": "1"}]}, "invalid_messages"),
    ({"prefecture": "40"}, "invalid_messages"),
])
def test_a_malformed_batch_is_refused(prefecture, body, refusal):
    status, answer = prefecture.call("POST", "/updates", body)
    assert (status, answer["code"]) == (422, refusal)


def test_at_most_a_hundred_matches(prefecture, cs):
    messages = [message(i + 1, code(f"5{i:09d}"), my_number=None) for i in range(105)]
    assert send(prefecture, *messages)[1]["last_seq"] == 105
    status, answer = identify(cs, name="青木　太郎", birth_date="1985-04-01")
    assert (status, answer["count"], len(answer["matches"]), answer["truncated"]) == (200, 100, 100, True)


def test_the_searched_fields_are_indexed(tmp_path):
    app = national.national(tmp_path)  # the schema, in its own file
    import sqlite3

    db = sqlite3.connect(tmp_path / "national.sqlite3")
    indexed = {row[4] for row in db.execute("SELECT * FROM sqlite_master WHERE type = 'index'") if row[4]}
    for column in ("name_key", "kana_key", "seion_key", "birth_date", "address_key", "my_number"):
        assert any(f"({column}" in sql for sql in indexed), column
    plan = " ".join(str(r) for r in db.execute(
        "EXPLAIN QUERY PLAN SELECT * FROM records WHERE name_key = ? AND birth_date = ?", ("a", "b")))
    assert "USING INDEX records_name" in plan
    assert app.name == "national"
