from django.core.management.base import BaseCommand

from juki.audit.gate import Actor
from juki.core.management.options import date_option, write_counts

from ...services import alerts

_LINES = (
    ("ending_soon", "支援措置の終了間近"),
    ("expired", "支援措置の期間終了（延長・終了の処理が必要）"),
    ("notice_due", "支援措置期間終了通知 未出力"),
    ("provisional", "仮支援措置（開始の確認待ち）"),
    ("restrictions_past_end", "抑止 終了日経過（解除されるまで有効）"),
)


class Command(BaseCommand):
    help = ("支援措置・抑止の確認事項（終了間近・期間終了・終了通知未出力など）を件数と内部IDで表示します。"
            "氏名などの個人情報は表示しません。")

    def add_arguments(self, parser):
        parser.add_argument("--on", help="基準日 YYYY-MM-DD（省略時は本日）")

    def handle(self, *args, **opts):
        write_counts(self.stdout, alerts(actor=Actor.system_actor("protection-alerts"), on=date_option(opts.get("on"))), _LINES)
