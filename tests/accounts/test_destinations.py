"""The registry of destinations (連携先): the city's approved list (C16, ADR 0019)."""
import datetime as dt

from juki.accounts import destinations
from juki.accounts.destinations import CHANGES, DESTINATIONS, ENVELOPE, ITEMS, RESTRICTIONS, Frequency, Kind
from juki.accounts.permissions import Perm


def test_the_registry_holds_the_pias_16_transfers_the_one_provision_and_the_systems():
    by_kind = {k: [d for d in DESTINATIONS if d.kind == k] for k in Kind}
    assert len(by_kind[Kind.TRANSFER]) == 16  # 移転先1–16
    assert [d.section for d in by_kind[Kind.PROVISION]] == ["教育委員会　学務部　学事課"]
    # 市町村CS, 団体内統合宛名, 中間サーバー, and コンビニ交付 for the 抑止連携 ([410])
    assert {d.code for d in by_kind[Kind.SYSTEM]} == {"jukinet", "atena", "intermediary", "conveni"}
    assert [d.section for d in by_kind[Kind.TRANSFER]].count("保健福祉局　保健医療部　保険年金課") == 3
    assert [d.section for d in by_kind[Kind.TRANSFER]].count("子ども家庭局　子ども家庭部　子育て支援課") == 4
    assert {d.frequency for d in by_kind[Kind.TRANSFER]} == set(Frequency)


def test_every_destination_has_its_basis_approval_streams_and_items():
    codes = [d.code for d in DESTINATIONS]
    assert len(codes) == len(set(codes)) and all(c.isascii() and 0 < len(c) <= 40 for c in codes)
    for d in DESTINATIONS:
        assert d.name and d.section and d.purpose and d.legal_basis.strip(), d.code
        assert isinstance(d.approved_on, dt.date) and d.approved_on <= dt.date(2026, 12, 1), d.code
        assert d.streams and d.streams <= {CHANGES, RESTRICTIONS}, d.code
        assert set(d.items) == set(d.streams), d.code  # items are listed for exactly the streams it reads
        for stream, items in d.items.items():
            assert items <= set(ITEMS[stream]), (d.code, items - set(ITEMS[stream]))
            assert not items & ENVELOPE[stream]
        # 住基ネット連携 reads FILE-2 (selectors.linked_identities); the 庁内連携 destinations their approved
        # items (selectors.linkage_records) and the 宛名 (atena.query); the 宛名 its items and the 個人番号 (issue 16);
        # the 中間サーバー the 副本's 住民票関係情報 (selectors.replica_relations) and the 統一識別番号 (issue 17).
        expected = {"jukinet": {Perm.OUTBOX_CONSUME, Perm.IDENTITY_LINK, Perm.FIELD_RESIDENT_CODE, Perm.MY_NUMBER_VIEW,
                                Perm.JUKINET_INBOUND},
                    "atena": {Perm.OUTBOX_CONSUME, Perm.LINKAGE_READ, Perm.MY_NUMBER_VIEW},
                    "intermediary": {Perm.OUTBOX_CONSUME, Perm.ATENA_QUERY, Perm.LINKAGE_READ}}.get(
            d.code, {Perm.OUTBOX_CONSUME, Perm.LINKAGE_READ, Perm.ATENA_QUERY} if d.delivery else {Perm.OUTBOX_CONSUME})
        assert d.rights == expected and d.account == d.code, d.code
        # What it may ever read of the register: its listed items, the 個人番号 for the 宛名 alone.
        assert d.register_items <= set(destinations.REGISTER_ITEMS), d.code
        assert ("my_number" in d.register_items) == (d.code == "atena"), d.code
        assert bool(d.register_items) == (bool(d.delivery) or d.code in ("atena", "intermediary")), d.code
        assert destinations.destination_get(d.code) is d
    assert destinations.destination_get("nobody") is None
    # The 中間サーバー's 副本: 住民票関係情報 only (世帯主である旨, or the head's name and the 続柄; issue 17).
    assert destinations.destination_get("intermediary").register_items == {"relationship", "head_name", "status"}


def test_the_business_systems_get_no_identifier_changes():
    """庁内連携 cannot send all data (C16): the 16 移転 and the 教育委員会 learn of the change and the
    household, not whether the 住民票コード or 個人番号 changed."""
    for d in DESTINATIONS:
        if d.kind != Kind.SYSTEM:
            assert not {"my_number_changed", "resident_code_changed"} & d.allowed(CHANGES), d.code
            assert d.streams == {CHANGES}
