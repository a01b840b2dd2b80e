"""`juki demo-kiosk`: the demo's kiosk KIOSK-01 with a fresh secret, and a few residents with a card.

Refused unless JUKI_DEMO_TOOLS is on (conf/dev.py), before anything is touched: a real KIOSK-01
must not get a new secret (printed to whoever runs the command) on a production install.
"""
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from juki.audit.gate import Actor

from ... import devices
from ...models import KioskDevice

DEMO_CODE = "KIOSK-01"


class Command(BaseCommand):
    help = "デモ用の自動交付機 KIOSK-01 を用意し（秘密鍵は毎回新しく発行）、デモ用の市民カードと暗証番号を表示します。"

    def add_arguments(self, parser):
        parser.add_argument("--cards", type=int, default=3)
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")

    def handle(self, *args, **opts):
        if not getattr(settings, "JUKI_DEMO_TOOLS", False):
            raise CommandError("このコマンドはデモ環境でだけ使えます。")
        actor = Actor.system_actor("demo_kiosk")
        if KioskDevice.objects.filter(code=DEMO_CODE).exists():
            made = devices.device_new_secret(actor=actor, code=DEMO_CODE)
            if not made.device.is_active:
                devices.device_resume(actor=actor, code=DEMO_CODE)
        else:
            made = devices.device_add(actor=actor, code=DEMO_CODE, name="自動交付機1号機", location="小倉北区役所 1階ロビー")
        base = opts["base_url"].rstrip("/")
        self.stdout.write("自動交付機（今回の起動で発行した秘密鍵）:")
        self.stdout.write(f"  {base}/kiosk/setup/ を開き、端末ID {made.device.code} と秘密鍵 {made.secret} を入力してください。")
        self.stdout.write(f"  以後は {base}/kiosk/ が自動交付機の画面です。")
        from juki.cards.demo import demo_cards
        from juki.seals.demo import demo_seals

        cards = demo_cards(opts["cards"])
        # The first card holder also has a registered seal, so the kiosk's 印鑑登録証明書 can be tried
        # (the card is linked as the 印鑑登録証 when the seal is registered).
        sealed = {pid for pid, _number in demo_seals([cards[0][2]])} if cards else set()
        if cards:
            self.stdout.write("デモ用の市民カード（カード番号・暗証番号）:")
            for number, pin, person_id in cards:
                seal = "、印鑑登録あり" if person_id in sealed else ""
                self.stdout.write(f"  {number}  暗証番号 {pin}  （住民ID {person_id}{seal}）")
