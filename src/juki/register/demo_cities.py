"""The demo's cities: the same code runs as either (issue 15), each with its own register, CS and
database. `JUKI_MUNICIPALITY` picks one; its 町字 (a small set of real ones), its 認証者 (fictional
names) and the seed of its synthetic residents, which differ so that the two cities' 住民票コード and
個人番号 never meet."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class DemoCity:
    code: str
    prefecture: str
    name: str
    towns: Path
    seed: int
    mayor: str
    deputy: str
    deputy_title: str


CITIES: dict[str, DemoCity] = {
    "401005": DemoCity(
        code="401005", prefecture="福岡県", name="北九州市", towns=DATA / "demo-towns.csv", seed=1,
        mayor="小倉　一郎", deputy="八幡　和子", deputy_title="北九州市長職務代理者　北九州市副市長"),
    "401307": DemoCity(
        code="401307", prefecture="福岡県", name="福岡市", towns=DATA / "demo-towns-401307.csv", seed=2,
        mayor="天神　二郎", deputy="博多　恵子", deputy_title="福岡市長職務代理者　福岡市副市長"),
}
DEPUTY_WEEK = (dt.date(2026, 8, 10), dt.date(2026, 8, 16))


def city(code: str) -> DemoCity:
    try:
        return CITIES[code]
    except KeyError:
        raise RuntimeError(f"デモの市町村コード {code} はありません（{', '.join(CITIES)} のいずれか）。") from None
