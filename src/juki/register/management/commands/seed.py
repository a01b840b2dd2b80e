import datetime as dt

from django.core.management.base import BaseCommand
from tqdm import tqdm

from ...services.seed import seed_city


class Command(BaseCommand):
    help = "合成データの市（世帯・住民・異動履歴・除票）を決定的に生成します。"

    def add_arguments(self, parser):
        parser.add_argument("--persons", type=int, default=20000,
                            help="住民の数（世帯単位で作るため、最後の世帯の人数分だけ上回ることがあります）")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--today", type=dt.date.fromisoformat, default=dt.date(2026, 11, 1),
                            help="生成の基準日（既定 2026-11-01。同じ基準日・seed なら同じ市になります）")
        parser.add_argument("--chunk", type=int, default=20000)
        parser.add_argument("--no-progress", action="store_true")
        parser.add_argument("--resume", action="store_true",
                            help="中断した生成の続き: 台帳の住民が --persons 人に満たない分だけ作成します")

    def handle(self, *args, **opts):
        bar = None if opts["no_progress"] else tqdm(total=opts["persons"], unit="人", desc="seed", mininterval=1)
        last = [0]

        def progress(done):
            if bar is not None:
                bar.update(done - last[0])
                last[0] = done

        summary = seed_city(persons=opts["persons"], seed=opts["seed"], today=opts["today"], chunk=opts["chunk"],
                            progress=progress, resume=opts["resume"])
        if bar is not None:
            bar.close()
        self.stdout.write(
            f"住民 {summary.persons:,} 人（うち除票 {summary.removed:,}、外国人住民 {summary.foreign:,}）、"
            f"世帯 {summary.households:,}、履歴 {summary.versions:,} 件を {summary.seconds:.1f} 秒で作成しました。"
        )
