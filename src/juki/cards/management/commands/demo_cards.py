from django.core.management.base import BaseCommand, CommandError

from juki.core.errors import DomainError

from ...demo import demo_cards


class Command(BaseCommand):
    help = "デモ用に、数人の住民へ暗証番号が分かっている市民カードを交付し、カード番号と暗証番号を表示します（デモ環境のみ）。"

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=3)

    def handle(self, *args, **opts):
        try:
            cards = demo_cards(opts["count"])
        except DomainError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write("デモ用の市民カード（カード番号 / 暗証番号 / 住民ID）:")
        for number, pin, person_id in cards:
            self.stdout.write(f"  {number}  {pin}  {person_id}")
