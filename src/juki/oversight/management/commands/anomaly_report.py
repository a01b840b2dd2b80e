"""`juki anomaly-report [--date YYYY-MM-DD] [--out FILE]`: the daily anomaly report (C08).

Run once a day (cron) after midnight; by default it looks at yesterday (Asia/Tokyo). The run is
logged as `batch.anomaly_report`. Standard output names staff IDs and internal person ids only,
never residents' names; --out writes the same findings as CSV (UTF-8 with BOM, for Excel).
"""
import datetime as dt

from django.core.management.base import BaseCommand

from juki.oversight.analysis import JST
from juki.oversight.anomalies import COLUMNS, anomalies
from juki.audit.gate import Actor
from juki.core import csvout
from juki.core.management.options import date_option


class Command(BaseCommand):
    help = "指定した日（既定は前日）のアクセスログから、確認が必要な閲覧を抽出します。"

    def add_arguments(self, parser):
        parser.add_argument("--date", help="対象日 YYYY-MM-DD（既定は前日）")
        parser.add_argument("--out", help="CSVの出力先ファイル")

    def handle(self, *args, **opts):
        day = date_option(opts["date"], "--date") or dt.datetime.now(JST).date() - dt.timedelta(days=1)
        findings = anomalies(Actor.system_actor("anomaly_report"), day, function="batch.anomaly_report")
        if opts["out"]:
            with open(opts["out"], "w", encoding=csvout.ENCODING, newline="") as f:
                csvout.write(f, [header for _, header in COLUMNS],
                             ([x.row().get(key, "") for key, _ in COLUMNS] for x in findings))
        self.stdout.write(f"{day.isoformat()} の異常検知: {len(findings)}件")
        for x in findings:
            self.stdout.write(
                f"{x.kind}\tuser={x.username}\tpersons={','.join(map(str, x.person_ids))}\thouseholds={x.households}"
                f"\tviews={len(x.log_ids)}\tlogs={','.join(map(str, x.log_ids))}")
        if opts["out"]:
            self.stdout.write(f"CSVを {opts['out']} に出力しました。")
