from django.core.management.base import BaseCommand

from juki.audit.gate import Actor

from ...login import needs_second_factor, totp_enrol
from ...models import Staff, Terminal
from ...permissions import ROLES
from ...services import generate_password, staff_create, staff_set_password
from juki.rights.services import role_grant_ensure

DEMO_STAFF = [
    ("demo-clerk", "clerk", "窓口 花子"),
    ("demo-clerk2", "clerk", "窓口 次郎"),
    ("demo-supervisor", "supervisor", "審査 一郎"),
    ("demo-idmgr", "identity_manager", "市民 課長"),
    ("demo-support", "support", "支援 由美"),
    ("demo-auditor", "auditor", "監査 美咲"),
    ("demo-admin", "admin", "管理 健太"),
    ("demo-manager", "manager", "所管 課長"),
]


class Command(BaseCommand):
    help = "デモ用の職員と端末を用意し、毎回新しいパスワードを生成して表示します（固定の初期パスワードはありません）。"

    def handle(self, *args, **opts):
        Terminal.objects.get_or_create(code="DEMO-01", defaults={"name": "デモ端末1", "location": "小倉北区役所 市民課"})
        Terminal.objects.get_or_create(code="DEMO-02", defaults={"name": "デモ端末2", "location": "八幡西区役所 市民課"})
        lines, secrets = [], []
        for username, role, name in DEMO_STAFF:
            password = generate_password()
            user = Staff.objects.filter(username=username).first()
            if user is None:  # staff_create also grants the role (rights are grants, not the role field)
                user = staff_create(username=username, password=password, role=role, full_name=name)
            else:
                staff_set_password(user=user, password=password)
                role_grant_ensure(user, role)  # the demo database may outlive the initial grant
            user.is_staff = role == "admin"
            user.is_superuser = False
            user.save(update_fields=["is_staff", "is_superuser"])
            lines.append(f"  {username:<16} {ROLES[role][0]:<16} {password}")
            if needs_second_factor(user):
                enrolment = totp_enrol(actor=Actor.batch("cli.demo_staff"), user=user)
                secrets.append(f"  {username:<16} {enrolment.secret}\n  {'':<16} {enrolment.config_url}")
        self.stdout.write("デモ職員（今回の起動で生成したパスワード）:")
        self.stdout.write("\n".join(lines))
        if secrets:
            self.stdout.write("ワンタイムパスワードの秘密鍵（認証アプリに登録してください。ログイン時に6桁の数字を入力します）:")
            self.stdout.write("\n".join(secrets))
            self.stdout.write("（デモでは `.venv/bin/juki demo-otp <職員ID>` で現在の6桁を表示できます）")
        self.stdout.write("端末ID: DEMO-01, DEMO-02（API では X-Terminal-Id ヘッダで指定）")
