from django.apps import AppConfig


class AtenaConfig(AppConfig):
    name = "juki.atena"
    label = "atena"
    verbose_name = "団体内統合宛名"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from juki.accounts.permissions import Perm
        from juki.ui import menu

        menu.register(menu.Entry("宛名検索", "atena:search", (Perm.ATENA_VIEW,), "f", order=78),
                      menu.Home(86, Perm.ATENA_VIEW, "atena:search"))
