"""連携先 (destinations): the systems that receive the register's data, as the city approved them.

Each destination is a row of the city's approved list (the PIA's 特定個人情報の提供・移転 and the
systems of Section 2; ADR 0019): its code, its name, its account, the streams it reads, the items it
may receive, its legal basis and the date its 利用申請 was approved (C16: only permitted data, only to
permitted destinations, each only its approved items, after an approved application).

It is configuration, kept in code as typed constants: a change is a reviewed commit, like the rights
catalogue (`permissions.py`), not a screen anyone with a login can edit. The code is the destination's
cursor name in every stream, the name of its system actor (`Actor.system_actor(code)`, holding exactly
`rights`) and the username of the account its connector logs in with over the API; logged in, the
connector acts as the system actor (`audit.requests.actor_of`), never as a staff user.

This module sits at the accounts layer: it imports nothing but the rights catalogue, so the register's
outbox, the audit's disclosure report and the linkage apps to come can all read it (.importlinter).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from .permissions import Perm


class Kind(StrEnum):
    """How the data leaves, in the PIA's words."""

    SYSTEM = "system"  # a system of the register's own linkage (住基ネット, 宛名, 中間サーバー, コンビニ交付)
    TRANSFER = "transfer"  # 移転: to another 事務 of the same 実施機関 (市長), through 庁内連携システム
    PROVISION = "provision"  # 提供: to another 実施機関 (教育委員会), through 庁内連携システム


class Frequency(StrEnum):
    """時期・頻度 of the PIA. The outbox delivers on every change; a destination that is approved
    for one delivery a day or a month collects the day's or month's events at that pace."""

    ON_CHANGE = "随時"
    DAILY = "１回／日"
    MONTHLY = "１回／月"


# The streams a destination may read (register.services.outbox.Stream.function).
CHANGES = "outbox"  # 異動イベント, juki.change.v1
RESTRICTIONS = "outbox.restrictions"  # 抑止連携, juki.restriction.v1

# The keys every delivery carries, whatever the destination's items: what identifies the event, its
# place in the stream and the persons and households it is about (docs/outbox.md). `blocked` is the
# marker of a person or household withheld under a 支援措置 or 抑止 (ADR 0009).
ENVELOPE: dict[str, frozenset[str]] = {
    CHANGES: frozenset({"position", "schema", "change_id", "operation", "processed_at", "event_date", "persons",
                        "households", "person_id", "household_id", "blocked"}),
    RESTRICTIONS: frozenset({"position", "schema", "restriction_id", "action", "processed_at", "persons",
                             "person_id"}),
}
# The items a destination may be approved for, per stream: every other key of the documented shape.
ITEMS: dict[str, dict[str, str]] = {
    CHANGES: {
        "notified_on": "届出日", "late_notification": "届出期間経過", "cancels_change_id": "取り消した異動",
        "atena_number": "宛名番号", "reason": "異動事由", "reason_label": "異動事由（名称）",
        "reason_category": "記載・消除・修正の別", "version_before": "履歴番号（異動前）",
        "version_after": "履歴番号（異動後）", "household_before": "世帯（異動前）", "household_after": "世帯（異動後）",
        "status_after": "住民・除票の別", "my_number_changed": "個人番号の変更の有無",
        "resident_code_changed": "住民票コードの変更の有無", "number": "世帯番号", "version": "世帯の版",
        "head_absent": "世帯主不在",
    },
    RESTRICTIONS: {
        "target": "抑止の対象（個人・世帯）", "household_id": "世帯", "household_number": "世帯番号",
        "atena_number": "宛名番号", "processes": "抑止する処理", "level": "抑止レベル", "start": "開始日",
        "end": "終了予定日", "certificate": "証明書発行の抑止",
    },
}

# 住民記録の項目 (庁内連携, issue 16): what a destination may be approved to read of a person's version,
# beyond the notice. Key → label (the provision log and the disclosure report name them by label).
REGISTER_ITEMS: dict[str, str] = {
    "atena_number": "宛名番号", "name": "氏名", "name_kana": "氏名（カナ）", "alias_name": "通称",
    "birth_date": "生年月日", "sex": "性別", "postal_code": "郵便番号", "address": "住所", "town_code": "町字コード",
    "ward": "行政区", "household_number": "世帯番号", "relationship": "続柄", "head_name": "世帯主氏名",
    "resident_kind": "住民の種別", "status": "住民・除票の別", "reason": "異動事由", "event_date": "異動年月日",
    "notified_on": "届出年月日", "became_resident_on": "住民となった年月日", "address_set_on": "住所を定めた年月日",
    "removed_on": "住民でなくなった年月日", "previous_address": "転入前住所", "move_out_address": "転出先住所",
    "domicile": "本籍", "domicile_head": "筆頭者", "nationality": "国籍・地域", "residence_status": "在留資格",
    "stay_expires_on": "在留期間の満了の日", "article_30_45": "第30条の45に規定する区分",
    "my_number": "個人番号",  # the 団体内統合宛名 only: it ties the 統一識別番号 to it (S5)
}
# 住所、氏名、生年月日、性別等 (the PIA's ③ for every 移転): the items every business system needs.
_REGISTER_BASE = frozenset({
    "atena_number", "name", "name_kana", "alias_name", "birth_date", "sex", "postal_code", "address", "town_code",
    "ward", "household_number", "relationship", "head_name", "resident_kind", "status", "reason", "event_date",
    "notified_on", "became_resident_on", "address_set_on", "removed_on"})
_MOVES = frozenset({"previous_address", "move_out_address"})  # 住所地特例・課税地: where from, where to
_FOREIGN = frozenset({"nationality", "residence_status", "stay_expires_on", "article_30_45"})  # 適用の判定
_DOMICILE = frozenset({"domicile", "domicile_head"})  # 認定請求に戸籍の確認が要る手当だけ
# The items of each 移転・提供 the city approved as the most it may ever receive (a reviewed commit); a
# data-use application (linkage.Approval) chooses among them, for a period.
REGISTER_ITEMS_OF: dict[str, frozenset[str]] = {
    "tax": _REGISTER_BASE | _MOVES,
    "national-health-insurance": _REGISTER_BASE | _MOVES | _FOREIGN,
    "national-pension": _REGISTER_BASE | _MOVES | {"nationality"},
    "late-elderly-medical": _REGISTER_BASE | _MOVES,
    "immunization": _REGISTER_BASE,
    "long-term-care": _REGISTER_BASE | _MOVES,
    "public-assistance": _REGISTER_BASE | _FOREIGN,
    "special-child-allowance": _REGISTER_BASE | _DOMICILE,
    "disability-welfare": _REGISTER_BASE,
    "single-parent-loans": _REGISTER_BASE,
    # 未受診者の抽出: who lives here, nothing of how they came.
    "infant-checkup": frozenset({"atena_number", "name", "name_kana", "birth_date", "sex", "postal_code", "address",
                                 "household_number", "relationship", "head_name", "status"}),
    "child-allowance": _REGISTER_BASE | _FOREIGN,
    "child-rearing-allowance": _REGISTER_BASE | _DOMICILE,
    "child-care-support": _REGISTER_BASE,
    "child-guidance": _REGISTER_BASE,
    # 入居者の住民登録の確認.
    "public-housing": frozenset({"atena_number", "name", "name_kana", "birth_date", "sex", "postal_code", "address",
                                 "household_number", "relationship", "head_name", "status", "removed_on"}),
    "school-affairs": _REGISTER_BASE,
    "atena": _REGISTER_BASE | {"my_number"},  # 宛名情報 and the 個人番号 for the 統一識別番号
    # 中間サーバーの副本 (issue 17): 住民票関係情報 — 世帯主である旨, or the head's name and the 続柄 (PIA ③).
    "intermediary": frozenset({"relationship", "head_name", "status"}),
}


class Delivery(StrEnum):
    """How a 庁内連携 destination takes its data (issue 16)."""

    JSON = "json"  # 署名付きJSON（HTTPS）, each change within seconds
    CSV_UTF8 = "csv-utf8"  # CSV（UTF-8）
    CSV_CP932 = "csv-cp932"  # CSV（Shift_JIS／CP932、外字は置換）
    FIXED = "fixed"  # 中間標準レイアウト風の固定長（CP932）


DELIVERY_LABELS = {Delivery.JSON: "署名付きJSON（HTTPS）", Delivery.CSV_UTF8: "CSVファイル（UTF-8）",
                   Delivery.CSV_CP932: "CSVファイル（Shift_JIS）", Delivery.FIXED: "固定長ファイル（Shift_JIS）"}

# 住所、氏名、生年月日、性別等の住民基本台帳情報 (the PIA's ③ for every 移転): the business systems take
# the change, its reason and the household from the notice and read the items they need under the gate.
# The 履歴番号 after the change: the 庁内連携 reads the items of exactly that version (issue 16).
_BUSINESS = frozenset({"notified_on", "cancels_change_id", "atena_number", "reason", "reason_label", "reason_category",
                       "version_after", "household_before", "household_after", "status_after", "number",
                       "head_absent"})
_ALL_CHANGE_ITEMS = frozenset(ITEMS[CHANGES])
_ALL_RESTRICTION_ITEMS = frozenset(ITEMS[RESTRICTIONS])
# What the CS and コンビニ交付 apply [410]: the 抑止 and whom it covers, not the household's id or number.
_RESTRICTION_NOTICE = frozenset({"target", "atena_number", "processes", "level", "start", "end", "certificate"})
_TRANSFER_BASIS = "番号法第９条第１項別表第１に定める事務となる予定"  # the PIA's ①, the same for all 16 移転
_CONSUME = frozenset({Perm.OUTBOX_CONSUME})


@dataclass(frozen=True)
class Destination:
    code: str  # ASCII: cursor name, system actor name, API account username
    name: str  # 連携先の名称, as the disclosure report names it
    kind: Kind
    section: str  # 所管 (局・部・課), or the system's operator
    purpose: str  # 用途 (the PIA's ②)
    legal_basis: str  # 根拠法令 (the PIA's ①)
    frequency: Frequency
    approved_on: dt.date  # 利用申請の承認日
    streams: frozenset[str]
    items: dict[str, frozenset[str]]  # stream → the item keys it may receive beyond the envelope
    rights: frozenset[str] = _CONSUME  # its system actor's listed rights
    delivery: str = ""  # Delivery, for the 庁内連携 destinations; "" for the register's own systems

    @property
    def register_items(self) -> frozenset[str]:
        """The 住民記録 items it may ever be approved for (REGISTER_ITEMS_OF); none for the others."""
        return REGISTER_ITEMS_OF.get(self.code, frozenset())

    @property
    def account(self) -> str:
        """The username of the account its connector logs in with over the API (role 連携システム); logged
        in, the connector acts as this destination's system actor (`audit.requests.actor_of`)."""
        return self.code

    def allowed(self, stream: str) -> frozenset[str]:
        """Every key a delivery on `stream` may carry to this destination."""
        return ENVELOPE[stream] | self.items.get(stream, frozenset())


# 庁内連携 (issue 16): the business systems read the 住民記録 items they are approved for, and look up
# and register 宛名 at the 団体内統合宛名.
_LINKAGE = frozenset({Perm.OUTBOX_CONSUME, Perm.LINKAGE_READ, Perm.ATENA_QUERY})
# How each takes it: 随時 as signed JSON; 日次 and 月次 as files (the demo city's choice of encodings, with
# one 固定長 layout for the system that asked for it).
_FILES = {"late-elderly-medical": Delivery.CSV_CP932, "immunization": Delivery.CSV_UTF8,
          "special-child-allowance": Delivery.CSV_CP932, "single-parent-loans": Delivery.CSV_UTF8,
          "infant-checkup": Delivery.CSV_CP932, "child-allowance": Delivery.CSV_CP932,
          "child-rearing-allowance": Delivery.CSV_CP932, "child-care-support": Delivery.CSV_UTF8,
          "child-guidance": Delivery.CSV_UTF8, "public-housing": Delivery.FIXED}


def _transfer(code: str, name: str, section: str, purpose: str, frequency: Frequency,
              approved_on: dt.date) -> Destination:
    return Destination(code=code, name=name, kind=Kind.TRANSFER,
                       section=section, purpose=purpose, legal_basis=_TRANSFER_BASIS, frequency=frequency,
                       approved_on=approved_on, streams=frozenset({CHANGES}), items={CHANGES: _BUSINESS},
                       rights=_LINKAGE, delivery=_FILES.get(code, Delivery.JSON))


# The sections of the four systems and the approval dates are the demo city's (the PIA names no
# dates of approval); the system went into use on 平成27年6月1日, so the applications are dated the
# month before.
_APPROVED = dt.date(2015, 5, 20)

# The 16 移転 of the PIA's 5. (移転先1–16), in its order: code, name, 移転先, 用途, 時期・頻度. The
# PIA's text interleaves the two blocks of each page; each 時期・頻度 is taken as the one that follows
# the block's 移転先 heading.
_TRANSFERS = (
    ("tax", "税制課（地方税）", "財政局　財務部　税制課", "地方税に関する事務", Frequency.ON_CHANGE),
    ("national-health-insurance", "保険年金課（国民健康保険）", "保健福祉局　保健医療部　保険年金課", "国民健康保険事務", Frequency.ON_CHANGE),
    ("national-pension", "保険年金課（国民年金）", "保健福祉局　保健医療部　保険年金課", "国民年金事務", Frequency.ON_CHANGE),
    ("late-elderly-medical", "保険年金課（後期高齢者医療）", "保健福祉局　保健医療部　保険年金課", "後期高齢者医療制度業務", Frequency.DAILY),
    ("immunization", "保険医療課（予防接種）", "保健福祉局　保険医療部　保険医療課", "予防接種台帳の管理", Frequency.DAILY),
    ("long-term-care", "介護保険課（介護保険）", "保健福祉局　地域支援部　介護保険課", "介護保険業務", Frequency.ON_CHANGE),
    ("public-assistance", "保護課（生活保護）", "保健福祉局　地域支援部　保護課", "生活保護法業務", Frequency.ON_CHANGE),
    ("special-child-allowance", "障害福祉課（特別児童扶養手当）", "保健福祉局　障害福祉部　障害福祉課", "特別児童扶養手当に関する事務", Frequency.DAILY),
    ("disability-welfare", "障害福祉課（児童福祉法・身体障害者福祉法）", "保健福祉局　障害福祉部　障害福祉課", "児童福祉法、身体障害者福祉法に関する事務", Frequency.ON_CHANGE),
    ("single-parent-loans", "子育て支援課（母子寡婦福祉資金）", "子ども家庭局　子ども家庭部　子育て支援課", "母子及び寡婦福祉法に基づく福祉資金貸付業務", Frequency.DAILY),
    ("infant-checkup", "子育て支援課（乳幼児健診）", "子ども家庭局　子ども家庭部　子育て支援課",
     "乳幼児健診未受診者に対する受診勧奨対象者で市内に住基のあるものを抽出", Frequency.MONTHLY),
    ("child-allowance", "子育て支援課（児童手当）", "子ども家庭局　子ども家庭部　子育て支援課", "児童手当業務", Frequency.DAILY),
    ("child-rearing-allowance", "子育て支援課（児童扶養手当）", "子ども家庭局　子ども家庭部　子育て支援課", "児童扶養手当業務", Frequency.DAILY),
    ("child-care-support", "子ども家庭政策課（子ども・子育て支援）", "子ども家庭局　子ども家庭部　子ども家庭政策課", "子ども・子育て支援法に関する事務", Frequency.DAILY),
    ("child-guidance", "子ども総合センター（相談援助・措置費）", "子ども家庭局　子ども総合センター",
     "児童福祉法第１０条、１１条、１２条、５６条における相談援助業務、措置費負担金の徴収", Frequency.DAILY),
    ("public-housing", "住宅管理課（公営住宅）", "建築都市局　住宅部　住宅管理課", "公営住宅法業務", Frequency.MONTHLY),
)

DESTINATIONS: tuple[Destination, ...] = (
    Destination(
        code="jukinet", name="市町村CS（住民基本台帳ネットワークシステム）", kind=Kind.SYSTEM,
        section="市民課（住基ネット連携システム）",
        purpose="本人確認情報の都道府県知事への通知・整合性確認、転出証明書情報・転入通知・戸籍の附票の送信",
        legal_basis="住基法第３０条の６（市町村長から都道府県知事への本人確認情報の通知等）、住基法第１４条",
        frequency=Frequency.ON_CHANGE, approved_on=_APPROVED,
        streams=frozenset({CHANGES, RESTRICTIONS}),
        # 本人確認情報: 異動事由 and 異動年月日, and whether the 住民票コード or 個人番号 changed; no 世帯.
        items={CHANGES: frozenset({"notified_on", "cancels_change_id", "atena_number", "reason", "reason_label",
                                   "reason_category", "version_before", "version_after", "status_after",
                                   "my_number_changed", "resident_code_changed"}),
               # [410]: the CS acts on the 証明書発行 抑止.
               RESTRICTIONS: _RESTRICTION_NOTICE},
        # FILE-2 itself: each version's 本人確認情報 with its 住民票コード and 個人番号 (selectors.linked_identities).
        # And what comes back (services.inbound): J-LIS's 個人番号 and the CS's 住民票コード, as changes.
        rights=frozenset({Perm.OUTBOX_CONSUME, Perm.IDENTITY_LINK, Perm.FIELD_RESIDENT_CODE, Perm.MY_NUMBER_VIEW,
                          Perm.JUKINET_INBOUND}),
    ),
    Destination(
        code="atena", name="団体内統合宛名システム", kind=Kind.SYSTEM,
        section="情報政策課（団体内統合宛名システム）",
        purpose="宛名情報の統一識別番号・個人番号とのひも付けと、中間サーバー・業務システムへの宛名情報の通知",
        # It keeps the 宛名 for the 情報提供ネットワークシステム's provisions (PIA 1-⑫): their basis.
        legal_basis="番号法第１９条第７号別表第２（情報提供ネットワークシステムによる提供のための宛名情報の管理）",
        frequency=Frequency.ON_CHANGE, approved_on=_APPROVED,
        streams=frozenset({CHANGES, RESTRICTIONS}),
        items={CHANGES: _ALL_CHANGE_ITEMS, RESTRICTIONS: _ALL_RESTRICTION_ITEMS},  # [420]: every 抑止
        # Issue 16: the 宛名情報 of every person, and the 個人番号 it ties to the 統一識別番号 (S5).
        rights=frozenset({Perm.OUTBOX_CONSUME, Perm.LINKAGE_READ, Perm.MY_NUMBER_VIEW}),
    ),
    Destination(
        code="intermediary", name="中間サーバー（情報提供ネットワークシステム）", kind=Kind.SYSTEM,
        section="情報政策課（中間サーバー）",
        purpose="住民票関係情報（世帯主である旨、又は世帯主の氏名及び世帯主との続柄）の提供",
        legal_basis="番号法第１９条第７号別表第２",
        frequency=Frequency.ON_CHANGE, approved_on=_APPROVED,
        streams=frozenset({CHANGES}),
        # 世帯情報の異動 (PIA Section 2, システム1 の 11): the household and the head, not the 宛名番号.
        items={CHANGES: frozenset({"reason", "reason_category", "household_before", "household_after", "status_after",
                                   "my_number_changed", "number", "version", "head_absent"})},
        # P5: the 統一識別番号 of a 個人番号, from the 団体内統合宛名 (atena.services.by_my_number); the 副本's
        # 住民票関係情報 (selectors.replica_relations, issue 17).
        rights=frozenset({Perm.OUTBOX_CONSUME, Perm.ATENA_QUERY, Perm.LINKAGE_READ}),
    ),
    Destination(
        code="conveni", name="コンビニ交付システム", kind=Kind.SYSTEM,
        section="市民課（証明書コンビニ交付）",
        purpose="証明書発行の抑止の設定・解除の反映（コンビニ交付で住民票の写し等を交付しないため）",
        legal_basis="住基法第１２条（住民票の写し等の交付）、住民記録システム標準仕様書【410】",
        frequency=Frequency.ON_CHANGE, approved_on=_APPROVED,
        streams=frozenset({RESTRICTIONS}),
        items={RESTRICTIONS: _RESTRICTION_NOTICE},
    ),
    *(_transfer(*row, approved_on=_APPROVED) for row in _TRANSFERS),
    Destination(
        code="school-affairs", name="教育委員会　学事課（就学事務）", kind=Kind.PROVISION,
        section="教育委員会　学務部　学事課", purpose="就学援助・奨励費認定、奨学金貸付・返還、就学事務",
        legal_basis="番号法第９条第１項別表第１に定める事務となる予定、番号法第１９条第９項",
        frequency=Frequency.ON_CHANGE, approved_on=_APPROVED,
        streams=frozenset({CHANGES}), items={CHANGES: _BUSINESS}, rights=_LINKAGE, delivery=Delivery.JSON,
    ),
)

BY_CODE: dict[str, Destination] = {d.code: d for d in DESTINATIONS}
# The 16 移転 and the 教育委員会: the destinations of the 庁内連携 (juki.linkage).
LINKAGE: tuple[Destination, ...] = tuple(d for d in DESTINATIONS if d.delivery)


def destination_get(code: str) -> Destination | None:
    return BY_CODE.get(code)
