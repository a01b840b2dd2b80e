"""System actors: the jobs and the destinations that act without a staff user (ADR 0019).

Each has a name, a Japanese label for the log's readers and a fixed, listed set of rights, like the
kiosk's device actor (ADR 0011). None holds every right: a job that needs a right lists it here, in a
reviewed commit, and `Actor.system_actor(name)` refuses a name that is not listed. An operator starts the
jobs from the server's shell (management commands, cron); the destinations' actors are the linkage
connectors (`destinations.py`), each holding `outbox.consume` only.
"""
from __future__ import annotations

from dataclasses import dataclass

from .destinations import DESTINATIONS
from .permissions import Perm


@dataclass(frozen=True)
class SystemJob:
    name: str
    label: str
    rights: frozenset[str]


_NONE: frozenset[str] = frozenset()

JOBS: tuple[SystemJob, ...] = (
    # Events only: these write a log row (events.record) and open no gate, so they hold no right.
    SystemJob("juki audit", "監査ログのチェックポイント・保存期間経過分の削除", _NONE),
    SystemJob("evidence", "自己点検報告書の作成", _NONE),
    SystemJob("staff_create", "職員の登録（初期の権限付与の記録）", _NONE),
    SystemJob("staff_change", "職員の変更に伴うAPIトークンの失効", _NONE),
    SystemJob("kiosk.device_check", "自動交付機の端末認証（拒否の記録）", _NONE),
    SystemJob("kiosk.setup", "自動交付機の設置画面（試行回数の制限の記録）", _NONE),
    # Shell commands of the operator.
    SystemJob("seed", "移行データ・合成データの作成", frozenset({Perm.BATCH_RUN})),
    SystemJob("demo_setup", "デモの市の作成", frozenset({Perm.BATCH_RUN})),
    SystemJob("cli.demo_staff", "デモ職員の用意", frozenset({Perm.RIGHTS_ADMIN})),
    SystemJob("demo_kiosk", "デモ用自動交付機の用意", frozenset({Perm.KIOSK_MANAGE})),
    SystemJob("demo_cards", "デモ用市民カードの交付", frozenset({Perm.BATCH_RUN, Perm.CARD_MANAGE})),
    SystemJob("demo_seals", "デモ用印鑑登録", frozenset({Perm.SEAL_MANAGE})),
    SystemJob("cli.kiosk_device", "自動交付機の登録・停止（コマンド）", frozenset({Perm.KIOSK_MANAGE})),
    # The approver's lock and second factor are reset only here, never on screen (login._refuse_for_approver).
    SystemJob("cli.totp_enrol", "二要素認証の登録（コマンド）", frozenset({Perm.RIGHTS_ADMIN})),
    SystemJob("cli.unlock_staff", "アカウントのロック解除（コマンド）", frozenset({Perm.RIGHTS_ADMIN})),
    # Daily and nightly jobs (cron).
    SystemJob("anomaly_report", "異常検知の日次報告", frozenset({Perm.ACCESS_LOG_VIEW})),
    SystemJob("cards-sweep", "除票となった住民の市民カードの廃止", frozenset({Perm.CARD_MANAGE})),
    SystemJob("seals-sweep", "照会の期限切れ・除票となった住民の印鑑登録の廃止", frozenset({Perm.SEAL_MANAGE})),
    # The 保存期間表's daily purge (issue 18): counts the 除票 due (a count, no person) and removes what is due.
    # The 個人番号 key rotation (issue 18): opens and re-seals every number, shows none.
    SystemJob("juki mynumber", "個人番号の暗号鍵の切替え", frozenset({Perm.BATCH_RUN})),
    SystemJob("juki retention", "保存期間を過ぎた記録の削除", frozenset({Perm.BATCH_RUN})),
    SystemJob("protection-alerts", "支援措置の期間満了の通知", frozenset({Perm.SUPPORT_MEASURE_MANAGE})),
    # A bulk read for statistics (register.services.extract.statistics_read, ADR 0020): one log row, the count.
    SystemJob("statistics", "統計のための住民記録の一括読み取り", frozenset({Perm.BATCH_RUN})),
)

# Every system actor, by name: the jobs, and one per destination (its code; ADR 0019).
RIGHTS: dict[str, frozenset[str]] = {**{j.name: j.rights for j in JOBS}, **{d.code: d.rights for d in DESTINATIONS}}
LABELS: dict[str, str] = {**{j.name: j.label for j in JOBS}, **{d.code: d.name for d in DESTINATIONS}}


def rights_of(name: str) -> frozenset[str]:
    """The listed rights of a system actor; a name not listed is a programming error."""
    try:
        return RIGHTS[name]
    except KeyError:
        raise LookupError(f"{name!r} is not a registered system actor (juki.accounts.system_actors)") from None
