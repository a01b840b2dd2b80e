"""Bad bodies (issue 11): oversized or deeply nested bodies are refused with 413/400 problem+json,
never a 500, on the public endpoints that take a body before any login."""
import json

import pytest
from django.test import Client

PROBLEM = "application/problem+json"
PUBLIC = ["/api/v1/auth/token", "/api/v1/certificates/verify"]

pytestmark = pytest.mark.django_db


def _problem(response, status, code):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith(PROBLEM)
    body = response.json()
    assert body["code"] == code and body["status"] == status and body["detail"]
    return body


@pytest.mark.parametrize("url", PUBLIC)
def test_a_body_over_the_size_limit_is_413(url):
    body = json.dumps(["a"] * 600_000)  # ≈3 MB: past Django's own 2.5 MiB, which used to end in a 500
    _problem(Client().post(url, body, content_type="application/json"), 413, "request_too_large")


@pytest.mark.parametrize("url", PUBLIC)
def test_a_json_body_just_over_the_configured_limit_is_413_and_under_it_is_read(url, settings):
    settings.JUKI_MAX_JSON_BYTES = 1000
    over = json.dumps({"username": "x" * 1000, "password": "y"})
    _problem(Client().post(url, over, content_type="application/json"), 413, "request_too_large")
    under = Client().post(url, json.dumps({"username": "x", "password": "y"}), content_type="application/json")
    assert under.status_code in (400, 401)  # read and refused on its content, not on its size


@pytest.mark.parametrize("url", PUBLIC)
@pytest.mark.parametrize("shape", ["array", "object"])
def test_a_body_nested_1000_levels_is_400(url, shape):
    body = "[" * 1000 + "]" * 1000 if shape == "array" else '{"a":' * 1000 + "1" + "}" * 1000
    body = _problem(Client().post(url, body, content_type="application/json"), 400, "json_too_deep")
    assert "32" in body["detail"]


def test_nesting_just_past_the_limit_is_refused_and_at_the_limit_is_read(settings):
    settings.JUKI_MAX_JSON_DEPTH = 5
    deep = {"username": [[[[["x"]]]]]}  # 6 levels
    _problem(Client().post(PUBLIC[0], deep, content_type="application/json"), 400, "json_too_deep")
    ok = Client().post(PUBLIC[0], {"username": [[[["x"]]]]}, content_type="application/json")  # 5 levels
    assert ok.status_code == 400 and ok.json()["code"] == "invalid_input"


def test_an_oversized_upload_to_a_screen_is_413_html(settings):
    settings.JUKI_MAX_REQUEST_BYTES = 10_000
    response = Client().post("/counter/login/", {"username": "x" * 20_000, "password": "y"})
    assert response.status_code == 413
    assert "送信内容が大きすぎます" in response.content.decode()
