"""Functions (権限) a staff user may be granted, and the built-in roles (事務分担).

This is the foundation the gate checks; per-user grants with periods, approval and
field-level visibility arrive with the governance issue (C02, C03) and plug in behind
`Staff.has_juki_perm` without changing any caller.
"""
from enum import StrEnum


class Perm(StrEnum):
    PERSON_VIEW = "person.view"  # 照会
    PERSON_SEARCH = "person.search"  # 検索
    PERSON_CHANGE = "person.change"  # 異動入力
    CHANGE_APPROVE = "change.approve"  # 審査・本登録 [530] (C10)
    MY_NUMBER_VIEW = "mynumber.view"  # 個人番号の表示
    RESIDENT_CODE_ASSIGN = "resident_code.assign"  # 住民票コード付番 [1380]
    ACCESS_LOG_VIEW = "accesslog.view"  # アクセスログ照会
    MASTER_EDIT = "master.edit"  # 住所辞書等のマスタ管理
    BATCH_RUN = "batch.run"  # バッチ処理
    OUTBOX_CONSUME = "outbox.consume"  # 他システム連携


ROLES: dict[str, tuple[str, frozenset[Perm]]] = {
    "clerk": ("窓口担当", frozenset({Perm.PERSON_VIEW, Perm.PERSON_SEARCH, Perm.PERSON_CHANGE})),
    "supervisor": (
        "係長（審査・個人番号）",
        frozenset({Perm.PERSON_VIEW, Perm.PERSON_SEARCH, Perm.PERSON_CHANGE, Perm.CHANGE_APPROVE, Perm.MY_NUMBER_VIEW,
                   Perm.RESIDENT_CODE_ASSIGN}),
    ),
    "viewer": ("照会のみ", frozenset({Perm.PERSON_VIEW, Perm.PERSON_SEARCH})),
    "auditor": ("監査担当", frozenset({Perm.ACCESS_LOG_VIEW})),
    "admin": ("システム管理者", frozenset({Perm.MASTER_EDIT, Perm.BATCH_RUN, Perm.ACCESS_LOG_VIEW})),
    "linkage": ("連携システム", frozenset({Perm.OUTBOX_CONSUME})),
}
ROLE_CHOICES = [(k, v[0]) for k, v in ROLES.items()]
