"""[1370] error log: a server error leaves a row naming the screen, never the exception's text."""
from django.test import RequestFactory
from django.urls import resolve

from juki.audit.models import AccessLog, Category
from juki.core.views import server_error


def test_a_server_error_is_recorded_in_the_error_category(clerk, terminal):
    request = RequestFactory().get("/counter/persons/1/")
    request.user, request.terminal = clerk, terminal
    request.resolver_match = resolve("/counter/persons/1/")
    response = server_error(request)
    assert response.status_code == 500 and "システムエラー" in response.content.decode()
    row = AccessLog.objects.get(function="error.server")
    assert row.category == Category.ERROR and row.outcome == "error"
    assert row.user == clerk and row.terminal == terminal and row.criteria == {"view": "counter:person"}


def test_an_anonymous_api_error_is_recorded_too(db):
    request = RequestFactory().get("/api/v1/persons/1")
    response = server_error(request)
    assert response.status_code == 500 and response["Content-Type"] == "application/problem+json"
    row = AccessLog.objects.get(function="error.server")
    assert row.user is None and row.category == Category.ERROR
