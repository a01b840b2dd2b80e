from django.core.management.base import BaseCommand

from juki.audit.gate import Actor

from ...services import card_sweep_removed


class Command(BaseCommand):
    help = ("住民記録が消除された方（死亡・転出など）の市民カードを職権で廃止します。毎日実行してください。"
            "件数と内部IDだけを表示します。")

    def handle(self, *args, **opts):
        out = card_sweep_removed(actor=Actor.system_actor("cards-sweep"))
        ids = ", ".join(str(i) for i in out["card_ids"])
        self.stdout.write(f"職権で廃止した市民カード {out['abolished']}件" + (f": {ids}" if ids else ""))
