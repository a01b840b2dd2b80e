"""The city's staff and the 中間サーバー (issue 17): inquiries and the 副本's state, the review of held
inquiries (自動応答不可, C18), the 情報提供等記録 and the reconciliation (C28). Each call is one gate
session under the staff member's rights; the platform answers the city's connector (its tenant only).
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from juki.accounts.permissions import Perm
from juki.atena import services as atena
from juki.audit import gate
from juki.audit.gate import Actor
from juki.core.errors import AccessDenied, DomainError, ErrorCode, NotFoundError
from juki.intermediary import permits
from juki.network import pki
from juki.network.wire import Client, Unreachable

from . import connection, feed
from .models import ProvisionRecord

# The same words as the records' (EVENTS): an inquiry's state is its last record.
STATES = {"answered": "提供（自動応答）", "refused": "提供不可", "held": "確認待ち", "released": "提供（職員の確認後）",
          "declined": "不提供（職員の確認後）"}
EVENTS = {"inquiry": "照会の受付", "answer": "提供（自動応答）", "refusal": "提供不可", "hold": "確認待ち（自動応答不可）",
          "release": "提供（職員の確認後）", "decline": "不提供（職員の確認後）"}


class PlatformDown(DomainError):
    status = 503

    def __init__(self, message: str = "中間サーバーに接続できません。時間をおいてやり直してください。"):
        super().__init__(ErrorCode.INTERMEDIARY_UNREACHABLE, message)


def _call(method: str, path: str, body: dict | None = None, *, client: Client | None = None) -> dict:
    try:
        status, answer = (client or connection.platform()).call(method, path, body)
    except Unreachable:
        raise PlatformDown() from None
    if status == 422 and answer.get("code") in ("not_held", "inquiry_not_found", "not_resident"):
        raise DomainError(ErrorCode.INQUIRY_STATE, {"not_held": "この照会はすでに確認済みです。",
                                               "inquiry_not_found": "指定された照会はありません。",
                                               "not_resident": "この方は副本にいないため提供できません。"}[answer["code"]])
    if status != 200:
        raise PlatformDown(f"中間サーバーが要求を受け付けませんでした（{answer.get('code', status)}）。")
    return answer


def requester_name(code: str) -> str:
    return pki.REQUESTERS.get(code, (code,))[0]


def provision_label(number: int, affair: str) -> str:
    entry = permits.provisions().get(number)
    name = entry.affairs.get(affair, affair) if entry else affair
    return f"別表第二 {number}の項　{name}"


def _when(value: str | None) -> dt.datetime | None:
    """The platform's ISO time as an aware datetime: the screens print it in the city's time zone."""
    return dt.datetime.fromisoformat(value) if value else None


def item_labels(items) -> list[str]:
    """In the order the PIA names them (世帯主である旨, 世帯主の氏名, 世帯主との続柄)."""
    order = list(permits.ITEMS)
    return [permits.ITEMS.get(i, i) for i in sorted(items, key=lambda i: order.index(i) if i in order else 99)]


def _labelled(row: dict) -> dict:
    times = {k: _when(row[k]) for k in ("received_at", "decided_at", "at") if k in row}
    if "keep_until" in row:
        times["keep_until"] = dt.date.fromisoformat(row["keep_until"])
    return {**row, **times, "requester_name": requester_name(row["requester"]),
            "provision_label": provision_label(row["provision"], row["affair"]),
            "item_labels": item_labels(row["items"]),
            "state_label": STATES.get(row.get("state", ""), row.get("state", "")),
            "reason_label": permits.REASONS.get(row.get("reason", ""), row.get("reason", "")),
            "event_label": EVENTS.get(row.get("event", ""), row.get("event", ""))}


# An inquiry that was held tells that its person (or their 世帯主) is under a 支援措置 or an 抑止.
_HELD_STATES = frozenset({"held", "released", "declined"})
MASKED = "（支援措置等のため表示しません）"


def _sees_protected(actor: Actor) -> bool:
    """The 支援措置担当 (who review) and the auditors (who read every log) see which persons were held."""
    return actor.can(Perm.INTERMEDIARY_REVIEW) or actor.can(Perm.ACCESS_LOG_VIEW)


def overview(actor: Actor, *, client: Client | None = None) -> dict:
    """副本の状況 and the latest inquiries (統一識別番号 only, no names; a held one's number masked for
    staff who may not know who is protected)."""
    with gate.open(actor, function="intermediary.view", perm=Perm.INTERMEDIARY_VIEW) as session:
        status = _call("GET", "/replica/status", client=client)
        status["batches"] = [{**b, "at": _when(b["at"])} for b in status["batches"]]
        inquiries = [_labelled(r) for r in _call("GET", "/inquiries?limit=50", client=client)["inquiries"]]
        if not _sees_protected(actor):
            inquiries = [{**r, "unified_number": MASKED} if r["state"] in _HELD_STATES else r for r in inquiries]
            status["no_auto"] = None
        session.record(atena.register_persons({r["unified_number"] for r in inquiries
                                               if r["unified_number"] and r["unified_number"] != MASKED}).values())
        return {"status": status, "inquiries": inquiries,
                "held": sum(1 for r in inquiries if r["state"] == "held")}


def review_queue(actor: Actor, *, client: Client | None = None) -> list[dict]:
    """The held inquiries, oldest first, each with the register person to re-check (a link: the person's
    page applies the register's rules, 支援措置 included)."""
    with gate.open(actor, function="intermediary.queue", perm=Perm.INTERMEDIARY_REVIEW):
        held = [_labelled(r) for r in _call("GET", "/inquiries?state=held&limit=200", client=client)["inquiries"]]
        persons = atena.register_persons({r["unified_number"] for r in held})
        return [{**r, "person_id": persons.get(r["unified_number"])} for r in held]


def decide(actor: Actor, inquiry_id: int, *, release: bool, client: Client | None = None) -> dict:
    """提供する / 提供しない: the staff member's decision, recorded on the platform with their name and here
    in the access log (a release is a provision, C07)."""
    with gate.open(actor, function="intermediary.review", perm=Perm.INTERMEDIARY_REVIEW,
                   criteria={"inquiry": inquiry_id, "release": release}) as session:
        if actor.user is None:
            raise AccessDenied("確認は職員が行います。")
        held = {r["id"]: r for r in _call("GET", "/inquiries?state=held&limit=500", client=client)["inquiries"]}
        if inquiry_id not in held:
            raise NotFoundError("確認待ちの照会に見当たりません。すでに確認済みか、番号が違います。")
        row = held[inquiry_id]
        session.record(atena.register_persons([row["unified_number"]]).values())
        session.criteria.update(requester=row["requester"], provision=row["provision"], affair=row["affair"],
                                items=row["items"])
        return _call("POST", f"/inquiries/{inquiry_id}/review", {"staff": actor.user.username, "release": release},
                     client=client)


def records(actor: Actor, *, unified_number: str = "", client: Client | None = None) -> list[dict]:
    """情報提供等記録 (the platform's, newest last), for one 統一識別番号 or all."""
    if unified_number and not (len(unified_number) == 12 and unified_number.isdigit()):
        raise DomainError(ErrorCode.UNIFIED_NUMBER_INVALID, "統一識別番号は数字12桁で入力してください。", field="unified_number")
    with gate.open(actor, function="intermediary.records", perm=Perm.INTERMEDIARY_VIEW,
                   criteria={"unified_number": bool(unified_number)}) as session:
        rows = [_labelled(r) for r in _call("POST", "/records", {"limit": 500, "unified_number": unified_number},
                                            client=client)["records"]]
        if not _sees_protected(actor):
            # Every row of a held inquiry would tell who is protected: a number asked for shows none of
            # them; the full list shows them without the number.
            held = {r["inquiry_id"] for r in rows if r["event"] in ("hold", "release", "decline")}
            rows = ([r for r in rows if r["inquiry_id"] not in held] if unified_number else
                    [{**r, "unified_number": MASKED} if r["inquiry_id"] in held else r for r in rows])
        session.record(atena.register_persons({r["unified_number"] for r in rows
                                               if r["unified_number"] and r["unified_number"] != MASKED}).values())
        return rows


def reconcile(actor: Actor, *, client: Client | None = None) -> feed.Reconciliation:
    """C28 on a staff member's request: the 副本 against the register now (the read is the feed's own,
    under the destination's actor; this row names who asked)."""
    with gate.open(actor, function="intermediary.reconcile", perm=Perm.LINKAGE_MANAGE) as session:
        if not actor.can(Perm.INTERMEDIARY_VIEW):
            raise AccessDenied()
        try:
            found = feed.reconcile(client or connection.platform())
        except (Unreachable, feed.PlatformRefused):
            raise PlatformDown() from None
        session.criteria.update(checked=found.checked, differences=found.differences)
        labels = {"status": "住民・除票の別", "no_auto": "自動応答不可フラグ", **permits.ITEMS}
        return dataclasses.replace(found, differing={k: [labels.get(i, i) for i in v] for k, v in found.differing.items()})


def provisions_of(person_id: int) -> list[dict]:
    """The city's copy of the 情報提供等記録 about one register person, for the 開示請求 answer (inside the
    caller's gate session): each answer, refusal, hold and review, oldest first."""
    gate.require("intermediary.provisions_of")
    rows = ProvisionRecord.objects.filter(person_id=person_id).exclude(event="inquiry").order_by("platform_id")
    return [{"at": r.at, "destination": f"情報提供ネットワークシステム（{requester_name(r.requester)}）",
             "content": f"住民票関係情報（{'、'.join(item_labels(r.items))}）／"
                        f"{provision_label(r.provision, r.affair)}",
             "outcome": EVENTS.get(r.event, r.event) + (f"：{permits.REASONS.get(r.reason, r.reason)}" if r.reason else "")}
            for r in rows]
