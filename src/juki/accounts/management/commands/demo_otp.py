"""`juki demo-otp <username>`: the current one-time password of a demo user (demo settings only).

In the demo nobody has the authenticator app the printed secret is meant for; this stands in
for it. Refused unless JUKI_DEMO_TOOLS is on (conf/dev.py), so a production install cannot
turn the second factor into a command anyone on the server can run.
"""
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice


class Command(BaseCommand):
    help = "デモ職員の現在のワンタイムパスワード（6桁）を表示します（デモ環境専用）。"

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, **opts):
        if not getattr(settings, "JUKI_DEMO_TOOLS", False):
            raise CommandError("このコマンドはデモ環境でだけ使えます。")
        device = TOTPDevice.objects.filter(user__username=opts["username"], user__username__startswith="demo-",
                                           confirmed=True).first()
        if device is None:
            raise CommandError("ワンタイムパスワードが登録されたデモ職員ではありません。")
        from django_otp.oath import TOTP

        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        self.stdout.write(f"{totp.token():0{device.digits}d}")
