"""Smoke test of the browser harness itself: live server, Chromium, static files, screenshots."""
from __future__ import annotations


def test_home_page_in_chromium(page, live_url, screenshot):
    response = page.goto(live_url + "/")

    assert response is not None and response.status == 200
    # NoStoreMiddleware (C20) and Django's security middleware reach the browser.
    assert "no-store" in response.headers["cache-control"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"

    assert page.title() == "juki 住民記録システム"
    assert page.locator("h1").inner_text() == "juki 住民記録システム"
    assert page.get_by_text("住民基本台帳の記録・照会・異動処理を行うシステムです。").is_visible()
    assert page.evaluate("navigator.language") == "ja-JP"
    assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == "Asia/Tokyo"

    # The live server serves app static files (django.contrib.staticfiles' finders, DEBUG off,
    # no collectstatic needed) - the UI's vendored scripts will come from here.
    js = page.request.get(live_url + "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert js.status == 200 and len(js.body()) > 100_000

    path = screenshot(page, "harness-home")
    assert path.is_file() and path.stat().st_size > 1024
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
