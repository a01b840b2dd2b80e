"""What a backup is checked against: the row count of every table and the head of the audit chain.

Recorded when a backup (or a mark) is taken, read again from a restored copy, and compared. Only
table names, counts and the chain's (seq, row_hash) — no personal data — go into a manifest.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from juki.audit.chain import GENESIS
from juki.audit.models import AccessLog, ChainHead


@dataclass
class Fingerprint:
    counts: dict[str, int] = field(default_factory=dict)
    chain_seq: int = 0
    chain_hash: str = GENESIS

    def to_json(self) -> dict:
        return {"counts": dict(sorted(self.counts.items())), "chain": {"seq": self.chain_seq, "row_hash": self.chain_hash}}

    @classmethod
    def from_json(cls, data: dict) -> Fingerprint:
        return cls({k: int(v) for k, v in data["counts"].items()}, int(data["chain"]["seq"]), data["chain"]["row_hash"])


def tables(cur, vendor: str) -> list[str]:
    if vendor == "sqlite":
        cur.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    else:
        cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")
    return [row[0] for row in cur.fetchall()]


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def chain_head(cur) -> tuple[int, str]:
    """What `juki.audit.chain.head()` answers, read only (head() would create a missing head row)."""
    cur.execute(f"SELECT seq, row_hash FROM {ChainHead._meta.db_table} WHERE id = 1")
    row = cur.fetchone()
    if row is None:
        cur.execute(f"SELECT seq, row_hash FROM {AccessLog._meta.db_table} WHERE seq IS NOT NULL "
                    "ORDER BY seq DESC LIMIT 1")
        row = cur.fetchone() or (0, GENESIS)
    return int(row[0]), row[1]


def take(cur, vendor: str, names: list[str] | None = None) -> Fingerprint:
    """The fingerprint as `cur` sees it; the caller makes that one consistent moment."""
    counts = {}
    for name in names if names is not None else tables(cur, vendor):
        cur.execute(f"SELECT COUNT(*) FROM {quote(name)}")
        counts[name] = int(cur.fetchone()[0])
    seq, row_hash = chain_head(cur)
    return Fingerprint(counts, seq, row_hash)


def differences(recorded: Fingerprint, found: Fingerprint) -> list[str]:
    """The mismatches, one Japanese line each (empty: identical)."""
    lines = []
    for name in sorted(set(recorded.counts) | set(found.counts)):
        want, got = recorded.counts.get(name), found.counts.get(name)
        if want is None:
            lines.append(f"表 {name}: 記録にない表が復元されました（{got} 行）")
        elif got is None:
            lines.append(f"表 {name}: 復元されていません（記録 {want} 行）")
        elif want != got:
            lines.append(f"表 {name}: 行数が一致しません（記録 {want} 行、復元 {got} 行）")
    if (recorded.chain_seq, recorded.chain_hash) != (found.chain_seq, found.chain_hash):
        lines.append(f"監査ログのチェーン先頭が一致しません（記録 seq {recorded.chain_seq}、復元 seq {found.chain_seq}）")
    return lines
