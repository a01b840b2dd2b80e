"""Shared fixtures. State is built through the services themselves, never by saving models."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient

from juki.accounts.models import Terminal
from juki.accounts.services import generate_password, staff_create, token_issue
from juki.audit.gate import Actor
from juki.register.models import ResidentCodeStock
from juki.register.services import changes
from juki.register.services.master import towns_load
from juki.register.services.people import Address
from juki.register.services.seed import resident_code_for
from tests.helpers import TEST_ACTOR

ROOT = Path(__file__).resolve().parent.parent
SHARED_TOWNS = ROOT.parent / "shared" / "data" / "kitakyushu-towns.csv"
DEMO_TOWNS = ROOT / "src" / "juki" / "register" / "data" / "demo-towns.csv"

# No per-example deadline: a busy 2-core CI machine must not turn a slow example into a failure.
# Speed is measured in bench/, not in tests.
hypothesis_settings.register_profile("juki", deadline=None)
hypothesis_settings.load_profile("juki")

TODAY = dt.date.today()
KOKURA_JOUNAI = "40106001000"  # 小倉北区城内 in the demo dictionary (codes are assigned in file order)


def days_ago(n: int) -> dt.date:
    return TODAY - dt.timedelta(days=n)


CERTIFIER_NAME = "小倉　一郎"  # the test city's mayor, printed on every certificate [310]


@pytest.fixture
def towns(db):
    from juki.certificates.models import Certifier

    towns_load(text=DEMO_TOWNS.read_text(encoding="utf-8"), municipality_code="401005",
               municipality_name="北九州市", prefecture="福岡県")
    Certifier.objects.create(title="北九州市長", name=CERTIFIER_NAME, valid_from=dt.date(2000, 1, 1))


@pytest.fixture
def terminal(db):
    return Terminal.objects.create(code="T-01", name="窓口1", location="小倉北区役所 市民課")


def _staff(role: str, name: str):
    password = generate_password()
    user = staff_create(username=name, password=password, role=role)
    user.plain_password = password
    return user


@pytest.fixture
def clerk(db):
    return _staff("clerk", "clerk1")


@pytest.fixture
def clerk2(db):
    return _staff("clerk", "clerk2")


@pytest.fixture
def supervisor(db):
    return _staff("supervisor", "super1")


@pytest.fixture
def identity_manager(db):
    """本人確認情報管理責任者: the only one who may approve a direct correction of 本人確認情報 (C14)."""
    return _staff("identity_manager", "idmgr1")


@pytest.fixture
def auditor(db):
    return _staff("auditor", "audit1")


# --- rights (helper C) ---
@pytest.fixture
def manager(db):
    """システム所管課長: approves rights applications (rights.approve)."""
    return _staff("manager", "manager1")


@pytest.fixture
def rights_admin(db):
    """システム管理者: applies for rights and records transfers (rights.admin)."""
    return _staff("admin", "admin1")
# --- end rights


@pytest.fixture
def viewer(db):
    return _staff("viewer", "viewer1")


@pytest.fixture
def linkage_user(db):
    """The 団体内統合宛名's account (role 連携システム): a destination's username is its code (ADR 0019)."""
    return _staff("linkage", "atena")


@pytest.fixture
def destination_account(db):
    """The account of any registered destination, by its code."""
    return lambda code: _staff("linkage", code)


# --- protection (helper D) ---
@pytest.fixture
def support_user(db):
    """支援措置担当: support.manage and restriction.manage (supervisors do not have support.manage)."""
    return _staff("support", "support1")


@pytest.fixture
def support(support_user, terminal):
    """The 支援措置担当's actor."""
    return Actor(user=support_user, terminal=terminal)
# --- end protection


@pytest.fixture
def actor(clerk, terminal):
    return Actor(user=clerk, terminal=terminal)


@pytest.fixture
def sup_actor(supervisor, terminal):
    # A supervisor may reveal 個人番号, so logs in with the second factor (C01).
    return Actor(user=supervisor, terminal=terminal, second_factor=True)


@pytest.fixture
def stock(db):
    ResidentCodeStock.objects.bulk_create([ResidentCodeStock(code=resident_code_for(5_000_000 + i, 7)) for i in range(40)])


@pytest.fixture
def world(towns, terminal, stock, actor):
    return actor


def person_input(**over) -> dict:
    base = {
        "family_name": "青木", "given_name": "太郎", "family_name_kana": "アオキ", "given_name_kana": "タロウ",
        "birth_date": dt.date(1985, 4, 1), "sex": 1, "relationship": "世帯主",
        "domicile": "福岡県北九州市小倉北区城内1番", "domicile_head": "青木　太郎",
    }
    base.update(over)
    return base


def move_in_family(actor, *, members=None, event_date=None, address=None, **kw):
    """転入 of a new household (default: 世帯主 + 妻 + 子) and return the ChangeResult."""
    members = members or [
        person_input(),
        person_input(given_name="花子", given_name_kana="ハナコ", sex=2, relationship="妻", birth_date=dt.date(1987, 6, 2)),
        person_input(given_name="一郎", given_name_kana="イチロウ", relationship="子", birth_date=dt.date(2015, 8, 3)),
    ]
    return changes.move_in(
        actor=actor, event_date=event_date or days_ago(30), notified_on=kw.pop("notified_on", event_date or days_ago(30)),
        origin="domestic", persons=members, destination=changes.NEW,
        address=address or Address(KOKURA_JOUNAI, "1番1号"), previous_address="福岡県福岡市博多区博多駅前二丁目1番1号", **kw,
    )


@pytest.fixture
def family(world):
    return move_in_family(world)


@pytest.fixture
def api(clerk, terminal):
    return api_for(clerk, terminal)


def otp_for(user) -> str:
    """Enrol a fresh TOTP device for the user and return its current code (a new key each time,
    so two logins within one 30 s step are not refused as a replayed code)."""
    from django_otp.oath import totp

    from juki.accounts.login import totp_enrol

    device = totp_enrol(actor=TEST_ACTOR, user=user).device
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def counter_client(user, terminal):
    """A django.test.Client logged in at the counter; users who need it pass the TOTP step too."""
    from django.test import Client

    from juki.accounts.login import needs_second_factor

    otp = otp_for(user) if needs_second_factor(user) else ""
    client = Client()
    r = client.post("/counter/login/", {"username": user.username, "password": user.plain_password,
                                        "terminal": terminal.code})
    assert r.status_code == 302, r.content.decode()[:500]
    if "/counter/login/otp/" in r["Location"]:
        r = client.post("/counter/login/otp/", {"otp": otp})
        assert r.status_code == 302 and "/login/" not in r["Location"], r.content.decode()[:500]
    return client


def api_for(user, terminal):
    from juki.accounts.login import needs_second_factor

    client = APIClient()
    otp = otp_for(user) if needs_second_factor(user) else ""
    key, _ = token_issue(username=user.username, password=user.plain_password, otp=otp, terminal=terminal)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_X_TERMINAL_ID=terminal.code)
    return client
