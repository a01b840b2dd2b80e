"""Every API route either writes an access-log row or is declared free of personal data.

A new route that is in neither list fails here, so nobody can add a read path that forgets
the gate without also changing this file, in review.
"""
import pytest
from django.urls import get_resolver

from juki.audit.models import AccessLog

from ..conftest import api_for
from .test_api import fam, move_in  # noqa: F401 - fixtures

NO_PERSONAL_DATA = {"api-token", "api-token-revoke", "api-wards", "api-towns", "api-buildings", "api-schema", "api-docs",
                    "api-certificate-verify"}  # answers genuine/altered/voided/unknown only


def _api_route_names():
    names = set()

    def walk(patterns, prefix=""):
        for p in patterns:
            if hasattr(p, "url_patterns"):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif (prefix + str(p.pattern)).startswith("api/v1/") and p.name:
                names.add(p.name)

    walk(get_resolver().url_patterns)
    return names


def test_every_route_is_classified():
    from juki.register.api.views import OPERATIONS

    names = _api_route_names()
    changes = {f"api-change-{op}" for op in OPERATIONS}
    reads = {"api-person", "api-person-history", "api-household", "api-households-without-head",
             "api-late-notifications", "api-access-log", "api-outbox", "api-outbox-ack", "api-person-search"}
    pending = {"api-pending", "api-pending-detail", "api-pending-approve", "api-pending-reject", "api-pending-withdraw"}
    disclosure = {"api-disclosure", "api-disclosure-summary"}
    # Rights administration holds no resident data, but every call writes a settings log row.
    rights = {"api-rights-applications", "api-rights-approve", "api-rights-reject", "api-rights-table"}
    protection = {"api-support-measures", "api-support-measure", "api-support-measure-confirm", "api-support-measure-extend",
                  "api-support-measure-end", "api-protection-alerts", "api-restrictions", "api-restriction-release",
                  "api-restriction-temporary-release", "api-certificate-check",
                  "api-restriction-events", "api-restriction-events-ack"}  # 抑止連携: outbox.restrictions.*
    # Certificates: issue and reissue print personal data, the inquiry reads issue records (gate rows).
    certificates = {"api-certificates", "api-certificate-void", "api-certificate-reissue",
                    "api-certificate-move-out", "api-certificate-code-notice",  # 転出証明書, 住民票コード通知票
                    "api-certificate-numbers"}  # 欠番一覧: no personal data, but a gate row all the same
    # 市民カード: every call opens the gate (card.*).
    cards = {"api-cards", "api-cards-person", "api-card-suspend", "api-card-resume", "api-card-unlock", "api-card-pin",
             "api-card-reissue", "api-card-abolish"}
    # 印鑑登録: every call opens the gate (seal.*); the 印鑑登録証明書 prints personal data.
    seals = {"api-seal", "api-seal-register", "api-seal-answer", "api-seal-abolish", "api-seal-lost", "api-seal-certificate"}
    # 団体内統合宛名: every call opens the gate (atena.provide, atena.register).
    atena = {"api-atena-lookup", "api-atena-register"}
    assert names == NO_PERSONAL_DATA | changes | reads | pending | disclosure | rights | protection | certificates \
        | cards | seals | atena


@pytest.fixture(autouse=True)
def _direct_changes(settings):
    settings.JUKI_TWO_PERSON_VERIFICATION = False  # `fam` enters its household through /changes


@pytest.mark.parametrize(
    "path, role, status",
    [
        ("/api/v1/persons/{pid}", "clerk", 200),
        ("/api/v1/persons/{pid}/history", "clerk", 200),
        ("/api/v1/households/{hid}", "clerk", 200),
        ("/api/v1/households/without-head", "clerk", 200),
        ("/api/v1/changes/late-notifications", "clerk", 200),
        ("/api/v1/access-log?person={pid}", "auditor", 200),
        ("/api/v1/outbox?consumer=atena", "linkage", 200),
        ("/api/v1/persons/{pid}", "auditor", 403),  # refused reads are logged too
        ("/api/v1/outbox?consumer=atena", "clerk", 403),
        ("/api/v1/outbox/restrictions?consumer=atena", "linkage", 200),
        ("/api/v1/outbox/restrictions?consumer=atena", "clerk", 403),
        ("/api/v1/persons/{pid}/disclosure/summary", "auditor", 200),
        ("/api/v1/persons/{pid}/disclosure/summary", "clerk", 403),
        ("/api/v1/cards/persons/{pid}", "clerk", 200),
        ("/api/v1/cards/persons/{pid}", "auditor", 403),
        ("/api/v1/seals/persons/{pid}", "clerk", 200),
        ("/api/v1/seals/persons/{pid}", "auditor", 403),
        ("/api/v1/certificates/numbers?year=2026", "auditor", 200),
        ("/api/v1/certificates/numbers?year=2026", "linkage", 403),
    ],
)
def test_each_read_route_writes_an_access_log_row(fam, api, clerk, auditor, linkage_user, terminal, path, role, status):  # noqa: F811
    user = {"clerk": clerk, "auditor": auditor, "linkage": linkage_user}[role]
    client = api_for(user, terminal)
    url = path.format(pid=fam["persons"][0]["id"], hid=fam["households"][0]["id"])
    # A destination's connector acts as the destination's system actor (ADR 0019): its rows name it.
    rows = AccessLog.objects.filter(user=None, system=user.username) if role == "linkage" else \
        AccessLog.objects.filter(user=user)
    before = rows.count()
    response = client.get(url)
    assert response.status_code == status
    assert rows.count() == before + 1
