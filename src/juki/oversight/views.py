"""ログ分析 and 異常検知 (the auditor's screens, [1370] C06–C08): thin callers of analysis/anomalies.

Only report names and dates travel in URLs; the rows are read anew (and logged) on every page,
and a CSV download is logged as an export.
"""
from __future__ import annotations

import datetime as dt
from functools import wraps
from urllib.parse import urlencode

from django import forms
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render

from juki.accounts.permissions import Perm
from juki.core import csvout
from juki.core.errors import DomainError, ErrorCode
from juki.ui.access import counter_view

from juki.audit import events

from . import analysis
from .anomalies import COLUMNS as ANOMALY_COLUMNS
from .anomalies import anomalies as find_anomalies
from juki.audit.models import AccessLog

PAGE_SIZE = 100


def auditor_view(view):
    """counter_view(ACCESS_LOG_VIEW), with the refusal logged under the log-reading function
    itself (`accesslog.analysis`, not `screen.<name>`): who tries to read the access log is what
    the log analysis looks for."""

    @counter_view()
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.has_juki_perm(Perm.ACCESS_LOG_VIEW):
            events.record(request.actor, function="accesslog.analysis", outcome=AccessLog.DENIED,
                          criteria={"screen": request.resolver_match.url_name})
            return render(request, "ui/denied.html", {"title": "権限がありません"}, status=403)
        return view(request, *args, **kwargs)

    return wrapped


def _today() -> dt.date:
    return dt.datetime.now(analysis.JST).date()


_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class _Form(forms.Form):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")  # like the counter's forms
        super().__init__(*args, **kwargs)


class AnalysisForm(_Form):
    report = forms.ChoiceField(label="分析の種類", choices=[(k, r.label) for k, r in analysis.REPORTS.items()])
    date_from = forms.DateField(label="開始日", widget=_DATE, input_formats=["%Y-%m-%d"])
    date_to = forms.DateField(label="終了日", widget=_DATE, input_formats=["%Y-%m-%d"])


class DayForm(_Form):
    day = forms.DateField(label="対象日", widget=_DATE, input_formats=["%Y-%m-%d"])


def _valid(form: forms.Form, message: str = "分析の種類と期間（開始日・終了日）を正しく入力してください。"):
    if not form.is_valid():
        raise DomainError(ErrorCode.INVALID_INPUT, message)
    return form.cleaned_data


_DAY_MESSAGE = "対象日を正しく入力してください。"


def _csv_response(columns, rows, filename: str) -> HttpResponse:
    # `csvout`: formulas escaped, UTF-8 with a BOM (what Excel on the office PCs opens without garbling).
    content = csvout.to_bytes([header for _, header in columns], ([row.get(k, "") for k, _ in columns] for row in rows))
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@auditor_view
def analysis_view(request):
    today = _today()
    initial = {"report": "night_holiday", "date_from": today - dt.timedelta(days=7), "date_to": today}
    form = AnalysisForm(request.GET if "report" in request.GET else None, initial=initial)
    context = {"form": form, "reports": analysis.REPORTS.values(), "title": "ログ分析", "help": "analysis",
               "limit": analysis.SCREEN_LIMIT}
    if form.is_bound:
        data = _valid(form)
        result = analysis.run(request.actor, data["report"], data["date_from"], data["date_to"])
        page = Paginator(result.rows, PAGE_SIZE).get_page(request.GET.get("page"))
        query = urlencode({"report": data["report"], "date_from": data["date_from"].isoformat(),
                           "date_to": data["date_to"].isoformat()})
        context.update(result=result, page=page, query=query)
    return render(request, "oversight/analysis.html", context)


@auditor_view
def analysis_csv(request):
    data = _valid(AnalysisForm(request.GET))
    result = analysis.run(request.actor, data["report"], data["date_from"], data["date_to"],
                          limit=analysis.CSV_LIMIT, function="export.accesslog_csv")
    name = f"accesslog-{result.report.key}-{data['date_from']:%Y%m%d}-{data['date_to']:%Y%m%d}.csv"
    return _csv_response(result.report.columns, result.rows, name)


@auditor_view
def anomalies_view(request):
    yesterday = _today() - dt.timedelta(days=1)  # the daily report looks at the day that has ended
    form = DayForm(request.GET if "day" in request.GET else None, initial={"day": yesterday})
    context = {"form": form, "title": "異常検知", "help": "analysis", "columns": ANOMALY_COLUMNS}
    if form.is_bound:
        day = _valid(form, _DAY_MESSAGE)["day"]
        findings = find_anomalies(request.actor, day)
        context.update(day=day, rows=[f.row() for f in findings], query=urlencode({"day": day.isoformat()}))
    return render(request, "oversight/anomalies.html", context)


@auditor_view
def anomalies_csv(request):
    day = _valid(DayForm(request.GET), _DAY_MESSAGE)["day"]
    findings = find_anomalies(request.actor, day, function="export.anomalies_csv")
    return _csv_response(ANOMALY_COLUMNS, [f.row() for f in findings], f"anomalies-{day:%Y%m%d}.csv")
