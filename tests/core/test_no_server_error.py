"""No 500 from any method on any route (issue 11): every URL pattern, every HTTP method, as an
anonymous caller and as a logged-in supervisor (API token, counter session). A new route or view
that fails on a method it does not expect fails here."""
import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from ..conftest import api_for, counter_client

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]
LAST = ("logout", "revoke", "password")  # calls that end the session: walked after the others


def _routes() -> list[str]:
    out = []

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                out.append(prefix + str(p.pattern))

    walk(get_resolver().url_patterns)
    return out


def _path(route: str, ids: dict) -> str:
    def sample(m):
        kind, name = m.group(1) or "str", m.group(2)
        if kind in ("id", "int"):
            return str(ids.get(name, 1))
        return {"slug": "x", "path": "1"}.get(kind, "X1")

    path = re.sub(r"<(?:(\w+):)?(\w+)>", sample, route)
    path = re.sub(r"\(\?P<app_label>[^)]*\)", "register", path)  # the admin's regex routes
    path = re.sub(r"\(\?P<\w+>[^)]*\)", "x", path).lstrip("^").rstrip("$")
    return "/" + path


def _call(client, method, path, api):
    kw = {"content_type": "application/json", "data": "{}"} if api and method in ("POST", "PUT", "PATCH") else {}
    return getattr(client, method.lower())(path, **kw)


@pytest.mark.django_db
def test_every_route_and_method_answers_below_500(supervisor, terminal, family):
    ids = {"person_id": family.persons[0]["id"], "household_id": family.households[0]["id"],
           "change_id": family.change_id}
    routes = sorted(_routes(), key=lambda r: any(w in r for w in LAST))
    anon, api_anon = Client(raise_request_exception=False), APIClient(raise_request_exception=False)
    api = api_for(supervisor, terminal)
    api.raise_request_exception = False
    screen = counter_client(supervisor, terminal)
    screen.raise_request_exception = False
    failures = []
    for route in routes:
        path = _path(route, ids)
        is_api = path.startswith("/api/")
        for client in ((api_anon, api) if is_api else (anon, screen)):
            for method in METHODS:
                status = _call(client, method, path, is_api).status_code
                if status >= 500:
                    failures.append(f"{method} {path} ({'logged in' if client in (api, screen) else 'anonymous'}): {status}")
    assert not failures, "\n".join(failures)


@pytest.mark.django_db
def test_options_on_a_reissue_url_names_the_methods(supervisor, terminal, world):
    # Was a 500: DRF's OPTIONS form description built a serializer the reissue view does not have.
    api = api_for(supervisor, terminal)
    response = api.options("/api/v1/certificates/A0000001/reissue")
    assert response.status_code == 200
    assert "POST" in response["Allow"] and "actions" not in response.json()
    docs = api.options("/api/v1/docs/")
    assert docs.status_code == 405
