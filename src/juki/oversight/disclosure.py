"""開示請求への回答: everything the city holds about one person, and every use of it.

For a resident's disclosure request (Section V of the assessment): the current 住民票 items, the
full 異動履歴, every access-log row that touched the person, and every provision to another
system — as data (`disclosure_data`), as a PDF (`disclosure_report`) and as a resident-facing
summary grouped by place and purpose (`disclosure_summary`), like a data tracker.

One gate per call (`disclosure.report`, right `disclosure.prepare`) opens the register's tables
for the read and logs it as a use of the person's data. The register's selectors are not called:
they open their own gate with `person.view`, which the auditor who prepares a disclosure does not
hold, and they hide the items the reader may not see, while the answer must list every item.
個人番号 is never printed: the answer says it is recorded and is given separately after the
requester's identity has been checked.

What the answer lists about changes that touched other people, and what it withholds from a
支援措置's 相手方, is ADR 0014: a change is listed only for the persons it wrote, and a 相手方's
answer leaves out the entries made in the course of a 支援措置 or 交付制限 (不開示情報). The
withholding is recorded on the answer's own log row and shown to the auditor, never to him.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.utils import timezone

from juki.accounts import destinations
from juki.accounts.permissions import Perm
from juki.core import clock
from juki.core.errors import DomainError, ErrorCode, NotFoundError
from juki.core.wareki import display_date

from juki.audit import events, gate
from juki.audit import selectors as audit_selectors
from juki.audit.gate import Actor
from juki.audit.models import AccessLog, Category

FUNCTION = "disclosure.report"
MY_NUMBER_TEXT = "記録あり（開示請求書の本人確認後、別途回答）"
SYSTEM_SECTION = "システム（自動処理）"
# ADR 0014: entries withheld from a 相手方's answer, and the record of it on the answer's log row.
WITHHELD_FLAG = "withheld"
WITHHELD_REASON_CODE = "support_measure_offender"
WITHHELD_REASON = ("不開示情報（個人情報保護法第78条第1項第2号・第7号）：請求者は支援措置の相手方であり、"
                   "支援措置・交付制限の事務の記録を開示すると、支援措置の対象者の生命・身体・生活を害するおそれがあるため")
# The functions of the 支援措置・交付制限 work (their purposes: 支援措置の事務, 交付制限の事務).
_PROTECTION_FUNCTIONS = ("support.", "restriction.", "print.support_end_notice")
_PROTECTION_FLAG = "support_measure"  # protection.enforcement.FLAG: the row involved a protected person
# A change's log row written before rows named their change (ADR 0014): matched by operation and time.
_LEGACY_MATCH = dt.timedelta(seconds=5)
# What an outbox read hands over (docs/outbox.md: a notification, no names or addresses): the
# notice, and each part the destination is approved for (its item key; None: always sent).
PROVISION_CONTENT: dict[str, tuple[str, tuple[tuple[str, str | None], ...]]] = {
    "outbox.read": ("異動があったことの通知", (("宛名番号", "atena_number"), ("異動の種類", "reason"), ("異動日", None))),
    # 住基ネット連携 (S2): the 本人確認情報 of the version a change wrote, to the city's CS (FILE-2).
    "jukinet.identities": ("本人確認情報の通知", (("住民票コード", None), ("氏名", None), ("生年月日", None), ("性別", None),
                                              ("住所", None), ("個人番号", None), ("異動事由・異動年月日", None))),
    "jukinet.numbers": ("個人番号の生成の要求（J-LISへ）", (("住民票コード", None),)),
    "jukinet.fugo": ("符号の取得の要求（J-LISへ）", (("住民票コード", None),)),
    # Issue 15: what went to other cities through the 住基ネット, and the request of a 特例転入.
    "jukinet.send.transfer_certificate": ("転出証明書情報（特例転出）の転入地への送信", (
        ("住民票コード", None), ("氏名", None), ("生年月日", None), ("性別", None), ("世帯主・続柄", None),
        ("本籍・筆頭者", None), ("住所・転出先", None), ("個人番号", None))),
    "jukinet.send.move_in_notice": ("転入通知の転出地への送信", (
        ("住民票コード", None), ("氏名", None), ("生年月日", None), ("性別", None), ("転入先の住所・転入日", None))),
    "jukinet.send.family_register_notice": ("戸籍の附票記載事項通知の本籍地への送信", (
        ("住民票コード", None), ("氏名", None), ("生年月日", None), ("性別", None), ("本籍・筆頭者", None),
        ("住所・住所を定めた年月日", None))),
    "jukinet.transfer_request": ("特例転入のための転出証明書情報の請求（転出地へ）", (("住民票コード", None),)),
    "jukinet.wide_area_request": ("広域交付の照会（住所地へ）", (("住民票コード", None), ("請求した記載事項", None))),
    "jukinet.send.wide_area": ("広域交付住民票の情報（交付地へ）", (
        ("氏名", None), ("生年月日", None), ("性別", None), ("住所", None), ("住民となった年月日等", None),
        ("世帯主・続柄（請求があるとき）", None), ("住民票コード（請求があるとき）", None), ("個人番号（請求があるとき）", None))),
    "jukinet.send.municipal_notice": ("市町村通知（法務大臣へ）", (
        ("氏名", None), ("生年月日", None), ("性別", None), ("国籍・地域", None), ("在留カード等番号", None), ("住所", None))),
    "outbox.restrictions.read": ("抑止の設定・解除の通知", (("宛名番号", "atena_number"), ("世帯番号", "household_number"),
                                                    ("抑止する処理", "processes"), ("抑止レベル", "level"),
                                                    ("期間", "start"))),
}

# 庁内連携 (issue 16): each row names the items read; a refusal names those it would have sent (C07).
_LINKAGE_CONTENT = {
    "linkage.deliver": "住民記録の項目の移転・提供（庁内連携）",
    "linkage.refuse": "住民記録の項目（庁内連携、提供せず）",
    "atena.provide": "宛名情報（団体内統合宛名）",
}

# --- labels ------------------------------------------------------------------------------------

# function → plain purpose for the resident; the most specific prefix wins.
_PURPOSES: tuple[tuple[str, str], ...] = (
    ("person.search", "住民の検索（検索結果への表示）"),
    ("person.", "住民票の照会"),
    ("household.", "世帯の照会"),
    ("change.view", "届出の受理通知等の作成"),
    ("change.preview", "届出の内容の確認"),
    ("change.late_list", "届出期間を過ぎた届出の確認"),
    ("change.cancel_lookup", "異動の取消しの確認"),
    ("pending.", "届出の審査"),
    ("outbox.", "他の行政機関等への情報提供"),
    ("jukinet.identities", "住民基本台帳ネットワークシステムへの本人確認情報の通知"),
    ("jukinet.send.transfer_certificate", "特例転出による転出証明書情報の送信（住基ネット）"),
    ("jukinet.send.move_in_notice", "転入通知の送信（住基ネット）"),
    ("jukinet.send.family_register_notice", "戸籍の附票記載事項通知の送信"),
    ("jukinet.transfer_request", "特例転入のための転出証明書情報の請求"),
    ("jukinet.wide_area_request", "広域交付の照会"),
    ("jukinet.send.wide_area", "広域交付のための住民票の情報の提供"),
    ("jukinet.send.municipal_notice", "法務大臣への通知（外国人住民）"),
    ("jukinet.receive.", "他の市区町村からの通知の受信（住基ネット）"),
    ("jukinet.notice_missing", "転入通知未着者の確認"),
    ("linkage.deliver", "庁内の業務システムへの住民記録の移転・提供（利用申請で承認された項目）"),
    ("linkage.refuse", "庁内の業務システムへの移転・提供の停止（承認期間外・支援措置等）"),
    ("atena.", "団体内統合宛名（統一識別番号）の管理・業務システムへの回答"),
    ("print.notice_inquiry", "転入通知未着照会書の作成"),
    ("certificate.", "住民票の写し等の交付"),
    ("print.disclosure", "開示請求への回答書の作成"),
    ("print.support_end_notice", "支援措置の事務（終了の通知）"),
    ("support.", "支援措置の事務"),
    ("restriction.", "住民票の写し等の交付制限の事務"),
    ("disclosure.", "開示請求への回答の作成"),
    ("accesslog.", "利用記録の点検（監査）"),
    ("export.accesslog", "利用記録の点検（監査）"),
    ("batch.anomaly_report", "利用記録の点検（監査）"),
    ("print.", "帳票の印刷"),
    ("export.", "媒体への出力"),
    ("batch.", "一括処理（システム）"),
)

_OUTCOMES = {
    AccessLog.OK: "表示・処理",
    "done": "完了",
    AccessLog.EMPTY: "該当なし",
    AccessLog.DENIED: "権限がないため拒否",
    "error": "エラー（処理されていません）",
    "permission_denied": "権限がないため拒否",
    "support_measure_protected": "支援措置のため表示せず",
    "support_measure_block": "支援措置のため処理せず",
    "restricted": "抑止の設定のため拒否",
    "not_found": "該当なし",
    "approval_ended": "利用申請の承認がないため提供せず",
    "withheld": "提供を制限しているため提供せず",
}

def purpose_of(function: str) -> str:
    from juki.register import reasons

    if function.startswith("change."):
        op = function.removeprefix("change.")
        try:
            operation = reasons.Operation(op)
        except ValueError:
            operation = None
        if operation is not None:
            label = reasons.OPERATION_LABELS.get(operation, op)
            if operation in reasons.NOTIFIED_OPERATIONS:
                return f"{label}の届出の処理"
            return f"{label}の処理"
    for prefix, label in _PURPOSES:
        if function.startswith(prefix):
            return label
    return "その他の事務"


def _operation_label(operation: str) -> str:
    from juki.register import reasons

    try:
        return reasons.OPERATION_LABELS.get(reasons.Operation(operation), operation)
    except ValueError:
        return operation


def outcome_label(outcome: str) -> str:
    # Other outcomes are DomainError codes: the request was refused, nothing was changed.
    return _OUTCOMES.get(outcome, "受け付けられませんでした（内容の不備等）")


def destination_of(row: AccessLog) -> str:
    """The 連携先 a provision went to, by its name in the registry of destinations (ADR 0019); a code
    the registry does not know (a row from before it) is shown as it was recorded."""
    code = (row.criteria or {}).get("consumer") or row.system or (row.user.username if row.user else "")
    if (destination := destinations.destination_get(code)) is not None:
        return destination.name
    return f"連携システム（{code}）" if code else "連携システム"


def provision_content(row: AccessLog) -> str:
    """What a provision carried: the parts of the notice the destination receives (ADR 0019); a row of a
    code the registry does not know lists every part. A 庁内連携 row names the items it read (issue 16)."""
    if row.function in _LINKAGE_CONTENT:
        items = (row.criteria or {}).get("items") or []
        labels = "・".join(destinations.REGISTER_ITEMS.get(k, k) for k in items)
        return f"{_LINKAGE_CONTENT[row.function]}（{labels}）" if labels else _LINKAGE_CONTENT[row.function]
    if row.function not in PROVISION_CONTENT:
        return ""
    notice, parts = PROVISION_CONTENT[row.function]
    destination = destinations.destination_get((row.criteria or {}).get("consumer") or row.system)
    stream = row.function.removesuffix(".read")
    # A stream's parts as the destination is approved for them; a read that is not a stream's (S2's FILE-2) lists all.
    allowed = destination.allowed(stream) if destination is not None and stream in destination.streams else None
    shown = [label for label, key in parts if key is None or allowed is None or key in allowed]
    return f"{notice}（{'・'.join(shown)}）"


def _stamp(at: dt.datetime) -> str:
    local = timezone.localtime(at)
    return f"{display_date(local.date())} {local.hour:02d}:{local.minute:02d}"


def _day(at: dt.datetime) -> str:
    return display_date(timezone.localtime(at).date())


# --- the items of a version ---------------------------------------------------------------------


def _items(v) -> list[tuple[str, str]]:
    """Every item of one 住民票 version as (label, text), empty items left out. Fields added to
    the model later are listed by their verbose name without a change here."""
    from juki.register.models import ResidentKind, Sex, Status
    from juki.register.services.people import address_text, postal_text

    foreign = v.resident_kind == ResidentKind.FOREIGN
    out: list[tuple[str, str]] = []
    for f in type(v)._meta.concrete_fields:
        name = f.name
        if name in {"id", "person", "seq", "change", "reason", "event_date", "kana_confirmed", "banchi", "katagaki",
                    "my_number_key_id", "my_number_cipher", "previous_postal_code"}:
            continue
        if name == "my_number_digest":
            out.append(("個人番号", MY_NUMBER_TEXT if v.my_number_digest else "記録なし"))
            continue
        if name == "town":
            text = address_text(v.town, v.banchi, v.katagaki)
            out.append(("住所", " ".join(filter(None, (postal_text(v.town.postal_code), text)))))
            continue
        if name == "household":
            out.append(("世帯番号", v.household.number))
            continue
        value = getattr(v, name)
        if value in (None, ""):
            continue
        if name == "status":
            text = Status(value).label
        elif name == "resident_kind":
            text = ResidentKind(value).label
        elif name == "sex":
            text = Sex(value).label
        elif isinstance(value, dt.date):
            # [90]: a foreign resident's birth date and 満了日 in 西暦.
            text = display_date(value, western=foreign and name in ("birth_date", "stay_expires_on"))
        else:
            text = str(value)
        out.append((str(f.verbose_name), text))
    return out


def _diff(before: list[tuple[str, str]], after: list[tuple[str, str]]) -> str:
    old, new = dict(before), dict(after)
    lines = []
    for label, value in after:
        if old.get(label) != value:
            lines.append(f"{label}：{old[label]} → {value}" if label in old else f"{label}：{value}（記載）")
    lines += [f"{label}：{value} → （削除）" for label, value in before if label not in new]
    return "\n".join(lines) or "記載事項の変更なし"


# --- collecting ----------------------------------------------------------------------------------


def _head(session: gate.GateSession, person_id: int):
    """The person and their current version; records the read."""
    from juki.protection import enforcement
    from juki.register.models import Person, PersonVersion

    person = Person.objects.filter(pk=person_id).first()
    if person is None:
        raise NotFoundError("指定された住民が見つかりません。")
    session.record([person.id])
    # 支援措置・照会抑止 apply here as on any read: without the right the answer is refused (an
    # impersonated request must not yield a protected address), with it the log row is flagged.
    enforcement.guard_read(session, [person.id])
    current = PersonVersion.objects.select_related("town__ward__municipality").get(pk=person.current_id)
    return person, current


def _person_info(person, current) -> dict:
    from juki.register import read_models

    return {
        "person_id": person.id,
        "atena_number": person.atena_number,
        "name": f"{current.family_name}　{current.given_name}".strip(),
        "status": read_models.status_label(current, clock.today()),
        "municipality": current.town.ward.municipality.name,
    }


def _log_rows(person_id: int) -> list[AccessLog]:
    return audit_selectors.log_rows_for_person(person_id, newest_first=False)


def _operations() -> frozenset[str]:
    from juki.register import reasons

    return frozenset(str(o) for o in reasons.Operation)


def _wrote(row: AccessLog, written: set[int], legacy: list[tuple[str, dt.datetime]]) -> bool:
    """Is this log row in the person's answer? Every row is, except a committed change that wrote
    nothing of the person: being in the household someone leaves or joins makes a person a subject
    of that change's row, but the move is the other person's (ADR 0014). A refused or failed attempt
    wrote nothing for anybody and stays in the record of each person it read."""
    operation = row.function.removeprefix("change.")
    if not row.function.startswith("change.") or operation not in _operations() or row.outcome != AccessLog.OK:
        return True
    change_id = (row.criteria or {}).get("change_id")
    if change_id is not None:
        return change_id in written
    return any(op == operation and abs(at - row.at) <= _LEGACY_MATCH for op, at in legacy)


def _is_offender(person_id: int, current) -> bool:
    """Is the person the 相手方 of any 支援措置, in whatever state (by register id, or by name and
    birth date as the certificate check matches him)? An ended measure still counts: the danger
    it was registered for does not end with its term."""
    from django.db.models import Q

    from juki.protection.certificates import Requester, RequesterKind, is_offender
    from juki.protection.models import SupportMeasure

    me = Requester(kind=RequesterKind.SELF, person_id=person_id)
    candidates = SupportMeasure.objects.filter(Q(offender_person_id=person_id) | Q(offender_birth_date=current.birth_date))
    return any(is_offender(m, me, current) for m in candidates)


def _withheld_from_offender(row: AccessLog) -> bool:
    """An entry made in the course of a 支援措置 or 交付制限: the work itself, or any use in which a
    protected person was involved (the gate flagged the row)."""
    return row.function.startswith(_PROTECTION_FUNCTIONS) or _PROTECTION_FLAG in (row.flags or [])


def _uses(session: gate.GateSession, person_id: int, current, versions=None) -> tuple[list[AccessLog], list[AccessLog]]:
    """(the log rows the answer lists, the rows withheld from it as 不開示情報), both oldest first.
    A withholding is recorded on this session's own log row: how many, why, which rows (ADR 0014)."""
    from juki.register.models import PersonVersion

    if versions is None:
        versions = PersonVersion.objects.select_related("change").filter(person_id=person_id)
    written = {v.change_id for v in versions}
    legacy = [(v.change.operation, v.change.processed_at) for v in versions]
    rows = [r for r in _log_rows(person_id) if _wrote(r, written, legacy)]
    if not _is_offender(person_id, current):
        return rows, []
    shown = [r for r in rows if not _withheld_from_offender(r)]
    withheld = [r for r in rows if _withheld_from_offender(r)]
    if withheld:
        session.flag(WITHHELD_FLAG)
        session.criteria["withheld"] = {"count": len(withheld), "reason": WITHHELD_REASON_CODE,
                                        "log_ids": [r.id for r in withheld]}
    return shown, withheld


def _entry(r: AccessLog) -> dict:
    return {
        "at": _stamp(r.at),
        "at_iso": timezone.localtime(r.at).isoformat(),
        "section": r.terminal.location if r.terminal else SYSTEM_SECTION,
        "purpose": purpose_of(r.function),
        "category": Category(r.category).label if r.category in Category.values else r.category,
        "outcome": outcome_label(r.outcome),
        "user": r.user.username if r.user else (r.system or ""),
    }


def _withheld_entries(rows: list[AccessLog]) -> list[dict]:
    """For the auditor only: what was left out of the answer, and why."""
    return [{**_entry(r), "log_id": r.id, "reason": WITHHELD_REASON} for r in rows]


def _collect(session: gate.GateSession, person_id: int, since: dt.date | None = None) -> dict:
    from juki.register import reasons
    from juki.register.models import OutboxEvent, PersonVersion

    person, current = _head(session, person_id)
    versions = list(
        PersonVersion.objects.select_related("household", "town__ward__municipality", "change__terminal")
        .filter(person_id=person_id).order_by("seq")
    )
    history, previous = [], None
    for v in versions:
        items = _items(v)
        change = v.change
        history.append({
            "version": v.seq,
            "event_date": display_date(v.event_date),
            "reason": reasons.label(v.reason),
            "notified_on": display_date(change.notified_on) if change.notified_on else "",
            "processed_at": _stamp(change.processed_at),
            "section": change.terminal.location if change.terminal else SYSTEM_SECTION,
            "changes": "\n".join(f"{k}：{val}" for k, val in items) if previous is None else _diff(previous, items),
        })
        previous = items

    rows, withheld = _uses(session, person_id, current, versions)
    accesses, provisions = [], []
    for r in rows:
        entry = _entry(r)
        accesses.append(entry)
        if r.category == Category.PROVISION:
            provisions.append({"at": entry["at"], "destination": destination_of(r),
                               "content": provision_content(r) or entry["purpose"], "outcome": entry["outcome"]})

    # 情報提供等記録 (issue 17): what the 中間サーバー answered about the person, or refused, or held.
    from juki.intermediary_link.services import provisions_of

    provisions += [{**p, "at": _stamp(p["at"])} for p in provisions_of(person_id)]
    linked = [
        {"at": _stamp(e.created_at), "change_id": e.change_id, "operation": _operation_label(e.change.operation)}
        for e in OutboxEvent.objects.select_related("change")
        .filter(change_id__in={v.change_id for v in versions}).order_by("id")
    ]
    return {
        "person": _person_info(person, current),
        "items": [{"label": k, "value": val} for k, val in _items(current)],
        "history": history,
        "accesses": accesses,
        "provisions": provisions,
        "linked_changes": linked,
        "summary": _summarize(rows, since),
        # The auditor's alone: `render_pdf` (the requester's answer) never prints it (ADR 0014).
        "withheld": _withheld_entries(withheld),
    }


def _summarize(rows: list[AccessLog], since: dt.date | None) -> list[dict]:
    """Uses grouped by place and purpose: how often, first and last day, ordered by place."""
    groups: dict[tuple[str, str], list[AccessLog]] = defaultdict(list)
    for r in rows:
        if since and timezone.localtime(r.at).date() < since:
            continue
        section = r.terminal.location if r.terminal else SYSTEM_SECTION
        groups[(section, purpose_of(r.function))].append(r)
    out = [
        {"section": section, "purpose": purpose, "count": len(rs),
         "first": _day(min(r.at for r in rs)), "last": _day(max(r.at for r in rs)),
         "last_iso": timezone.localtime(max(r.at for r in rs)).isoformat()}
        for (section, purpose), rs in groups.items()
    ]
    out.sort(key=lambda g: (g["section"], g["purpose"]))
    return out


# --- entry points --------------------------------------------------------------------------------


def person_by_atena(actor: Actor, atena_number: str) -> int:
    """The internal id of the person a disclosure request names by 宛名番号.

    The auditor who answers requests holds neither `person.search` nor `person.view`: this exact
    lookup is the only way in, and it is logged like any read."""
    import jaconv

    from juki.register.models import Person

    number = jaconv.z2h((atena_number or "").strip(), digit=True, ascii=True, kana=False)
    with gate.open(actor, function="disclosure.lookup", perm=Perm.DISCLOSURE_PREPARE,
                   criteria={"atena_number": number}) as session:
        if not number.isdigit():
            raise DomainError(ErrorCode.INVALID_INPUT, "宛名番号は数字で入力してください。", field="atena_number")
        person_id = Person.objects.filter(atena_number=number).values_list("id", flat=True).first()
        if person_id is None:
            raise NotFoundError("入力された宛名番号の住民は見つかりません。")
        session.record([person_id])
        return person_id


def disclosure_data(actor: Actor, person_id: int, *, since: dt.date | None = None) -> dict:
    with gate.open(actor, function=FUNCTION, perm=Perm.DISCLOSURE_PREPARE,
                   criteria={"person_id": person_id, "output": "data"}) as session:
        return _collect(session, person_id, since)


def disclosure_summary(actor: Actor, person_id: int, since: dt.date | None = None) -> dict:
    """The resident-facing part only: who (which section) used the data, for what, how often, when.
    Reads only the name and the log, not the 住民票 items."""
    with gate.open(actor, function="disclosure.summary", perm=Perm.DISCLOSURE_PREPARE,
                   criteria={"person_id": person_id, "since": since.isoformat() if since else None}) as session:
        person, current = _head(session, person_id)
        rows, withheld = _uses(session, person_id, current)
        if since:
            withheld = [r for r in withheld if timezone.localtime(r.at).date() >= since]
        return {"person": _person_info(person, current), "since": since.isoformat() if since else None,
                "groups": _summarize(rows, since), "withheld": _withheld_entries(withheld)}


def disclosure_report(actor: Actor, person_id: int, *, since: dt.date | None = None) -> bytes:
    """The answer as a PDF. Logs the read (`disclosure.report`) and the print (`print.disclosure`)."""
    with gate.open(actor, function=FUNCTION, perm=Perm.DISCLOSURE_PREPARE,
                   criteria={"person_id": person_id, "output": "pdf"}) as session:
        data = _collect(session, person_id, since)
        pdf = render_pdf(data, since=since)
    events.record(actor, function="print.disclosure", person_ids=[person_id], criteria={"person_id": person_id})
    return pdf


def render_pdf(data: dict, *, since: dt.date | None = None) -> bytes:
    from juki.core.pdf import Grid, Heading, KeyValues, Text, document_pdf

    p = data["person"]
    period = f"{display_date(since)}以降" if since else "記録のある全期間"
    blocks = [
        Text("この書類は、開示請求に基づき、市が住民基本台帳に記録しているあなたの情報と、その情報を職員や"
             "システムが利用した記録をまとめたものです。内容は作成日時の時点のものです。"),
        Heading("1　あなたの情報が利用された状況（まとめ）"),
        Text(f"対象期間：{period}。どの場所で、どのような目的で、何回利用されたかをまとめています。"
             "一件ごとの記録は「4」にあります。", small=True),
        Grid([("利用した場所", 3), ("利用の目的", 4), ("回数", 1), ("最初の日", 2), ("最後の日", 2)],
             [[g["section"], g["purpose"], f"{g['count']}回", g["first"], g["last"]] for g in data["summary"]],
             empty_text="この期間に利用された記録はありません。"),
        Heading("2　住民票に記録されている事項（現在）"),
        KeyValues([(i["label"], i["value"]) for i in data["items"]]),
        Heading("3　異動の履歴"),
        Text("住民票の記載・変更・消除の履歴です。「変更された事項」は、一つ前の記録との違いを示しています。", small=True),
        Grid([("番号", 1), ("異動日", 2.2), ("異動の内容", 2.2), ("届出日", 2.2), ("処理日時", 2.6), ("変更された事項", 8)],
             [[str(h["version"]), h["event_date"], h["reason"], h["notified_on"] or "—", h["processed_at"], h["changes"]]
              for h in data["history"]]),
        Heading("4　あなたの情報の利用記録（一件ごと）"),
        Text("職員がこの情報を照会・処理した記録と、システムによる処理の記録です。職員の氏名は記載せず、"
             "職員IDを記載しています。", small=True),
        Grid([("日時", 2.4), ("利用した場所", 3), ("利用の目的", 4), ("記録の種別", 3), ("結果", 2.4), ("職員ID", 1.8)],
             [[a["at"], a["section"], a["purpose"], a["category"], a["outcome"], a["user"]] for a in data["accesses"]]),
        Heading("5　他の行政機関等への提供の記録"),
        Text("あなたの異動があったことを、他のシステム（住民基本台帳ネットワーク、庁内の宛名システム等）が"
             "取得した記録です。氏名・住所等の記載事項そのものは含みません。", small=True),
        Grid([("日時", 2), ("提供先", 4), ("内容", 4), ("結果", 2)],
             [[r["at"], r["destination"], r["content"], r["outcome"]] for r in data["provisions"]],
             empty_text="提供の記録はありません。"),
        Heading("他のシステムに知らせるために記録した異動", level=2),
        Grid([("記録日時", 2), ("異動の内容", 4)], [[e["at"], e["operation"]] for e in data["linked_changes"]],
             empty_text="記録した異動はありません。"),
        Heading("6　この回答について"),
        Text(f"個人番号は「{MY_NUMBER_TEXT}」と記載しています。個人番号そのものは、本人確認の後に別の方法でお知らせします。"),
        Text("記録の内容に誤りがあると思われる場合は、訂正の請求や、利用の停止の請求をすることができます。"
             "請求の方法は、この回答を交付した窓口にお問い合わせください。"),
    ]
    return document_pdf(
        "開示請求に対する回答（住民基本台帳の記録と利用の記録）",
        blocks,
        subtitle=f"{p['name']} 様（宛名番号 {p['atena_number']}）",
        landscape=True,
        footer=f"{p['municipality']}　開示請求に対する回答",
    )
