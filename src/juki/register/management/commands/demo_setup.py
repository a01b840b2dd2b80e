from django.conf import settings
from django.core.management.base import BaseCommand

from juki.audit import checkpoints, gate
from juki.audit.gate import Actor
from juki.accounts.permissions import Perm

from ...demo_cities import DEPUTY_WEEK, city
from ...models import Person, Town
from ...services.master import towns_load
from ...services.seed import seed_city


class Command(BaseCommand):
    help = "デモ用の住所辞書と合成データの市（JUKI_MUNICIPALITY: 北九州市 401005 または 福岡市 401307）を、まだなければ用意します。"

    def add_arguments(self, parser):
        parser.add_argument("--persons", type=int, default=20000)

    def handle(self, *args, **opts):
        demo = city(settings.JUKI_MUNICIPALITY)
        if not Town.objects.exists():
            towns_load(text=demo.towns.read_text(encoding="utf-8"), municipality_code=demo.code,
                       municipality_name=demo.name, prefecture=demo.prefecture)
            self.stdout.write(f"デモ用の住所辞書（{demo.name}）を読み込みました。")
        self._certifiers(demo)
        with gate.open(Actor.system_actor("demo_setup"), function="batch.demo_setup", perm=Perm.BATCH_RUN):
            have = Person.objects.count()
        if have < opts["persons"]:
            import datetime as dt

            # A set-up stopped part-way is continued: seed_city commits whole chunks with their sequences.
            summary = seed_city(persons=opts["persons"], seed=demo.seed, today=dt.date(2026, 11, 1), resume=True)
            done = "の続きを作成しました" if have else "を作成しました"
            self.stdout.write(f"デモの市{done}（住民 {summary.persons:,} 人、世帯 {summary.households:,}）。")
        else:
            self.stdout.write("デモの市はすでにあります。")
        # The demo's audit log is anchored from the start: `juki audit verify` refuses a log
        # without signed checkpoints (scripts/demo then signs one every JUKI_DEMO_CHECKPOINT_MINUTES).
        cp = checkpoints.checkpoint()
        self.stdout.write(f"監査ログのチェックポイントを記録しました（seq {cp.seq}）。")

    def _certifiers(self, demo) -> None:
        """The demo's 認証者 [310] (fictional names): the mayor, and a 職務代理者 for a past week."""
        import datetime as dt

        from juki.certificates.models import Certifier

        if Certifier.objects.exists():
            return
        Certifier.objects.create(kind=Certifier.Kind.HEAD, title=f"{demo.name}長", name=demo.mayor,
                                 valid_from=dt.date(2023, 2, 19))
        Certifier.objects.create(kind=Certifier.Kind.DEPUTY, title=demo.deputy_title, name=demo.deputy,
                                 valid_from=DEPUTY_WEEK[0], valid_until=DEPUTY_WEEK[1])
        self.stdout.write("証明書の認証者（市長・職務代理者）を登録しました。")
