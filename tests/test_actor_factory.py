"""One actor factory (issue 13, item 3): every view reached by a URL builds its `Actor` through
`audit.requests.actor_of` (or the counter's `counter_view`, which calls it), never by hand, so the
terminal, the second factor and the work application reach every log row (C01, C04)."""
from __future__ import annotations

import ast
import inspect
import sys

from django.urls import URLPattern, URLResolver, get_resolver

from juki.audit.models import AccessLog
from tests.conftest import api_for

# Modules that build an Actor by hand on purpose: the factory itself and the gate that defines it.
FACTORY = {"juki.audit.requests", "juki.audit.gate"}


def _views(patterns, found: dict[str, str]) -> dict[str, str]:
    for p in patterns:
        if isinstance(p, URLResolver):
            _views(p.url_patterns, found)
        elif isinstance(p, URLPattern):
            view = getattr(p.callback, "view_class", None) or p.callback
            found.setdefault(view.__module__, str(p.pattern))
    return found


def _hand_built(module_name: str) -> list[int]:
    tree = ast.parse(inspect.getsource(sys.modules[module_name]))
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Actor"]


def test_no_view_builds_an_actor_by_hand(db):
    modules = {m for m in _views(get_resolver().url_patterns, {}) if m.startswith("juki.")}
    assert len(modules) > 15  # the walk found the API, the counter, rights, audit, the kiosk …
    # and the helpers every view calls to get its actor
    modules |= {"juki.ui.access", "juki.core.api"}
    offenders = {m: lines for m in sorted(modules - FACTORY) if (lines := _hand_built(m))}
    assert not offenders, f"views building an Actor by hand (module: lines): {offenders}"


def test_the_rights_and_audit_apis_record_the_work_application(rights_admin, auditor, terminal, world, monkeypatch):
    """The two APIs that built their own actors dropped the work application (rights, audit) and
    the second factor (audit). A contractor's call now carries the application it works under."""
    from juki.accounts import authentication
    from tests.conftest import move_in_family

    monkeypatch.setattr(authentication, "work_application_check", lambda user, raw: raw.strip())
    person = move_in_family(world).persons[0]["id"]
    for user, url, function in ((rights_admin, "/api/v1/rights/applications", "rights.list"),
                                (auditor, f"/api/v1/persons/{person}/disclosure", "disclosure.report")):
        client = api_for(user, terminal)
        client.credentials(HTTP_AUTHORIZATION=client._credentials["HTTP_AUTHORIZATION"],
                           HTTP_X_TERMINAL_ID=terminal.code, HTTP_X_WORK_APPLICATION="W-2026-001")
        r = client.get(url)
        assert r.status_code == 200, (url, r.content[:300])
        row = AccessLog.objects.filter(function=function).latest("id")
        assert row.work_application == "W-2026-001" and row.user == user and row.terminal == terminal
