from django.core.management.base import BaseCommand

from ...models import Staff, Terminal
from ...permissions import ROLES
from ...services import generate_password, staff_set_password

DEMO_STAFF = [
    ("demo-clerk", "clerk", "窓口 花子"),
    ("demo-clerk2", "clerk", "窓口 次郎"),
    ("demo-supervisor", "supervisor", "審査 一郎"),
    ("demo-auditor", "auditor", "監査 美咲"),
    ("demo-admin", "admin", "管理 健太"),
]


class Command(BaseCommand):
    help = "デモ用の職員と端末を用意し、毎回新しいパスワードを生成して表示します（固定の初期パスワードはありません）。"

    def handle(self, *args, **opts):
        Terminal.objects.get_or_create(code="DEMO-01", defaults={"name": "デモ端末1", "location": "小倉北区役所 市民課"})
        Terminal.objects.get_or_create(code="DEMO-02", defaults={"name": "デモ端末2", "location": "八幡西区役所 市民課"})
        lines = []
        for username, role, name in DEMO_STAFF:
            user, _ = Staff.objects.get_or_create(username=username, defaults={"role": role, "full_name": name})
            user.role = role
            user.is_staff = role == "admin"
            user.is_superuser = False
            user.save()
            password = generate_password()
            staff_set_password(user=user, password=password)
            lines.append(f"  {username:<16} {ROLES[role][0]:<16} {password}")
        self.stdout.write("デモ職員（今回の起動で生成したパスワード）:")
        self.stdout.write("\n".join(lines))
        self.stdout.write("端末ID: DEMO-01, DEMO-02（API では X-Terminal-Id ヘッダで指定）")
