"""`juki evidence [--out FILE] [--run-tests]`: the self-check report of C30 (see juki.core.evidence)."""
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from juki.audit import events
from juki.audit.gate import Actor
from juki.core import evidence
from juki.core import clock


class Command(BaseCommand):
    help = "自己点検報告書（C01–C30 の措置・設定値・試験）を出力する。"

    def add_arguments(self, parser):
        parser.add_argument("--out", help="書き出すファイル（省略時は標準出力）")
        parser.add_argument("--run-tests", action="store_true", help="措置ごとの試験を実行して結果を載せる")
        parser.add_argument("--root", default=str(settings.PROJECT_DIR), help="試験（tests/）のあるディレクトリ")

    def handle(self, *args, **opts):
        findings = evidence.report(root=Path(opts["root"]), run_tests=opts["run_tests"])
        text = evidence.as_markdown(findings, on=clock.today())
        if opts["out"]:
            Path(opts["out"]).write_text(text + "\n", encoding="utf-8")
        else:
            self.stdout.write(text)
        broken = [f.control.id for f in findings if f.broken]
        events.record(Actor.system_actor("evidence"), function="batch.evidence",
                      outcome="broken" if broken else "done", criteria={"broken": broken, "run_tests": opts["run_tests"]})
        if broken:
            raise CommandError(f"試験が見つからない、または不合格の措置があります: {', '.join(broken)}")
