import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from juki.core.errors import DomainError

from ...services.master import towns_load


class Command(BaseCommand):
    help = "町字（住所辞書）をCSVから読み込みます。全件検証し、誤りがあれば1件も登録しません。再実行できます。"

    def add_arguments(self, parser):
        parser.add_argument("csv_file", help="ward_code,ward_name,town_name,town_kana,postal_code[,town_code,…]")
        parser.add_argument("--municipality-code", default=settings.JUKI_MUNICIPALITY)
        parser.add_argument("--municipality-name", default="北九州市")
        parser.add_argument("--prefecture", default="福岡県")

    def handle(self, *args, **opts):
        path = Path(opts["csv_file"])
        if not path.exists():
            raise CommandError(f"ファイルがありません: {path}")
        try:
            summary = towns_load(text=path.read_text(encoding="utf-8"), municipality_code=opts["municipality_code"],
                                 municipality_name=opts["municipality_name"], prefecture=opts["prefecture"])
        except DomainError as exc:
            for line in exc.details.get("errors", []):
                self.stderr.write(line)
            raise CommandError(exc.message) from None
        self.stdout.write(f"町字: 新規 {summary.created} 件, 更新 {summary.updated} 件, 変更なし {summary.unchanged} 件"
                          f"（区 {len(summary.wards)}）")
        sys.stdout.flush()
