import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from juki.audit.gate import Actor

from ...services import seal_sweep


class Command(BaseCommand):
    help = ("印鑑登録の日次処理: 回答期限を過ぎた照会中の申請を終了し、住民登録が消除された方の登録を職権で廃止します"
            "（死亡・転出などの異動では、その異動と同時に廃止されます。これは取りこぼしの確認です）。"
            "件数と内部IDだけを表示します。")

    def add_arguments(self, parser):
        parser.add_argument("--on", help="基準日 YYYY-MM-DD（省略時は本日）")

    def handle(self, *args, **opts):
        try:
            on = dt.date.fromisoformat(opts["on"]) if opts.get("on") else None
        except ValueError:
            raise CommandError("--on は YYYY-MM-DD の形式で指定してください。") from None
        done = seal_sweep(actor=Actor.batch("seals-sweep"), on=on)
        self.stdout.write(f"基準日 {done['on']}")
        for key, label in (("expired", "回答期限の経過による終了"), ("ex_officio", "住民登録の消除による職権廃止")):
            ids = done[key]
            self.stdout.write(f"{label} {len(ids)}件" + (": " + ", ".join(str(i) for i in ids) if ids else ""))
