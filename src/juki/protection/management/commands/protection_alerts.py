import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from juki.audit.gate import Actor

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
        try:
            on = dt.date.fromisoformat(opts["on"]) if opts.get("on") else None
        except ValueError:
            raise CommandError("--on は YYYY-MM-DD の形式で指定してください。") from None
        found = alerts(actor=Actor.batch("protection-alerts"), on=on)
        self.stdout.write(f"基準日 {found['on']}")
        for key, label in _LINES:
            ids = found[key]
            self.stdout.write(f"{label} {len(ids)}件" + (": " + ", ".join(str(i) for i in ids) if ids else ""))
