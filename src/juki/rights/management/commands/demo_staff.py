from django.core.management.base import BaseCommand

from juki.audit.gate import Actor

from juki.accounts.login import needs_second_factor, totp_enrol
from juki.accounts.models import Staff, Terminal
from juki.accounts.permissions import ROLES
from juki.accounts.services import generate_password, staff_create, staff_set_password

from ...models import Section
from ...services import current_posting, role_grant_ensure, section_create, staff_post
from juki.core import clock

# 所属 of the demo city (code, name, ward, system owner): the rights application names an 申請課
# and a 利用課, so the README's tour needs them (issue 12).
DEMO_SECTIONS = [
    ("KOKURAKITA-SHIMIN", "小倉北区役所 市民課", "小倉北区", False),
    ("YAHATANISHI-SHIMIN", "八幡西区役所 市民課", "八幡西区", False),
    ("SHIMIN-SHIEN", "市民文化スポーツ局 市民課（支援措置担当）", None, False),
    ("SOUMU-KANSA", "総務局 総務課（情報公開・監査担当）", None, False),
    ("JOHO-SEISAKU", "デジタル市役所推進室 情報政策課", None, True),
]

DEMO_STAFF = [  # (職員ID, 事務分担, 氏名, 所属コード)
    ("demo-clerk", "clerk", "窓口 花子", "KOKURAKITA-SHIMIN"),
    ("demo-clerk2", "clerk", "窓口 次郎", "YAHATANISHI-SHIMIN"),
    ("demo-supervisor", "supervisor", "審査 一郎", "KOKURAKITA-SHIMIN"),
    ("demo-idmgr", "identity_manager", "市民 課長", "KOKURAKITA-SHIMIN"),
    ("demo-support", "support", "支援 由美", "SHIMIN-SHIEN"),
    ("demo-auditor", "auditor", "監査 美咲", "SOUMU-KANSA"),
    ("demo-admin", "admin", "管理 健太", "JOHO-SEISAKU"),
    ("demo-manager", "manager", "所管 課長", "JOHO-SEISAKU"),
    ("demo-linkage", "linkage_operator", "連携 誠", "JOHO-SEISAKU"),  # 庁内連携・宛名 (issue 16)
]


_OWN_WARDS = ("小倉北区", "八幡西区")  # the demo's two ward offices, in 北九州市


def _local(name: str) -> str:
    """The demo's ward office in this city: 北九州市's as named, another city's first and second ward
    (福岡市: 東区, 博多区), so that a second demo city (issue 15) has its own."""
    from juki.register.models import Ward

    if name not in _OWN_WARDS or Ward.objects.filter(name=name).exists():
        return name
    wards = list(Ward.objects.order_by("code").values_list("name", flat=True)[:2])
    return wards[_OWN_WARDS.index(name)] if len(wards) == 2 else name


def _sections() -> dict[str, Section]:
    from juki.register.models import Ward

    actor = Actor.system_actor("cli.demo_staff")
    out = {}
    for code, name, ward_name, owner in DEMO_SECTIONS:
        if ward_name:
            local = _local(ward_name)
            name, ward_name = name.replace(ward_name, local), local
        section = Section.objects.filter(code=code).first() or section_create(
            actor=actor, code=code, name=name, ward=Ward.objects.filter(name=ward_name).first() if ward_name else None,
            is_system_owner=owner)
        out[code] = section
    return out


class Command(BaseCommand):
    help = "デモ用の職員と端末を用意し、毎回新しいパスワードを生成して表示します（固定の初期パスワードはありません）。"

    def handle(self, *args, **opts):
        from juki.register.models import Ward

        for code, name, ward in (("DEMO-01", "デモ端末1", _local("小倉北区")), ("DEMO-02", "デモ端末2", _local("八幡西区"))):
            location = f"{ward}役所 市民課"
            terminal, _ = Terminal.objects.get_or_create(code=code, defaults={"name": name, "location": location})
            if terminal.ward_id is None:  # the ward its entries are listed under (審査待ち一覧の区)
                terminal.ward = Ward.objects.filter(name=ward).first()
                terminal.save(update_fields=["ward"])
        lines, secrets = [], []
        sections = _sections()
        for username, role, name, section_code in DEMO_STAFF:
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
            if current_posting(user) is None:  # 配属 once; a later start keeps what the demo changed
                staff_post(actor=Actor.system_actor("cli.demo_staff"), user=user, section=sections[section_code],
                           on=clock.today())
            lines.append(f"  {username:<16} {ROLES[role][0]:<16} {password}")
            if needs_second_factor(user):
                enrolment = totp_enrol(actor=Actor.system_actor("cli.demo_staff"), user=user)
                secrets.append(f"  {username:<16} {enrolment.secret}\n  {'':<16} {enrolment.config_url}")
        self.stdout.write("デモ職員（今回の起動で生成したパスワード）:")
        self.stdout.write("\n".join(lines))
        if secrets:
            self.stdout.write("ワンタイムパスワードの秘密鍵（認証アプリに登録してください。ログイン時に6桁の数字を入力します）:")
            self.stdout.write("\n".join(secrets))
            self.stdout.write("（デモでは `.venv/bin/juki demo-otp <職員ID>` で現在の6桁を表示できます）")
        self.stdout.write("端末ID: DEMO-01, DEMO-02（API では X-Terminal-Id ヘッダで指定）")
