from django.core.management.base import BaseCommand, CommandError

from juki.audit.gate import Actor

from ... import login
from ...models import Staff


class Command(BaseCommand):
    help = ("職員のワンタイムパスワード（TOTP、ICカードの代わりの二要素認証）を登録します。"
            "以前の登録は無効になります。表示する秘密鍵は一度しか表示しません。")

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, **opts):
        user = Staff.objects.filter(username=opts["username"]).first()
        if user is None:
            raise CommandError("該当する職員がいません。")
        enrolment = login.totp_enrol(actor=Actor.system_actor("cli.totp_enrol"), user=user)
        self.stdout.write(f"職員 {user.username} の二要素認証を登録しました。認証アプリに次のどちらかを登録してください。")
        self.stdout.write(f"  URI:    {enrolment.config_url}")
        self.stdout.write(f"  秘密鍵: {enrolment.secret}")
