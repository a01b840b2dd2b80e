"""Access-log analysis [1370] ＜ログの分析＞ (C06–C08): the standard's example lists, no HTTP.

Each report is a query over a date range (days in Asia/Tokyo, both ends included) that the
database narrows by `at` (indexed) before anything else. Every run passes the gate with the
ACCESS_LOG_VIEW right, so reading the log is itself logged: `accesslog.analysis` for the
screen, `export.accesslog_csv` when the same rows leave the system as a file.

The daily anomaly report (staff viewing namesakes or their own household/address, bursts of
views of unrelated persons) is in `juki.oversight.anomalies`.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection
from django.db.models import Count, Q
from django.db.models.functions import ExtractHour, ExtractWeekDay, TruncDate, TruncHour

from juki.accounts.permissions import Perm
from juki.core.calendar import closed_days
from juki.core.errors import DomainError, ErrorCode
from juki.core.wareki import JST

from juki.audit import gate
from juki.audit.gate import Actor
from juki.audit.models import AccessLog, Category

SCREEN_LIMIT = 500  # the screen shows at most this many rows and says so; the CSV has the rest
CSV_LIMIT = 100_000
MAX_DAYS = 366

# What a function name means to an auditor; unknown names are shown as they are.
FUNCTION_LABELS = {
    "person.search": "住民検索", "person.view": "住民票の照会", "household.view": "世帯の照会",
    "person.history": "異動履歴の照会", "household.lookup": "世帯番号による照会",
    "auth.login": "ログイン", "auth.login_failure": "ログイン失敗", "auth.locked_out": "アカウントロック",
    "auth.logout": "ログアウト", "auth.lock": "画面ロック", "auth.unlock": "画面ロック解除",
    "auth.token": "APIトークン発行", "auth.token_failure": "APIトークン発行の失敗",
    "auth.token_revoke": "APIトークンの失効", "auth.token_refused": "APIトークンの拒否（別の端末）",
    "auth.second_factor_failure": "ワンタイムパスワードの誤り", "auth.unlock_failure": "画面ロック解除の失敗",
    "auth.password_change_failure": "パスワード変更時の認証失敗",
    "accesslog.view": "アクセスログの照会", "accesslog.analysis": "ログ分析", "accesslog.anomalies": "異常検知",
    "export.accesslog_csv": "ログ分析のCSV出力", "batch.anomaly_report": "異常検知日報",
}
FUNCTION_LABELS |= {
    "auth.kiosk_device": "自動交付機の認証", "auth.kiosk_enrol": "自動交付機の登録", "auth.password_change": "パスワード変更",
    "auth.password_expired": "パスワード期限切れ", "auth.session_replaced": "別の端末でのログインによる切断",
    "auth.totp_enrol": "ワンタイムパスワードの登録", "auth.unlock_staff": "アカウントロックの解除",
    "batch.audit_checkpoint": "監査ログのチェックポイント", "batch.audit_purge": "監査ログの保存期間経過分の削除",
    "batch.demo_cards": "デモ用市民カードの作成", "batch.demo_setup": "デモの市の作成", "batch.evidence": "統制の証跡出力",
    "batch.seed": "合成データの作成",
    "card.authenticate": "市民カードの認証", "card.ex_officio_abolish": "市民カードの職権廃止", "card.issue": "市民カードの交付",
    "card.list": "市民カードの一覧", "card.locked": "市民カードのロック", "card.lost_abolish": "市民カードの亡失廃止",
    "card.pin_failed": "暗証番号の誤り", "card.seal_link": "市民カードと印鑑登録の連携", "card.sweep": "市民カードの一括処理",
    "certificate.alert_check": "証明書交付の抑止確認", "certificate.check": "証明書交付の可否確認",
    "certificate.code_notice": "住民票コード通知票の交付", "certificate.issue": "証明書の交付", "certificate.issue_check": "証明書交付前の確認", "certificate.list": "交付履歴の照会",
    "certificate.move_out": "転出証明書の交付", "certificate.preview": "証明書の印刷プレビュー",
    "certificate.reissue": "証明書の再交付", "certificate.void": "証明書の無効",
    "change.cancel_lookup": "取り消す異動の照会", "change.identity_check": "本人確認情報の修正の確認",
    "change.late_list": "届出期間経過の一覧", "change.preview": "異動の確認画面", "change.view": "異動の照会",
    "demo.seal_read": "印影の読取り（デモ）", "disclosure.lookup": "開示請求の対象者の照会", "disclosure.summary": "開示請求の回答作成",
    "export.anomalies_csv": "異常検知のCSV出力", "export.audit_checkpoints": "チェックポイントの出力",
    "export.rights_table": "権限設定状況の一覧表の出力",
    "household.head_absent_list": "世帯主不在の世帯の一覧",
    "kiosk.check": "自動交付機の交付可否確認", "kiosk.device_add": "自動交付機の登録", "kiosk.device_secret": "自動交付機の鍵の再発行",
    "pending.approve": "本登録（審査）", "pending.correct": "差し戻された入力の修正", "pending.list": "審査待ち一覧",
    "pending.payload": "仮登録の入力内容の照会", "pending.reject": "差戻し（審査）", "pending.resubmit": "修正して再提出",
    "pending.submit": "仮登録", "pending.view": "仮登録の照会", "pending.withdraw": "仮登録の取下げ",
    "print.certificate": "証明書の印刷", "print.certificate_download": "証明書のダウンロード", "print.disclosure": "開示請求の回答の印刷",
    "print.receipt": "領収書の印刷", "print.seal_inquiry": "照会書の印刷", "print.support_end_notice": "支援措置期間終了通知の印刷",
    "restriction.release": "抑止の解除", "restriction.set": "抑止の設定", "restriction.temporary_release": "抑止の一時解除",
    "restriction.view": "抑止の照会",
    "rights.apply": "権限の申請", "rights.approve": "権限の承認", "rights.contractor_register": "委託事業者の登録",
    "rights.initial_grant": "初期権限の付与", "rights.list": "権限の照会", "rights.post": "職員の配属", "rights.reject": "権限申請の却下",
    "rights.retire": "職員の退職", "rights.revoke": "権限の取消し", "rights.section": "所属の登録", "rights.transfer": "職員の異動",
    "rights.withdraw": "権限申請の取下げ", "rights.work_apply": "作業申請", "rights.work_approve": "作業申請の承認",
    "seal.abolish": "印鑑登録の廃止", "seal.certificate_issue": "印鑑登録証明書の交付",
    "seal.certificate_preview": "印鑑登録証明書の印刷プレビュー", "seal.certificate_check": "印鑑登録証明書交付前の確認", "seal.certificate_reissue": "印鑑登録証明書の再交付",
    "seal.ex_officio_abolish": "印鑑登録の職権廃止", "seal.inquiry_answer": "回答書の受付", "seal.lost": "印鑑登録証の亡失",
    "seal.register": "印鑑登録", "seal.status": "印鑑登録の状況", "seal.sweep": "印鑑登録の一括処理", "seal.view": "印鑑登録の照会",
    "support.alerts": "支援措置の期限の確認", "support.confirm": "支援措置の確認（仮支援措置から）", "support.end": "支援措置の終了",
    "support.extend": "支援措置の延長", "support.list": "支援措置の一覧", "support.lookup": "支援措置の対象者の照会",
    "support.register": "支援措置の登録", "support.view": "支援措置の照会",
}
OUTCOME_LABELS = {AccessLog.OK: "成功", AccessLog.EMPTY: "該当なし", AccessLog.DENIED: "拒否", "done": "完了",
                  "error": "エラー（システム）",
                  # Refusals and the commonest errors, as the auditor reads them (the code stays in the CSV's log row).
                  "permission_denied": "拒否（権限なし）", "support_measure_protected": "拒否（支援措置対象者）",
                  "support_measure_offender_request": "拒否（支援措置の相手方からの請求）", "restricted": "拒否（抑止）",
                  "restriction_alert_unacknowledged": "保留（抑止のアラート未確認）", "self_approval": "拒否（入力者本人の審査）",
                  "identity_approval_required": "拒否（本人確認情報管理責任者の承認が必要）",
                  "review_required": "拒否（審査が必要）", "invalid_input": "入力内容の誤り", "invalid_date": "日付の誤り",
                  "not_found": "該当なし（指定の記録なし）", "conflict": "他の職員が先に更新", "search_criteria": "検索条件の不足",
                  "certificate_request_incomplete": "請求内容の不足", "pending_exists": "審査待ちの異動あり",
                  "pending_closed": "審査済み", "notified_before_event": "届出日の誤り", "card_pin_wrong": "暗証番号の誤り",
                  "certifier_missing": "認証者の未登録"}
# Outcomes that are refusals of authority (権限・支援措置・抑止): the 拒否 report lists them all.
REFUSALS = (AccessLog.DENIED, "permission_denied", "support_measure_protected", "support_measure_offender_request",
            "restricted", "self_approval", "identity_approval_required", "review_required")


def function_label(function: str) -> str:
    """An auditor's name for a logged function: never the internal one where a label exists."""
    if function in FUNCTION_LABELS:
        return FUNCTION_LABELS[function]
    if function.startswith("change."):  # change.<operation>: the 異動 by its name, as the disclosure names it
        from .disclosure import _operation_label

        return f"異動（{_operation_label(function.removeprefix('change.'))}）"
    if function.startswith("master."):
        return {"master.add": "マスタの追加", "master.change": "マスタの変更", "master.delete": "マスタの削除"}.get(
            function, "マスタ管理")
    return function


def outcome_label(outcome: str) -> str:
    return OUTCOME_LABELS.get(outcome) or f"処理できず（{outcome}）"
IDENTIFIER_LABELS = {"atena_number": "宛名番号", "household_number": "世帯番号", "resident_code": "住民票コード",
                     "my_number": "個人番号", "residence_card_number": "在留カード等番号"}
# 宛名番号 and 世帯番号 are the city's own file numbers: shown so the auditor can tell whose record
# was looked up. The others (住民票コード, 個人番号, 在留カード) are named only.
_SHOWN_IDENTIFIERS = ("atena_number", "household_number")

LOG_COLUMNS = (("at", "日時"), ("user", "職員ID"), ("user_name", "職員氏名"), ("terminal", "端末"),
               ("function", "機能"), ("outcome", "結果"), ("person_count", "対象者数"), ("log_id", "ログID"))


@dataclass(frozen=True)
class Window:
    """[start, end) in UTC-aware datetimes for the JST days date_from..date_to."""

    date_from: dt.date
    date_to: dt.date

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.date_from, dt.time(), JST)

    @property
    def end(self) -> dt.datetime:
        return dt.datetime.combine(self.date_to + dt.timedelta(days=1), dt.time(), JST)

    def days(self) -> list[dt.date]:
        return [self.date_from + dt.timedelta(days=i) for i in range((self.date_to - self.date_from).days + 1)]


@dataclass(frozen=True)
class Report:
    key: str
    label: str
    description: str
    columns: tuple[tuple[str, str], ...]
    query: Callable[[Window, int], list[dict]]


@dataclass
class Result:
    report: Report
    window: Window
    rows: list[dict] = field(default_factory=list)
    truncated: bool = False  # more rows matched than `limit`


# --- helpers ------------------------------------------------------------------------------------


def local(value: dt.datetime) -> dt.datetime:
    return value.astimezone(JST)


def fmt(value: dt.datetime) -> str:
    return local(value).strftime("%Y-%m-%d %H:%M:%S")


def _logs(w: Window):
    return (AccessLog.objects.filter(at__gte=w.start, at__lt=w.end)
            .select_related("user", "terminal").order_by("at", "id"))


def _system_label(system: str) -> str:
    """Who acted without a staff user: a kiosk device (kiosk.devices names it 「kiosk:KIOSK-01」) or a batch job."""
    if not system:
        return ""
    return f"自動交付機:{system.removeprefix('kiosk:')}" if system.startswith("kiosk:") else f"バッチ:{system}"


def _log_row(r: AccessLog) -> dict:
    return {
        "at": fmt(r.at),
        "user": r.user.username if r.user else _system_label(r.system),
        "user_name": r.user.full_name if r.user else "",
        "terminal": r.terminal.code if r.terminal else "",
        "function": function_label(r.function),
        "outcome": outcome_label(r.outcome),
        "person_count": r.person_count,
        "log_id": r.id,
    }


def _take(qs, limit: int, row=_log_row) -> list[dict]:
    return [row(r) for r in qs[:limit + 1]]


def _night_hours() -> tuple[int, int]:
    return settings.JUKI_AUDIT_NIGHT_START_HOUR, settings.JUKI_AUDIT_NIGHT_END_HOUR


def _is_night(hour: int) -> bool:
    start, end = _night_hours()
    if start == end:
        return False
    return (hour >= start or hour < end) if start > end else (start <= hour < end)


def _night_q() -> Q:
    start, end = _night_hours()
    if start == end:
        return Q(pk__in=[])
    if start > end:  # across midnight, the usual case (22:00–6:00)
        return Q(_hour__gte=start) | Q(_hour__lt=end)
    return Q(_hour__gte=start, _hour__lt=end)


# --- the reports --------------------------------------------------------------------------------


def _night_holiday(w: Window, limit: int) -> list[dict]:
    closed = closed_days(w.date_from, w.date_to)
    qs = (_logs(w).filter(user__isnull=False)  # batch jobs run at night by design
          .annotate(_hour=ExtractHour("at", tzinfo=JST), _weekday=ExtractWeekDay("at", tzinfo=JST),
                    _day=TruncDate("at", tzinfo=JST))
          .filter(_night_q() | Q(_weekday__in=(1, 7)) | Q(_day__in=list(closed))))

    def row(r: AccessLog) -> dict:
        at = local(r.at)
        kinds = []
        if at.date() in closed:
            kinds.append(closed[at.date()])
        elif at.weekday() >= 5:
            kinds.append("土曜日" if at.weekday() == 5 else "日曜日")
        if _is_night(at.hour):
            kinds.append("深夜")
        return {**_log_row(r), "when": "・".join(kinds)}

    return _take(qs, limit, row)


# Every failed authentication, whatever the door (login, API token, second factor, lock screen,
# password change): any `auth.*_failure`, so a new door is reported without touching this list.
# Category auth, so the (category, at) index serves the query.
_FAILURE_Q = Q(function__startswith="auth.", function__endswith="_failure")
_LOCKOUT = "auth.locked_out"
_LOGINS = ("auth.login", "auth.token")  # at the counter and through the API


def _login_failures(w: Window, limit: int) -> list[dict]:
    def row(r: AccessLog) -> dict:
        # The failed attempt's user is unknown when the ID typed does not exist: show what was typed.
        typed = str((r.criteria or {}).get("username") or "")
        return {**_log_row(r), "user": r.user.username if r.user else typed}

    return _take(_logs(w).filter(_FAILURE_Q | Q(function=_LOCKOUT), category=Category.AUTH), limit, row)


def _logins_per_user(w: Window, limit: int) -> list[dict]:
    rows = (AccessLog.objects.filter(category=Category.AUTH, at__gte=w.start, at__lt=w.end, user__isnull=False)
            .filter(Q(function__in=(*_LOGINS, _LOCKOUT)) | _FAILURE_Q)
            .annotate(day=TruncDate("at", tzinfo=JST))
            .values("day", "user__username", "user__full_name")
            .annotate(logins=Count("id", filter=Q(function__in=_LOGINS) & ~Q(outcome=AccessLog.DENIED)),
                      failures=Count("id", filter=_FAILURE_Q),
                      lockouts=Count("id", filter=Q(function=_LOCKOUT)))
            .order_by("day", "user__username"))
    return [{"day": str(r["day"]), "user": r["user__username"], "user_name": r["user__full_name"],
             "logins": r["logins"], "failures": r["failures"], "lockouts": r["lockouts"]} for r in rows[:limit + 1]]


def _mass_search(w: Window, limit: int) -> list[dict]:
    qs = _logs(w).filter(function="person.search", person_count__gte=settings.JUKI_AUDIT_MASS_SEARCH_ROWS)
    return _take(qs, limit)


def _frequent_search(w: Window, limit: int) -> list[dict]:
    rows = (AccessLog.objects.filter(at__gte=w.start, at__lt=w.end, function="person.search", user__isnull=False)
            .annotate(hour=TruncHour("at", tzinfo=JST))
            .values("hour", "user__username", "user__full_name")
            .annotate(searches=Count("id", distinct=True), persons=Count("subjects__person_id", distinct=True))
            .filter(searches__gt=settings.JUKI_AUDIT_SEARCHES_PER_HOUR)
            .order_by("hour", "user__username"))
    return [{"hour": local(r["hour"]).strftime("%Y-%m-%d %H:00"), "user": r["user__username"],
             "user_name": r["user__full_name"], "searches": r["searches"], "persons": r["persons"]}
            for r in rows[:limit + 1]]


def _identifier_search(w: Window, limit: int) -> list[dict]:
    has_identifier = Q()
    for key in IDENTIFIER_LABELS:
        has_identifier |= Q(criteria__has_key=key)
    qs = _logs(w).filter(function="person.search").filter(has_identifier)

    def row(r: AccessLog) -> dict:
        crit = r.criteria or {}
        used = [f"{label} {crit[k]}" if k in _SHOWN_IDENTIFIERS else label
                for k, label in IDENTIFIER_LABELS.items() if crit.get(k)]
        return {**_log_row(r), "identifiers": "、".join(used)}

    return _take(qs, limit, row)


def _my_number(w: Window, limit: int) -> list[dict]:
    return _take(_logs(w).filter(my_number_accessed=True), limit)


def subject_numbers(ids: set[int]) -> dict[int, str]:
    """person id → 宛名番号 (read inside the analysis' gate session), as the disclosure reads the register."""
    from juki.register.models import Person

    return dict(Person.objects.filter(pk__in=ids).values_list("id", "atena_number")) if ids else {}


def _support_measure(w: Window, limit: int) -> list[dict]:
    qs = _logs(w).prefetch_related("subjects")
    if connection.features.supports_json_field_contains:
        qs = qs.filter(flags__contains=["support_measure"])
        candidates = qs[:limit + 1]
    else:
        # SQLite has no JSON containment: narrow to flagged rows in the database, test in Python.
        candidates = (r for r in qs.exclude(flags=[]).iterator(chunk_size=2000) if "support_measure" in r.flags)
    picked = []
    for r in candidates:
        picked.append(r)
        if len(picked) > limit:
            break
    numbers = subject_numbers({s.person_id for r in picked for s in r.subjects.all()})
    # The 宛名番号 tells the auditor whose record it was; an id no longer in the register stays an id.
    return [{**_log_row(r), "person_ids": " ".join(numbers.get(s.person_id, f"ID {s.person_id}")
                                                   for s in r.subjects.all())} for r in picked]


def _denied(w: Window, limit: int) -> list[dict]:
    return _take(_logs(w).filter(outcome__in=REFUSALS), limit)


def _with(*extra: tuple[str, str], after: str = "at") -> tuple[tuple[str, str], ...]:
    cols = list(LOG_COLUMNS)
    at = [k for k, _ in cols].index(after) + 1
    return tuple(cols[:at] + list(extra) + cols[at:])


REPORTS: dict[str, Report] = {r.key: r for r in (
    Report("night_holiday", "深夜・休業日のアクセス",
           "深夜（設定の時間帯）、土曜日・日曜日、祝日、年末年始（12月29日～1月3日）に職員が行った操作です。",
           _with(("when", "区分")), _night_holiday),
    Report("login_failures", "ログイン失敗",
           "ログイン・APIトークン発行・ワンタイムパスワード・画面ロック解除・パスワード変更での認証の失敗と、"
           "失敗が続いてアカウントがロックされた記録です。",
           LOG_COLUMNS, _login_failures),
    Report("logins_per_user", "ID別ログイン数",
           "職員IDごと・日ごとのログイン回数（APIトークンの発行を含みます）と認証の失敗の回数です。",
           (("day", "日付"), ("user", "職員ID"), ("user_name", "職員氏名"), ("logins", "ログイン"),
            ("failures", "ログイン失敗"), ("lockouts", "ロック")), _logins_per_user),
    Report("mass_search", "大量該当の検索",
           "1回の検索で設定の件数以上の住民が該当した検索です。",
           LOG_COLUMNS, _mass_search),
    Report("frequent_search", "検索回数の多い職員",
           "1時間に設定の回数を超えて検索した職員です。",
           (("hour", "時間帯"), ("user", "職員ID"), ("user_name", "職員氏名"), ("searches", "検索回数"),
            ("persons", "表示した住民数")), _frequent_search),
    Report("identifier_search", "宛名番号等による検索",
           "宛名番号・世帯番号・住民票コード・個人番号・在留カード等番号を指定した検索です。",
           _with(("identifiers", "指定した番号"), after="function"), _identifier_search),
    Report("my_number", "個人番号へのアクセス",
           "個人番号を表示した操作と、個人番号で検索した操作です。",
           LOG_COLUMNS, _my_number),
    Report("support_measure", "支援措置対象者の閲覧",
           "支援措置の対象者の記録を閲覧した操作です。",
           _with(("person_ids", "対象者（宛名番号）"), after="function"), _support_measure),
    Report("denied", "権限のない操作（拒否）",
           "権限がないため、または支援措置・抑止・審査の決まりにより拒否された操作です。",
           LOG_COLUMNS, _denied),
)}


def report_of(key: str) -> Report:
    try:
        return REPORTS[key]
    except KeyError:
        raise DomainError(ErrorCode.INVALID_INPUT, "分析の種類を一覧から選んでください。", field="report") from None


def window(date_from: dt.date, date_to: dt.date) -> Window:
    if date_from > date_to:
        raise DomainError(ErrorCode.INVALID_DATE, "期間の開始日には終了日より前の日を入力してください。", field="date_from")
    if (date_to - date_from).days + 1 > MAX_DAYS:
        raise DomainError(ErrorCode.INVALID_DATE, f"期間は{MAX_DAYS}日以内で指定してください。", field="date_to")
    return Window(date_from, date_to)


def run(actor: Actor, report: str, date_from: dt.date, date_to: dt.date, *, limit: int | None = None,
        function: str = "accesslog.analysis") -> Result:
    """One report over the JST days date_from..date_to, at most `limit` rows (`truncated` says if more)."""
    limit = SCREEN_LIMIT if limit is None else limit
    rep = report_of(report)
    w = window(date_from, date_to)
    criteria = {"report": rep.key, "from": w.date_from.isoformat(), "to": w.date_to.isoformat()}
    with gate.open(actor, function=function, perm=Perm.ACCESS_LOG_VIEW, criteria=criteria) as session:
        rows = rep.query(w, limit)
        result = Result(rep, w, rows[:limit], truncated=len(rows) > limit)
        session.criteria["rows"] = len(result.rows)
        # The rows are log entries, not residents: "done", not the gate's "empty" for no persons.
        session.write_log("done")
    return result

