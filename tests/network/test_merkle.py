"""整合性確認 by hash tree (juki.network.merkle): plain unit tests, no database."""
from __future__ import annotations

import hashlib
import json
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from juki.network.merkle import (
    EMPTY,
    ROOT,
    DiffStats,
    LocalPeer,
    RangeTree,
    diff,
    item_differences,
    record_digest,
)


def _record(i: int) -> dict[str, str | None]:
    return {"family_name": f"山田{i}", "given_name": "太郎", "birth_date": "1980-01-02", "sex": "1",
            "address": f"福岡県北九州市小倉北区城内{i}番", "my_number": None}


def _codes(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out: set[str] = set()
    while len(out) < n:
        out.add(f"{rng.randrange(10**11):011d}")
    return sorted(out)


def _digest(tag: str) -> bytes:
    return hashlib.sha256(tag.encode()).digest()


def _brute_force(a: dict[str, bytes], b: dict[str, bytes]) -> list[str]:
    return sorted(c for c in a.keys() | b.keys() if a.get(c) != b.get(c))


# --- record_digest ---------------------------------------------------------------------------

def test_record_digest_ignores_key_order():
    a = {"family_name": "山田", "address": "小倉北区", "my_number": None}
    b = {"my_number": None, "address": "小倉北区", "family_name": "山田"}
    assert list(a) != list(b)
    assert record_digest(a) == record_digest(b)
    canonical = '{"address":"小倉北区","family_name":"山田","my_number":null}'
    assert record_digest(b) == hashlib.sha256(canonical.encode("utf-8")).digest()


def test_record_digest_sees_values_and_presence():
    base = {"family_name": "山田"}
    assert record_digest(base) != record_digest({"family_name": "山本"})
    assert record_digest(base) != record_digest({"family_name": "山田", "address": None})


# --- the tree --------------------------------------------------------------------------------

def test_tree_is_independent_of_input_order_and_form():
    codes = _codes(500, seed=1)
    items = [(c, _digest(c)) for c in codes]
    shuffled = items[:]
    random.Random(2).shuffle(shuffled)
    t1, t2, t3 = RangeTree(items), RangeTree(shuffled), RangeTree(dict(shuffled))
    assert t1.root() == t2.root() == t3.root()
    assert len(t1) == 500


def test_tree_navigation():
    tree = RangeTree({"12345678901": _digest("a"), "12349999990": _digest("b"), "99000000001": _digest("c")})
    assert [p for p, _ in tree.children(ROOT)] == ["12", "99"]
    assert [p for p, _ in tree.children("12")] == ["1234"]
    assert tree.bucket("1234") == {"12345678901": _digest("a"), "12349999990": _digest("b")}
    assert tree.bucket("5555") == {}
    assert tree.node("55") == EMPTY
    assert tree.node(ROOT) == tree.root()
    assert tree.codes_under("12") == ["12345678901", "12349999990"]
    json.dumps([p for p, _ in tree.children(ROOT)])  # paths travel as JSON
    with pytest.raises(ValueError):
        tree.children("1234")  # a leaf
    with pytest.raises(ValueError):
        tree.bucket("12")  # not a leaf
    with pytest.raises(ValueError):
        tree.node("123")  # no such level


def test_empty_tree():
    tree = RangeTree({})
    assert tree.root() == EMPTY
    assert tree.children(ROOT) == []
    stats = DiffStats()
    assert diff(tree, LocalPeer(RangeTree([])), stats) == []
    assert stats == DiffStats(round_trips=1, paths_sent=1, hashes=0, codes=0)


@pytest.mark.parametrize("items", [
    {"1234567890": _digest("short")},
    {"1234567890a": _digest("letter")},
    {"１２３４５６７８９０１": _digest("fullwidth")},
    {"12345678901": b"short digest"},
    [("12345678901", _digest("a")), ("12345678901", _digest("b"))],
])
def test_tree_refuses_bad_input(items):
    with pytest.raises(ValueError):
        RangeTree(items)


def test_tree_refuses_bad_levels():
    for levels in [(), (0, 2), (4, 2), (2, 2), (2, 12)]:
        with pytest.raises(ValueError):
            RangeTree({}, levels=levels)


# --- diff ------------------------------------------------------------------------------------

def test_equal_sides_one_round_trip():
    records = {c: _record(i) for i, c in enumerate(_codes(2000, seed=3))}
    local = RangeTree({c: record_digest(r) for c, r in records.items()})
    # The remote built its own copies, in another order.
    remote = RangeTree([(c, record_digest(dict(reversed(list(r.items()))))) for c, r in reversed(records.items())])
    assert local.root() == remote.root()
    peer, stats = LocalPeer(remote), DiffStats()
    assert diff(local, peer, stats) == []
    assert stats.round_trips == 1
    assert stats.codes == 0
    assert stats.hashes == len(local.children(ROOT)) == 100
    assert peer.stats == stats


def test_changed_item_and_one_sided_records():
    codes = _codes(3000, seed=4)
    local_records = {c: _record(i) for i, c in enumerate(codes)}
    remote_records = {c: dict(r) for c, r in local_records.items()}
    changed, local_only, remote_only = codes[10], codes[1500], "55555555555"
    assert remote_only not in local_records
    remote_records[changed]["address"] = "福岡県北九州市八幡西区黒崎1番"
    del remote_records[local_only]
    remote_records[remote_only] = _record(-1)

    local = RangeTree({c: record_digest(r) for c, r in local_records.items()})
    remote = RangeTree({c: record_digest(r) for c, r in remote_records.items()})
    assert local.root() != remote.root()
    found = diff(local, LocalPeer(remote))
    assert found == sorted([changed, local_only, remote_only])

    rows = item_differences({c: local_records[c] for c in found if c in local_records},
                            {c: remote_records[c] for c in found if c in remote_records})
    assert rows == sorted([
        {"resident_code": changed, "item": "address",
         "local": local_records[changed]["address"], "remote": "福岡県北九州市八幡西区黒崎1番"},
        {"resident_code": local_only, "item": "(record)", "local": local_records[local_only], "remote": None},
        {"resident_code": remote_only, "item": "(record)", "local": None, "remote": remote_records[remote_only]},
    ], key=lambda row: row["resident_code"])


def test_item_differences_missing_item_and_codes_filter():
    local = {"11111111111": {"a": "1", "b": "2"}, "22222222222": {"a": "x"}}
    remote = {"11111111111": {"a": "1", "c": None}, "22222222222": {"a": "y"}}
    assert item_differences(local, remote, codes=["11111111111"]) == [
        {"resident_code": "11111111111", "item": "b", "local": "2", "remote": None},
        {"resident_code": "11111111111", "item": "c", "local": None, "remote": None},
    ]
    assert item_differences(local, remote, codes=["33333333333"]) == []
    assert [r["resident_code"] for r in item_differences(local, remote)] == ["11111111111"] * 2 + ["22222222222"]


def test_range_missing_on_remote_is_settled_locally():
    # Everything under "77" is only local: the remote is not asked about that range at all.
    local_map = {"77000000001": _digest("a"), "77990000002": _digest("b"), "12000000003": _digest("c")}
    remote_map = {"12000000003": _digest("c")}
    peer, stats = LocalPeer(RangeTree(remote_map)), DiffStats()
    assert diff(RangeTree(local_map), peer, stats) == ["77000000001", "77990000002"]
    assert stats == DiffStats(round_trips=1, paths_sent=1, hashes=1, codes=0)


def test_only_the_differing_range_is_exchanged():
    n = 100_000
    codes = _codes(n, seed=5)
    local_map = {c: _digest(c) for c in codes}
    remote_map = dict(local_map)
    target = codes[n // 3]
    remote_map[target] = _digest("changed")
    local, remote = RangeTree(local_map), RangeTree(remote_map)
    peer, stats = LocalPeer(remote), DiffStats()
    assert diff(local, peer, stats) == [target]
    # Root's children, the one differing node's children, the one differing leaf.
    assert stats.round_trips == 3
    assert stats.paths_sent == 3
    assert stats.hashes == 200
    leaf = target[:4]
    assert stats.codes == len(remote.bucket(leaf)) == len(local.bucket(leaf))
    assert stats.codes <= 40  # ~10 codes per leaf at 100,000 (10,000 leaves), not 100,000
    assert peer.stats == stats


def test_peer_with_another_shape_is_refused():
    m = {c: _digest(c) for c in _codes(200, seed=6)}
    other = dict(m)
    other[next(iter(other))] = _digest("changed")
    with pytest.raises(ValueError, match="shape"):
        diff(RangeTree(m, levels=(2, 4)), LocalPeer(RangeTree(other, levels=(1, 4))))
    with pytest.raises(ValueError, match="shape"):
        diff(RangeTree(m, levels=(2, 4)), LocalPeer(RangeTree(other, levels=(2, 3))))


# --- property: diff == brute force ----------------------------------------------------------

# Few prefixes, so that leaves hold several codes and ranges are shared, empty or one-sided.
_code = st.builds(lambda head, tail: head + tail,
                  st.sampled_from(["00", "01", "10", "55", "99"]),
                  st.from_regex(r"\A[0-9]{9}\Z", fullmatch=True))
_digests = st.sampled_from([_digest(str(i)) for i in range(4)])
_side = st.dictionaries(_code, _digests, max_size=40)


@given(
    base=_side,
    removed=st.sets(st.integers(0, 39), max_size=10),
    changed=st.dictionaries(st.integers(0, 39), _digests, max_size=10),
    added=_side,
    levels=st.sampled_from([(2, 4), (1, 2, 3), (3,), (2, 11)]),
)
def test_diff_equals_brute_force(base, removed, changed, added, levels):
    keys = sorted(base)
    remote_map = dict(base)
    for i in removed:
        if i < len(keys):
            remote_map.pop(keys[i], None)
    for i, d in changed.items():
        if i < len(keys):
            remote_map[keys[i]] = d
    remote_map.update(added)
    expected = _brute_force(base, remote_map)

    local, remote = RangeTree(base, levels=levels), RangeTree(list(remote_map.items()), levels=levels)
    stats = DiffStats()
    assert diff(local, LocalPeer(remote), stats) == expected
    assert diff(remote, LocalPeer(local)) == expected  # symmetric
    assert (local.root() == remote.root()) == (expected == [])
    assert stats.round_trips <= len(levels) + 1
    assert stats.codes <= len(remote_map)
