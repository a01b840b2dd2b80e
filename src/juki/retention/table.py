"""The 保存期間表 (`periods.toml`) as data: loaded once, checked when loaded, so that a wrong edit to the
table fails the test suite rather than a night's purge."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

ENFORCED = ("purge", "check", "expiry")
SYSTEMS = ("住民記録システム", "市町村CS", "中間サーバー")


@dataclass(frozen=True)
class Period:
    code: str
    name: str
    period: str
    basis: str
    controls: tuple[str, ...]
    system: str
    job: str
    enforced: str
    note: str = ""
    years: int | None = None
    days: int | None = None
    business_days: int | None = None
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def in_register(self) -> bool:
        """Enforced by `juki retention purge` in the register's own process."""
        return self.job == "juki retention purge"


@cache
def periods() -> tuple[Period, ...]:
    data = tomllib.loads((Path(__file__).with_name("periods.toml")).read_text(encoding="utf-8"))
    rows = []
    for raw in data["period"]:
        known = {f for f in Period.__dataclass_fields__ if f != "extra"}
        unknown = set(raw) - known
        if unknown:
            raise ValueError(f"periods.toml: {raw.get('code')}: unknown fields {sorted(unknown)}")
        row = Period(**{**raw, "controls": tuple(raw["controls"])})
        if row.enforced not in ENFORCED or row.system not in SYSTEMS or not row.basis.strip():
            raise ValueError(f"periods.toml: {row.code}: enforced/system/basis")
        rows.append(row)
    codes = [r.code for r in rows]
    if len(set(codes)) != len(codes):
        raise ValueError("periods.toml: a code is listed twice")
    return tuple(rows)


def period(code: str) -> Period:
    for row in periods():
        if row.code == code:
            return row
    raise LookupError(code)
