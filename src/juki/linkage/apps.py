from django.apps import AppConfig


class LinkageConfig(AppConfig):
    name = "juki.linkage"
    label = "linkage"
    verbose_name = "庁内連携"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from juki.accounts.permissions import Perm
        from juki.ui import menu

        menu.register(menu.Entry("庁内連携", "linkage:destinations", (Perm.LINKAGE_MANAGE, Perm.LINKAGE_APPROVE), "z",
                                 order=77),
                      menu.Home(85, Perm.LINKAGE_MANAGE, "linkage:destinations"))
