import getpass
import os

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from juki.core.errors import DomainError

from ...permissions import ROLES
from ...services import staff_create


class Command(BaseCommand):
    help = "職員を登録します。パスワードは環境変数 JUKI_PASSWORD から、なければ入力を求めます。"

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", default="clerk", choices=sorted(ROLES))
        parser.add_argument("--full-name", default="")

    def handle(self, *args, **opts):
        password = os.environ.get("JUKI_PASSWORD") or getpass.getpass("パスワード: ")
        try:
            staff_create(username=opts["username"], password=password, role=opts["role"], full_name=opts["full_name"])
        except ValidationError as exc:
            raise CommandError("パスワードが条件を満たしません: " + " ".join(exc.messages)) from None
        except DomainError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"職員 {opts['username']}（{ROLES[opts['role']][0]}）を登録しました。")
