"""Who may get which items of a 住民票 (住基法12条・12条の2・12条の3). Pure rules, no database.

- 本人・同一世帯 (12条): everything they ask for. 個人番号 and 住民票コード are printed only when
  asked for explicitly (the options are off by default).
- 代理人 (12条, with a 委任状): as 本人, except 個人番号 and 住民票コード. (In practice a copy with
  個人番号 asked for by an agent is mailed to the resident's address; this slice refuses it.)
- 国・地方公共団体 (12条の2): for a statutory duty, so the legal basis is required; no 個人番号 and
  no 住民票コード (they are for 本人・同一世帯 only); the certificate is marked 公用 [1060].
- 第三者 (12条の3): a stated 正当な理由 is required, and only the basic items are printed — 氏名,
  生年月日, 性別, 住所 and the dates of the 住民票 itself. Refused: 世帯主・続柄, 本籍・筆頭者,
  住民票コード, 個人番号, the foreign residents' items (国籍 and 在留資格等), and the history
  (a history shows former names, addresses and households, which is more than the basic items).
Whether the requester really is 本人 or a member of the household is the service's check
(`services._check_requester`), against the register.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from juki.core.errors import DomainError, ErrorCode

from .content import Options
from .models import Channel, RequesterKind

Kind = RequesterKind


@dataclass(frozen=True)
class Request:
    """The request as taken at the counter; everything here is recorded with the issue."""

    kind: str
    requester_person_id: int | None = None  # 本人・同一世帯: the requester's 住民ID
    requester_name: str = ""  # 代理人・第三者: the name; 国・地方公共団体: the office
    requester_kana: str = ""
    requester_birth_date: dt.date | None = None
    documents: tuple[str, ...] = ()  # identity documents checked (運転免許証, 委任状 …)
    power_of_attorney: bool = False  # 委任状
    purpose: str = ""  # 請求の目的 / 正当な理由
    legal_basis: str = ""  # 国・地方公共団体: the law the duty rests on
    acknowledge_alert: bool = False  # the clerk acknowledged an アラート-level 抑止(証明書交付) [410]


# Option attribute → label, for the items a requester kind may not have printed.
_ITEM_LABELS = {
    "my_number": "個人番号",
    "resident_code": "住民票コード",
    "head_and_relationship": "世帯主・続柄",
    "domicile": "本籍・筆頭者",
    "foreign_items": "国籍・在留資格等",
    "history": "履歴",
}
REFUSED_ITEMS: dict[str, tuple[str, ...]] = {
    Kind.SELF: (),
    Kind.HOUSEHOLD: (),
    Kind.AGENT: ("my_number", "resident_code"),
    Kind.GOVERNMENT: ("my_number", "resident_code"),
    Kind.THIRD_PARTY: ("my_number", "resident_code", "head_and_relationship", "domicile", "foreign_items", "history"),
}
_RESIDENT_KINDS = (Kind.SELF, Kind.HOUSEHOLD)
# Who may ask for a 住民票の写し等: every kind but 届出人 and 職権, which name how a 転出証明書 or a
# 住民票コード通知票 came to be issued (`move_out`, `code_notice`), not a request.
REQUEST_KINDS = [(k, label) for k, label in Kind.choices if k not in (Kind.NOTIFIER, Kind.EX_OFFICIO)]


def _incomplete(message: str, field: str) -> DomainError:
    return DomainError(ErrorCode.CERTIFICATE_REQUEST_INCOMPLETE, message, field=field)


def check(options: Options, request: Request, *, channel: str = Channel.COUNTER) -> None:
    """Refuse (DomainError) a request the requester is not entitled to, or one not fully taken."""
    kind = request.kind
    if kind not in dict(REQUEST_KINDS):
        raise DomainError(ErrorCode.INVALID_INPUT, "請求者の区分を選んでください。", field="kind")
    if kind in _RESIDENT_KINDS and not request.requester_person_id:
        raise _incomplete("本人または同一世帯の方からの請求では、請求者の住民を指定してください。", "requester_person_id")
    if kind not in _RESIDENT_KINDS and not request.requester_name.strip():
        raise _incomplete("請求者の氏名（官公署の場合は名称）を入力してください。", "requester_name")
    if channel == Channel.COUNTER and kind != Kind.GOVERNMENT and not request.documents:
        raise _incomplete("窓口で確認した本人確認書類を入力してください。", "documents")
    if kind == Kind.AGENT and not request.power_of_attorney:
        raise _incomplete("代理人からの請求には委任状が必要です。委任状を確認してください。", "power_of_attorney")
    if kind == Kind.GOVERNMENT and not request.legal_basis.strip():
        raise _incomplete("国・地方公共団体からの請求では、法令上の根拠を入力してください。", "legal_basis")
    if kind == Kind.THIRD_PARTY and not request.purpose.strip():
        raise _incomplete("第三者からの請求では、請求の目的（正当な理由）を入力してください。", "purpose")
    if options.official and kind != Kind.GOVERNMENT:
        raise DomainError(ErrorCode.CERTIFICATE_NOT_ENTITLED,
                          "公用の証明書は、国・地方公共団体からの請求のときだけ交付できます。", field="official")
    for item in REFUSED_ITEMS[kind]:
        if getattr(options, item):
            raise DomainError(ErrorCode.CERTIFICATE_NOT_ENTITLED,
                              f"{Kind(kind).label}からの請求では、{_ITEM_LABELS[item]}を記載した証明書は交付できません。",
                              field=item)
