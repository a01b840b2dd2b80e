"""異動事由 [210] and the operations (異動処理) that produce them.

Codes are English and stable (API, outbox); labels are the standard's Japanese terms.
Each code maps to one of the standard's three categories: 記載 (entry), 消除 (removal),
修正 (correction). The system may keep finer codes than the standard as long as each maps.
"""
from enum import StrEnum


class Category(StrEnum):
    ENTRY = "記載"
    REMOVAL = "消除"
    CORRECTION = "修正"


class Reason(StrEnum):
    # 記載の事由
    DOMESTIC_MOVE_IN = "domestic_move_in"
    ABROAD_MOVE_IN = "abroad_move_in"
    BIRTH = "birth"
    EX_OFFICIO_ENTRY_NATURALIZATION = "ex_officio_entry_naturalization"
    EX_OFFICIO_ENTRY_NATIONALITY_LOSS = "ex_officio_entry_nationality_loss"
    EX_OFFICIO_ENTRY = "ex_officio_entry"
    CANCEL_INCREASE = "cancel_increase"
    # 消除の事由
    DOMESTIC_MOVE_OUT = "domestic_move_out"
    ABROAD_MOVE_OUT = "abroad_move_out"
    DEATH = "death"
    EX_OFFICIO_REMOVAL_NATURALIZATION = "ex_officio_removal_naturalization"
    EX_OFFICIO_REMOVAL_NATIONALITY_LOSS = "ex_officio_removal_nationality_loss"
    EX_OFFICIO_REMOVAL = "ex_officio_removal"
    CANCEL_DECREASE = "cancel_decrease"
    MOVE_OUT_CONFIRMED = "move_out_confirmed"  # 転入通知受理: completes the 除票 [680]
    # 修正の事由
    MOVE_WITHIN_CITY = "move_within_city"
    MINOR_CORRECTION = "minor_correction"
    EX_OFFICIO_CORRECTION = "ex_officio_correction"
    ERRATUM_CORRECTION = "erratum_correction"
    MY_NUMBER_CHANGE_REQUEST = "my_number_change_request"
    MY_NUMBER_EX_OFFICIO_CORRECTION = "my_number_ex_officio_correction"
    MY_NUMBER_EX_OFFICIO_ENTRY = "my_number_ex_officio_entry"
    RESIDENT_CODE_CHANGE_REQUEST = "resident_code_change_request"
    RESIDENT_CODE_EX_OFFICIO_ENTRY = "resident_code_ex_officio_entry"
    HOUSEHOLD_SPLIT = "household_split"
    HOUSEHOLD_MERGE = "household_merge"
    HOUSEHOLD_CHANGE = "household_change"
    HEAD_CHANGE = "head_change"
    CANCEL_CORRECTION = "cancel_correction"
    # 指定都市の区間異動 [130][470]: a 除票 in the old ward, an entry in the new one.
    WARD_MOVE_OUT = "ward_move_out"
    WARD_MOVE_IN = "ward_move_in"


LABELS: dict[Reason, tuple[str, Category]] = {
    Reason.DOMESTIC_MOVE_IN: ("国内転入", Category.ENTRY),
    Reason.ABROAD_MOVE_IN: ("国外転入等", Category.ENTRY),
    Reason.BIRTH: ("出生", Category.ENTRY),
    Reason.EX_OFFICIO_ENTRY_NATURALIZATION: ("職権記載（帰化等）", Category.ENTRY),
    Reason.EX_OFFICIO_ENTRY_NATIONALITY_LOSS: ("職権記載（国籍喪失）", Category.ENTRY),
    Reason.EX_OFFICIO_ENTRY: ("職権記載", Category.ENTRY),
    Reason.CANCEL_INCREASE: ("異動の取消し（増）", Category.ENTRY),
    Reason.DOMESTIC_MOVE_OUT: ("国内転出", Category.REMOVAL),
    Reason.ABROAD_MOVE_OUT: ("国外転出", Category.REMOVAL),
    Reason.DEATH: ("死亡", Category.REMOVAL),
    Reason.EX_OFFICIO_REMOVAL_NATURALIZATION: ("職権消除（帰化等）", Category.REMOVAL),
    Reason.EX_OFFICIO_REMOVAL_NATIONALITY_LOSS: ("職権消除（国籍喪失）", Category.REMOVAL),
    Reason.EX_OFFICIO_REMOVAL: ("職権消除", Category.REMOVAL),
    Reason.CANCEL_DECREASE: ("異動の取消し（減）", Category.REMOVAL),
    # Completes an existing 除票 (no second removal): counted as a 修正 so totals stay right.
    Reason.MOVE_OUT_CONFIRMED: ("転出確定（転入通知受理）", Category.CORRECTION),
    Reason.MOVE_WITHIN_CITY: ("転居", Category.CORRECTION),
    Reason.MINOR_CORRECTION: ("軽微な修正", Category.CORRECTION),
    Reason.EX_OFFICIO_CORRECTION: ("職権修正", Category.CORRECTION),
    Reason.ERRATUM_CORRECTION: ("誤記修正", Category.CORRECTION),
    Reason.MY_NUMBER_CHANGE_REQUEST: ("個人番号の変更請求", Category.CORRECTION),
    Reason.MY_NUMBER_EX_OFFICIO_CORRECTION: ("個人番号の職権修正", Category.CORRECTION),
    Reason.MY_NUMBER_EX_OFFICIO_ENTRY: ("個人番号の職権記載", Category.CORRECTION),
    Reason.RESIDENT_CODE_CHANGE_REQUEST: ("住民票コードの変更請求", Category.CORRECTION),
    Reason.RESIDENT_CODE_EX_OFFICIO_ENTRY: ("住民票コードの職権記載", Category.CORRECTION),
    Reason.HOUSEHOLD_SPLIT: ("世帯分離", Category.CORRECTION),
    Reason.HOUSEHOLD_MERGE: ("世帯合併", Category.CORRECTION),
    Reason.HOUSEHOLD_CHANGE: ("世帯変更", Category.CORRECTION),
    Reason.HEAD_CHANGE: ("世帯主変更", Category.CORRECTION),
    Reason.CANCEL_CORRECTION: ("異動の取消し（修正）", Category.CORRECTION),
    # City-wide a 区間異動 is a 転居 (修正): the city's population does not change.
    Reason.WARD_MOVE_OUT: ("区間転出", Category.CORRECTION),
    Reason.WARD_MOVE_IN: ("区間転入", Category.CORRECTION),
}


def label(reason: str) -> str:
    return LABELS[Reason(reason)][0]


def category(reason: str) -> Category:
    return LABELS[Reason(reason)][1]


class Operation(StrEnum):
    """One per change screen / API endpoint; the URL segment is the value with _ → -."""

    MOVE_IN = "move_in"  # 転入（国内・国外・再転入）
    MOVE_WITHIN_CITY = "move_within_city"  # 転居
    MOVE_OUT = "move_out"  # 転出（予定）
    MOVE_OUT_CONFIRM = "move_out_confirm"  # 転出確定（転入通知受理）
    BIRTH = "birth"  # 出生
    DEATH = "death"  # 死亡
    DISAPPEARANCE = "disappearance"  # 失踪
    HOUSEHOLD_SPLIT = "household_split"  # 世帯分離
    HOUSEHOLD_MERGE = "household_merge"  # 世帯合併
    HOUSEHOLD_CHANGE = "household_change"  # 世帯変更
    HEAD_CHANGE = "head_change"  # 世帯主変更
    EX_OFFICIO_ENTRY = "ex_officio_entry"  # 職権記載
    EX_OFFICIO_REMOVAL = "ex_officio_removal"  # 職権消除
    EX_OFFICIO_CORRECTION = "ex_officio_correction"  # 職権修正
    MINOR_CORRECTION = "minor_correction"  # 軽微な修正
    ERRATUM_CORRECTION = "erratum_correction"  # 誤記修正
    RESIDENT_CODE_ASSIGN = "resident_code_assign"  # 住民票コード付番（職権記載）
    RESIDENT_CODE_CHANGE = "resident_code_change"  # 住民票コードの変更請求
    MY_NUMBER = "my_number"  # 個人番号の記載・変更・修正
    FOREIGN_MOVE_IN = "foreign_move_in"  # 法第30条の46転入
    FOREIGN_REGISTRATION = "foreign_registration"  # 法第30条の47届出
    NATURALIZATION = "naturalization"  # 帰化
    NATIONALITY_ACQUISITION = "nationality_acquisition"  # 国籍取得
    NATIONALITY_LOSS = "nationality_loss"  # 国籍喪失
    CANCEL = "cancel"  # 異動の取消し
    SEED = "seed"  # synthetic history written by `juki seed` (demo and benchmarks only)


OPERATION_LABELS = {
    Operation.MOVE_IN: "転入",
    Operation.MOVE_WITHIN_CITY: "転居",
    Operation.MOVE_OUT: "転出",
    Operation.MOVE_OUT_CONFIRM: "転出確定",
    Operation.BIRTH: "出生",
    Operation.DEATH: "死亡",
    Operation.DISAPPEARANCE: "失踪",
    Operation.HOUSEHOLD_SPLIT: "世帯分離",
    Operation.HOUSEHOLD_MERGE: "世帯合併",
    Operation.HOUSEHOLD_CHANGE: "世帯変更",
    Operation.HEAD_CHANGE: "世帯主変更",
    Operation.EX_OFFICIO_ENTRY: "職権記載",
    Operation.EX_OFFICIO_REMOVAL: "職権消除",
    Operation.EX_OFFICIO_CORRECTION: "職権修正",
    Operation.MINOR_CORRECTION: "軽微な修正",
    Operation.ERRATUM_CORRECTION: "誤記修正",
    Operation.RESIDENT_CODE_ASSIGN: "住民票コード付番",
    Operation.RESIDENT_CODE_CHANGE: "住民票コード変更請求",
    Operation.MY_NUMBER: "個人番号の記載・変更",
    Operation.FOREIGN_MOVE_IN: "法第30条の46転入",
    Operation.FOREIGN_REGISTRATION: "法第30条の47届出",
    Operation.NATURALIZATION: "帰化",
    Operation.NATIONALITY_ACQUISITION: "国籍取得",
    Operation.NATIONALITY_LOSS: "国籍喪失",
    Operation.CANCEL: "異動の取消し",
    Operation.SEED: "移行データ",
}

# Operations that follow a resident's 届出 with a statutory period (住基法22条–25条, 30条の46・47,
# 戸籍法49条): a notification later than the period is accepted and listed as 届出期間経過.
NOTIFIED_OPERATIONS = frozenset({
    Operation.MOVE_IN, Operation.MOVE_WITHIN_CITY, Operation.MOVE_OUT, Operation.HOUSEHOLD_SPLIT,
    Operation.HOUSEHOLD_MERGE, Operation.HOUSEHOLD_CHANGE, Operation.HEAD_CHANGE, Operation.FOREIGN_MOVE_IN,
    Operation.FOREIGN_REGISTRATION, Operation.BIRTH,
})

ARTICLE_30_45 = {
    "中長期在留者": ("residence_status", "period_of_stay", "stay_expires_on", "residence_card_number"),
    "特別永住者": ("residence_card_number",),
    "一時庇護許可者": (),
    "仮滞在許可者": (),
    "出生による経過滞在者": (),
    "国籍喪失による経過滞在者": (),
}
