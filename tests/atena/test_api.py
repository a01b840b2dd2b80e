"""The 団体内統合宛名's API for the business systems (S5): look-up by 宛名番号 or by 統一識別番号 (with
`link`), the 住登外者's registration (201, then 200 for the same 宛名番号), input refused with its code in
the problem+json body, callers refused and logged (any staff user, no login, a system that is not a
庁内連携 business system), and never a 個人番号 in an answer."""
from __future__ import annotations

import datetime as dt

import pytest

from juki.accounts.permissions import ROLES, Perm
from juki.atena import services
from juki.atena.models import AtenaPerson, SystemNumber
from juki.audit.models import AccessLog, AccessLogSubject
from juki.core import clock
from juki.core.errors import ErrorCode
from juki.linkage import approvals
from juki.rights.models import Grant

from ..conftest import _staff, api_for, move_in_family, person_input
from ..helpers import TEST_ACTOR, last_log
from ..register.helpers import ids

LOOKUP = "/api/v1/atena/lookup"
REGISTER = "/api/v1/atena/non-residents"
MY_NUMBER = "123456789018"  # valid check digit
OUTSIDER = {"system_number": "T-000123", "name": "市外　太郎", "name_kana": "しがい たろう", "birth_date": "1970-01-02",
            "sex": "男", "address": "福岡県福岡市中央区天神一丁目1番1号", "postal_code": "8100001"}
# What a business system receives of a 宛名 (api.AtenaSerializer), and `created` on registration.
ANSWER_KEYS = {"unified_number", "merged_from", "kind", "name", "name_kana", "birth_date", "sex", "postal_code",
               "address", "status"}


def grant(user, perm: str) -> None:
    """A right on the account, in force today (a staff user given atena.query is still refused: the
    service asks for a 庁内連携 business system's own actor)."""
    today = clock.today()
    Grant.objects.create(user=user, perm=perm, valid_from=today, valid_until=today + dt.timedelta(days=30),
                         source=Grant.Source.INITIAL)


def problem(response, status: int, code: str) -> dict:
    """The project's error shape (core.api.problem): problem+json naming the code three times."""
    assert response.status_code == status, response.content.decode()
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code and body["title"] == code and body["type"] == f"urn:juki:error:{code}", body
    assert body["status"] == status and body["detail"]
    return body


@pytest.fixture
def connect(world, destination_account, terminal):
    """A destination's connector logged in over the API (it acts as the destination's system actor)."""
    def login(code: str = "tax"):
        account = destination_account(code)
        approvals.demo_approvals(TEST_ACTOR)  # the business systems' applications in force (C16)
        return api_for(account, terminal)
    return login


@pytest.fixture
def tax(connect):
    return connect("tax")


def _resident(world, **over) -> int:
    """A register person with a 統一識別番号 (the first load), returning the register's person id."""
    head = ids(move_in_family(world, members=[person_input(**over)]))[0]
    services.load()
    return head


# --- registration ---------------------------------------------------------------------------------


def test_a_non_resident_is_registered_with_201_then_200_for_the_same_system_number(tax):
    first = tax.post(REGISTER, OUTSIDER, format="json")
    assert first.status_code == 201, first.content.decode()
    body = first.json()
    assert set(body) == ANSWER_KEYS | {"created"}
    assert body["created"] is True and body["kind"] == "non_resident" and body["merged_from"] is None
    assert body["name"] == "市外　太郎" and body["name_kana"] == "シガイタロウ"  # the search key: katakana, no space
    assert (body["birth_date"], body["sex"], body["postal_code"]) == ("1970-01-02", "男", "8100001")
    assert len(body["unified_number"]) == 12
    row = last_log("atena.register")
    # No register person is touched, so the gate writes "empty" (a 住登外者 is no register subject).
    assert (row.user_id, row.system, row.outcome) == (None, "tax", AccessLog.EMPTY)
    assert row.criteria["unified_number"] == body["unified_number"]
    # The same system's same 宛名番号 again: the same number, nothing new (the items sent are not applied).
    again = tax.post(REGISTER, {**OUTSIDER, "name": "別名　次郎"}, format="json")
    assert again.status_code == 200 and again.json() == {**body, "created": False}
    assert AtenaPerson.objects.count() == 1
    assert SystemNumber.objects.get(system="tax", number="T-000123").person.number == body["unified_number"]


def test_another_system_with_the_same_system_number_gets_a_number_of_its_own(tax, connect):
    mine = tax.post(REGISTER, OUTSIDER, format="json").json()["unified_number"]
    theirs = connect("public-housing").post(REGISTER, OUTSIDER, format="json")
    assert theirs.status_code == 201 and theirs.json()["unified_number"] != mine


# --- look-up --------------------------------------------------------------------------------------


def test_lookup_by_the_system_number_answers_only_the_system_s_own_numbers(tax, connect):
    number = tax.post(REGISTER, OUTSIDER, format="json").json()["unified_number"]
    found = tax.post(LOOKUP, {"system_number": "T-000123"}, format="json")
    assert found.status_code == 200 and set(found.json()) == ANSWER_KEYS
    assert found.json()["unified_number"] == number and found.json()["name"] == "市外　太郎"
    row = last_log("atena.provide")
    assert (row.system, row.outcome, row.criteria["by"]) == ("tax", AccessLog.EMPTY, "system_number")
    # Another system does not know tax's 宛名番号.
    problem(connect("public-housing").post(LOOKUP, {"system_number": "T-000123"}, format="json"), 404,
            ErrorCode.NOT_FOUND)
    problem(tax.post(LOOKUP, {"system_number": "T-999"}, format="json"), 404, ErrorCode.NOT_FOUND)
    problem(tax.post(LOOKUP, {}, format="json"), 400, ErrorCode.INVALID_INPUT)  # neither number: said so


def test_lookup_by_the_unified_number_links_the_system_number_only_when_asked(world, tax):
    head = _resident(world)
    number = AtenaPerson.objects.get(person_id=head).number
    plain = tax.post(LOOKUP, {"unified_number": number, "system_number": "T-55"}, format="json")
    assert plain.status_code == 200 and plain.json()["unified_number"] == number
    assert plain.json()["kind"] == "resident" and plain.json()["status"] == "住民"
    assert not SystemNumber.objects.filter(system="tax", number="T-55").exists()  # no `link`: nothing tied
    row = last_log("atena.provide")
    assert row.criteria["by"] == "unified_number" and row.person_count == 1
    assert list(AccessLogSubject.objects.filter(log=row).values_list("person_id", flat=True)) == [head]
    linked = tax.post(LOOKUP, {"unified_number": number, "system_number": "T-55", "link": True}, format="json")
    assert linked.status_code == 200 and linked.json()["unified_number"] == number
    assert SystemNumber.objects.get(system="tax", number="T-55").person.person_id == head
    # From now on the system finds the resident by its own 宛名番号.
    assert tax.post(LOOKUP, {"system_number": "T-55"}, format="json").json()["unified_number"] == number
    problem(tax.post(LOOKUP, {"unified_number": "000000000000"}, format="json"), 404, ErrorCode.NOT_FOUND)


def test_linking_a_system_number_already_tied_to_another_person_is_refused(world, tax):
    head = _resident(world)
    resident = AtenaPerson.objects.get(person_id=head).number
    tax.post(REGISTER, OUTSIDER, format="json")  # T-000123 → the 住登外者
    response = tax.post(LOOKUP, {"unified_number": resident, "system_number": "T-000123", "link": True}, format="json")
    assert SystemNumber.objects.get(system="tax", number="T-000123").person.person_id is None  # the old tie stays …
    problem(response, 409, ErrorCode.CONFLICT)  # … and the system is told


# --- input -----------------------------------------------------------------------------------------


def test_a_missing_name_is_refused_with_the_item_named(tax):
    body = problem(tax.post(REGISTER, {k: v for k, v in OUTSIDER.items() if k != "name"}, format="json"), 400,
                   ErrorCode.INVALID_INPUT)
    assert set(body["errors"]) == {"name"}
    body = problem(tax.post(REGISTER, {**OUTSIDER, "name": "　 "}, format="json"), 400, ErrorCode.INVALID_INPUT)
    assert set(body["errors"]) == {"name"}  # blank after trimming (the serializer's trim) is missing too
    assert not AtenaPerson.objects.exists()


def test_an_invalid_my_number_is_refused_and_the_refusal_logged(tax):
    body = problem(tax.post(REGISTER, {**OUTSIDER, "my_number": "123456789012"}, format="json"), 400,
                   ErrorCode.INVALID_MY_NUMBER)
    assert body["field"] == "my_number" and "123456789012" not in str(body)
    assert last_log("atena.register").outcome == ErrorCode.INVALID_MY_NUMBER
    assert not AtenaPerson.objects.exists() and not SystemNumber.objects.exists()


def test_a_my_number_already_registered_is_not_told_to_the_system(tax):
    """Registration does not say whether a 個人番号 is known (no oracle for any business system): the
    second is registered too, and the staff merge the two (名寄せ) when they find them one person."""
    first = tax.post(REGISTER, {**OUTSIDER, "my_number": MY_NUMBER}, format="json")
    second = tax.post(REGISTER, {**OUTSIDER, "system_number": "T-2", "my_number": MY_NUMBER}, format="json")
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["unified_number"] != second.json()["unified_number"] and MY_NUMBER not in second.content.decode()


def test_an_unknown_field_is_refused_on_both_endpoints(tax):
    body = problem(tax.post(REGISTER, {**OUTSIDER, "domicile": "福岡県"}, format="json"), 400, ErrorCode.UNKNOWN_FIELD)
    assert set(body["errors"]) == {"domicile"}
    body = problem(tax.post(LOOKUP, {"system_number": "T-1", "person_id": 1}, format="json"), 400,
                   ErrorCode.UNKNOWN_FIELD)
    assert set(body["errors"]) == {"person_id"}
    assert not AtenaPerson.objects.exists()


# --- callers -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", sorted(ROLES))
def test_a_staff_user_of_any_role_is_refused_and_logged(world, terminal, role):
    # Role 連携システム included: under a username that is no destination's code it is a staff user. It
    # holds atena.query (for the destinations' accounts), so the service refuses it, not the view.
    user = _staff(role, f"staff-{role}")
    client = api_for(user, terminal)
    for path, function, data in ((LOOKUP, "atena.provide", {"system_number": "T-1"}),
                                 (REGISTER, "atena.register", OUTSIDER)):
        problem(client.post(path, data, format="json"), 403, ErrorCode.PERMISSION_DENIED)
        row = last_log(function)
        if role == "linkage":
            assert (row.user_id, row.outcome) == (user.id, ErrorCode.PERMISSION_DENIED)
        else:
            assert (row.user_id, row.outcome) == (user.id, AccessLog.DENIED)
            assert row.criteria["rights"] == [Perm.ATENA_QUERY]
    assert not AtenaPerson.objects.exists()


def test_a_staff_user_granted_atena_query_is_still_refused(world, clerk, terminal):
    grant(clerk, Perm.ATENA_QUERY)
    client = api_for(clerk, terminal)
    body = problem(client.post(REGISTER, OUTSIDER, format="json"), 403, ErrorCode.PERMISSION_DENIED)
    assert "業務システム" in body["detail"]
    row = last_log("atena.register")
    assert (row.user_id, row.outcome) == (clerk.id, ErrorCode.PERMISSION_DENIED)  # the service's own refusal
    problem(client.post(LOOKUP, {"system_number": "T-1"}, format="json"), 403, ErrorCode.PERMISSION_DENIED)
    assert last_log("atena.provide").outcome == ErrorCode.PERMISSION_DENIED
    assert not AtenaPerson.objects.exists()


def test_an_unauthenticated_call_is_refused_with_401(world):
    from rest_framework.test import APIClient

    anonymous = APIClient()
    for path, data in ((LOOKUP, {"system_number": "T-1"}), (REGISTER, OUTSIDER)):
        problem(anonymous.post(path, data, format="json"), 401, ErrorCode.NOT_AUTHENTICATED)
    assert not AtenaPerson.objects.exists()


def test_the_jukinet_account_is_refused_it_is_no_business_system(world, destination_account, terminal):
    account = destination_account("jukinet")
    grant(account, Perm.ATENA_QUERY)  # a grant on the account adds nothing the destination does not list
    client = api_for(account, terminal)
    problem(client.post(LOOKUP, {"system_number": "T-1"}, format="json"), 403, ErrorCode.PERMISSION_DENIED)
    row = last_log("atena.provide")
    assert (row.user_id, row.system, row.outcome) == (None, "jukinet", AccessLog.DENIED)
    problem(client.post(REGISTER, OUTSIDER, format="json"), 403, ErrorCode.PERMISSION_DENIED)
    assert last_log("atena.register").system == "jukinet"
    assert not AtenaPerson.objects.exists()


def test_a_system_listing_atena_query_without_a_delivery_is_refused_by_the_service(connect):
    # The 中間サーバー lists atena.query (for its 個人番号 look-up) but is no 庁内連携 business system.
    client = connect("intermediary")
    body = problem(client.post(REGISTER, OUTSIDER, format="json"), 403, ErrorCode.PERMISSION_DENIED)
    assert "庁内連携の業務システム" in body["detail"]
    row = last_log("atena.register")
    assert (row.system, row.outcome) == ("intermediary", ErrorCode.PERMISSION_DENIED)
    assert not AtenaPerson.objects.exists()


def test_a_business_system_account_with_its_role_alone_may_register_only_under_an_approval(
        world, destination_account, terminal):
    client = api_for(destination_account("tax"), terminal)
    problem(client.post(REGISTER, OUTSIDER, format="json"), 400, ErrorCode.APPROVAL_ENDED)  # none in force (C16)
    approvals.demo_approvals(TEST_ACTOR)
    assert client.post(REGISTER, OUTSIDER, format="json").status_code == 201


# --- the 個人番号 stays inside --------------------------------------------------------------------------


def test_no_answer_carries_the_my_number_even_when_one_was_registered(world, tax):
    created = tax.post(REGISTER, {**OUTSIDER, "my_number": MY_NUMBER}, format="json")
    assert created.status_code == 201 and "my_number" not in created.json()
    assert AtenaPerson.objects.get(number=created.json()["unified_number"]).my_number_digest  # it was kept
    answers = [created,
               tax.post(REGISTER, {**OUTSIDER, "my_number": MY_NUMBER}, format="json"),
               tax.post(LOOKUP, {"system_number": OUTSIDER["system_number"]}, format="json"),
               tax.post(LOOKUP, {"unified_number": created.json()["unified_number"]}, format="json")]
    # A resident whose 個人番号 the register holds, looked up by its number.
    resident_number = "987654321026"
    head = _resident(world, my_number=resident_number)
    answers.append(tax.post(LOOKUP, {"unified_number": AtenaPerson.objects.get(person_id=head).number}, format="json"))
    for response in answers:
        assert response.status_code in (200, 201), response.content.decode()
        text = response.content.decode()
        assert MY_NUMBER not in text and resident_number not in text and "my_number" not in text
    for row in AccessLog.objects.filter(function__in=["atena.register", "atena.provide"]):
        assert MY_NUMBER not in str(row.criteria) and not row.my_number_accessed
