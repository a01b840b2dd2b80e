"""Every route of the platform's API against every kind of caller (the certificate is the only
identity): a city's connector reaches its own tenant only, the network only the inquiry routes, the
operator only the status; everyone else is refused with a precise code. A new route fails the table."""
from __future__ import annotations

import pytest

from juki.intermediary.server import build

# (method, path, body) → the callers that get 200; everyone else gets the code named.
ROUTES = [
    ("GET", "/health", None, {"*"}, None),  # any certificate of the network's CA: no data
    ("POST", "/replica/changes", {"position": 1, "records": []}, {"im-401005", "im-401307"}, "not_a_tenant"),
    ("POST", "/replica/full", {"load_id": "abcdefgh12", "records": []}, {"im-401005", "im-401307"}, "not_a_tenant"),
    ("POST", "/replica/export", {}, {"im-401005", "im-401307"}, "not_a_tenant"),
    ("POST", "/replica/reconciled", {"checked": 0}, {"im-401005", "im-401307"}, "not_a_tenant"),
    ("GET", "/replica/status", None, {"im-401005", "im-401307"}, "not_a_tenant"),
    ("GET", "/replica/flagged", None, {"im-401005", "im-401307"}, "not_a_tenant"),
    ("POST", "/fugo", {"unified_number": "100000000001", "fugo": "a" * 32}, {"im-401005", "im-401307"}, "not_a_tenant"),
    ("GET", "/fugo/missing", None, {"im-401005", "im-401307"}, "not_a_tenant"),
    ("GET", "/inquiries", None, {"im-401005", "im-401307"}, "not_a_tenant"),
    ("POST", "/inquiries/1/review", {"staff": "x", "release": False}, set(), "not_a_tenant"),  # none held: 422
    ("POST", "/records", {}, {"im-401005", "im-401307"}, "not_a_tenant"),
    ("POST", "/providers/401005/inquiries", {}, set(), "network_only"),  # the network's empty body: 422
    ("GET", "/providers/401005/inquiries/1", None, set(), "network_only"),  # none: 422
    ("GET", "/operator/status", None, {"im-operator"}, "operator_only"),
]
# Callers the route admits whose request here is refused for what it asks (nothing is held, the body is empty).
ADMITTED_BUT_INVALID = {
    **{(tenant, "POST", "/inquiries/1/review"): "inquiry_not_found" for tenant in ("im-401005", "im-401307")},
    ("infonet", "POST", "/providers/401005/inquiries"): "invalid_inquiry",
    ("infonet", "GET", "/providers/401005/inquiries/1"): "inquiry_not_found",
}
CALLERS = ["im-401005", "im-401307", "infonet", "im-operator", "cs-401005", "s2-401005", "req-mhlw"]


def test_the_table_lists_every_route(platform_db):
    app = build(platform_db)
    assert len(app.routes) == len(ROUTES)
    listed = {(m, path) for m, path, *_ in ROUTES}
    for method, pattern, _ in app.routes:
        assert any(m == method and pattern.match(path) for m, path in listed), pattern.pattern


@pytest.mark.parametrize("caller", CALLERS)
def test_every_route_against_every_caller(network, caller):
    client = network.client(caller)
    for method, path, body, allowed, code in ROUTES:
        status, answer = client.call(method, path, body)
        # Failure messages name the code only: an answer may hold a tenant's rows.
        if caller in allowed or "*" in allowed:
            assert status == 200, (caller, path, status, answer.get("code"))
        elif (caller, method, path) in ADMITTED_BUT_INVALID:
            assert (status, answer["code"]) == (422, ADMITTED_BUT_INVALID[caller, method, path]), (caller, path)
        else:
            assert (status, answer["code"]) == (403, code), (caller, path, status, answer.get("code"))


def test_the_handshake_refuses_an_expired_or_forged_certificate(network):
    from juki.network.wire import Unreachable

    for name in ("expired", "forged"):
        with pytest.raises(Unreachable):
            network.client(name).call("GET", "/health")


def test_the_operators_status_command_shows_counts_per_tenant_and_no_person(network, tenant):
    from juki.intermediary import cli, replica

    replica.apply(tenant("401005"), [{"unified_number": "100000000001", "status": "resident", "is_head": False,
                                      "head_name": "北九　太郎", "relationship": "子", "no_auto": True}], position=4)
    shown = cli.operator_status(network.dir)
    assert "稼働: ok" in shown and "401005 北九州市" in shown and "401307 福岡市" in shown
    assert "北九　太郎" not in shown and "100000000001" not in shown
    row = [line for line in shown.splitlines() if line.startswith("401005")][0].split()
    assert row[2:5] == ["1", "1", "0"]  # 副本, 自動応答不可, 符号
