"""The change operations: for each, its input shape, its service and its label.

The API, the counter's forms and two-person verification all run a change through this one
table, so an entry approved later is validated exactly as one committed at once.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

from juki.core.errors import DomainError, ErrorCode

from . import commands as s
from .reasons import Operation
from .services import changes


class OperationSpec(NamedTuple):
    serializer: type
    service: Callable
    adapt: Callable[[dict], dict]
    summary: str

    def kwargs(self, payload: dict) -> dict:
        """Validate a JSON payload and turn it into the service's keyword arguments."""
        data = self.serializer(data=payload)
        if not data.is_valid():
            raise DomainError(ErrorCode.INVALID_INPUT, "入力内容に誤りがあります。", errors=data.errors)
        return self.adapt(dict(data.validated_data))


def _pass(data: dict) -> dict:
    return data


def _relmap(value: dict) -> dict:
    return {int(k): v for k, v in (value or {}).items()}


def _int_keys(*names):
    def adapt(data: dict) -> dict:
        for name in names:
            if name in data:
                data[name] = _relmap(data[name])
        return data

    return adapt


_HEAD_ALONG = ("new_head_relationships",)

OPERATIONS: dict[Operation, OperationSpec] = {
    Operation.MOVE_IN: OperationSpec(s.MoveInSerializer, changes.move_in, _pass, "転入（国内・国外・再転入）"),
    Operation.EX_OFFICIO_ENTRY: OperationSpec(s.EntrySerializer, changes.ex_officio_entry, _pass, "職権記載"),
    Operation.FOREIGN_MOVE_IN: OperationSpec(s.EntrySerializer, changes.foreign_move_in, _pass, "法第30条の46転入"),
    Operation.FOREIGN_REGISTRATION: OperationSpec(s.EntrySerializer, changes.foreign_registration, _pass, "法第30条の47届出"),
    Operation.BIRTH: OperationSpec(s.BirthSerializer, changes.birth, _pass, "出生"),
    Operation.MOVE_WITHIN_CITY: OperationSpec(s.MoveWithinCitySerializer, changes.move_within_city,
                                 _int_keys("relationships_in_destination", *_HEAD_ALONG), "転居"),
    Operation.MOVE_OUT: OperationSpec(s.MoveOutSerializer, changes.move_out, _int_keys(*_HEAD_ALONG), "転出（予定）"),
    Operation.MOVE_OUT_CONFIRM: OperationSpec(s.MoveOutConfirmSerializer, changes.move_out_confirm, _pass, "転出確定（転入通知の受理）"),
    Operation.DEATH: OperationSpec(s.RemovalSerializer, changes.death, _int_keys(*_HEAD_ALONG), "死亡"),
    Operation.DISAPPEARANCE: OperationSpec(s.RemovalSerializer, changes.disappearance, _int_keys(*_HEAD_ALONG), "失踪"),
    Operation.EX_OFFICIO_REMOVAL: OperationSpec(s.RemovalSerializer, changes.ex_officio_removal, _int_keys(*_HEAD_ALONG), "職権消除"),
    Operation.HOUSEHOLD_SPLIT: OperationSpec(s.HouseholdSplitSerializer, changes.household_split,
                                _int_keys("relationships_in_new", *_HEAD_ALONG), "世帯分離"),
    Operation.HOUSEHOLD_MERGE: OperationSpec(s.HouseholdJoinSerializer, changes.household_merge,
                                _int_keys("relationships_in_target", *_HEAD_ALONG), "世帯合併"),
    Operation.HOUSEHOLD_CHANGE: OperationSpec(s.HouseholdJoinSerializer, changes.household_change,
                                 _int_keys("relationships_in_target", *_HEAD_ALONG), "世帯変更"),
    Operation.HEAD_CHANGE: OperationSpec(s.HeadChangeSerializer, changes.head_change, _int_keys("relationships_after"), "世帯主変更"),
    Operation.EX_OFFICIO_CORRECTION: OperationSpec(s.CorrectionSerializer, changes.ex_officio_correction, _pass, "職権修正"),
    Operation.MINOR_CORRECTION: OperationSpec(s.CorrectionSerializer, changes.minor_correction, _pass, "軽微な修正"),
    Operation.ERRATUM_CORRECTION: OperationSpec(s.CorrectionSerializer, changes.erratum_correction, _pass, "誤記修正"),
    Operation.RESIDENT_CODE_ASSIGN: OperationSpec(s.ResidentCodeSerializer, changes.resident_code_assign, _pass, "住民票コード付番"),
    Operation.RESIDENT_CODE_CHANGE: OperationSpec(s.ResidentCodeSerializer, changes.resident_code_assign,
                                     lambda d: {**d, "change_request": True}, "住民票コード変更請求"),
    Operation.MY_NUMBER: OperationSpec(s.MyNumberSerializer, changes.my_number_record, _pass, "個人番号の記載・変更請求・職権修正"),
    Operation.NATURALIZATION: OperationSpec(s.NationalitySerializer, changes.naturalization, _pass, "帰化"),
    Operation.NATIONALITY_ACQUISITION: OperationSpec(s.NationalitySerializer, changes.nationality_acquisition, _pass, "国籍取得"),
    Operation.NATIONALITY_LOSS: OperationSpec(s.NationalitySerializer, changes.nationality_loss, _pass, "国籍喪失"),
    Operation.CANCEL: OperationSpec(s.CancelSerializer, changes.cancel, _pass, "異動の取消し"),
}

