from django.core.management.base import BaseCommand

from juki.audit.gate import Actor
from juki.core.management.options import date_option, write_counts

from ...services import seal_sweep


class Command(BaseCommand):
    help = ("印鑑登録の日次処理: 回答期限を過ぎた照会中の申請を終了し、住民登録が消除された方の登録を職権で廃止します"
            "（死亡・転出などの異動では、その異動と同時に廃止されます。これは取りこぼしの確認です）。"
            "件数と内部IDだけを表示します。")

    def add_arguments(self, parser):
        parser.add_argument("--on", help="基準日 YYYY-MM-DD（省略時は本日）")

    def handle(self, *args, **opts):
        done = seal_sweep(actor=Actor.system_actor("seals-sweep"), on=date_option(opts.get("on")))
        write_counts(self.stdout, done, (("expired", "回答期限の経過による終了"),
                                         ("ex_officio", "住民登録の消除による職権廃止")))
