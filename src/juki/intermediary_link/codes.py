"""P5 情報提供用個人識別符号の取得: S4 → S5 → S1/S2 → CS → J-LIS, and the 符号 back to S4.

The platform names the 統一識別番号 it has no 符号 for; the 団体内統合宛名 (S5) gives their register
persons; the 住基ネット連携 (S2) reads their 住民票コード and asks J-LIS through the CS, once per person,
for this city's holder (`im-<code>`); the 符号 goes to the platform, which ties it to the 統一識別番号.
Nothing on the way keeps it: the register never holds a 符号 (C18).
"""
from __future__ import annotations

from juki.atena import services as atena
from juki.jukinet import services as jukinet
from juki.network.wire import Client

from . import connection, feed


def acquire(platform: Client, cs: Client, *, limit: int = 200) -> dict:
    status, answer = platform.call("GET", f"/fugo/missing?limit={limit}")
    if status != 200:
        raise feed.PlatformRefused(status, answer)
    numbers = answer["unified_numbers"]
    if not numbers:
        return {"asked": 0, "tied": 0}
    persons = atena.persons_of(feed.actor(), numbers)
    got = jukinet.fugo_for(cs, person_ids=persons.values(), holder=connection.client_name())
    tied = 0
    for number, pid in persons.items():
        if pid in got:
            tied += feed.post(platform, "/fugo", {"unified_number": number, "fugo": got[pid]})["new"]
    return {"asked": len(numbers), "tied": tied}
