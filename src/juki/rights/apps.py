from django.apps import AppConfig


class RightsConfig(AppConfig):
    """Rights with a period (C02–C04, [1380]): applications, approval, grants, postings, contractors."""

    name = "juki.rights"
    verbose_name = "権限管理"

    def ready(self):
        from juki.accounts.permissions import Perm
        from juki.ui import menu

        # A new account's role becomes its first grant (初期設定), in staff_create's transaction.
        from juki.accounts.models import Staff, staff_created

        from .services import on_staff_created

        staff_created.connect(on_staff_created, sender=Staff, dispatch_uid="rights.initial_grant")

        menu.register(
            menu.Entry("権限管理", "rights:application_list", (Perm.RIGHTS_ADMIN, Perm.RIGHTS_APPROVE), "m", order=80),
            menu.Home(30, Perm.RIGHTS_APPROVE, "rights:application_list"),
            menu.Home(40, Perm.RIGHTS_ADMIN, "rights:application_list"),
        )
