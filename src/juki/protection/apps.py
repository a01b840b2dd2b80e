from django.apps import AppConfig


class ProtectionConfig(AppConfig):
    name = "juki.protection"
    label = "protection"
    verbose_name = "抑止・支援措置"

    def ready(self):
        from juki.accounts.permissions import Perm
        from juki.ui import menu

        menu.register(
            menu.Entry("支援措置", "protection:support_list", (Perm.SUPPORT_MEASURE_MANAGE,), "u", order=50),
            menu.Home(60, Perm.SUPPORT_MEASURE_MANAGE, "protection:support_list"),
        )
