"""A full disk or a read-only database (issue 11): 「保存できません」 and 503 `storage_unavailable`,
not a bare system error, on the API and on the screens; nothing is half-written."""
import contextlib
import re

import pytest
from django.db import OperationalError, connection
from django.test import Client

from juki.accounts.models import ApiToken

from ..conftest import api_for

PROBLEM = "application/problem+json"
_WRITE = re.compile(r"\b(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


@contextlib.contextmanager
def database_refuses_writes(message):
    """The database layer answers every write as SQLite does when the disk is full or the file is
    read-only (Django raises OperationalError with SQLite's own words)."""
    def refuse(execute, sql, params, many, context):
        first = sql.lstrip().split(None, 1)[0].upper()
        # A write inside a CTE is a write too (on PostgreSQL the log row is `WITH l AS (INSERT …)`).
        if first in ("INSERT", "UPDATE", "DELETE") or (first == "WITH" and _WRITE.search(sql)):
            raise OperationalError(message)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(refuse):
        yield


@pytest.mark.parametrize("message", ["database or disk is full", "attempt to write a readonly database"])
def test_api_write_on_a_full_or_read_only_database_is_503_problem(clerk, terminal, message):
    before = ApiToken.objects.count()
    with database_refuses_writes(message):
        response = Client(raise_request_exception=False).post(
            "/api/v1/auth/token", {"username": clerk.username, "password": clerk.plain_password},
            content_type="application/json")
    assert response.status_code == 503, response.content[:300]
    assert response["Content-Type"].startswith(PROBLEM)
    body = response.json()
    assert body["code"] == "storage_unavailable" and "保存できません" in body["detail"]
    assert ApiToken.objects.count() == before


def test_a_change_on_a_full_disk_is_503_and_writes_nothing(api, world, settings):
    from tests.api.test_api import move_in
    from tests.register.helpers import count_versions

    settings.JUKI_TWO_PERSON_VERIFICATION = False
    before = count_versions()
    with database_refuses_writes("database or disk is full"):
        response = move_in(api)
    assert response.status_code == 503, response.content[:300]
    assert response.json()["code"] == "storage_unavailable"
    assert count_versions() == before


def test_screen_on_a_full_disk_shows_hozon_dekimasen(clerk, terminal):
    with database_refuses_writes("database or disk is full"):
        response = Client(raise_request_exception=False).post(
            "/counter/login/", {"username": clerk.username, "password": clerk.plain_password, "terminal": terminal.code})
    assert response.status_code == 503
    page = response.content.decode()
    assert "保存できません" in page and "システムエラー" not in page


def test_other_database_errors_stay_500(clerk, terminal):
    with database_refuses_writes("no such table: x"):
        response = Client(raise_request_exception=False).post(
            "/api/v1/auth/token", {"username": clerk.username, "password": clerk.plain_password},
            content_type="application/json")
    assert response.status_code == 500 and response.json()["code"] == "internal_error"


@pytest.mark.parametrize("message", ["server closed the connection unexpectedly",
                                     "terminating connection due to administrator command"])
def test_a_database_restarting_or_failing_over_is_503_database_unavailable(clerk, terminal, message):
    """The server went away mid-request (issue 18: PostgreSQL restarted, the primary lost): try again, not a defect."""
    before = ApiToken.objects.count()
    with database_refuses_writes(message):
        api = Client(raise_request_exception=False).post(
            "/api/v1/auth/token", {"username": clerk.username, "password": clerk.plain_password},
            content_type="application/json")
        screen = Client(raise_request_exception=False).post(
            "/counter/login/", {"username": clerk.username, "password": clerk.plain_password, "terminal": terminal.code})
    assert api.status_code == 503 and api["Content-Type"].startswith(PROBLEM)
    assert api.json()["code"] == "database_unavailable" and "処理は行われていません" in api.json()["detail"]
    assert screen.status_code == 503
    page = screen.content.decode()
    assert "<h1>ただいま処理できません</h1>" in page and "データベースに接続できません" in page and "システムエラー" not in page
    assert "システム担当へ連絡" in page
    assert ApiToken.objects.count() == before
