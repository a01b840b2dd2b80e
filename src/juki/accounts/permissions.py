"""The catalogue of rights (権限) and the built-in duty roles (事務分担) [1380][1390] (C02).

Every right is independently grantable. A role is only a named bundle of rights that a grant can
name instead of listing them one by one; what a user may do at a given moment is decided by the
grants in force (`juki.rights`), not by the role alone.

Rights are plain strings: the members of `Perm`, one `change.<operation>` per change operation,
and the `field.*` rights that decide which items of a 住民票 a user may see.
"""
from enum import StrEnum


class Perm(StrEnum):
    PERSON_VIEW = "person.view"  # 照会
    PERSON_SEARCH = "person.search"  # 検索
    PERSON_CHANGE = "person.change"  # 異動入力の画面・仮登録 (each operation also needs its change.<op>)
    CHANGE_APPROVE = "change.approve"  # 審査・本登録 [530] (C10)
    IDENTITY_CORRECTION_APPROVE = "identity.approve"  # 本人確認情報の直接修正の承認 (C14)
    MY_NUMBER_VIEW = "mynumber.view"  # 個人番号の表示
    RESIDENT_CODE_ASSIGN = "resident_code.assign"  # 住民票コード付番 [1380]
    SUPPORT_MEASURE_MANAGE = "support.manage"  # 支援措置の登録・閲覧 [440]
    RESTRICTION_MANAGE = "restriction.manage"  # 抑止の設定・閲覧 [410]
    # [410]: 抑止・解除・一時解除 are separate rights, so a city can let one post set and another release.
    RESTRICTION_RELEASE = "restriction.release"  # 抑止の解除（本解除）
    RESTRICTION_TEMPORARY_RELEASE = "restriction.temporary_release"  # 抑止の一時解除
    CERTIFICATE_ISSUE = "certificate.issue"  # 証明書の交付
    SEAL_MANAGE = "seal.manage"  # 印鑑登録の受付・廃止・亡失
    CARD_MANAGE = "card.manage"  # 北九州市民カードの交付・停止・廃止・再交付
    KIOSK_MANAGE = "kiosk.manage"  # 証明書自動交付機（端末）の登録・停止
    ACCESS_LOG_VIEW = "accesslog.view"  # アクセスログの照会・分析
    DISCLOSURE_PREPARE = "disclosure.prepare"  # 開示請求への回答作成
    RIGHTS_ADMIN = "rights.admin"  # 権限の申請・職員の異動登録
    RIGHTS_APPROVE = "rights.approve"  # 権限申請の承認（システム所管課長）
    MEDIA_EXPORT = "media.export"  # 媒体への出力 (C09)
    MASTER_EDIT = "master.edit"  # 住所辞書等のマスタ管理
    BATCH_RUN = "batch.run"  # バッチ処理
    OUTBOX_CONSUME = "outbox.consume"  # 他システム連携
    IDENTITY_LINK = "identity.link"  # 本人確認情報の市町村CSへの通知 (住基ネット連携, S2)
    JUKINET_OPERATE = "jukinet.operate"  # 住基ネット連携の運用: 送信状況・更新エラー・整合性確認・送付先情報
    JUKINET_IDENTIFY = "jukinet.identify"  # 全国サーバへの本人確認 (P6) と 4情報検索 (統合端末, C15)
    JUKINET_INBOUND = "jukinet.inbound"  # 住基ネットからの受信の記録: J-LIS の個人番号、CS の住民票コード (P1, [870])
    # 庁内連携・団体内統合宛名 (S5, issue 16)
    LINKAGE_MANAGE = "linkage.manage"  # 連携先の運用: 利用申請・開始・終了、配信状況、再送、媒体出力の申請
    LINKAGE_APPROVE = "linkage.approve"  # 連携先の利用申請の承認（申請者とは別の者, C16）
    LINKAGE_READ = "linkage.read"  # 連携先への住民記録の項目の読み取り（連携先のシステムだけ）
    ATENA_VIEW = "atena.view"  # 宛名の検索・照会（統一識別番号）
    ATENA_MANAGE = "atena.manage"  # 統一識別番号の名寄せ（統合）
    ATENA_MERGE_UNDO = "atena.merge_undo"  # 名寄せの取消し（係長）
    ATENA_QUERY = "atena.query"  # 業務システムからの宛名の照会・住登外者の登録（業務システムだけ）
    # 中間サーバー (S4, issue 17)
    INTERMEDIARY_VIEW = "intermediary.view"  # 中間サーバーの照会状況・情報提供等記録・副本の状況の閲覧
    INTERMEDIARY_REVIEW = "intermediary.review"  # 自動応答不可の照会の確認と提供の判断 (C18)
    FIELD_DOMICILE = "field.domicile"  # 本籍・筆頭者の表示
    FIELD_RESIDENT_CODE = "field.resident_code"  # 住民票コードの表示
    FIELD_FOREIGN = "field.foreign"  # 在留資格・在留期間・在留カード等番号の表示


# One right per change operation (the same names as juki.register.reasons.Operation).
OPERATION_PERMS: dict[str, str] = {
    "change.move_in": "転入",
    "change.move_within_city": "転居",
    "change.move_out": "転出",
    "change.move_out_confirm": "転出確定",
    "change.birth": "出生",
    "change.death": "死亡",
    "change.disappearance": "失踪",
    "change.household_split": "世帯分離",
    "change.household_merge": "世帯合併",
    "change.household_change": "世帯変更",
    "change.head_change": "世帯主変更",
    "change.ex_officio_entry": "職権記載",
    "change.ex_officio_removal": "職権消除",
    "change.ex_officio_correction": "職権修正",
    "change.minor_correction": "軽微な修正",
    "change.erratum_correction": "誤記修正",
    "change.resident_code_assign": "住民票コード付番",
    "change.resident_code_change": "住民票コード変更請求",
    "change.my_number": "個人番号の記載・変更",
    "change.foreign_move_in": "法第30条の46転入",
    "change.foreign_registration": "法第30条の47届出",
    "change.naturalization": "帰化",
    "change.nationality_acquisition": "国籍取得",
    "change.nationality_loss": "国籍喪失",
    "change.cancel": "異動の取消し",
}

PERM_LABELS: dict[str, str] = {
    Perm.PERSON_VIEW: "住民票の照会",
    Perm.PERSON_SEARCH: "住民の検索",
    Perm.PERSON_CHANGE: "異動の入力（仮登録）",
    Perm.CHANGE_APPROVE: "異動の審査・本登録",
    Perm.IDENTITY_CORRECTION_APPROVE: "本人確認情報の直接修正の承認（本人確認情報管理責任者）",
    Perm.MY_NUMBER_VIEW: "個人番号の表示",
    Perm.RESIDENT_CODE_ASSIGN: "住民票コードの付番",
    Perm.SUPPORT_MEASURE_MANAGE: "支援措置の登録・閲覧",
    Perm.RESTRICTION_MANAGE: "抑止の設定・閲覧",
    Perm.RESTRICTION_RELEASE: "抑止の解除",
    Perm.RESTRICTION_TEMPORARY_RELEASE: "抑止の一時解除",
    Perm.CERTIFICATE_ISSUE: "証明書の交付",
    Perm.SEAL_MANAGE: "印鑑登録の受付・廃止",
    Perm.CARD_MANAGE: "市民カードの交付・管理",
    Perm.KIOSK_MANAGE: "自動交付機の登録・停止",
    Perm.ACCESS_LOG_VIEW: "アクセスログの照会・分析",
    Perm.DISCLOSURE_PREPARE: "開示請求の回答作成",
    Perm.RIGHTS_ADMIN: "権限の申請・職員異動の登録",
    Perm.RIGHTS_APPROVE: "権限申請の承認",
    Perm.MEDIA_EXPORT: "媒体への出力",
    Perm.MASTER_EDIT: "マスタの管理",
    Perm.BATCH_RUN: "バッチ処理の実行",
    Perm.OUTBOX_CONSUME: "他システムへの連携",
    Perm.IDENTITY_LINK: "本人確認情報の市町村CSへの通知（住基ネット連携）",
    Perm.JUKINET_OPERATE: "住基ネット連携の運用（送信状況・更新エラー・整合性確認・送付先情報）",
    Perm.JUKINET_IDENTIFY: "全国サーバへの本人確認（住民票コード・個人番号・4情報）",
    Perm.JUKINET_INBOUND: "住基ネットから受けた個人番号・住民票コードの記録（住基ネット連携）",
    Perm.LINKAGE_MANAGE: "庁内連携の運用（利用申請・配信状況・再送・媒体出力）",
    Perm.LINKAGE_APPROVE: "庁内連携の利用申請の承認",
    Perm.LINKAGE_READ: "連携先への住民記録の項目の提供（連携システム）",
    Perm.ATENA_VIEW: "宛名の検索・照会（団体内統合宛名）",
    Perm.INTERMEDIARY_VIEW: "中間サーバーの照会状況・情報提供等記録・副本の閲覧",
    Perm.INTERMEDIARY_REVIEW: "自動応答不可の照会の確認・提供の判断（中間サーバー）",
    Perm.ATENA_MANAGE: "統一識別番号の名寄せ",
    Perm.ATENA_MERGE_UNDO: "統一識別番号の名寄せの取消し",
    Perm.ATENA_QUERY: "業務システムからの宛名の照会・住登外者の登録（連携システム）",
    Perm.FIELD_DOMICILE: "本籍・筆頭者の表示",
    Perm.FIELD_RESIDENT_CODE: "住民票コードの表示",
    Perm.FIELD_FOREIGN: "在留資格等の表示",
    **{k: f"異動入力：{v}" for k, v in OPERATION_PERMS.items()},
}
ALL_PERMS: frozenset[str] = frozenset(PERM_LABELS)
# Any one of these opens a person's 抑止 list; each step needs its own [410].
RESTRICTION_RIGHTS: tuple[Perm, ...] = (Perm.RESTRICTION_MANAGE, Perm.RESTRICTION_RELEASE,
                                        Perm.RESTRICTION_TEMPORARY_RELEASE)

# Rights whose holders must log in with a second factor (C01; the IC card's stand-in is TOTP).
TWO_FACTOR_PERMS: frozenset[str] = frozenset({Perm.MY_NUMBER_VIEW, Perm.RIGHTS_ADMIN, Perm.RIGHTS_APPROVE})

# 住民票コード付番 is the supervisor's [1380]; a clerk records a 個人番号 read from the card but
# cannot display one afterwards (mynumber.view).
_SUPERVISOR_OPERATIONS = {"change.resident_code_assign", "change.resident_code_change"}
_CLERK_OPERATIONS = frozenset(OPERATION_PERMS) - _SUPERVISOR_OPERATIONS
_READ = frozenset({Perm.PERSON_VIEW, Perm.PERSON_SEARCH})
_RESTRICTION = frozenset(RESTRICTION_RIGHTS)
_ITEMS = frozenset({Perm.FIELD_DOMICILE, Perm.FIELD_RESIDENT_CODE, Perm.FIELD_FOREIGN})
_CLERK = _READ | _ITEMS | _CLERK_OPERATIONS | {Perm.PERSON_CHANGE, Perm.CERTIFICATE_ISSUE,
                                                         Perm.SEAL_MANAGE, Perm.CARD_MANAGE}

ROLES: dict[str, tuple[str, frozenset[str]]] = {
    "clerk": ("窓口担当", frozenset(_CLERK)),
    "supervisor": (
        "係長（審査・個人番号）",
        frozenset(_CLERK | _SUPERVISOR_OPERATIONS | _RESTRICTION
                  | {Perm.CHANGE_APPROVE, Perm.MY_NUMBER_VIEW, Perm.RESIDENT_CODE_ASSIGN, Perm.JUKINET_OPERATE,
                     Perm.JUKINET_IDENTIFY, Perm.ATENA_VIEW, Perm.ATENA_MERGE_UNDO, Perm.INTERMEDIARY_VIEW}),
    ),
    "identity_manager": (
        "本人確認情報管理責任者（課長）",
        # The 課長 of 市民課: reviews like a supervisor, and alone approves 本人確認情報 corrections.
        frozenset(_CLERK | {Perm.CHANGE_APPROVE, Perm.IDENTITY_CORRECTION_APPROVE, Perm.JUKINET_OPERATE,
                            Perm.JUKINET_IDENTIFY}),
    ),
    # 市民課 staff designated for 支援措置: they also process and review (C10, among themselves) the
    # protected persons' 異動, which nobody without support.manage can even read.
    # They also re-check the 中間サーバー's inquiries about the persons they protect before any answer (C18).
    "support": ("支援措置担当", frozenset(_CLERK | _RESTRICTION | {Perm.SUPPORT_MEASURE_MANAGE, Perm.CHANGE_APPROVE,
                                                          Perm.INTERMEDIARY_VIEW, Perm.INTERMEDIARY_REVIEW})),
    # Sees the address and the household, but not 本籍, 住民票コード, 在留資格 or 個人番号 ([1390]).
    "viewer": ("照会のみ", frozenset(_READ)),
    "auditor": ("監査担当", frozenset({Perm.ACCESS_LOG_VIEW, Perm.DISCLOSURE_PREPARE, Perm.INTERMEDIARY_VIEW})),
    "admin": ("システム管理者", frozenset({Perm.MASTER_EDIT, Perm.BATCH_RUN, Perm.ACCESS_LOG_VIEW, Perm.RIGHTS_ADMIN,
                                            Perm.MEDIA_EXPORT, Perm.KIOSK_MANAGE})),
    "manager": ("システム所管課長（権限承認）", frozenset({Perm.RIGHTS_APPROVE, Perm.ACCESS_LOG_VIEW, Perm.LINKAGE_APPROVE})),
    # 情報政策課: runs the 庁内連携 and the 団体内統合宛名 (applications, delivery, 名寄せ); sees 宛名, never 住民票.
    "linkage_operator": ("連携運用担当（情報政策課）", frozenset({Perm.LINKAGE_MANAGE, Perm.ATENA_VIEW, Perm.ATENA_MANAGE,
                                                          Perm.MEDIA_EXPORT, Perm.INTERMEDIARY_VIEW})),
    # A connector's account acts as its destination's system actor, with the rights both list
    # (audit.requests.destination_actor): the 宛名's look-up is a 庁内連携 business system's (issue 16).
    "linkage": ("連携システム", frozenset({Perm.OUTBOX_CONSUME, Perm.ATENA_QUERY})),
}
ROLE_CHOICES = [(k, v[0]) for k, v in ROLES.items()]


def perms_of_role(role: str) -> frozenset[str]:
    return ROLES.get(role, ("", frozenset()))[1]


def label(perm: str) -> str:
    return PERM_LABELS.get(perm, perm)
