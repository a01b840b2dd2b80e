from django.core.management.base import BaseCommand, CommandError

from juki.audit.gate import Actor
from juki.core.errors import DomainError

from ... import login


class Command(BaseCommand):
    help = "ログインの失敗が続いてロックされた職員のアカウントを、待ち時間の前に解除します。"

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, **opts):
        try:
            login.staff_unlock(actor=Actor.system_actor("cli.unlock_staff"), username=opts["username"])
        except DomainError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"職員 {opts['username']} のロックを解除しました。")
