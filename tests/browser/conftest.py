"""Browser-test harness: Playwright (sync API) driving Debian's /usr/bin/chromium against
pytest-django's live_server.

Playwright's own browser builds are never used or downloaded (`playwright install` is not
needed): the browser is launched from CHROMIUM below.

    def test_something(page, live_url, screenshot):
        page.goto(live_url + "/")
        ...
        screenshot(page, "something")   # -> test-artifacts/screenshots/something.png

Every test under tests/browser gets the `browser` mark (`pytest -m browser`, `-m "not browser"`).
A failing test that used `page` leaves test-artifacts/screenshots/failed/<test>.png behind.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError

# The kiosk's browser tests use the kiosk tests' own fixtures (a registered kiosk, a family, a card).
from tests.kiosk.conftest import card, household, kiosk  # noqa: F401

# Playwright's sync API runs an asyncio event loop in the main thread (in a greenlet) for as
# long as Playwright is started - here the whole session. Django sees that running loop and
# refuses ORM/DB calls from the test thread (SynchronousOnlyOperation), including the flush
# that transactional_db does after each test. The test thread never runs Django code
# *inside* the loop, so the check is a false alarm; Django's documented switch turns it
# off. Set at import time, i.e. before any fixture touches the database. Note it applies to
# the whole pytest process whenever this directory is collected.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
VIEWPORT = {"width": 1366, "height": 768}
DEFAULT_TIMEOUT_MS = 10_000

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
_HERE = Path(__file__).resolve().parent


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: end-to-end test in a real Chromium (tests/browser)")


@pytest.hookimpl(tryfirst=True)  # before -m selection runs on the same hook
def pytest_collection_modifyitems(config, items):
    for item in items:
        if _HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the item so `page` can tell, at teardown, that the test failed.
    report = yield
    setattr(item, f"_browser_rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium (playwright.sync_api.Browser) shared by the session."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing or not executable: install Debian's chromium package "
                    "(apt-get install chromium). Playwright's downloaded browsers are not used.", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser, request):
    """A fresh page in its own context (no cookies shared between tests): 1366x768, ja-JP,
    Asia/Tokyo, 10 s default timeout for actions, expectations-free waits and navigation."""
    context = browser.new_context(viewport=VIEWPORT, locale="ja-JP", timezone_id="Asia/Tokyo")
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    context.set_default_navigation_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    try:
        yield page
    finally:
        rep = getattr(request.node, "_browser_rep_call", None)
        if rep is not None and rep.failed and not page.is_closed():
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
            try:
                _save(page, SCREENSHOTS / "failed" / f"{name}.png")
            except Exception:  # noqa: BLE001 - a failed screenshot must not hide the real failure
                pass
        context.close()


@pytest.fixture
def live_url(live_server) -> str:
    """Base URL of pytest-django's live server, without a trailing slash (e.g.
    "http://localhost:41234"). Using it makes the test transactional (tables are emptied
    after it), because the server thread needs committed data."""
    return live_server.url.rstrip("/")


def _save(page, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(3):
        try:
            page.screenshot(path=str(path), full_page=True)
            return path
        except PlaywrightError as exc:
            # Chromium under load (CI runs two suites at once) can fail to capture once: the picture is
            # for a person to look at, so try again rather than fail the test.
            if "Unable to capture screenshot" not in str(exc) or attempt == 2:
                raise
            page.wait_for_timeout(500)
    return path


def take_screenshot(page, name: str) -> Path:
    """Save a full-page PNG to <repo>/test-artifacts/screenshots/<name>.png; return its path."""
    if not name or name.startswith(("/", ".")) or ".." in Path(name).parts:
        raise ValueError(f"bad screenshot name: {name!r}")
    return _save(page, SCREENSHOTS / f"{name}.png")


@pytest.fixture
def screenshot():
    """`screenshot(page, name) -> Path`; see take_screenshot."""
    return take_screenshot
