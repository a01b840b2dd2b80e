"""`juki kiosk-device add KIOSK-01 --name … --location …` and stop / resume / secret / list."""
from django.core.management.base import BaseCommand, CommandError

from juki.audit.gate import Actor
from juki.core.errors import DomainError

from ... import devices


def setup_hint(code: str, secret: str) -> str:
    return (f"  端末ID: {code}\n  秘密鍵: {secret}\n"
            "  自動交付機の端末で /kiosk/setup/ を開き、端末IDと秘密鍵を入力してください。"
            "秘密鍵はこの一度しか表示されません。")


class Command(BaseCommand):
    help = "証明書自動交付機（端末）の登録・停止・再開・秘密鍵の再発行・一覧。"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="自動交付機を登録し、秘密鍵を一度だけ表示します。")
        add.add_argument("code")
        add.add_argument("--name", required=True)
        add.add_argument("--location", required=True)
        for name, text in [("stop", "自動交付機を停止します。"), ("resume", "停止した自動交付機を再開します。"),
                           ("secret", "秘密鍵を再発行します（前の秘密鍵は使えなくなります）。")]:
            sub.add_parser(name, help=text).add_argument("code")
        sub.add_parser("list", help="登録済みの自動交付機を表示します。")

    def handle(self, *args, action, **opts):
        actor = Actor.system_actor("cli.kiosk_device")
        try:
            if action == "add":
                made = devices.device_add(actor=actor, code=opts["code"], name=opts["name"], location=opts["location"])
                self.stdout.write(f"自動交付機 {made.device.code} を登録しました。")
                self.stdout.write(setup_hint(made.device.code, made.secret))
            elif action == "secret":
                made = devices.device_new_secret(actor=actor, code=opts["code"])
                self.stdout.write(f"自動交付機 {made.device.code} の秘密鍵を再発行しました。")
                self.stdout.write(setup_hint(made.device.code, made.secret))
            elif action == "stop":
                device = devices.device_stop(actor=actor, code=opts["code"])
                self.stdout.write(f"自動交付機 {device.code} を停止しました。")
            elif action == "resume":
                device = devices.device_resume(actor=actor, code=opts["code"])
                self.stdout.write(f"自動交付機 {device.code} を再開しました。")
            else:
                for d in devices.device_list(actor=actor):
                    state = "利用中" if d["active"] else "停止中"
                    self.stdout.write(f"{d['code']:<12} {state}  {d['name']}（{d['location']}）")
        except DomainError as exc:
            raise CommandError(exc.message) from None
